import { describe, expect, it } from 'vitest';
import { runSeeds, failLine, unsafeQuorum } from './run.ts';
import { simulate } from './simulator.ts';

describe('CFT under random faults', () => {
  it('keeps safety and liveness on 2,000 seeds (3–5 producers)', () => {
    const failed: string[] = [];
    for (const nodes of [3, 4, 5]) {
      const count = nodes === 4 ? 668 : 666;
      const { failed: f } = runSeeds({ mode: 'cft', nodes, byzantine: 0 }, nodes * 10_000, count);
      failed.push(...f.map(failLine));
    }
    expect(failed).toEqual([]);
  }, 60_000);
});

describe('CFT scenarios', () => {
  it('elects a new leader after the leader crashes, and keeps finalising', () => {
    const r = simulate({ seed: 1, mode: 'cft', nodes: 5, chaosMs: 4000, schedule: [{ at: 1000, kind: 'crash', node: 'leader' }], probes: [1000, 3900] });
    expect(r.violations).toEqual([]);
    expect(r.probes[1]!.max).toBeGreaterThan(r.probes[0]!.max + 5);
  });

  it('a minority partition without the leader does not stop the majority', () => {
    const r = simulate({
      seed: 2,
      mode: 'cft',
      nodes: 5,
      chaosMs: 4000,
      schedule: [{ at: 1000, kind: 'partition', groups: [[0, 1, 2], [3, 4]] }],
      probes: [1000, 3900],
    });
    expect(r.violations).toEqual([]);
    expect(r.probes[1]!.max).toBeGreaterThan(r.probes[0]!.max);
  });

  it('a leader cut off in a minority loses finality; the majority elects another and the old leader rejoins', () => {
    const r = simulate({ seed: 3, mode: 'cft', nodes: 5, chaosMs: 4000, schedule: [{ at: 1000, kind: 'isolate-leader', others: 1 }], probes: [1000, 3900] });
    expect(r.violations).toEqual([]);
    expect(r.probes[1]!.max).toBeGreaterThan(r.probes[0]!.max + 5);
  });

  it('a partition with no majority anywhere stops finality until it heals, then recovers', () => {
    const r = simulate({
      seed: 4,
      mode: 'cft',
      nodes: 4,
      chaosMs: 4000,
      schedule: [{ at: 1000, kind: 'partition', groups: [[0, 1], [2, 3]] }],
      probes: [1500, 3900],
    });
    expect(r.violations).toEqual([]);
    expect(r.probes[1]!.max).toBe(r.probes[0]!.max);
    expect(r.irreversible).toBeGreaterThan(r.probes[1]!.max);
  });

  it('the checker catches a broken rule: a quorum of n/2 instead of a majority splits the chain', () => {
    const { failed } = runSeeds({ mode: 'cft', nodes: 4, byzantine: 0, unsafeQuorum: unsafeQuorum('n/2') }, 1, 60);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((r) => r.violations.some((v) => v.startsWith('conflicting irreversible blocks')))).toBe(true);
  });
});

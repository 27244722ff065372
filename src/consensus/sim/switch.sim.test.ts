import { describe, expect, it } from 'vitest';
import { failLine, runSeeds } from './run.ts';
import { simulate } from './simulator.ts';

describe('joint consensus', () => {
  it('CFT→BFT under random faults keeps safety and liveness (500 seeds)', () => {
    const { failed } = runSeeds({ mode: 'switch', nodes: 4, byzantine: 0 }, 1, 500);
    expect(failed.map(failLine)).toEqual([]);
  }, 60_000);

  it('CFT→BFT switch during a partition completes after healing', () => {
    const r = simulate({
      seed: 21,
      mode: 'cft',
      nodes: 4,
      chaosMs: 3000,
      change: { at: 800, set: { mode: 'bft', nodes: [0, 1, 2, 3] } },
      schedule: [{ at: 600, kind: 'partition', groups: [[0, 1, 2], [3]] }],
      livenessMs: 20_000,
    });
    expect(r.violations).toEqual([]);
    expect(r.finalMode).toBe('bft');
  });

  it('BFT→CFT and CFT→CFT with new producers (old and new sets both agree)', () => {
    const toCft = simulate({ seed: 22, mode: 'bft', nodes: 4, chaosMs: 2000, change: { at: 500, set: { mode: 'cft', nodes: [0, 1, 2] } } });
    expect(toCft.violations).toEqual([]);
    expect(toCft.finalMode).toBe('cft');
    const grow = simulate({ seed: 23, mode: 'cft', nodes: 5, producers: [0, 1, 2], chaosMs: 2000, change: { at: 500, set: { mode: 'cft', nodes: [2, 3, 4] } } });
    expect(grow.violations).toEqual([]);
    const toBftNewSet = simulate({ seed: 24, mode: 'cft', nodes: 5, producers: [0], chaosMs: 2000, change: { at: 500, set: { mode: 'bft', nodes: [1, 2, 3, 4] } } });
    expect(toBftNewSet.violations).toEqual([]);
    expect(toBftNewSet.finalMode).toBe('bft');
  });
});

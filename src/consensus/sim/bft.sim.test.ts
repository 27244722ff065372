import { describe, expect, it } from 'vitest';
import { BYZANTINE_BEHAVIOURS } from './byzantine.ts';
import { failLine, runSeeds } from './run.ts';
import { accountName } from '../../protocol/names.ts';
import { numFromId, hexOf } from '../block.ts';
import { blockIn } from './byzantine.ts';
import { Simulation, simulate } from './simulator.ts';

describe('BFT under random faults', () => {
  for (const first of [1, 1001]) {
    it(`keeps safety and liveness with f = 1 Byzantine out of 4 (seeds ${first}–${first + 999})`, () => {
      const { failed } = runSeeds({ mode: 'bft', nodes: 4, byzantine: 1 }, first, 1000);
      expect(failed.map(failLine)).toEqual([]);
    }, 60_000);
  }
});

describe('BFT scenarios', () => {
  for (const behaviour of BYZANTINE_BEHAVIOURS) {
    it(`f = 1 of 4 Byzantine (${behaviour}) cannot break safety or stop progress`, () => {
      const { failed } = runSeeds({ mode: 'bft', nodes: 4, byzantine: 1, behaviour }, 500, 20);
      expect(failed.map(failLine)).toEqual([]);
    });
  }

  it('f = 2 of 7 Byzantine cannot break safety or stop progress', () => {
    const { failed } = runSeeds({ mode: 'bft', nodes: 7, byzantine: 2 }, 700, 60);
    expect(failed.map(failLine)).toEqual([]);
  });

  it('honest nodes keep evidence of an equivocating leader', () => {
    // p3, the Byzantine node, leads term 0.
    const sim = new Simulation({ seed: 9, mode: 'bft', nodes: 4, producers: [3, 0, 1, 2], byzantine: 1, byzantineBehaviour: 'equivocate', chaosMs: 1000 });
    const r = sim.run();
    expect(r.violations).toEqual([]);
    const evidence = sim.honestNodes().flatMap((n) => n.evidence);
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence.every((e) => e.producer === 'p3' && e.kind === 'block')).toBe(true);
  });

  it('honest nodes keep evidence of double votes', () => {
    // A vote names only its block, whose term decides whether two votes conflict
    // (psibase): p3 leads term 0 and votes for its blocks and for twins of them.
    const sim = new Simulation({ seed: 10, mode: 'bft', nodes: 4, producers: [3, 0, 1, 2], byzantine: 1, byzantineBehaviour: 'double-vote', chaosMs: 2000 });
    expect(sim.run().violations).toEqual([]);
    const kinds = new Set(sim.honestNodes().flatMap((n) => n.evidence.map((e) => `${e.producer}:${e.kind}`)));
    expect([...kinds].filter((k) => k !== 'p3:block').sort()).toEqual(['p3:commit', 'p3:prepare']);
  });

  it('a minority partition does not stop the other 3 of 4; the cut-off node catches up', () => {
    const r = simulate({ seed: 11, mode: 'bft', nodes: 4, chaosMs: 4000, schedule: [{ at: 500, kind: 'isolate-leader', others: 0 }], probes: [500, 3900] });
    expect(r.violations).toEqual([]);
    expect(r.probes[1]!.max).toBeGreaterThan(r.probes[0]!.max + 5);
  });

  it('a 2–2 partition stops finality; after healing it resumes (growing view-change timeout)', () => {
    const r = simulate({ seed: 12, mode: 'bft', nodes: 4, chaosMs: 5000, schedule: [{ at: 500, kind: 'partition', groups: [[0, 1], [2, 3]] }], probes: [1000, 4900] });
    expect(r.violations).toEqual([]);
    expect(r.probes[1]!.max).toBe(r.probes[0]!.max);
    expect(r.irreversible).toBeGreaterThan(r.probes[1]!.max);
  });

  it('a leader whose view change names too old a block issues a second one naming the best prepared block (bft.md rule 4)', () => {
    // p1, leader of term 1, is cut off while p0, p2 and p3 prepare blocks in term 0. p0
    // then crashes; p2 and p3 move to term 1 naming a block p1 never saw prepared. Only
    // a view change from p1 naming that block completes a quorum of view changes no
    // better than the leader's (p0 stays down).
    // Every view change sent, and the first block of term 1, each with its place in the order of sending.
    const vcs: { producer: string; term: number; num: number; seq: number }[] = [];
    const opening: { num: number; term: number; seq: number }[] = [];
    let seq = 0;
    const finalInTerm1 = new Set<string>();
    const r = simulate({
      seed: 31,
      mode: 'bft',
      nodes: 4,
      chaosMs: 3000,
      schedule: [
        { at: 300, kind: 'partition', groups: [[1], [0, 2, 3]] },
        { at: 1000, kind: 'crash', node: 0 },
        { at: 1200, kind: 'heal' },
      ],
      onSend: (from, m) => {
        seq++;
        if (m.kind === 'SignedMessage<ViewChangeMessage>')
          vcs.push({ producer: accountName(m.message.producer), term: m.message.term, num: numFromId(hexOf(m.message.best_prepared)), seq });
        const b = blockIn(m)?.block.header;
        if (b && accountName(b.producer) === from && b.term === 1 && opening.length === 0) opening.push({ num: b.blockNum, term: b.term, seq });
      },
      onIrreversible: (node, h) => {
        if (h.term === 1) finalInTerm1.add(node);
      },
    });
    expect(r.violations).toEqual([]);
    const named = (p: string) => vcs.filter((v) => v.producer === p && v.term === 1).map((v) => v.num);
    const [first, second] = [...new Set(named('p1'))];
    const others = Math.max(...named('p2'), ...named('p3'));
    expect(first).toBeLessThan(others);
    expect(second).toBe(others);
    // The term opens on the second view change (its first block comes after it and
    // builds on the block it names), and no further view change is needed.
    const secondVc = vcs.find((v) => v.producer === 'p1' && v.term === 1 && v.num === second)!;
    expect(opening[0]!.term).toBe(1);
    expect(opening[0]!.seq).toBeGreaterThan(secondVc.seq);
    expect(opening[0]!.num).toBeGreaterThan(second!);
    expect(vcs.every((v) => v.term <= 1)).toBe(true);
    expect([...finalInTerm1].sort()).toEqual(['p0', 'p1', 'p2', 'p3']);
  });

  it('the checker catches a broken rule: a quorum of f instead of 2f+1 lets an equivocating leader split the chain', () => {
    const { failed } = runSeeds({ mode: 'bft', nodes: 4, byzantine: 1, behaviour: 'equivocate', unsafeQuorum: () => 1 }, 1, 40);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((r) => r.violations.some((v) => v.startsWith('conflicting irreversible blocks')))).toBe(true);
  });
});

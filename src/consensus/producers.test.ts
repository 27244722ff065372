import { describe, expect, it } from 'vitest';
import { bftLeader, hasQuorum, hasQuorumOf, mayPrepare, mayStandForElection, prepareSets, settle, threshold, weakThreshold } from './producers.ts';
import { simClaim } from './sim/keys.ts';
import type { JointConsensus, ProducerSet } from './types.ts';

const named = (mode: 'cft' | 'bft', producers: string[]): ProducerSet => ({ mode, producers, claims: producers.map(simClaim) });
const set = (mode: 'cft' | 'bft', n: number): ProducerSet => named(mode, Array.from({ length: n }, (_, i) => `p${i}`));

describe('producer sets', () => {
  it('uses psibase thresholds: CFT majority, BFT 2f+1, one producer alone', () => {
    expect([1, 2, 3, 4, 5].map((n) => threshold(set('cft', n)))).toEqual([1, 2, 2, 3, 3]);
    expect([1, 4, 7, 10, 16].map((n) => threshold(set('bft', n)))).toEqual([1, 3, 5, 7, 11]);
    expect([4, 7, 16].map((n) => weakThreshold(set('bft', n)))).toEqual([2, 3, 6]);
  });

  it('needs a quorum of both sets during joint consensus', () => {
    const joint: JointConsensus = { current: set('cft', 3), next: { set: named('bft', ['p2', 'p3', 'p4', 'p5']), blockNum: 9 } };
    expect(hasQuorum(joint, new Set(['p0', 'p1']))).toBe(false);
    expect(hasQuorum(joint, new Set(['p0', 'p2', 'p3', 'p4']))).toBe(true);
    expect(hasQuorum(joint, new Set(['p1', 'p2', 'p3', 'p4']))).toBe(true);
    expect(hasQuorum(joint, new Set(['p3', 'p4', 'p5']))).toBe(false);
  });

  it('ends joint consensus once the change block is irreversible', () => {
    const joint: JointConsensus = { current: set('cft', 3), next: { set: set('bft', 4), blockNum: 9 } };
    expect(settle(joint, 8)).toBe(joint);
    expect(settle(joint, 9)).toEqual({ current: set('bft', 4) });
  });

  it('lets only old producers lead into BFT, and rotates BFT leaders by term', () => {
    const toBft: JointConsensus = { current: set('cft', 2), next: { set: set('bft', 4), blockNum: 3 } };
    expect(mayStandForElection(toBft, 'p1')).toBe(true);
    expect(mayStandForElection(toBft, 'p3')).toBe(false);
    const toCft: JointConsensus = { current: set('cft', 2), next: { set: set('cft', 4), blockNum: 3 } };
    expect(mayStandForElection(toCft, 'p3')).toBe(true);
    expect([0, 1, 4, 5].map((t) => bftLeader({ current: set('bft', 4) }, t))).toEqual(['p0', 'p1', 'p0', 'p1']);
  });

  it('BFT→CFT: new producers commit but do not prepare; prepares need the old set only (joint-consensus.md)', () => {
    const toCft: JointConsensus = { current: set('bft', 4), next: { set: named('cft', ['p3', 'p4', 'p5']), blockNum: 5 } };
    expect(prepareSets(toCft)).toEqual([toCft.current]);
    expect(['p0', 'p3', 'p4'].map((p) => mayPrepare(toCft, p))).toEqual([true, true, false]);
    // Three old producers prepare: enough, though no new producer does.
    expect(hasQuorumOf(prepareSets(toCft), new Set(['p0', 'p1', 'p2']))).toBe(true);
    // Commits need a quorum of the old set and a majority of the new one.
    expect(hasQuorum(toCft, new Set(['p0', 'p1', 'p2']))).toBe(false);
    expect(hasQuorum(toCft, new Set(['p0', 'p1', 'p2', 'p4', 'p5']))).toBe(true);
    // BFT→BFT: both sets prepare.
    const toBft: JointConsensus = { current: set('bft', 4), next: { set: named('bft', ['p3', 'p4', 'p5', 'p6']), blockNum: 5 } };
    expect(prepareSets(toBft)).toEqual([toBft.current, toBft.next!.set]);
    expect(mayPrepare(toBft, 'p4')).toBe(true);
  });
});

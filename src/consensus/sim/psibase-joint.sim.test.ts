// psibase's producer-change cases (libraries/net/test/test_consensus.cpp), through the
// simulator, named as psibase names them and table-driven over psibase's `transitions`
// table (written here as psibase writes it: mode and producer letters; letter a is node
// p0, b is p1, ...). psibase boots the first set, runs 15 s, sets the change in the next
// block, runs 15 s more (or, in the crash case, 2 min of random subset partitions every
// 10 s, then 30 s connected), and checks that every node's head agrees, the head is
// recent and nearly final, and the final producers are the new set (in the crash case:
// the old or the new set). Here: no safety violation at any time, a new irreversible
// block on every node after the end (the simulator's liveness check), and the final set.
import { describe, expect, it } from 'vitest';
import type { ConsensusMode } from '../types.ts';
import { Prng } from './prng.ts';
import { nodeName, Simulation, type FaultAction } from './simulator.ts';

type Set = readonly [ConsensusMode, string];
const cft = (p: string): Set => ['cft', p];
const bft = (p: string): Set => ['bft', p];

// psibase's `transitions`, in psibase's order.
const TRANSITIONS: readonly (readonly [Set, Set])[] = [
  [cft('a'), cft('b')],
  [cft('a'), cft('abc')],
  [cft('a'), cft('bcd')],
  [cft('a'), bft('b')],
  [cft('a'), bft('a')],
  [cft('a'), bft('abcd')],
  [cft('a'), bft('bcde')],
  [cft('abc'), cft('a')],
  [cft('abc'), cft('d')],
  [cft('abc'), cft('abd')],
  [cft('abc'), cft('ade')],
  [cft('abc'), cft('def')],
  [cft('abc'), cft('abcde')],
  [cft('abc'), cft('abdef')],
  [cft('abc'), cft('adefg')],
  [cft('abc'), cft('defgh')],
  [cft('abc'), bft('a')],
  [cft('abc'), bft('d')],
  [cft('abc'), bft('abcd')],
  [cft('abc'), bft('abde')],
  [cft('abc'), bft('adef')],
  [cft('abc'), bft('defg')],
  [cft('abcde'), cft('abc')],
  [cft('abcde'), cft('abf')],
  [cft('abcde'), cft('afg')],
  [cft('abcde'), cft('fgh')],
  [cft('abcde'), bft('abcd')],
  [cft('abcde'), bft('abcf')],
  [cft('abcde'), bft('abfg')],
  [cft('abcde'), bft('afgh')],
  [cft('abcde'), bft('fghi')],
  [cft('abcdefg'), bft('abcdefg')],
  [bft('a'), cft('a')],
  [bft('a'), cft('b')],
  [bft('a'), cft('abc')],
  [bft('a'), cft('bcd')],
  [bft('a'), bft('b')],
  [bft('a'), bft('abcd')],
  [bft('a'), bft('bcde')],
  [bft('abcd'), cft('a')],
  [bft('abcd'), cft('b')],
  [bft('abcd'), cft('abc')],
  [bft('abcd'), cft('abe')],
  [bft('abcd'), cft('aef')],
  [bft('abcd'), cft('efg')],
  [bft('abcd'), cft('abcde')],
  [bft('abcd'), cft('abcef')],
  [bft('abcd'), cft('abefg')],
  [bft('abcd'), cft('aefgh')],
  [bft('abcd'), cft('efghi')],
  [bft('abcd'), bft('a')],
  [bft('abcd'), bft('e')],
  [bft('abcd'), bft('abce')],
  [bft('abcd'), bft('abef')],
  [bft('abcd'), bft('aefg')],
  [bft('abcd'), bft('efgh')],
  [bft('abcd'), bft('abcdefg')],
  [bft('abcd'), bft('abcefgh')],
  [bft('abcd'), bft('abefghi')],
  [bft('abcd'), bft('aefghij')],
  [bft('abcd'), bft('efghijk')],
  [bft('abcdefg'), cft('abcdefg')],
  [bft('abcdefg'), bft('abcd')],
  [bft('abcdefg'), bft('abch')],
  [bft('abcdefg'), bft('abhi')],
  [bft('abcdefg'), bft('ahij')],
  [bft('abcdefg'), bft('hijk')],
];

const idx = (letters: string) => [...letters].map((c) => c.charCodeAt(0) - 97);
const show = ([m, p]: Set) => `${m}(${[...p].join(',')})`;
const BLOCK_MS = 1000;

function run([start, change]: readonly [Set, Set], seed: number, crash: boolean) {
  const nodes = Math.max(...idx(start[1]), ...idx(change[1])) + 1;
  let schedule: FaultAction[] = [];
  if (crash) {
    // psibase NetworkPartition::subset(rng): each node active with probability 1/2, from the change on, every 10 s for 2 min.
    const rng = new Prng(seed);
    for (let at = 15_000; at < 135_000; at += 10_000) {
      const all = Array.from({ length: nodes }, (_, i) => i);
      const active = all.filter(() => rng.chance(0.5));
      schedule.push({ at, kind: 'partition', groups: [active, ...all.filter((n) => !active.includes(n)).map((n) => [n])] });
    }
  }
  const sim = new Simulation({
    seed,
    mode: start[0],
    nodes,
    producers: idx(start[1]),
    blockIntervalMs: BLOCK_MS,
    change: { at: 15_000, set: { mode: change[0], nodes: idx(change[1]) } },
    chaosMs: crash ? 135_000 : 30_000,
    schedule,
    livenessMs: 30_000,
    // psibase's crash case runs 30 s connected after the partitions, then checks; run as long
    // (not only to the first new irreversible block) so a pending change has time to settle.
    ...(crash ? { runUntilMs: 165_000 } : {}),
  });
  const r = sim.run();
  const sets = sim.honestNodes().map((n) => n.activeJoint());
  return { r, sets };
}

const names = (s: Set) => idx(s[1]).map(nodeName).sort();

describe("psibase's producer-change cases (test_consensus.cpp)", () => {
  it.each(TRANSITIONS.map((t, i) => [i, show(t[0]), show(t[1]), t] as const))('joint consensus (%i: %s → %s)', (i, _a, _b, t) => {
    const { r, sets } = run(t, 1000 + i, false);
    expect(r.violations).toEqual([]);
    for (const joint of sets) {
      expect(joint.next).toBeUndefined();
      expect(joint.current.mode).toBe(t[1][0]);
      expect([...joint.current.producers].sort()).toEqual(names(t[1]));
    }
  });

  it.each(TRANSITIONS.map((t, i) => [i, show(t[0]), show(t[1]), t] as const))('joint consensus crash (%i: %s → %s)', (i, _a, _b, t) => {
    const { r, sets } = run(t, 2000 + i, true);
    expect(r.violations).toEqual([]);
    // Whether the change happens depends on the partitions (psibase): the old or the new set,
    // and never still joint (psibase: CHECK(!final_state->nextProducers)).
    for (const joint of sets) {
      expect(joint.next).toBeUndefined();
      const p = [...joint.current.producers].sort();
      const isOld = joint.current.mode === t[0][0] && JSON.stringify(p) === JSON.stringify(names(t[0]));
      const isNew = joint.current.mode === t[1][0] && JSON.stringify(p) === JSON.stringify(names(t[1]));
      expect(isOld || isNew).toBe(true);
    }
  });
});

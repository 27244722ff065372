// psibase's multi-node consensus cases (libraries/net/test/test_bft_consensus.cpp and
// test_cft_consensus.cpp), ported through the simulator and named exactly as psibase
// names them. psibase's NodeSet runs on a mock clock with its 1 s block interval; the
// simulator runs psiweb's ConsensusNodes on virtual time with messages crossing
// psibase's wire codec. Durations are psibase's (ms of virtual time). psibase's final
// checks (all heads equal after the final sync, head recent, commitNum close behind
// the head) become: no safety violation at any time (the simulator checks every
// irreversible block against every other node's), a new block irreversible on every
// node soon after the network heals (psibase's "final sync"), and, where psibase
// expects progress under a partition, irreversible blocks at the probe times.
import { describe, expect, it } from 'vitest';
import { hexOf } from '../block.ts';
import { Prng } from './prng.ts';
import { Simulation, type FaultAction } from './simulator.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** psibase NetworkPartition::subset(rng, p): each node is active with probability p; active nodes reach each other, the rest are cut off alone. */
function subsetPartitions(seed: number, nodes: number, everyMs: number, untilMs: number, p: number): FaultAction[] {
  const rng = new Prng(seed);
  const out: FaultAction[] = [];
  for (let at = 0; at < untilMs; at += everyMs) {
    const active = range(nodes).filter(() => rng.chance(p));
    const alone = range(nodes).filter((n) => !active.includes(n)).map((n) => [n]);
    out.push({ at, kind: 'partition', groups: [active, ...alone] });
  }
  return out;
}

/** psibase NetworkPartition::split(rng): the nodes shuffled and cut into two halves. */
function splitPartitions(seed: number, nodes: number, everyMs: number, untilMs: number): FaultAction[] {
  const rng = new Prng(seed);
  const out: FaultAction[] = [];
  for (let at = 0; at < untilMs; at += everyMs) {
    const order = range(nodes);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const half = Math.floor(nodes / 2);
    out.push({ at, kind: 'partition', groups: [order.slice(0, half), order.slice(half)] });
  }
  return out;
}

/** psibase's quorum tables: producers, and how many of them (the first ones) are connected. */
const BFT_QUORUM: [number, number][] = [
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 3],
  [5, 4],
  [6, 5],
  [7, 5],
];
const CFT_QUORUM: [number, number][] = [
  [1, 1],
  [2, 2],
  [3, 2],
  [4, 3],
  [5, 3],
  [6, 4],
  [7, 4],
];

const BLOCK_MS = 1000;

function quorumRun(mode: 'bft' | 'cft', producers: number, active: number) {
  const idle = range(producers).slice(active).map((n) => [n]);
  const sim = new Simulation({
    seed: 100 + producers,
    mode,
    nodes: producers,
    blockIntervalMs: BLOCK_MS,
    chaosMs: 20_000,
    schedule: [{ at: 0, kind: 'partition', groups: [range(active), ...idle] }],
    probes: [19_999],
  });
  return sim.run();
}

describe("psibase's multi-node BFT cases (test_bft_consensus.cpp)", () => {
  it('bft crash', () => {
    const sim = new Simulation({
      seed: 1,
      mode: 'bft',
      nodes: 4,
      blockIntervalMs: BLOCK_MS,
      chaosMs: 5 * 60_000,
      schedule: subsetPartitions(1, 4, 10_000, 5 * 60_000, 0.67),
      livenessMs: 20_000,
      // psibase: "Final sync": everyone connected for 20 s, then the heads are checked.
      runUntilMs: 5 * 60_000 + 20_000,
    });
    const r = sim.run();
    expect(r.violations).toEqual([]);
    expect(r.irreversible).toBeGreaterThan(10);
    // psibase's final checks: every node on one head (give or take the block in flight at
    // the instant the run stops), made in the last 2 s, and carrying the commit of the
    // block two before it (psibase: commitNum == blockNum − 2).
    const nodes = sim.honestNodes();
    const first = nodes.reduce((a, n) => (n.head.num > a.head.num ? n : a));
    const head = first.head.header;
    for (const n of nodes) {
      expect(n.head.num).toBeGreaterThanOrEqual(head.blockNum - 1);
      expect(n.head.id === first.head.id || hexOf(head.previous) === n.head.id, `${n.name} on the same chain`).toBe(true);
    }
    expect(Number(head.time) / 1000).toBeGreaterThanOrEqual(r.timeMs - 2_000);
    expect(head.commitNum).toBeGreaterThanOrEqual(head.blockNum - 2);
  }, 60_000);

  for (const [producers, count] of BFT_QUORUM) {
    it(`bft quorum (${producers} producers, ${count} connected)`, () => {
      const r = quorumRun('bft', producers, count);
      expect(r.violations).toEqual([]);
      // The connected quorum finalises blocks on its own within psibase's 20 s.
      expect(r.probes[0]!.max).toBeGreaterThan(5);
    });
  }

  it('bft quorum: one fewer than the quorum finalises nothing', () => {
    // The rejecting side of psibase's table (not a psibase case): with count − 1 connected, nothing becomes irreversible.
    for (const [producers, count] of BFT_QUORUM.filter(([p]) => p > 1)) {
      const r = quorumRun('bft', producers, count - 1);
      expect(r.probes[0]!.max, `${producers} producers`).toBe(1);
    }
  });

  // psibase: ten minutes of random 2–2 splits every 15 s, then all heads equal with
  // commitNum ≥ blockNum − 2 within 30 s. Run on five seeds: seeds 2, 4 and 6 once
  // stalled for good, because a node whose head sat on a fork its peer never saw asked for
  // blocks by naming that head, and the peer's answer (from the irreversible block, one
  // batch) held only blocks it already had. Each hello now names the furthest block of the
  // peer's previous answer (ConsensusNode.requestBlock).
  it('bft partition', () => {
    for (const seed of [2, 3, 4, 5, 6]) {
      const r = new Simulation({
        seed,
        mode: 'bft',
        nodes: 4,
        blockIntervalMs: BLOCK_MS,
        chaosMs: 10 * 60_000,
        schedule: splitPartitions(seed, 4, 15_000, 10 * 60_000),
        livenessMs: 30_000,
      }).run();
      expect(r.violations, `seed ${seed}`).toEqual([]);
    }
  }, 120_000);

  for (const latency of [150, 450, 900, 1050, 2100, 3450, 7650, 10350, 15450]) {
    it(`bft latency (${latency} ms)`, () => {
      const sim = new Simulation({
        seed: 3,
        mode: 'bft',
        nodes: 4,
        blockIntervalMs: BLOCK_MS,
        minDelayMs: latency,
        maxDelayMs: latency,
        chaosMs: 5 * 60_000,
        probes: [5 * 60_000 - 1],
        // psibase: the head is about 3 × latency ahead of the irreversible block; a new
        // irreversible block on every node after "healing" (nothing to heal here) needs a
        // few round trips.
        livenessMs: 60_000 + 10 * latency,
      });
      const r = sim.run();
      expect(r.violations).toEqual([]);
      expect(r.probes[0]!.max).toBeGreaterThan(1);
    }, 60_000);
  }
});

describe("psibase's multi-node CFT cases (test_cft_consensus.cpp)", () => {
  it('cft crash', () => {
    const r = new Simulation({
      seed: 4,
      mode: 'cft',
      nodes: 3,
      blockIntervalMs: BLOCK_MS,
      chaosMs: 5 * 60_000,
      schedule: subsetPartitions(4, 3, 10_000, 5 * 60_000, 0.5),
      livenessMs: 30_000,
    }).run();
    expect(r.violations).toEqual([]);
    expect(r.irreversible).toBeGreaterThan(10);
  }, 60_000);

  for (const [producers, count] of CFT_QUORUM) {
    it(`cft quorum (${producers} producers, ${count} connected)`, () => {
      const r = quorumRun('cft', producers, count);
      expect(r.violations).toEqual([]);
      expect(r.probes[0]!.max).toBeGreaterThan(5);
    });
  }

  it('cft quorum: one fewer than the quorum finalises nothing', () => {
    for (const [producers, count] of CFT_QUORUM.filter(([p]) => p > 1)) {
      const r = quorumRun('cft', producers, count - 1);
      expect(r.probes[0]!.max, `${producers} producers`).toBe(1);
    }
  });

  it('cft partition', () => {
    const r = new Simulation({
      seed: 5,
      mode: 'cft',
      nodes: 4,
      blockIntervalMs: BLOCK_MS,
      chaosMs: 10 * 60_000,
      schedule: splitPartitions(5, 4, 20_000, 10 * 60_000),
      livenessMs: 20_000,
    }).run();
    expect(r.violations).toEqual([]);
  }, 60_000);
});

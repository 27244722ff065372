import { describe, expect, it } from 'vitest';
import { survivors, type BlockEntry } from './fork-db.ts';
import { Simulation } from './sim/simulator.ts';
import type { JointConsensus } from './types.ts';

const joint: JointConsensus = { current: { mode: 'cft', producers: ['p0'], claims: [] } };

function entry(id: string, num: number, parent: BlockEntry | undefined): BlockEntry {
  const z = new Uint8Array(32);
  const header = { previous: z, blockNum: num, time: BigInt(num), producer: 0n, term: 1, commitNum: 0, consensusState: z, trxMerkleRoot: z, eventMerkleRoot: z };
  const block = { block: { header, transactions: [] }, signature: new Uint8Array(0) };
  return { id, block, header, num, term: 1, producer: 'p0', previous: parent?.id ?? '', commitNum: 0, parent, gov: joint, state: joint };
}

describe('fork-db pruning', () => {
  it('keeps the retained irreversible chain and what descends from it, nothing else', () => {
    const g = entry('g', 1, undefined);
    const a2 = entry('a2', 2, g);
    const a3 = entry('a3', 3, a2);
    const a4 = entry('a4', 4, a3);
    const a5 = entry('a5', 5, a4);
    const b3 = entry('b3', 3, a2); // lost to a3 below the irreversible block
    const b5 = entry('b5', 5, b3); // above it, but on the dead fork
    const c5 = entry('c5', 5, a4); // a live fork above it
    const kept = survivors([g, a2, a3, a4, a5, b3, b5, c5], a4, 2);
    expect([...kept].map((e) => e.id).sort()).toEqual(['a3', 'a4', 'a5', 'c5']);
  });

  it('bounds the block tree of every node in a long run with faults, and consensus still holds', () => {
    const run = (retainBlocks: number) => {
      const sim = new Simulation({ seed: 7, mode: 'bft', nodes: 4, faults: true, chaosMs: 1500, retainBlocks, stopAtIrreversible: 400, livenessMs: 120_000 });
      const r = sim.run();
      return { r, sizes: sim.honestNodes().map((n) => n.blockCount) };
    };
    const pruned = run(32);
    expect(pruned.r.violations).toEqual([]);
    expect(pruned.r.irreversible).toBeGreaterThanOrEqual(400);
    // Pruning runs when the tree doubles: at most twice the retained blocks plus the unconfirmed tip.
    for (const n of pruned.sizes) expect(n).toBeLessThanOrEqual(2 * 32 + 16);
    const kept = run(1_000_000);
    for (const n of kept.sizes) expect(n).toBeGreaterThanOrEqual(400);
  });
});

/**
 * Seed runs as the CLI and the tests use them: one option set, many seeds, one line
 * per failing seed and a summary.
 */
import { threshold, type QuorumOverride } from '../producers.ts';
import { simulate, type ByzantineMode, type SimConfig, type SimResult } from './simulator.ts';

export type SimMode = 'cft' | 'bft' | 'switch';

/**
 * Deliberately broken quorum rules, one short of the real one, to show the checker
 * catches them: `2f` makes a BFT set of 3f+1 producers need 2f instead of 2f+1
 * (f = ⌊(n−1)/3⌋), `n/2` a CFT set need ⌊n/2⌋ instead of a majority. Sets of the other
 * algorithm keep their quorum, so the rules also apply across a CFT→BFT switch.
 */
export const UNSAFE_QUORUMS = ['2f', 'n/2'] as const;
export type UnsafeQuorumName = (typeof UNSAFE_QUORUMS)[number];

export function unsafeQuorum(name: UnsafeQuorumName): QuorumOverride {
  const mode = name === '2f' ? 'bft' : 'cft';
  return (set) => {
    if (set.mode !== mode) return threshold(set);
    const n = set.producers.length;
    return Math.max(1, mode === 'bft' ? 2 * Math.floor((n - 1) / 3) : Math.floor(n / 2));
  };
}

export interface RunOptions {
  readonly mode: SimMode;
  readonly nodes: number;
  readonly byzantine: number;
  readonly behaviour?: ByzantineMode | undefined;
  readonly unsafeQuorum?: SimConfig['unsafeQuorum'];
  readonly trace?: ((line: string) => void) | undefined;
}

/** The configuration of one seed: random faults, and for `switch` a CFT→BFT change in the middle of them. */
export function seedConfig(opts: RunOptions, seed: number): SimConfig {
  const chaosMs = 1500;
  const all = Array.from({ length: opts.nodes }, (_, i) => i);
  // Colluders: the seed picks where leadership starts, so a colluder leads the first term in byzantine/nodes of the seeds.
  const start = seed % opts.nodes;
  return {
    seed,
    mode: opts.mode === 'bft' ? 'bft' : 'cft',
    nodes: opts.nodes,
    ...(opts.behaviour === 'collude' && opts.mode === 'bft' ? { producers: all.map((i) => all[(i + start) % all.length]!) } : {}),
    byzantine: opts.byzantine,
    ...(opts.behaviour ? { byzantineBehaviour: opts.behaviour } : {}),
    faults: true,
    chaosMs,
    ...(opts.mode === 'switch' ? { change: { at: chaosMs / 3, set: { mode: 'bft' as const, nodes: all } } } : {}),
    ...(opts.unsafeQuorum ? { unsafeQuorum: opts.unsafeQuorum } : {}),
    ...(opts.trace ? { trace: opts.trace } : {}),
  };
}

export function runSeed(opts: RunOptions, seed: number): SimResult {
  return simulate(seedConfig(opts, seed));
}

export interface Summary {
  readonly passed: number;
  readonly failed: readonly SimResult[];
}

export function runSeeds(opts: RunOptions, first: number, count: number, onFail?: (r: SimResult) => void): Summary {
  let passed = 0;
  const failed: SimResult[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const r = runSeed(opts, seed);
    if (r.violations.length === 0) passed++;
    else {
      failed.push(r);
      onFail?.(r);
    }
  }
  return { passed, failed };
}

export function failLine(r: SimResult): string {
  return `seed ${r.seed}: ${r.violations[0] ?? 'unknown'}`;
}

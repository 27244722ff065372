/**
 * Seed runs as the CLI and the tests use them: one option set, many seeds, one line
 * per failing seed and a summary.
 */
import type { ByzantineBehaviour } from './byzantine.ts';
import { simulate, type SimConfig, type SimResult } from './simulator.ts';

export type SimMode = 'cft' | 'bft' | 'switch';

export interface RunOptions {
  readonly mode: SimMode;
  readonly nodes: number;
  readonly byzantine: number;
  readonly behaviour?: ByzantineBehaviour | undefined;
  readonly unsafeQuorum?: SimConfig['unsafeQuorum'];
  readonly trace?: ((line: string) => void) | undefined;
}

/** The configuration of one seed: random faults, and for `switch` a CFT→BFT change in the middle of them. */
export function seedConfig(opts: RunOptions, seed: number): SimConfig {
  const chaosMs = 1500;
  const all = Array.from({ length: opts.nodes }, (_, i) => i);
  return {
    seed,
    mode: opts.mode === 'bft' ? 'bft' : 'cft',
    nodes: opts.nodes,
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

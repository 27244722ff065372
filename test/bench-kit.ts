/**
 * What a `*.bench.ts` file exports and receives. `npm run bench` (test/bench.ts) finds
 * every bench file, runs it and prints all figures as a table and as JSON.
 */
import type { Page } from 'playwright-core';

export interface Figure {
  /** What was measured, e.g. "fracpack decode SignedTransaction (1 action)". */
  name: string;
  /** Where: node or chromium. */
  env: 'node' | 'chromium';
  value: number;
  unit: string;
  /** The target, when it names one, e.g. "≤ 5 µs". */
  target?: string;
  /** Whether the target was met (undefined when there is none). */
  met?: boolean;
}

export interface BenchContext {
  /** A Chromium page on the source server, launched on first use and shared. */
  page(): Promise<Page>;
}

export type BenchFile = (ctx: BenchContext) => Promise<Figure[]>;

export function figure(
  name: string,
  env: Figure['env'],
  value: number,
  unit: string,
  target?: { op: '>=' | '<='; value: number; text: string },
): Figure {
  const f: Figure = { name, env, value, unit };
  if (target) {
    f.target = target.text;
    f.met = target.op === '>=' ? value >= target.value : value <= target.value;
  }
  return f;
}

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
  /**
   * How the figure was obtained, so it is not read as better than it is: best of N
   * rounds or a median/percentile of N samples, warm or cold, native or wasm verify,
   * relaxed IndexedDB durability, what the clock started and stopped on.
   */
  how?: string;
}

export interface BenchContext {
  /** A Chromium page on the source server, launched on first use and shared. */
  page(): Promise<Page>;
}

export type BenchFile = (ctx: BenchContext) => Promise<Figure[]>;

/** A target the runner checks: `npm run bench` exits non-zero when one is missed. */
export interface Target {
  op: '>=' | '<=';
  value: number;
  text: string;
}

export function figure(name: string, env: Figure['env'], value: number, unit: string, target?: Target, how?: string): Figure {
  const f: Figure = { name, env, value, unit };
  if (target) {
    f.target = target.text;
    // NaN (nothing measured) meets no target.
    f.met = Number.isFinite(value) && (target.op === '>=' ? value >= target.value : value <= target.value);
  }
  if (how !== undefined) f.how = how;
  return f;
}

/** The figures whose target was missed, or whose target cannot be checked (no verdict). */
export function missedTargets(figures: readonly Figure[]): Figure[] {
  return figures.filter((f) => f.target !== undefined && f.met !== true);
}

/** A number as the bench table prints it. */
export function formatValue(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
}

/**
 * The runner's verdict: ok only when every declared target is met and no bench file
 * failed; `line` names each missed target (figure, env, measured, target) and failure.
 */
export function verdict(figures: readonly Figure[], failed: readonly { file: string; error: string }[]): { ok: boolean; line: string } {
  const missed = missedTargets(figures);
  if (missed.length === 0 && failed.length === 0) {
    return { ok: true, line: `bench: every target met (${figures.filter((f) => f.target !== undefined).length} checked)` };
  }
  const parts = [
    ...missed.map((f) => `${f.name} (${f.env}): measured ${formatValue(f.value)} ${f.unit}, target ${f.target}`),
    ...failed.map((f) => `${f.file}: failed (${f.error})`),
  ];
  return { ok: false, line: `bench: ${missed.length} target(s) missed, ${failed.length} bench file(s) failed: ${parts.join('; ')}` };
}

/**
 * Isomorphic micro-benchmark loop (runs in Node and, through the source server, in
 * Chromium). Runs `fn` in growing batches until `minMs` of wall time has passed, after
 * a warm-up, and reports operations per second from the best of several rounds so a
 * busy second core does not drag the figure down.
 */
export interface Measured {
  opsPerSec: number;
  usPerOp: number;
  ops: number;
  /** How the figure was taken, for Figure.how: e.g. "best of 5 rounds × 4096 ops, after warm-up". */
  how: string;
}

export async function measure(
  fn: () => unknown | Promise<unknown>,
  { minMs = 400, rounds = 5, isAsync = false }: { minMs?: number; rounds?: number; isAsync?: boolean } = {},
): Promise<Measured> {
  const run = async (n: number) => {
    const t0 = performance.now();
    if (isAsync) for (let i = 0; i < n; i++) await fn();
    else for (let i = 0; i < n; i++) fn();
    return performance.now() - t0;
  };
  // Warm up and find a batch size that takes about minMs / rounds.
  let batch = 1;
  for (;;) {
    const ms = await run(batch);
    if (ms >= minMs / rounds / 4 || batch >= 1 << 24) break;
    batch *= 2;
  }
  let best = Infinity;
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const ms = await run(batch);
    total += batch;
    best = Math.min(best, ms / batch);
  }
  return { opsPerSec: 1000 / best, usPerOp: best * 1000, ops: total, how: `best of ${rounds} rounds × ${batch} ops, after warm-up` };
}

/** Percentile of a list of samples (p in 0..100). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

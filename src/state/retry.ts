/**
 * Miss-and-retry (ARCHITECTURE.md §4): run synchronous work (a transaction or a query)
 * against the range cache; when it misses, load the named range and run it again from
 * the start. Re-running is safe because the work writes only to an overlay, which is
 * rolled back before every new attempt.
 */
import { MAX_RETRY_ROUNDS } from './constants.ts';
import { CacheMissError, StateError } from '../errors.ts';
import type { Overlay } from './types.ts';

export interface RangeLoader {
  load(miss: CacheMissError): Promise<void>;
}

export interface RetryOptions {
  /** Writes of a failed attempt are rolled back here (a savepoint per attempt). */
  overlay?: Overlay;
  maxRounds?: number;
}

/**
 * The miss behind `e`, also when a layer in between (the VM, a service's own error
 * handling) wrapped it as the cause of its own error.
 */
export function findMiss(e: unknown): CacheMissError | undefined {
  for (let depth = 0; depth < 16 && e !== undefined && e !== null; depth++) {
    if (e instanceof CacheMissError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Runs `fn` until it completes without a cache miss. Any other error is rethrown as is;
 * with an overlay, the failed attempt's writes are rolled back first, and a successful
 * attempt's writes are kept.
 */
export async function runWithRetry<T>(fn: () => T, loader: RangeLoader, options: RetryOptions = {}): Promise<T> {
  const { overlay, maxRounds = MAX_RETRY_ROUNDS } = options;
  for (let round = 1; ; round++) {
    const sp = overlay?.savepoint();
    let miss: CacheMissError | undefined;
    try {
      const result = fn();
      if (overlay) overlay.release(sp!);
      return result;
    } catch (e) {
      if (overlay) overlay.rollback(sp!);
      miss = findMiss(e);
      if (!miss) throw e;
      if (round >= maxRounds) {
        throw new StateError(`state reads did not converge after ${round} load-and-retry rounds`, {
          cause: miss,
          details: { rounds: round },
        });
      }
    }
    await loader.load(miss);
  }
}

/**
 * When a browser peer may be dialed again: after a failed dial, RETRY_PEER_MS, twice as
 * long after each failure in a row, up to the cap; a success forgets its failures.
 */
export class PeerRetry {
  private readonly failures = new Map<string, number>();
  private readonly notBefore = new Map<string, number>();

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
    /** Peers remembered at most (a profile meets few; past this the memory starts over). */
    private readonly maxPeers = 1024,
  ) {}

  /** A dial of `id` failed: the wait doubles with each failure in a row (or is `ms`). Returns the wait. */
  failed(id: string, ms?: number): number {
    if (!this.failures.has(id) && this.failures.size >= this.maxPeers) this.failures.clear();
    const n = (this.failures.get(id) ?? 0) + 1;
    this.failures.set(id, n);
    const wait = ms ?? Math.min(this.maxMs, this.minMs * 2 ** Math.min(n - 1, 30));
    this.later(id, wait);
    return wait;
  }

  /** Not before `ms` from now, without counting a failure. */
  later(id: string, ms: number): void {
    if (!this.notBefore.has(id) && this.notBefore.size >= this.maxPeers) this.notBefore.clear();
    this.notBefore.set(id, this.now() + ms);
  }

  succeeded(id: string): void {
    this.failures.delete(id);
    this.notBefore.delete(id);
  }

  /** Whether `id` must not be dialed yet. */
  waiting(id: string): boolean {
    return (this.notBefore.get(id) ?? 0) > this.now();
  }
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { holdReads, Poller, readsHeld } from './dashboard-sources.ts';

describe('dashboard reads', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a poller reads while listened to, and stops reading once reads are held for an update', async () => {
    let reads = 0;
    const poller = new Poller(async () => ++reads, 1_000);
    const off = poller.subscribe(() => undefined);
    await vi.advanceTimersByTimeAsync(3_500);
    expect(reads).toBeGreaterThanOrEqual(3);
    const before = reads;
    expect(poller.reading.value).toBe(before);
    expect(readsHeld()).toBe(false);
    holdReads();
    expect(readsHeld()).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    poller.poke();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reads).toBe(before);
    off();
  });
});

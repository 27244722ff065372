import { describe, expect, it } from 'vitest';
import { PeerRetry } from './peer-retry.ts';

describe('when a browser peer is dialed again', () => {
  it('waits twice as long after each failure in a row, up to the cap; a success starts over', () => {
    let now = 1_000;
    const r = new PeerRetry(2_000, 30_000, () => now);
    expect(r.waiting('a')).toBe(false);
    expect([1, 2, 3, 4, 5, 6].map(() => r.failed('a'))).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(r.waiting('a')).toBe(true);
    now += 29_999;
    expect(r.waiting('a')).toBe(true);
    now += 1;
    expect(r.waiting('a')).toBe(false);
    r.succeeded('a');
    expect(r.failed('a')).toBe(2_000);
    // Each peer on its own; a wait given outright; a later() that is no failure.
    expect(r.failed('b', 30_000)).toBe(30_000);
    r.later('c', 500);
    expect(r.waiting('c')).toBe(true);
    expect(r.failed('c')).toBe(2_000);
  });

  it('remembers a bounded number of peers', () => {
    const r = new PeerRetry(1_000, 8_000, () => 0, 3);
    for (const id of ['a', 'b', 'c']) r.failed(id);
    r.failed('a');
    expect(r.failed('a')).toBe(4_000);
    // A fourth peer: the memory starts over.
    r.failed('d');
    expect(r.failed('a')).toBe(1_000);
  });
});

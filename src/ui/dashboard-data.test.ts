import { describe, expect, it } from 'vitest';
import { ago, DashboardDataError, FinalityTracker, median, parseNativeStatus, parseProducers, statusStale } from './dashboard-data.ts';

const view = (head: number, irreversible: number, behind = 0) => ({ head: { num: head }, irreversible, behind });

describe('FinalityTracker', () => {
  it('measures head → irreversible as seen, and block time → irreversible once the time is known', () => {
    const f = new FinalityTracker();
    f.observe(view(10, 8), 1_000); // the starting point: nothing counted
    f.observe(view(11, 9), 1_100); // 9 was seen before the start: no head sample
    f.observe(view(12, 11), 1_300); // 11 seen as head at 1_100, 12 new
    f.observe(view(12, 12), 1_700); // 12 seen as head at 1_300
    // 11: 1_300 − 1_100, 12: 1_700 − 1_300; 10 and 9 were not seen arriving.
    expect(f.figures()).toMatchObject({ headSamples: 2, headMs: 300 });
    f.addBlockTime(11, 500);
    f.addBlockTime(12, 900);
    f.addBlockTime(12, 0); // a second time for a block changes nothing
    expect(f.figures()).toMatchObject({ blockTimeSamples: 2, blockTimeMs: (800 + 800) / 2 });
  });

  it('does not count blocks that arrive while catching up', () => {
    const f = new FinalityTracker();
    f.observe(view(1, 1), 0);
    f.observe(view(500, 500, 100), 10);
    f.addBlockTime(500, -1_000_000);
    expect(f.figures()).toEqual({ blockTimeMs: undefined, blockTimeSamples: 0, headMs: undefined, headSamples: 0 });
    f.observe(view(501, 501), 1_010);
    f.addBlockTime(501, 600);
    expect(f.figures()).toEqual({ blockTimeMs: 410, blockTimeSamples: 1, headMs: 0, headSamples: 1 });
  });

  it('keeps a rolling window', () => {
    const f = new FinalityTracker(3);
    f.observe(view(0, 0), 0);
    for (let n = 1; n <= 10; n++) {
      f.observe(view(n, n - 1), n * 100);
      f.observe(view(n, n), n * 100 + n);
    }
    // The last three: 8, 9, 10 ms.
    expect(f.figures()).toMatchObject({ headSamples: 3, headMs: 9 });
  });
});

describe('parsers', () => {
  const native = { chainId: 'AB', head: { num: 3, id: 'X', time: '2026-01-01T00:00:00.000Z' }, irreversible: { num: 3, id: 'X' }, consensus: 'cft', producers: ['prod'], nextProducers: null, producer: 'prod', producing: true, role: 'producer', peers: [{ id: 1, transport: 'websocket', direction: 'in', rttMs: 0.4 }] };

  it('reads /native/status and refuses what is not one', () => {
    expect(parseNativeStatus(native).peers?.[0]?.rttMs).toBe(0.4);
    expect(() => parseNativeStatus('nope')).toThrow(DashboardDataError);
    expect(() => parseNativeStatus({ ...native, head: 3 })).toThrow(/no head/);
    expect(() => parseNativeStatus({ ...native, producers: [1] })).toThrow(/producer list/);
    expect(() => parseNativeStatus({ ...native, peers: [{ id: 1 }] })).toThrow(/transport/);
  });

  it('reads the producers query and refuses errors', () => {
    const data = { consensus: { __typename: 'BftConsensus' }, producers: [{ name: 'a' }, { name: 'b' }], nextProducers: [] };
    expect(parseProducers({ data })).toEqual({ consensus: 'bft', producers: ['a', 'b'], nextProducers: [] });
    expect(() => parseProducers({ errors: [{ message: 'Syntax error' }] })).toThrow(/Syntax error/);
    expect(() => parseProducers({ data: { ...data, consensus: { __typename: 'Other' } } })).toThrow(DashboardDataError);
    expect(() => parseProducers({ data: { producers: [] } })).toThrow(DashboardDataError);
  });
});

describe('helpers', () => {
  it('median, staleness and age', () => {
    expect(median([])).toBeUndefined();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(statusStale({ updatedAt: 0 }, 5_000)).toBe(false);
    expect(statusStale({ updatedAt: 0 }, 5_001)).toBe(true);
    expect(statusStale(undefined, 0)).toBe(true);
    expect(ago(0, 12_000)).toBe('12 s ago');
    expect(ago(0, 125_000)).toBe('2 min ago');
  });
});

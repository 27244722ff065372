import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareBytes, toHex } from './bytes.ts';
import { SortedMap } from './sorted-map.ts';
import { keyArb } from './testing/reference.ts';

describe('SortedMap', () => {
  it('matches a sorted array under random inserts, deletes and range scans', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), keyArb(3)), { maxLength: 400 }),
        keyArb(3),
        keyArb(3),
        (ops, lo, hi) => {
          const m = new SortedMap<string>();
          const model = new Map<string, Uint8Array>();
          for (const [del, k] of ops) {
            if (del) {
              expect(m.delete(k)).toBe(model.delete(toHex(k)));
            } else {
              m.set(k, toHex(k));
              model.set(toHex(k), k);
            }
          }
          const sorted = [...model.values()].sort(compareBytes).map(toHex);
          expect(m.size).toBe(sorted.length);
          expect([...m.range(undefined, undefined)].map((e) => e.value)).toEqual(sorted);
          const cmpIn = [...model.values()]
            .filter((k) => compareBytes(k, lo) >= 0 && compareBytes(k, hi) < 0)
            .sort(compareBytes)
            .map(toHex);
          expect([...m.range(lo, hi)].map((e) => e.value)).toEqual(cmpIn);
          expect([...m.rangeReverse(lo, hi)].map((e) => e.value)).toEqual([...cmpIn].reverse());
          expect([...m.rangeReverse(undefined, undefined)].map((e) => e.value)).toEqual([...sorted].reverse());
          const ceil = [...model.values()].sort(compareBytes).find((k) => compareBytes(k, lo) >= 0);
          expect(m.ceiling(lo)?.value).toBe(ceil && toHex(ceil));
          const low = [...model.values()].sort(compareBytes).reverse().find((k) => compareBytes(k, lo) < 0);
          expect(m.lower(lo)?.value).toBe(low && toHex(low));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('splits chunks and stays ordered with 20k keys inserted in random order', () => {
    const m = new SortedMap<number>();
    const keys: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) keys.push(Uint8Array.of(i >> 8, i & 0xff, 7));
    const shuffled = [...keys];
    let seed = 1;
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const j = seed % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    for (const k of shuffled) m.set(k, (k[0]! << 8) | k[1]!);
    expect(m.size).toBe(20_000);
    let prev = -1;
    for (const e of m.range(undefined, undefined)) {
      expect(e.value).toBe(prev + 1);
      prev = e.value;
    }
    for (let i = 0; i < 20_000; i += 2) m.delete(keys[i]!);
    expect(m.size).toBe(10_000);
    expect(m.get(keys[1]!)).toBe(1);
    expect(m.get(keys[2]!)).toBeUndefined();
    expect(m.lower(undefined)?.value).toBe(19_999);
    const mid = [...m.rangeReverse(keys[5000], keys[9001])].map((e) => e.value);
    expect(mid.length).toBe(2000);
    expect(mid[0]).toBe(9_000 - 1);
    expect(mid.at(-1)).toBe(5_001);
    expect([...m.range(keys[5000], keys[9001])].map((e) => e.value)).toEqual([...mid].reverse());
  });
});

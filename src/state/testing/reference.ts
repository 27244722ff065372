/**
 * A deliberately naive model of psibase's key/value semantics (a Map and a full sorted
 * scan per lookup) that the real structures are checked against, plus fast-check
 * arbitraries that favour the edge bytes 0x00 and 0xff and shared prefixes.
 */
import fc from 'fast-check';
import { compareBytes, hasPrefix, toHex } from '../bytes.ts';
import type { Bytes, KvEntry, KvReader } from '../types.ts';

export class ReferenceKv implements KvReader {
  readonly entries = new Map<string, KvEntry>();

  constructor(from?: Iterable<KvEntry>) {
    if (from) for (const e of from) this.put(e.key, e.value);
  }

  clone(): ReferenceKv {
    return new ReferenceKv(this.entries.values());
  }

  sorted(): KvEntry[] {
    return [...this.entries.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  put(key: Bytes, value: Bytes): void {
    this.entries.set(toHex(key), { key, value });
  }

  remove(key: Bytes): void {
    this.entries.delete(toHex(key));
  }

  get(key: Bytes): Bytes | undefined {
    return this.entries.get(toHex(key))?.value;
  }

  greaterEqual(key: Bytes, prefixLen: number): KvEntry | undefined {
    const e = this.sorted().find((e) => compareBytes(e.key, key) >= 0);
    return e && hasPrefix(e.key, key, prefixLen) ? e : undefined;
  }

  lessThan(key: Bytes, prefixLen: number): KvEntry | undefined {
    const e = this.sorted()
      .reverse()
      .find((e) => compareBytes(e.key, key) < 0);
    return e && hasPrefix(e.key, key, prefixLen) ? e : undefined;
  }

  max(prefix: Bytes): KvEntry | undefined {
    return this.sorted()
      .reverse()
      .find((e) => hasPrefix(e.key, prefix));
  }
}

/** Keys over a tiny alphabet with the edge bytes, so prefixes and neighbours collide often. */
export const keyArb = (maxLength = 4): fc.Arbitrary<Uint8Array> =>
  fc
    .array(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff), { maxLength })
    .map((a) => Uint8Array.from(a));

export const valueArb: fc.Arbitrary<Uint8Array> = fc.uint8Array({ maxLength: 3 });

/** A lookup and the argument it takes, with prefixLen already clamped to the key. */
export type Lookup =
  | { op: 'get'; key: Uint8Array }
  | { op: 'ge'; key: Uint8Array; prefixLen: number }
  | { op: 'lt'; key: Uint8Array; prefixLen: number }
  | { op: 'max'; key: Uint8Array };

export const lookupArb: fc.Arbitrary<Lookup> = fc.oneof(
  keyArb().map((key) => ({ op: 'get' as const, key })),
  fc.tuple(keyArb(), fc.nat(5)).map(([key, n]) => ({ op: 'ge' as const, key, prefixLen: Math.min(n, key.length) })),
  fc.tuple(keyArb(), fc.nat(5)).map(([key, n]) => ({ op: 'lt' as const, key, prefixLen: Math.min(n, key.length) })),
  keyArb(3).map((key) => ({ op: 'max' as const, key })),
);

/** Runs a lookup and returns plain data (hex strings) so results compare with toEqual. */
export function runLookup(r: KvReader, l: Lookup): string | null {
  const show = (e: KvEntry | undefined) => (e ? `${toHex(e.key)}=${toHex(e.value)}` : null);
  switch (l.op) {
    case 'get': {
      const v = r.get(l.key);
      return v ? toHex(v) : null;
    }
    case 'ge':
      return show(r.greaterEqual(l.key, l.prefixLen));
    case 'lt':
      return show(r.lessThan(l.key, l.prefixLen));
    case 'max':
      return show(r.max(l.key));
  }
}

export const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

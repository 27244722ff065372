/**
 * An in-memory ordered key/value state with psibase's lookup semantics. Used as the
 * memory backing store, as the reference the other stores are tested against, and by
 * tests that need a base state.
 */
import { hasPrefix, prefixEnd } from './bytes.ts';
import { SortedMap } from './sorted-map.ts';
import { StateError } from '../errors.ts';
import type { Bytes, KvEntry, KvWriter } from './types.ts';

/** psibase rejects a match length longer than the key ("matchKeySize is larger than key"). */
export function checkPrefixLen(key: Bytes, prefixLen: number): void {
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > key.length) {
    throw new StateError('prefix length is larger than the key', {
      details: { prefixLen, keyLength: key.length },
    });
  }
}

/**
 * Stores keep the arrays they are given and hand out the arrays they hold: callers
 * must not mutate a key or value after passing it in or reading it out.
 */
export class MemoryKv implements KvWriter {
  readonly map = new SortedMap<Bytes>();

  get size(): number {
    return this.map.size;
  }

  get(key: Bytes): Bytes | undefined {
    return this.map.get(key);
  }

  greaterEqual(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    const e = this.map.ceiling(key);
    return e && hasPrefix(e.key, key, prefixLen) ? e : undefined;
  }

  lessThan(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    const e = this.map.lower(key);
    return e && hasPrefix(e.key, key, prefixLen) ? e : undefined;
  }

  max(prefix: Bytes): KvEntry | undefined {
    const e = this.map.lower(prefixEnd(prefix));
    return e && hasPrefix(e.key, prefix) ? e : undefined;
  }

  put(key: Bytes, value: Bytes): void {
    this.map.set(key, value);
  }

  remove(key: Bytes): void {
    this.map.delete(key);
  }

  /** Entries with start <= key < end (end undefined: to the last key), at most `limit`, in order. */
  range(start: Bytes, end: Bytes | undefined, limit = Infinity): KvEntry[] {
    const out: KvEntry[] = [];
    if (limit <= 0) return out;
    for (const e of this.map.range(start, end)) {
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The last `limit` entries with start <= key < end, last first. */
  rangeReverse(start: Bytes, end: Bytes | undefined, limit = Infinity): KvEntry[] {
    const out: KvEntry[] = [];
    if (limit <= 0) return out;
    for (const e of this.map.rangeReverse(start, end)) {
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Applies a write set (undefined value = remove). */
  apply(writes: Iterable<readonly [Bytes, Bytes | undefined]>): void {
    for (const [k, v] of writes) {
      if (v === undefined) this.map.delete(k);
      else this.map.set(k, v);
    }
  }
}

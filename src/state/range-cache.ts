/**
 * The range cache (ARCHITECTURE.md §4): a synchronous KvReader over an asynchronous
 * KvStore. It keeps loaded key ranges of committed state in memory and serves reads
 * from them; a read that needs an unloaded range throws a RangeMissError naming it.
 * The caller loads that range in one request and runs its work again from the start
 * (runWithRetry in retry.ts). Committed blocks update loaded ranges in place, so the
 * cache stays warm and never serves stale state.
 *
 * It is bounded: once a load takes it past `maxEntries`, the least recently read
 * ranges are dropped (never the one just loaded) until it is back under. A dropped
 * range is a miss the next time, loaded again like any other; eviction happens only
 * at the end of a load, between runs, so no run sees a range vanish under it.
 */
import { before, compareBytes, compareEnd, prefixEnd, successor } from './bytes.ts';
import { MAX_CACHE_ENTRIES, MAX_LOAD_ENTRIES, TABLE_PREFIX_BYTES } from './constants.ts';
import { checkPrefixLen } from './memory-kv.ts';
import { SortedMap } from './sorted-map.ts';
import { CacheMissError } from '../errors.ts';
import type { KvWrite } from './overlay.ts';
import type { KvStore } from './store.ts';
import type { Bytes, KvEntry, KvReader } from './types.ts';

/**
 * A miss on [rangeStart, rangeEnd). A forward miss needs the range's first entries
 * (get, greaterEqual); a reverse miss needs its last ones (lessThan, max).
 */
export class RangeMissError extends CacheMissError {
  constructor(
    rangeStart: Bytes,
    rangeEnd: Bytes | undefined,
    readonly reverse: boolean,
  ) {
    super(rangeStart, rangeEnd);
  }
}

/** A loaded range [start, end) (end undefined: to past the last key). */
interface Interval {
  start: Bytes;
  end: Bytes | undefined;
  /** When it was last read (the cache's read clock), for eviction. */
  used: number;
}

export interface RangeCacheOptions {
  /** Bytes of a key that name its table (see TABLE_PREFIX_BYTES). */
  prefixBytes?: number;
  /** Most entries one load fetches (see MAX_LOAD_ENTRIES). */
  maxLoadEntries?: number;
  /** Entries kept before the least recently read ranges are dropped (see MAX_CACHE_ENTRIES). */
  maxEntries?: number;
}

export interface RangeCacheStats {
  entries: number;
  ranges: number;
  /** Reads asked of the cache (get, greaterEqual, lessThan, max), hits and misses. */
  reads: number;
  misses: number;
  loads: number;
  /** Ranges dropped to stay within maxEntries, and the entries they held. */
  evictions: number;
  evictedEntries: number;
}

const minEnd = (a: Bytes | undefined, b: Bytes | undefined) => (compareEnd(a, b) <= 0 ? a : b);
const maxStart = (a: Bytes, b: Bytes) => (compareBytes(a, b) >= 0 ? a : b);

export class RangeCache implements KvReader {
  readonly #store: KvStore;
  readonly #prefixBytes: number;
  readonly #maxLoad: number;
  readonly #maxEntries: number;
  readonly #data = new SortedMap<Bytes>();
  /** Sorted by start, disjoint and never touching (touching ranges are merged). */
  #loaded: Interval[] = [];
  /** Loads in flight, each collecting the blocks committed while it reads. */
  readonly #inflight = new Set<KvWrite[][]>();
  /** Bumped by clear(), so a load that read before it does not bring stale state back. */
  #epoch = 0;
  #misses = 0;
  #loads = 0;
  /** Counts reads; an interval's `used` is the count at its last read. */
  #reads = 0;
  #evictions = 0;
  #evictedEntries = 0;

  constructor(store: KvStore, options: RangeCacheOptions = {}) {
    this.#store = store;
    this.#prefixBytes = options.prefixBytes ?? TABLE_PREFIX_BYTES;
    this.#maxLoad = options.maxLoadEntries ?? MAX_LOAD_ENTRIES;
    this.#maxEntries = options.maxEntries ?? MAX_CACHE_ENTRIES;
  }

  get stats(): RangeCacheStats {
    return {
      entries: this.#data.size,
      ranges: this.#loaded.length,
      reads: this.#reads,
      misses: this.#misses,
      loads: this.#loads,
      evictions: this.#evictions,
      evictedEntries: this.#evictedEntries,
    };
  }

  /** Loads so far (stats.loads, without building the stats). */
  get loads(): number {
    return this.#loads;
  }

  /** Index of the last interval with start <= key (start < key when `strict`), or -1. */
  #lastStartingAt(key: Bytes | undefined, strict: boolean): number {
    const iv = this.#loaded;
    if (key === undefined) return iv.length - 1;
    let lo = 0;
    let hi = iv.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytes(iv[mid]!.start, key);
      if (c < 0 || (c === 0 && !strict)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  #miss(start: Bytes, end: Bytes | undefined, reverse: boolean): never {
    this.#misses++;
    throw new RangeMissError(start, end, reverse);
  }

  get(key: Bytes): Bytes | undefined {
    const read = ++this.#reads;
    const i = this.#lastStartingAt(key, false);
    const iv = this.#loaded[i];
    if (iv && before(key, iv.end)) {
      iv.used = read;
      return this.#data.get(key);
    }
    // Load the key's table, minus what is already loaded on either side of the key.
    const table = key.subarray(0, this.#prefixBytes);
    const start = iv ? maxStart(table, iv.end!) : table;
    this.#miss(start, minEnd(prefixEnd(table), this.#loaded[i + 1]?.start), false);
  }

  greaterEqual(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    const read = ++this.#reads;
    const hi = prefixEnd(key.subarray(0, prefixLen));
    let pos = key;
    for (;;) {
      const i = this.#lastStartingAt(pos, false);
      const iv = this.#loaded[i];
      if (!iv || !before(pos, iv.end)) this.#miss(pos, minEnd(hi, this.#loaded[i + 1]?.start), false);
      iv.used = read;
      const e = this.#data.ceiling(pos);
      const scanEnd = minEnd(iv.end, hi);
      if (e && before(e.key, scanEnd)) return e;
      if (compareEnd(iv.end, hi) >= 0) return undefined;
      pos = iv.end!;
    }
  }

  lessThan(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    // Every key in [prefix, key) shares the prefix, since key itself does.
    return this.#lastIn(key.subarray(0, prefixLen), key);
  }

  max(prefix: Bytes): KvEntry | undefined {
    return this.#lastIn(prefix, prefixEnd(prefix));
  }

  /** The last entry in [lo, hi). */
  #lastIn(lo: Bytes, hi: Bytes | undefined): KvEntry | undefined {
    const read = ++this.#reads;
    for (;;) {
      if (hi !== undefined && compareBytes(lo, hi) >= 0) return undefined;
      const i = this.#lastStartingAt(hi, true);
      const iv = this.#loaded[i];
      if (!iv || compareEnd(iv.end, hi) < 0) this.#miss(iv ? maxStart(lo, iv.end!) : lo, hi, true);
      iv.used = read;
      const e = this.#data.lower(hi);
      if (e && compareBytes(e.key, maxStart(iv.start, lo)) >= 0) return e;
      if (compareBytes(iv.start, lo) <= 0) return undefined;
      hi = iv.start;
    }
  }

  /** Loads the range a miss named, in one store request. */
  async load(miss: CacheMissError): Promise<void> {
    const start = miss.rangeStart;
    const end = miss.rangeEnd;
    const reverse = miss instanceof RangeMissError && miss.reverse;
    const epoch = this.#epoch;
    const committed: KvWrite[][] = [];
    this.#inflight.add(committed);
    let entries: KvEntry[];
    try {
      entries = await this.#store.getRange(start, end, { limit: this.#maxLoad, reverse });
    } finally {
      this.#inflight.delete(committed);
    }
    this.#loads++;
    if (epoch !== this.#epoch) return;
    // A full batch covers only up to its last key; the rest of the range loads later.
    let covered = { start, end };
    const last = entries[entries.length - 1];
    if (last && entries.length >= this.#maxLoad) {
      covered = reverse ? { start: last.key, end } : { start, end: successor(last.key) };
    }
    for (const e of entries) this.#data.set(e.key, e.value);
    // Blocks committed while the read was in flight may or may not be in what it read;
    // replaying them in order makes the range current either way.
    for (const writes of committed) {
      for (const [k, v] of writes) {
        if (compareBytes(k, covered.start) < 0 || !before(k, covered.end)) continue;
        if (v === undefined) this.#data.delete(k);
        else this.#data.set(k, v);
      }
    }
    this.#evict(this.#addInterval(covered));
  }

  /** Drops the least recently read ranges, other than `keep`, while over maxEntries. */
  #evict(keep: Interval): void {
    while (this.#data.size > this.#maxEntries && this.#loaded.length > 1) {
      let victim = -1;
      for (let i = 0; i < this.#loaded.length; i++) {
        const iv = this.#loaded[i]!;
        if (iv !== keep && (victim < 0 || iv.used < this.#loaded[victim]!.used)) victim = i;
      }
      const { start, end } = this.#loaded[victim]!;
      this.#loaded.splice(victim, 1);
      const doomed: Bytes[] = [];
      for (let e = this.#data.ceiling(start); e && before(e.key, end); e = this.#data.ceiling(successor(e.key))) doomed.push(e.key);
      for (const k of doomed) this.#data.delete(k);
      this.#evictions++;
      this.#evictedEntries += doomed.length;
    }
  }

  /** Adds a loaded range, merged with those it overlaps or touches; returns the merged one. */
  #addInterval(add: { start: Bytes; end: Bytes | undefined }): Interval {
    const iv = this.#loaded;
    // Merge with every interval that overlaps or touches [start, end].
    let first = this.#lastStartingAt(add.start, false);
    if (first < 0 || compareEnd(iv[first]!.end, add.start) < 0) first++;
    let last = this.#lastStartingAt(add.end, false);
    if (add.end === undefined) last = iv.length - 1;
    let start = add.start;
    let end = add.end;
    if (first <= last) {
      start = compareBytes(iv[first]!.start, start) < 0 ? iv[first]!.start : start;
      end = compareEnd(iv[last]!.end, end) > 0 ? iv[last]!.end : end;
    }
    const merged: Interval = { start, end, used: this.#reads };
    iv.splice(first, Math.max(0, last - first + 1), merged);
    return merged;
  }

  /**
   * Applies a committed block's write set to the loaded ranges. Call it after the store
   * committed, with the same writes, for every block, in order.
   */
  applyCommitted(writes: readonly KvWrite[]): void {
    for (const pending of this.#inflight) pending.push(writes as KvWrite[]);
    for (const [k, v] of writes) {
      const iv = this.#loaded[this.#lastStartingAt(k, false)];
      if (!iv || !before(k, iv.end)) continue;
      if (v === undefined) this.#data.delete(k);
      else this.#data.set(k, v);
    }
  }

  /** Forgets everything, e.g. when another context committed blocks this one did not see. */
  clear(): void {
    this.#data.clear();
    this.#loaded = [];
    this.#epoch++;
  }
}

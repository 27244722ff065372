/**
 * The state engine's contracts. Keys and values are bytes; order is bytewise
 * lexicographic (as psibase's database). Reads are synchronous because wasm host calls
 * are: over IndexedDB they are served from the range cache and throw CacheMissError
 * (src/errors.ts) on a miss, which the executor turns into load-and-retry
 * (ARCHITECTURE.md §4).
 */
export type Bytes = Uint8Array;

export interface KvEntry {
  key: Bytes;
  value: Bytes;
}

/** A synchronous read view of ordered binary key/value state. */
export interface KvReader {
  get(key: Bytes): Bytes | undefined;
  /**
   * The first entry whose key is >= `key` and whose first `prefixLen` bytes equal the
   * first `prefixLen` bytes of `key` (psibase's kvGreaterEqual).
   */
  greaterEqual(key: Bytes, prefixLen: number): KvEntry | undefined;
  /**
   * The last entry whose key is < `key` and whose first `prefixLen` bytes equal the
   * first `prefixLen` bytes of `key` (psibase's kvLessThan).
   */
  lessThan(key: Bytes, prefixLen: number): KvEntry | undefined;
  /** The last entry whose key starts with `prefix` (psibase's kvMax). */
  max(prefix: Bytes): KvEntry | undefined;
}

/** Synchronous writable state. */
export interface KvWriter extends KvReader {
  put(key: Bytes, value: Bytes): void;
  remove(key: Bytes): void;
}

/**
 * A write overlay with nested savepoints: a nested call takes a savepoint, and if it
 * aborts, rolling back to it undoes only the writes made since.
 */
export interface Overlay extends KvWriter {
  /** Opens a savepoint and returns its depth token. */
  savepoint(): number;
  /** Undoes every write since `savepoint` was opened and closes it (and any inner ones). */
  rollback(savepoint: number): void;
  /** Keeps the writes since `savepoint` and closes it (and any inner ones). */
  release(savepoint: number): void;
}

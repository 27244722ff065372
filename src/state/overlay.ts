/**
 * The write overlay execution runs against: writes and removes land here, reads merge
 * them over a base reader (the range cache, or a synchronous store), and nested
 * savepoints undo the writes of an aborted inner call. At the end of a block the
 * overlay's write set is what commits.
 */
import { bytesEqual, compareBytes, prefixEnd, successor } from './bytes.ts';
import { checkPrefixLen } from './memory-kv.ts';
import { SortedMap } from './sorted-map.ts';
import { StateError } from '../errors.ts';
import type { Bytes, KvEntry, KvReader, Overlay } from './types.ts';

/** One state write: a value to store, or undefined to remove the key. */
export type KvWrite = readonly [key: Bytes, value: Bytes | undefined];

/** null marks a removed key (a tombstone): it hides the base's entry. */
type Slot = Bytes | null;

interface Undo {
  key: Bytes;
  /** The overlay's slot before the write; undefined when the overlay had none. */
  prev: Slot | undefined;
}

export class WriteOverlay implements Overlay {
  readonly base: KvReader;
  readonly #writes = new SortedMap<Slot>();
  /** Undo records, kept only while a savepoint is open. */
  #undo: Undo[] = [];
  /** For each open savepoint, the undo-log length when it opened. */
  #marks: number[] = [];

  constructor(base: KvReader) {
    this.base = base;
  }

  /** Number of keys written or removed. */
  get writeCount(): number {
    return this.#writes.size;
  }

  /** Number of open savepoints. */
  get depth(): number {
    return this.#marks.length;
  }

  get(key: Bytes): Bytes | undefined {
    const w = this.#writes.get(key);
    if (w === null) return undefined;
    return w ?? this.base.get(key);
  }

  greaterEqual(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    let b = this.base.greaterEqual(key, prefixLen);
    for (const o of this.#writes.range(key, prefixEnd(key.subarray(0, prefixLen)))) {
      if (b && compareBytes(b.key, o.key) < 0) return b;
      if (o.value !== null) return { key: o.key, value: o.value };
      if (b && bytesEqual(b.key, o.key)) b = this.base.greaterEqual(successor(o.key), prefixLen);
    }
    return b;
  }

  lessThan(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    // Every key in [prefix, key) shares the prefix, since key itself does.
    return this.#lastBelow(this.base.lessThan(key, prefixLen), key.subarray(0, prefixLen), key);
  }

  max(prefix: Bytes): KvEntry | undefined {
    return this.#lastBelow(this.base.max(prefix), prefix, prefixEnd(prefix));
  }

  /** The last visible entry in [lo, hi), given the base's last entry there. */
  #lastBelow(b: KvEntry | undefined, lo: Bytes, hi: Bytes | undefined): KvEntry | undefined {
    for (const o of this.#writes.rangeReverse(lo, hi)) {
      if (b && compareBytes(b.key, o.key) > 0) return b;
      if (o.value !== null) return { key: o.key, value: o.value };
      if (b && bytesEqual(b.key, o.key)) b = this.base.lessThan(o.key, lo.length);
    }
    return b;
  }

  put(key: Bytes, value: Bytes): void {
    this.#record(key);
    this.#writes.set(key, value);
  }

  /** Removes without reading the base: a tombstone for a key the base lacks is harmless. */
  remove(key: Bytes): void {
    this.#record(key);
    this.#writes.set(key, null);
  }

  #record(key: Bytes): void {
    if (this.#marks.length > 0) this.#undo.push({ key, prev: this.#writes.get(key) });
  }

  savepoint(): number {
    this.#marks.push(this.#undo.length);
    return this.#marks.length - 1;
  }

  rollback(savepoint: number): void {
    const mark = this.#mark(savepoint);
    for (let i = this.#undo.length - 1; i >= mark; i--) {
      const { key, prev } = this.#undo[i]!;
      if (prev === undefined) this.#writes.delete(key);
      else this.#writes.set(key, prev);
    }
    this.#undo.length = mark;
    this.#marks.length = savepoint;
  }

  release(savepoint: number): void {
    this.#mark(savepoint);
    this.#marks.length = savepoint;
    if (savepoint === 0) this.#undo.length = 0;
  }

  #mark(savepoint: number): number {
    const mark = Number.isInteger(savepoint) && savepoint >= 0 ? this.#marks[savepoint] : undefined;
    if (mark === undefined) {
      throw new StateError('no such open savepoint', { details: { savepoint, depth: this.#marks.length } });
    }
    return mark;
  }

  /** Discards every write and savepoint (e.g. before re-running after a cache miss). */
  reset(): void {
    this.#writes.clear();
    this.#undo = [];
    this.#marks = [];
  }

  /** The write set in key order: each written key with its final value, or undefined if removed. */
  *writes(): Generator<KvWrite> {
    for (const { key, value } of this.#writes.range(undefined, undefined)) yield [key, value ?? undefined];
  }
}

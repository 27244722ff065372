/**
 * The backing store behind the state engine: committed state plus the block records
 * and the head, changed only by whole-block atomic commits. Implementations: memory
 * (memory-store.ts), IndexedDB (idb-store.ts) and lmdb for the Node peer
 * (lmdb-store.ts), picked at the entry point.
 */
import type { KvWrite } from './overlay.ts';
import type { Bytes, KvEntry, KvReader } from './types.ts';

/** A block as the store keeps it: its number, id and packed (signed) bytes. */
export interface BlockRecord {
  num: number;
  id: Bytes;
  bytes: Bytes;
}

/** The block the committed state is the result of. */
export interface HeadRecord {
  num: number;
  id: Bytes;
}

/** Everything one block changes, committed all-or-nothing. */
export interface BlockCommit {
  /** The block's state write set (undefined value = remove), e.g. WriteOverlay.writes(). */
  writes: Iterable<KvWrite>;
  block: BlockRecord;
  head: HeadRecord;
  /**
   * Keep what this commit overwrites (an undo record beside the block), so that
   * `revertTo` can take the block back while it is reversible (a fork switch).
   */
  undo?: boolean;
  /** Forget, in the same transaction, the undo records of blocks up to this one (they became irreversible). */
  dropUndoTo?: number;
}

/**
 * Several consecutive blocks committed all-or-nothing: their merged state write set
 * (each key's value after the last of them), every block record, and the head (the
 * last block). A crash leaves the head before them or after the last, never between.
 */
export interface BlocksCommit {
  writes: Iterable<KvWrite>;
  /** In ascending order, consecutive. */
  blocks: readonly BlockRecord[];
  head: HeadRecord;
  /** Forget, in the same transaction, the undo records of blocks up to this one (they are irreversible). */
  dropUndoTo?: number;
}

export interface RangeOptions {
  /** At most this many entries. */
  limit?: number;
  /** The last entries of the range, last first. */
  reverse?: boolean;
}

export interface KvStore {
  get(key: Bytes): Promise<Bytes | undefined>;
  /** Entries with start <= key < end (end undefined: to the last key), ascending unless reversed. */
  getRange(start: Bytes, end: Bytes | undefined, options?: RangeOptions): Promise<KvEntry[]>;
  head(): Promise<HeadRecord | undefined>;
  block(num: number): Promise<BlockRecord | undefined>;
  /**
   * The stored blocks `from` to `to` (inclusive), ascending, ending before the first
   * one missing: one read, where the store has it (IndexedDB answers each `block` in a
   * transaction of its own, which held a browser serving its block log to one block a
   * few milliseconds).
   */
  blocks?(from: number, to: number): Promise<BlockRecord[]>;
  /**
   * Writes the state write set, the block record and the new head in one atomic
   * transaction. If it rejects (storage failure, or the write set throws while being
   * read), nothing of it is visible: state and head stay as they were.
   */
  commitBlock(commit: BlockCommit): Promise<void>;
  /**
   * commitBlock for several blocks in one atomic transaction (one disk sync where the
   * store syncs), where the store supports it: a follower catching up commits its
   * validated blocks in groups.
   */
  commitBlocks?(commit: BlocksCommit): Promise<void>;
  /**
   * Takes back every block above `num`, newest first, in one atomic transaction: their
   * state writes (from their undo records), their block and undo records; the head
   * becomes block `num`. Returns the state writes it made. Throws StateError, changing
   * nothing, when one of those blocks was committed without `undo` or `num` is not
   * a stored block at or below the head. Where the store supports forks.
   */
  revertTo?(num: number): Promise<KvWrite[]>;
  /** Forgets the undo records of blocks up to `num`: they are irreversible now. */
  dropUndo?(num: number): Promise<void>;
  /** The lowest block that still has an undo record (the first reversible one), if any. */
  firstReversible?(): Promise<number | undefined>;
  /**
   * A synchronous view of committed state where the platform reads synchronously
   * (memory, lmdb): execution reads straight through it and never misses. Undefined
   * for IndexedDB, which needs the range cache.
   */
  readonly syncReader: KvReader | undefined;
  close(): Promise<void>;
}

/**
 * Blocks `from` to `to` of `store`, in order, ending before the first missing one: one
 * read where the store reads runs (KvStore.blocks), else one read a block, all asked at once.
 */
export async function readBlocks(store: Pick<KvStore, 'block' | 'blocks'>, from: number, to: number): Promise<BlockRecord[]> {
  if (store.blocks) return store.blocks(from, to);
  const recs = await Promise.all(Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => store.block(from + i)));
  return blockRun(from, to, (num) => recs[num - from]);
}

/** The records `read` gives for `from` to `to`, in order, ending before the first missing one (KvStore.blocks for stores that read one at a time). */
export function blockRun(from: number, to: number, read: (num: number) => BlockRecord | undefined): BlockRecord[] {
  const out: BlockRecord[] = [];
  for (let num = from; num <= to; num++) {
    const rec = read(num);
    if (!rec) break;
    out.push(rec);
  }
  return out;
}

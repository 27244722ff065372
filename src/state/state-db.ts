/**
 * What the executor and the service worker use: committed state behind one object
 * that picks the read path for its platform. Over a synchronous store (lmdb, memory)
 * work reads straight through; over IndexedDB it reads the range cache with
 * miss-and-retry. Block commits go to the store atomically and then into the cache,
 * so the cache never disagrees with the head.
 */
import { RangeCache, type RangeCacheOptions } from './range-cache.ts';
import { runWithRetry } from './retry.ts';
import type { KvWrite } from './overlay.ts';
import type { BlockCommit, BlocksCommit, HeadRecord, KvStore } from './store.ts';
import type { KvReader, Overlay } from './types.ts';
import { StateError } from '../errors.ts';

export interface StateDbOptions extends RangeCacheOptions {
  maxRounds?: number;
}

export class StateDb {
  readonly store: KvStore;
  /** The reader execution runs against (wrap it in a WriteOverlay to write). */
  readonly reader: KvReader;
  /** Undefined when the store reads synchronously and needs no cache. */
  readonly cache: RangeCache | undefined;
  readonly #maxRounds: number | undefined;

  constructor(store: KvStore, options: StateDbOptions = {}) {
    this.store = store;
    this.cache = store.syncReader ? undefined : new RangeCache(store, options);
    this.reader = store.syncReader ?? this.cache!;
    this.#maxRounds = options.maxRounds;
  }

  /**
   * Runs synchronous work against `reader`, loading missed ranges and re-running it as
   * needed. With an overlay, each failed attempt's writes are rolled back.
   */
  async run<T>(fn: () => T, overlay?: Overlay): Promise<T> {
    if (!this.cache) return fn();
    const options = { ...(overlay && { overlay }), ...(this.#maxRounds !== undefined && { maxRounds: this.#maxRounds }) };
    return runWithRetry(fn, this.cache, options);
  }

  async commitBlock(commit: BlockCommit): Promise<void> {
    // The cache needs the same writes after the store took them, so read them once.
    let writes: KvWrite[];
    try {
      writes = Array.isArray(commit.writes) ? commit.writes : [...commit.writes];
    } catch (cause) {
      throw new StateError('block commit aborted: the write set failed', { cause });
    }
    await this.store.commitBlock({ ...commit, writes });
    this.cache?.applyCommitted(writes);
  }

  /**
   * Whether commitBlocks can commit several blocks in one store transaction: the store
   * supports it and no subclass changed how a block commits (a subclass's commitBlock
   * must see every block).
   */
  get commitsBlocksTogether(): boolean {
    return this.store.commitBlocks !== undefined && this.commitBlock === StateDb.prototype.commitBlock;
  }

  /** Several consecutive blocks, atomically (see commitsBlocksTogether; throws where it is false). */
  async commitBlocks(commit: BlocksCommit): Promise<void> {
    if (!this.commitsBlocksTogether) throw new StateError('this state cannot commit several blocks together');
    let writes: KvWrite[];
    try {
      writes = Array.isArray(commit.writes) ? commit.writes : [...commit.writes];
    } catch (cause) {
      throw new StateError('block commit aborted: the write set failed', { cause });
    }
    await this.store.commitBlocks!({ ...commit, writes });
    this.cache?.applyCommitted(writes);
  }

  /** Whether the store can take back reversible blocks (commitBlock with `undo`, revertTo). */
  get revertible(): boolean {
    return this.store.revertTo !== undefined;
  }

  /** Takes back the blocks above `num` (KvStore.revertTo), keeping the cache in step. */
  async revertTo(num: number): Promise<void> {
    if (!this.store.revertTo) throw new StateError('this state cannot take back blocks');
    const writes = await this.store.revertTo(num);
    this.cache?.applyCommitted(writes);
  }

  /** The lowest block that can still be taken back, if any. */
  firstReversible(): Promise<number | undefined> {
    return this.store.firstReversible?.() ?? Promise.resolve(undefined);
  }

  /** Blocks up to `num` are irreversible: their undo records can go. */
  async dropUndo(num: number): Promise<void> {
    await this.store.dropUndo?.(num);
  }

  head(): Promise<HeadRecord | undefined> {
    return this.store.head();
  }

  /** Another context (tab, service worker) committed blocks: reload state on demand. */
  invalidate(): void {
    this.cache?.clear();
  }
}

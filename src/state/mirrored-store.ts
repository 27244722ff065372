/**
 * A store whose state is held in memory and written through to another (IndexedDB):
 * reads are synchronous, never missing (syncReader). A commit is issued to the backing
 * store and applied to memory at once, as the range cache takes a commit
 * (BroadcastingStateDb does not wait for IndexedDB before the next block runs); if the
 * backing store then fails it, memory is ahead of what is stored, which the caller
 * learns from the rejection (BroadcastingStateDb: StateLostError, and the node opens
 * the store again). Block records and the head are the backing store's.
 *
 * For a browser that produces (src/node/browser/producer-node.ts): the node core builds
 * a block synchronously (Chain.openOn), which needs every state read to be answered at
 * once; over IndexedDB alone a read can miss the range cache. The whole state is read
 * once on open, so this suits a chain whose state fits in memory (a network created in
 * the browser). Blocks cannot be taken back (no revertTo), as with IndexedDB.
 */
import { MemoryKv } from './memory-kv.ts';
import type { BlockCommit, BlocksCommit, BlockRecord, HeadRecord, KvStore, RangeOptions } from './store.ts';
import type { Bytes, KvEntry, KvReader } from './types.ts';

export class MirroredStore implements KvStore {
  readonly #kv = new MemoryKv();
  readonly commitBlocks: ((commit: BlocksCommit) => Promise<void>) | undefined;
  readonly blocks: ((from: number, to: number) => Promise<BlockRecord[]>) | undefined;

  private constructor(readonly backing: KvStore) {
    this.blocks = backing.blocks?.bind(backing);
    this.commitBlocks = backing.commitBlocks
      ? async (commit) => {
          const writes = [...commit.writes];
          const stored = backing.commitBlocks!({ ...commit, writes });
          this.#kv.apply(writes);
          await stored;
        }
      : undefined;
  }

  /** Reads `backing`'s whole state into memory. */
  static async open(backing: KvStore): Promise<MirroredStore> {
    const m = new MirroredStore(backing);
    m.#kv.apply((await backing.getRange(new Uint8Array(0), undefined)).map((e) => [e.key, e.value] as const));
    return m;
  }

  get syncReader(): KvReader {
    return this.#kv;
  }

  /** State entries held. */
  get size(): number {
    return this.#kv.size;
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    return this.#kv.get(key);
  }

  async getRange(start: Bytes, end: Bytes | undefined, options: RangeOptions = {}): Promise<KvEntry[]> {
    return options.reverse ? this.#kv.rangeReverse(start, end, options.limit) : this.#kv.range(start, end, options.limit);
  }

  head(): Promise<HeadRecord | undefined> {
    return this.backing.head();
  }

  block(num: number): Promise<BlockRecord | undefined> {
    return this.backing.block(num);
  }

  async commitBlock(commit: BlockCommit): Promise<void> {
    const writes = [...commit.writes];
    // Issued first (IndexedDB orders later reads after it), then in memory at once.
    const stored = this.backing.commitBlock({ ...commit, writes });
    this.#kv.apply(writes);
    await stored;
  }

  close(): Promise<void> {
    return this.backing.close();
  }
}

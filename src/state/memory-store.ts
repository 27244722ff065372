/** A KvStore in memory: for tests, simulations and throwaway nodes. */
import { compact } from './bytes.ts';
import { MemoryKv } from './memory-kv.ts';
import { StateError } from '../errors.ts';
import type { KvWrite } from './overlay.ts';
import type { BlockCommit, BlockRecord, BlocksCommit, HeadRecord, KvStore, RangeOptions } from './store.ts';
import type { Bytes, KvEntry, KvReader } from './types.ts';

export class MemoryStore implements KvStore {
  readonly #state = new MemoryKv();
  readonly #blocks = new Map<number, BlockRecord>();
  #head: HeadRecord | undefined;
  #closed = false;

  get syncReader(): KvReader {
    return this.#state;
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    this.#open();
    return this.#state.get(key);
  }

  async getRange(start: Bytes, end: Bytes | undefined, options: RangeOptions = {}): Promise<KvEntry[]> {
    this.#open();
    return options.reverse
      ? this.#state.rangeReverse(start, end, options.limit)
      : this.#state.range(start, end, options.limit);
  }

  async head(): Promise<HeadRecord | undefined> {
    this.#open();
    return this.#head;
  }

  async block(num: number): Promise<BlockRecord | undefined> {
    this.#open();
    return this.#blocks.get(num);
  }

  commitBlock({ writes, block, head }: BlockCommit): Promise<void> {
    return this.commitBlocks({ writes, blocks: [block], head });
  }

  async commitBlocks({ writes, blocks, head }: BlocksCommit): Promise<void> {
    this.#open();
    // Read the whole write set before touching anything, so a throwing iterable leaves no trace.
    let batch: KvWrite[];
    try {
      batch = Array.from(writes, ([k, v]) => [compact(k), v && compact(v)] as const);
    } catch (cause) {
      throw new StateError('block commit aborted: the write set failed', { cause });
    }
    this.#state.apply(batch);
    for (const block of blocks) this.#blocks.set(block.num, { num: block.num, id: compact(block.id), bytes: compact(block.bytes) });
    this.#head = { num: head.num, id: compact(head.id) };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new StateError('store is closed');
  }
}

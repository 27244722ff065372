/** A KvStore in memory: for tests, simulations and throwaway nodes. */
import { compact, toHex } from './bytes.ts';
import { MemoryKv } from './memory-kv.ts';
import { StateError } from '../errors.ts';
import type { KvWrite } from './overlay.ts';
import { blockRun, type BlockCommit, type BlockRecord, type BlocksCommit, type HeadRecord, type KvStore, type RangeOptions } from './store.ts';
import type { Bytes, KvEntry, KvReader } from './types.ts';

/** Each key of `writes` (first time only) with its value in `reader` before them. */
export function undoOf(writes: Iterable<KvWrite>, reader: KvReader): KvWrite[] {
  const seen = new Set<string>();
  const out: KvWrite[] = [];
  for (const [k] of writes) {
    const hex = toHex(k);
    if (seen.has(hex)) continue;
    seen.add(hex);
    const old = reader.get(k);
    out.push([k, old && compact(old)]);
  }
  return out;
}

/**
 * Undo records of consecutive blocks, newest first, merged into one write set that
 * restores the state before the oldest of them: each key takes its oldest value.
 */
export function mergeUndo(undos: readonly (readonly KvWrite[])[]): KvWrite[] {
  const byKey = new Map<string, KvWrite>();
  for (const u of undos) for (const w of u) byKey.set(toHex(w[0]), w);
  return [...byKey.values()];
}

export class MemoryStore implements KvStore {
  readonly #state = new MemoryKv();
  readonly #blocks = new Map<number, BlockRecord>();
  /** Per reversible block: each key it wrote and that key's value before it. */
  readonly #undo = new Map<number, KvWrite[]>();
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

  async blocks(from: number, to: number): Promise<BlockRecord[]> {
    this.#open();
    return blockRun(from, to, (num) => this.#blocks.get(num));
  }

  async commitBlock({ writes, block, head, undo, dropUndoTo }: BlockCommit): Promise<void> {
    await this.#commit({ writes, blocks: [block], head }, undo === true);
    if (dropUndoTo !== undefined) await this.dropUndo(dropUndoTo);
  }

  async commitBlocks(commit: BlocksCommit): Promise<void> {
    await this.#commit(commit, false);
    if (commit.dropUndoTo !== undefined) await this.dropUndo(commit.dropUndoTo);
  }

  async revertTo(num: number): Promise<KvWrite[]> {
    this.#open();
    const head = this.#head;
    const target = this.#blocks.get(num);
    if (!head || !target || num > head.num) throw new StateError(`cannot revert to block ${num}: it is not a stored block at or below the head`, { details: { block: num } });
    const undos: KvWrite[][] = [];
    for (let n = head.num; n > num; n--) {
      const u = this.#undo.get(n);
      if (!u) throw new StateError(`cannot revert block ${n}: it was committed without an undo record (irreversible)`, { details: { block: n } });
      undos.push(u);
    }
    const writes = mergeUndo(undos);
    this.#state.apply(writes);
    for (let n = head.num; n > num; n--) {
      this.#blocks.delete(n);
      this.#undo.delete(n);
    }
    this.#head = { num, id: target.id };
    return writes;
  }

  async firstReversible(): Promise<number | undefined> {
    let low: number | undefined;
    for (const n of this.#undo.keys()) if (low === undefined || n < low) low = n;
    return low;
  }

  async dropUndo(num: number): Promise<void> {
    for (const n of [...this.#undo.keys()]) if (n <= num) this.#undo.delete(n);
  }

  async #commit({ writes, blocks, head }: BlocksCommit, undo: boolean): Promise<void> {
    this.#open();
    // Read the whole write set before touching anything, so a throwing iterable leaves no trace.
    let batch: KvWrite[];
    try {
      batch = Array.from(writes, ([k, v]) => [compact(k), v && compact(v)] as const);
    } catch (cause) {
      throw new StateError('block commit aborted: the write set failed', { cause });
    }
    if (undo) this.#undo.set(blocks[0]!.num, undoOf(batch, this.#state));
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

/**
 * The Node peer's KvStore on lmdb. lmdb reads synchronously from a memory map, so the
 * store is also a KvReader over committed state: on Node, execution reads straight
 * through it and never needs the range cache. A block commits in one lmdb write
 * transaction over the state, blocks and meta databases; lmdb's copy-on-write pages
 * make a killed process leave either the old or the new head, never a mix.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { hasPrefix, prefixEnd } from './bytes.ts';
import { checkPrefixLen } from './memory-kv.ts';
import { StateError } from '../errors.ts';
import type { BlockCommit, BlockRecord, HeadRecord, KvStore, RangeOptions } from './store.ts';
import type { Bytes, KvEntry, KvReader } from './types.ts';

/**
 * Every state key is stored behind this byte because LMDB refuses empty keys, and the
 * empty key is a valid psibase key. One leading byte keeps the bytewise order. Not
 * 0x00: lmdb-js ends an unbounded reverse scan before the one-byte key 0x00.
 */
const KEY_TAG = 0x01;
const HEAD_KEY = 'head';

function tag(key: Bytes): Buffer {
  const t = Buffer.allocUnsafe(key.length + 1);
  t[0] = KEY_TAG;
  t.set(key, 1);
  return t;
}

/** A plain Uint8Array view (not a Buffer), so results compare equal to other stores'. */
function view(b: Uint8Array, from = 0): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + from, b.byteLength - from);
}

function entry(e: { key: Buffer; value: Buffer }): KvEntry {
  return { key: view(e.key, 1), value: view(e.value) };
}

/** head: u32 num (big-endian) then the id. */
function encodeHead(h: HeadRecord): Buffer {
  const b = Buffer.allocUnsafe(4 + h.id.length);
  b.writeUInt32BE(h.num, 0);
  b.set(h.id, 4);
  return b;
}

/** block: u32 id length (big-endian), the id, then the block bytes. */
function encodeBlock(r: BlockRecord): Buffer {
  const b = Buffer.allocUnsafe(4 + r.id.length + r.bytes.length);
  b.writeUInt32BE(r.id.length, 0);
  b.set(r.id, 4);
  b.set(r.bytes, 4 + r.id.length);
  return b;
}

/** Synchronous reads of committed state, straight from lmdb's memory map. */
class LmdbReader implements KvReader {
  readonly #state: Database<Buffer, Buffer>;
  readonly #open: () => void;

  constructor(state: Database<Buffer, Buffer>, checkOpen: () => void) {
    this.#state = state;
    this.#open = checkOpen;
  }

  get(key: Bytes): Bytes | undefined {
    this.#open();
    const v = this.#state.get(tag(key));
    return v && view(v);
  }

  greaterEqual(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    this.#open();
    for (const e of this.#state.getRange({ start: tag(key), limit: 1 })) {
      const found = entry(e);
      return hasPrefix(found.key, key, prefixLen) ? found : undefined;
    }
    return undefined;
  }

  lessThan(key: Bytes, prefixLen: number): KvEntry | undefined {
    checkPrefixLen(key, prefixLen);
    this.#open();
    const found = this.#lastBefore(key);
    return found && hasPrefix(found.key, key, prefixLen) ? found : undefined;
  }

  max(prefix: Bytes): KvEntry | undefined {
    this.#open();
    const found = this.#lastBefore(prefixEnd(prefix));
    return found && hasPrefix(found.key, prefix) ? found : undefined;
  }

  /** The last entry with key < `end` (the last of all when undefined). */
  #lastBefore(end: Bytes | undefined): KvEntry | undefined {
    // A reverse range starts at its start key inclusive; skip an exact match.
    const start = end === undefined ? undefined : tag(end);
    for (const e of this.#state.getRange({ start, reverse: true, limit: 2 })) {
      if (start !== undefined && e.key.equals(start)) continue;
      return entry(e);
    }
    return undefined;
  }

}

export class LmdbStore implements KvStore {
  readonly syncReader: KvReader;
  readonly #root: RootDatabase;
  readonly #state: Database<Buffer, Buffer>;
  readonly #blocks: Database<Buffer, number>;
  readonly #meta: Database<Buffer, string>;
  #closed = false;

  private constructor(path: string) {
    this.#root = open({ path, maxDbs: 4 });
    this.#state = this.#root.openDB<Buffer, Buffer>('state', { keyEncoding: 'binary', encoding: 'binary' });
    this.#blocks = this.#root.openDB<Buffer, number>('blocks', { keyEncoding: 'uint32', encoding: 'binary' });
    this.#meta = this.#root.openDB<Buffer, string>('meta', { encoding: 'binary' });
    this.syncReader = new LmdbReader(this.#state, () => this.#open());
  }

  /** Opens (creating if needed) the lmdb environment at `path` (a directory). */
  static open(path: string): LmdbStore {
    try {
      return new LmdbStore(path);
    } catch (cause) {
      throw new StateError(`cannot open lmdb store at ${path}`, { cause });
    }
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    return this.syncReader.get(key);
  }

  async getRange(start: Bytes, end: Bytes | undefined, options: RangeOptions = {}): Promise<KvEntry[]> {
    this.#open();
    const limit = options.limit ?? Infinity;
    const out: KvEntry[] = [];
    if (limit <= 0) return out;
    const lo = tag(start);
    const hi = end === undefined ? undefined : tag(end);
    const range = options.reverse
      ? this.#state.getRange({ start: hi, reverse: true })
      : this.#state.getRange({ start: lo, end: hi });
    for (const e of range) {
      // Reverse ranges include their start; the state range's end is exclusive.
      if (options.reverse && hi !== undefined && e.key.equals(hi)) continue;
      if (options.reverse && e.key.compare(lo) < 0) break;
      out.push(entry(e));
      if (out.length >= limit) break;
    }
    return out;
  }

  async head(): Promise<HeadRecord | undefined> {
    this.#open();
    const b = this.#meta.get(HEAD_KEY);
    return b && { num: b.readUInt32BE(0), id: view(b, 4) };
  }

  async block(num: number): Promise<BlockRecord | undefined> {
    this.#open();
    const b = this.#blocks.get(num);
    if (!b) return undefined;
    const idLen = b.readUInt32BE(0);
    return { num, id: view(b.subarray(4, 4 + idLen)), bytes: view(b, 4 + idLen) };
  }

  async commitBlock({ writes, block, head }: BlockCommit): Promise<void> {
    this.#open();
    let failure: unknown;
    try {
      // A synchronous transaction: lmdb documents that a throw out of its callback
      // aborts it, and no other JS can read a half-applied block in between.
      this.#root.transactionSync(() => {
        try {
          for (const [k, v] of writes) {
            if (v === undefined) this.#state.removeSync(tag(k));
            else this.#state.putSync(tag(k), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
          }
        } catch (e) {
          failure = e;
          throw e;
        }
        this.#blocks.putSync(block.num, encodeBlock(block));
        this.#meta.putSync(HEAD_KEY, encodeHead(head));
      });
    } catch (cause) {
      const reason = failure === undefined ? 'block commit failed' : 'block commit aborted: the write set failed';
      throw new StateError(reason, { cause, details: { block: block.num } });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#root.close();
  }

  #open(): void {
    if (this.#closed) throw new StateError('store is closed');
  }
}


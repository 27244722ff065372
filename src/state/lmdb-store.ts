/**
 * The Node peer's KvStore on lmdb. lmdb reads synchronously from a memory map, so the
 * store is also a KvReader over committed state: on Node, execution reads straight
 * through it and never needs the range cache. A block commits in one lmdb write
 * transaction over the state, blocks and meta databases; lmdb's copy-on-write pages
 * make a killed process leave either the old or the new head, never a mix.
 *
 * lmdb keeps no checksums, so every record carries its own (store format 1): a state
 * value is stored as `value ‖ crc32(key ‖ value)`, a block record and the head record
 * end in the crc32 of what precedes. Every read checks it: a record damaged on disk
 * raises StoreDamagedError instead of being served or built on. Before lmdb maps the
 * file, lmdb-file.ts checks its header, so a truncated or garbled file is refused with
 * a message instead of crashing the process.
 */
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { hasPrefix, prefixEnd } from './bytes.ts';
import { checkLmdbFile } from './lmdb-file.ts';
import { checkPrefixLen } from './memory-kv.ts';
import { StateError, StoreDamagedError, StoreFormatError } from '../errors.ts';
import { blockRun, type BlockCommit, type BlockRecord, type BlocksCommit, type HeadRecord, type KvStore, type RangeOptions } from './store.ts';
import type { Bytes, KvEntry, KvReader } from './types.ts';
import type { KvWrite } from './overlay.ts';

/**
 * Every state key is stored behind this byte because LMDB refuses empty keys, and the
 * empty key is a valid psibase key. One leading byte keeps the bytewise order. Not
 * 0x00: lmdb-js ends an unbounded reverse scan before the one-byte key 0x00.
 */
const KEY_TAG = 0x01;
const HEAD_KEY = 'head';
const FORMAT_KEY = 'format';

/**
 * The layout of this store's records. 0: psiweb before checksums (no format record);
 * 1: every record sealed with a crc32. Older formats are migrated on open, newer ones
 * refused.
 */
export const LMDB_STORE_FORMAT = 1;
const CRC_BYTES = 4;

/** `value ‖ crc32(key ‖ value)`, little-endian. */
function sealValue(key: Bytes, value: Bytes): Buffer {
  const out = Buffer.allocUnsafe(value.length + CRC_BYTES);
  out.set(value, 0);
  out.writeUInt32LE(crc32(value, crc32(key)), value.length);
  return out;
}

function damaged(what: string, details: Record<string, unknown> = {}): StoreDamagedError {
  return new StoreDamagedError(`the store is damaged: ${what} fails its checksum (run psiweb check)`, { details });
}

/** The value of a sealed state record, after checking its checksum. */
function openValue(key: Bytes, stored: Uint8Array): Uint8Array {
  const n = stored.length - CRC_BYTES;
  if (n < 0) throw damaged('a state record is too short', { key: Buffer.from(key).toString('hex') });
  const value = new Uint8Array(stored.buffer, stored.byteOffset, n);
  const want = stored[n]! | (stored[n + 1]! << 8) | (stored[n + 2]! << 16) | (stored[n + 3]! << 24);
  if (crc32(value, crc32(key)) !== want >>> 0) throw damaged('a state record', { key: Buffer.from(key).toString('hex') });
  return value;
}

/** Appends crc32 of `b[0 .. b.length - 4)` in its last four bytes. */
function sealRecord(b: Buffer): Buffer {
  b.writeUInt32LE(crc32(b.subarray(0, b.length - CRC_BYTES)), b.length - CRC_BYTES);
  return b;
}

/** The record without its checksum, after checking it. */
function openRecord(b: Buffer, what: string, details: Record<string, unknown>): Buffer {
  if (b.length < CRC_BYTES) throw damaged(what, details);
  const body = b.subarray(0, b.length - CRC_BYTES);
  if (crc32(body) !== b.readUInt32LE(body.length)) throw damaged(what, details);
  return body;
}

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
  const key = view(e.key, 1);
  return { key, value: openValue(key, e.value) };
}

/** head: u32 num (big-endian), the id, crc32. */
function encodeHead(h: HeadRecord): Buffer {
  const b = Buffer.allocUnsafe(4 + h.id.length + CRC_BYTES);
  b.writeUInt32BE(h.num, 0);
  b.set(h.id, 4);
  return sealRecord(b);
}

const ABSENT = 0xffff_ffff;

/**
 * undo: per key a block wrote, `u32 key length, key, u32 stored length (ABSENT: the key
 * was absent), the stored (sealed) value`, then crc32. Stored values are kept sealed,
 * so a revert puts back exactly the bytes that were there.
 */
function encodeUndo(entries: readonly (readonly [Buffer, Buffer | undefined])[]): Buffer {
  let n = CRC_BYTES;
  for (const [k, v] of entries) n += 8 + k.length + (v?.length ?? 0);
  const b = Buffer.allocUnsafe(n);
  let o = 0;
  for (const [k, v] of entries) {
    b.writeUInt32BE(k.length, o);
    b.set(k, o + 4);
    o += 4 + k.length;
    b.writeUInt32BE(v === undefined ? ABSENT : v.length, o);
    o += 4;
    if (v) {
      b.set(v, o);
      o += v.length;
    }
  }
  return sealRecord(b);
}

function decodeUndo(num: number, body: Buffer): [Buffer, Buffer | undefined][] {
  const out: [Buffer, Buffer | undefined][] = [];
  const bad = () => new StoreDamagedError(`the store is damaged: block ${num}'s undo record is malformed`, { details: { block: num } });
  let o = 0;
  while (o < body.length) {
    if (o + 4 > body.length) throw bad();
    const kl = body.readUInt32BE(o);
    if (o + 8 + kl > body.length) throw bad();
    const k = body.subarray(o + 4, o + 4 + kl);
    o += 4 + kl;
    const vl = body.readUInt32BE(o);
    o += 4;
    if (vl === ABSENT) out.push([k, undefined]);
    else {
      if (o + vl > body.length) throw bad();
      out.push([k, body.subarray(o, o + vl)]);
      o += vl;
    }
  }
  return out;
}

/** block: u32 id length (big-endian), the id, the block bytes, crc32. */
function encodeBlock(r: BlockRecord): Buffer {
  const b = Buffer.allocUnsafe(4 + r.id.length + r.bytes.length + CRC_BYTES);
  b.writeUInt32BE(r.id.length, 0);
  b.set(r.id, 4);
  b.set(r.bytes, 4 + r.id.length);
  return sealRecord(b);
}

function decodeBlock(num: number, body: Buffer): BlockRecord {
  const idLen = body.length >= 4 ? body.readUInt32BE(0) : -1;
  if (idLen < 0 || 4 + idLen > body.length) throw new StoreDamagedError(`the store is damaged: block ${num}'s record is malformed`, { details: { block: num } });
  return { num, id: view(body.subarray(4, 4 + idLen)), bytes: view(body, 4 + idLen) };
}

export interface LmdbOpenOptions {
  /** Told about what opening did beyond opening (a format migration). */
  log?: (line: string) => void;
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
    return v && openValue(key, v);
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
  /** Undo records of reversible blocks (format 1 stores without it simply have none). */
  readonly #undo: Database<Buffer, number>;
  #closed = false;

  private constructor(path: string) {
    this.#root = open({ path, maxDbs: 8 });
    this.#state = this.#root.openDB<Buffer, Buffer>('state', { keyEncoding: 'binary', encoding: 'binary' });
    this.#blocks = this.#root.openDB<Buffer, number>('blocks', { keyEncoding: 'uint32', encoding: 'binary' });
    this.#meta = this.#root.openDB<Buffer, string>('meta', { encoding: 'binary' });
    this.#undo = this.#root.openDB<Buffer, number>('undo', { keyEncoding: 'uint32', encoding: 'binary' });
    this.syncReader = new LmdbReader(this.#state, () => this.#open());
  }

  /**
   * Opens (creating if needed) the lmdb environment at `path` (a directory). Refuses a
   * damaged data file (StoreDamagedError) or a format from a newer psiweb
   * (StoreFormatError); migrates an older format in one transaction.
   */
  static open(path: string, options: LmdbOpenOptions = {}): LmdbStore {
    checkLmdbFile(join(path, 'data.mdb'));
    let store: LmdbStore;
    try {
      store = new LmdbStore(path);
    } catch (cause) {
      throw new StateError(`cannot open lmdb store at ${path}`, { cause });
    }
    try {
      store.#checkFormat(path, options.log ?? (() => undefined));
    } catch (e) {
      void store.close();
      throw e;
    }
    return store;
  }

  /** The store's format: written on a new store, migrated from older ones. */
  #checkFormat(path: string, log: (line: string) => void): void {
    const raw = this.#meta.get(FORMAT_KEY);
    if (raw !== undefined) {
      const format = raw.length === 4 ? raw.readUInt32LE(0) : -1;
      if (format === LMDB_STORE_FORMAT) return;
      if (format > LMDB_STORE_FORMAT)
        throw new StoreFormatError(`${path} was written by a newer psiweb (store format ${format}; this psiweb reads format ${LMDB_STORE_FORMAT}): use that psiweb, or another --data directory`, { details: { format } });
      throw new StoreDamagedError(`the store is damaged: its format record is unreadable`, { details: { path } });
    }
    const hasHead = this.#meta.get(HEAD_KEY) !== undefined;
    this.#root.transactionSync(() => {
      if (hasHead) {
        // Format 0: the same records without checksums. Seal each one as it is.
        for (const { key, value } of this.#state.getRange({})) this.#state.putSync(key, sealValue(view(key, 1), value));
        for (const { key, value } of this.#blocks.getRange({})) {
          const b = Buffer.allocUnsafe(value.length + CRC_BYTES);
          value.copy(b);
          this.#blocks.putSync(key, sealRecord(b));
        }
        const head = this.#meta.get(HEAD_KEY)!;
        const b = Buffer.allocUnsafe(head.length + CRC_BYTES);
        head.copy(b);
        this.#meta.putSync(HEAD_KEY, sealRecord(b));
      }
      const f = Buffer.alloc(4);
      f.writeUInt32LE(LMDB_STORE_FORMAT, 0);
      this.#meta.putSync(FORMAT_KEY, f);
    });
    if (hasHead) log(`migrated the store at ${path} from format 0 to format ${LMDB_STORE_FORMAT} (checksums added to every record)`);
  }

  /**
   * Every state entry in key order, each checked (for psiweb check). Throws on the
   * first damaged one, or with `onDamaged`, reports it there and goes on.
   */
  *allState(onDamaged?: (key: Uint8Array, error: StoreDamagedError) => void): Generator<KvEntry> {
    this.#open();
    for (const e of this.#state.getRange({})) {
      try {
        yield entry(e);
      } catch (err) {
        if (!onDamaged || !(err instanceof StoreDamagedError)) throw err;
        onDamaged(view(e.key, 1), err);
      }
    }
  }

  /** The numbers of all stored blocks, ascending. */
  *blockNums(): Generator<number> {
    this.#open();
    for (const key of this.#blocks.getKeys({})) yield key;
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
    const stored = this.#meta.get(HEAD_KEY);
    if (!stored) return undefined;
    const b = openRecord(stored, 'the head record', {});
    if (b.length < 4) throw damaged('the head record');
    return { num: b.readUInt32BE(0), id: view(b, 4) };
  }

  async block(num: number): Promise<BlockRecord | undefined> {
    this.#open();
    const b = this.#blocks.get(num);
    if (!b) return undefined;
    return decodeBlock(num, openRecord(b, `block ${num}'s record`, { block: num }));
  }

  /** The stored blocks from `from` to `to`, read at once (a caller sends them in one turn). */
  async blocks(from: number, to: number): Promise<BlockRecord[]> {
    this.#open();
    return blockRun(from, to, (num) => {
      const b = this.#blocks.get(num);
      return b && decodeBlock(num, openRecord(b, `block ${num}'s record`, { block: num }));
    });
  }

  commitBlock({ writes, block, head, undo, dropUndoTo }: BlockCommit): Promise<void> {
    return this.#commit({ writes, blocks: [block], head }, undo === true, dropUndoTo);
  }

  /** One lmdb write transaction (one sync) for the state, every block record and the head. */
  commitBlocks(commit: BlocksCommit): Promise<void> {
    return this.#commit(commit, false, commit.dropUndoTo);
  }

  async revertTo(num: number): Promise<KvWrite[]> {
    this.#open();
    const head = await this.head();
    const target = await this.block(num);
    if (!head || !target || num > head.num) throw new StateError(`cannot revert to block ${num}: it is not a stored block at or below the head`, { details: { block: num } });
    const undos: [Buffer, Buffer | undefined][][] = [];
    for (let n = head.num; n > num; n--) {
      const raw = this.#undo.getBinary(n);
      if (!raw) throw new StateError(`cannot revert block ${n}: it was committed without an undo record (irreversible)`, { details: { block: n } });
      undos.push(decodeUndo(n, openRecord(Buffer.from(raw), `block ${n}'s undo record`, { block: n })));
    }
    // Oldest value of each key wins: later (older) undo records overwrite newer ones.
    const byKey = new Map<string, [Buffer, Buffer | undefined]>();
    for (const u of undos) for (const e of u) byKey.set(e[0].toString("latin1"), e);
    const writes: KvWrite[] = [];
    for (const [tagged, stored] of byKey.values()) {
      const key = view(Buffer.from(tagged), 1);
      writes.push([key, stored && openValue(key, Buffer.from(stored))]);
    }
    try {
      this.#root.transactionSync(() => {
        for (const [tagged, stored] of byKey.values()) {
          if (stored === undefined) this.#state.removeSync(tagged);
          else this.#state.putSync(tagged, stored);
        }
        for (let n = head.num; n > num; n--) {
          this.#blocks.removeSync(n);
          this.#undo.removeSync(n);
        }
        this.#meta.putSync(HEAD_KEY, encodeHead({ num, id: target.id }));
      });
    } catch (cause) {
      throw new StateError('reverting blocks failed', { cause, details: { block: num } });
    }
    return writes;
  }

  async firstReversible(): Promise<number | undefined> {
    this.#open();
    for (const n of this.#undo.getKeys({ limit: 1 })) return n;
    return undefined;
  }

  async dropUndo(num: number): Promise<void> {
    this.#open();
    const nums = [...this.#undo.getKeys({ end: num + 1 })];
    if (nums.length === 0) return;
    await this.#root.transactionSync(() => {
      for (const n of nums) this.#undo.removeSync(n);
    });
  }

  async #commit({ writes, blocks, head }: BlocksCommit, undo: boolean, dropUndoTo?: number): Promise<void> {
    this.#open();
    let failure: unknown;
    try {
      // A synchronous transaction: lmdb documents that a throw out of its callback
      // aborts it, and no other JS can read a half-applied block in between.
      this.#root.transactionSync(() => {
        try {
          const old: [Buffer, Buffer | undefined][] | undefined = undo ? [] : undefined;
          const seen = undo ? new Set<string>() : undefined;
          for (const [k, v] of writes) {
            const t = tag(k);
            if (old) {
              const id = t.toString('latin1');
              if (!seen!.has(id)) {
                seen!.add(id);
                const was = this.#state.getBinary(t);
                old.push([t, was && Buffer.from(was)]);
              }
            }
            if (v === undefined) this.#state.removeSync(t);
            else this.#state.putSync(t, sealValue(k, v));
          }
          if (old) this.#undo.putSync(blocks[0]!.num, encodeUndo(old));
        } catch (e) {
          failure = e;
          throw e;
        }
        for (const block of blocks) this.#blocks.putSync(block.num, encodeBlock(block));
        this.#meta.putSync(HEAD_KEY, encodeHead(head));
        if (dropUndoTo !== undefined) for (const n of [...this.#undo.getKeys({ end: dropUndoTo + 1 })]) this.#undo.removeSync(n);
      });
    } catch (cause) {
      const reason = failure === undefined ? 'block commit failed' : 'block commit aborted: the write set failed';
      throw new StateError(reason, { cause, details: { block: head.num } });
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


/**
 * The browser's KvStore on IndexedDB (through idb). State keys are binary IndexedDB
 * keys, which IndexedDB orders bytewise (unsigned, shorter prefix first): exactly the
 * state order, so ranges map to IDBKeyRange directly (the shared store suite checks
 * this against real IndexedDB in Chromium). A block commits in one readwrite
 * transaction over the state, blocks and meta object stores, so a crash or an abort
 * leaves either the old head with the old state or the new head with the new state.
 */
import { openDB, unwrap, type IDBPDatabase } from 'idb';
import { compact, compareBytes } from './bytes.ts';
import { StateError, StoreFormatError } from '../errors.ts';
import type { BlockCommit, BlockRecord, BlocksCommit, HeadRecord, KvStore, RangeOptions } from './store.ts';
import type { KvWrite } from './overlay.ts';
import type { Bytes, KvEntry } from './types.ts';

/** IndexedDB's own schema version: the object stores. */
const VERSION = 1;
const STATE = 'state';
const BLOCKS = 'blocks';
const META = 'meta';
const HEAD_KEY = 'head';
const FORMAT_KEY = 'format';

/**
 * The layout of the records inside the object stores, kept in meta under `format`.
 * 0: psiweb before the record existed (the same layout as 1, stamped on open);
 * 1: state keys as binary keys, blocks `{num, id, bytes}`, head `{num, id}`. A newer
 * format (or a newer schema VERSION) is refused, never misread.
 */
export const IDB_STORE_FORMAT = 1;

export interface IdbStoreOptions {
  /**
   * Durability of block commits. 'relaxed' lets the browser report success before the
   * data reaches the disk (atomicity is the same either way; only the last blocks of a
   * power loss can be lost, and a node re-syncs those from peers).
   */
  durability?: IDBTransactionDurability;
}

/**
 * Every state key is stored behind this byte because some IndexedDB implementations
 * refuse an empty binary key (fake-indexeddb does), and the empty key is a valid
 * psibase key. One leading byte keeps the bytewise order.
 */
const KEY_TAG = 0x01;

function idbKey(key: Bytes): Uint8Array<ArrayBuffer> {
  const t = new Uint8Array(key.length + 1);
  t[0] = KEY_TAG;
  t.set(key, 1);
  return t;
}

function fromIdbKey(key: IDBValidKey): Uint8Array {
  if (key instanceof ArrayBuffer) return new Uint8Array(key, 1);
  if (ArrayBuffer.isView(key)) return new Uint8Array(key.buffer, key.byteOffset + 1, key.byteLength - 1);
  throw new StateError('state key in IndexedDB is not binary', { details: { type: typeof key } });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
    tx.onerror = () => reject(tx.error);
  });
}

export class IdbStore implements KvStore {
  readonly syncReader = undefined;
  readonly #db: IDBPDatabase;
  readonly #durability: IDBTransactionDurability;
  #closed = false;

  private constructor(db: IDBPDatabase, options: IdbStoreOptions) {
    this.#db = db;
    this.#durability = options.durability ?? 'relaxed';
  }

  /**
   * Opens (creating if needed) the database `name` of this origin. A database written
   * by a newer psiweb (schema or record format) is refused with StoreFormatError.
   */
  static async open(name: string, options: IdbStoreOptions = {}): Promise<IdbStore> {
    let store: IdbStore | undefined;
    let db: IDBPDatabase;
    try {
      db = await openDB(name, VERSION, {
        upgrade(db) {
          db.createObjectStore(STATE);
          db.createObjectStore(BLOCKS);
          db.createObjectStore(META);
        },
        // Another context (a newer tab or service worker) upgrades the schema: let it.
        blocking() {
          if (store) store.#closeNow();
        },
      });
    } catch (cause) {
      if ((cause as DOMException | undefined)?.name === 'VersionError')
        throw new StoreFormatError(`the chain database ${name} was written by a newer psiweb (schema newer than ${VERSION}): reload to run the newer psiweb`, { cause });
      throw new StateError(`cannot open IndexedDB database ${name}`, { cause });
    }
    try {
      // Read-only on every open (service workers open on each cold start, and a
      // readwrite transaction would queue behind block commits); written once.
      const format = (await db.get(META, FORMAT_KEY)) as unknown;
      if (typeof format === 'number' && format > IDB_STORE_FORMAT)
        throw new StoreFormatError(`the chain database ${name} was written by a newer psiweb (record format ${format}; this psiweb reads ${IDB_STORE_FORMAT}): reload to run the newer psiweb`, {
          details: { format },
        });
      if (format !== IDB_STORE_FORMAT) await db.put(META, IDB_STORE_FORMAT, FORMAT_KEY);
    } catch (e) {
      db.close();
      if (e instanceof StoreFormatError) throw e;
      throw new StateError(`cannot open IndexedDB database ${name}`, { cause: e });
    }
    store = new IdbStore(db, options);
    return store;
  }

  /** The record format this database holds (for tests and diagnostics). */
  async format(): Promise<number | undefined> {
    return (await this.#read(() => this.#db.get(META, FORMAT_KEY))) as number | undefined;
  }

  async get(key: Bytes): Promise<Bytes | undefined> {
    const v = await this.#read(() => this.#db.get(STATE, idbKey(key)));
    return v as Bytes | undefined;
  }

  async getRange(start: Bytes, end: Bytes | undefined, options: RangeOptions = {}): Promise<KvEntry[]> {
    const limit = options.limit ?? Infinity;
    if (limit <= 0 || (end !== undefined && compareBytes(start, end) >= 0)) return [];
    const range =
      end === undefined
        ? IDBKeyRange.lowerBound(idbKey(start))
        : IDBKeyRange.bound(idbKey(start), idbKey(end), false, true);
    return this.#read(async () => {
      const tx = this.#db.transaction(STATE, 'readonly');
      if (!options.reverse) {
        const count = Number.isFinite(limit) ? limit : undefined;
        // Both requests run in one transaction, so keys and values line up.
        const [keys, values] = await Promise.all([tx.store.getAllKeys(range, count), tx.store.getAll(range, count)]);
        return keys.map((k, i) => ({ key: fromIdbKey(k), value: values[i] as Bytes }));
      }
      const out: KvEntry[] = [];
      for (let c = await tx.store.openCursor(range, 'prev'); c && out.length < limit; c = await c.continue()) {
        out.push({ key: fromIdbKey(c.key), value: c.value as Bytes });
      }
      return out;
    });
  }

  async head(): Promise<HeadRecord | undefined> {
    return (await this.#read(() => this.#db.get(META, HEAD_KEY))) as HeadRecord | undefined;
  }

  async block(num: number): Promise<BlockRecord | undefined> {
    return (await this.#read(() => this.#db.get(BLOCKS, num))) as BlockRecord | undefined;
  }

  async blocks(from: number, to: number): Promise<BlockRecord[]> {
    if (!(from <= to)) return [];
    const records = (await this.#read(() => this.#db.getAll(BLOCKS, IDBKeyRange.bound(from, to)))) as BlockRecord[];
    let n = 0;
    while (n < records.length && records[n]!.num === from + n) n++;
    return n === records.length ? records : records.slice(0, n);
  }

  commitBlock({ writes, block, head }: BlockCommit): Promise<void> {
    return this.#commit(writes, [block], head);
  }

  /**
   * Several consecutive blocks in one readwrite transaction (a node catching up): their
   * merged write set, every block record and the head. A transaction takes IndexedDB
   * milliseconds to commit however small it is, so one transaction a block held a
   * browser's catch-up to ~200 blocks/s.
   */
  commitBlocks({ writes, blocks, head }: BlocksCommit): Promise<void> {
    return this.#commit(writes, blocks, head);
  }

  async #commit(writes: Iterable<KvWrite>, blocks: readonly BlockRecord[], head: HeadRecord): Promise<void> {
    this.#open();
    // The raw API: an idb promise per put costs more than the put itself on 10k-key blocks.
    const tx = unwrap(this.#db).transaction([STATE, BLOCKS, META], 'readwrite', { durability: this.#durability });
    const finished = done(tx);
    try {
      const state = tx.objectStore(STATE);
      for (const [k, v] of writes) {
        if (v === undefined) state.delete(idbKey(k));
        // Compact so structured clone copies only the value, not a whole wasm memory.
        else state.put(compact(v), idbKey(k));
      }
      const records = tx.objectStore(BLOCKS);
      for (const block of blocks) records.put({ num: block.num, id: compact(block.id), bytes: compact(block.bytes) }, block.num);
      tx.objectStore(META).put({ num: head.num, id: compact(head.id) }, HEAD_KEY);
    } catch (cause) {
      tx.abort();
      await finished.catch(() => undefined);
      throw new StateError('block commit aborted: the write set failed', { cause });
    }
    try {
      await finished;
    } catch (cause) {
      throw new StateError('block commit failed', { cause, details: { block: head.num, ...(blocks.length > 1 && { from: blocks[0]!.num }) } });
    }
  }

  async close(): Promise<void> {
    this.#closeNow();
  }

  #closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #open(): void {
    if (this.#closed) throw new StateError('store is closed');
  }

  async #read<T>(fn: () => Promise<T>): Promise<T> {
    this.#open();
    try {
      return await fn();
    } catch (cause) {
      throw new StateError('IndexedDB read failed', { cause });
    }
  }
}

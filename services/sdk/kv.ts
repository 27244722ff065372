// Key-value access. Handles come from psibase's handle-based KV API; a service
// without the privileged flag gets them from the `db` service (`x-db` for the
// node-local databases), which checks that the prefix belongs to the caller,
// exactly as psibase's own SDKs do.

import { abortWith, check } from "./check";
import { exportHandles, importHandles, kvClose, kvGet, kvGreaterEqual, kvLessThan, kvMax, kvOpen, kvOpenAt, kvPut, kvRemove, NOT_FOUND } from "./env";
import { Action, callAction, optionalResult, resultBytes, resultKey } from "./action";
import { ObjectReader, ObjectWriter } from "./fracpack";
import { accountNumber, methodNumber } from "./names";
import { receiver } from "./service";

// Method numbers called on every transaction, written out: computing one costs more
// than the call (names.test.ts checks each against methodNumber).
const M_OPEN: u64 = 0x987737; // = methodNumber("open")

/** psibase DbId. */
export enum DbId {
  service = 0,
  writeOnly = 1,
  native = 2,
  blockLog = 3,
  blockProof = 4,
  subjective = 64,
  nativeSubjective = 65,
  session = 66,
  nativeSession = 67,
  temporary = 68,
}

/** psibase KvMode. */
export enum KvMode {
  none = 0,
  read = 1,
  write = 2,
  readWrite = 3,
}

/** DbIds from here on are node-local and opened through `x-db` rather than `db`. */
const BEGIN_INDEPENDENT: u32 = 64;

/** A found key-value pair; the key is relative to the handle's prefix. */
export class KvEntry {
  constructor(public key: Uint8Array, public value: Uint8Array) {}
}

function found(size: u32): KvEntry | null {
  if (size == NOT_FOUND) return null;
  const value = resultBytes(size);
  return new KvEntry(resultKey(), value);
}

export class KvHandle {
  constructor(public handle: u32) {}

  /** Open `prefix` of `db` through the `db` (or `x-db`) service. */
  static open(db: DbId, prefix: Uint8Array, mode: KvMode): KvHandle {
    const proxy = <u32>db < BEGIN_INDEPENDENT ? accountNumber("db") : accountNumber("x-db");
    const args = ObjectWriter.struct().u32(<u32>db).bytes(prefix).u8(<u8>mode).finish();
    const ret = ObjectReader.fixed(callAction(new Action(receiver(), proxy, M_OPEN, args)), 4);
    const index = ret.u32();
    ret.done();
    // The returned number indexes the handles the proxy exported with its reply.
    const size = importHandles();
    check(size != NOT_FOUND, "db.open exported no handle");
    const handles = ObjectReader.vector(resultBytes(size));
    const count = handles.count(4);
    check(index < <u32>count, "db.open returned an unknown handle");
    let handle: u32 = 0;
    for (let i = 0; i < count; i++) {
      const h = handles.u32();
      if (<u32>i == index) handle = h;
    }
    handles.done();
    return new KvHandle(handle);
  }

  /** Open with the native call; only privileged services may. */
  static openDirect(db: DbId, prefix: Uint8Array, mode: KvMode): KvHandle {
    return new KvHandle(kvOpen(<u32>db, prefix.dataStart, <u32>prefix.length, <u32>mode));
  }

  /** A handle on the subtree `prefix` of this one. */
  openAt(prefix: Uint8Array, mode: KvMode): KvHandle {
    return new KvHandle(kvOpenAt(this.handle, prefix.dataStart, <u32>prefix.length, <u32>mode));
  }

  close(): void { kvClose(this.handle); }

  get(key: Uint8Array): Uint8Array | null {
    return optionalResult(kvGet(this.handle, key.dataStart, <u32>key.length));
  }

  put(key: Uint8Array, value: Uint8Array): void {
    kvPut(this.handle, key.dataStart, <u32>key.length, value.dataStart, <u32>value.length);
  }

  remove(key: Uint8Array): void { kvRemove(this.handle, key.dataStart, <u32>key.length); }

  /** First pair with key >= `key` whose first `matchKeySize` bytes equal `key`'s. */
  greaterEqual(key: Uint8Array, matchKeySize: i32): KvEntry | null {
    return found(kvGreaterEqual(this.handle, key.dataStart, <u32>key.length, <u32>matchKeySize));
  }

  /** Last pair with key < `key` whose first `matchKeySize` bytes equal `key`'s. */
  lessThan(key: Uint8Array, matchKeySize: i32): KvEntry | null {
    return found(kvLessThan(this.handle, key.dataStart, <u32>key.length, <u32>matchKeySize));
  }

  /** Last pair whose key starts with `prefix`. */
  max(prefix: Uint8Array): KvEntry | null {
    return found(kvMax(this.handle, prefix.dataStart, <u32>prefix.length));
  }
}

/**
 * Hand copies of `handles` to whoever receives this service's next call or its
 * return, as psibase's `exportHandles` does; they stay valid after closing ours.
 */
export function exportKvHandles(handles: KvHandle[]): void {
  const list = ObjectWriter.vector();
  for (let i = 0; i < handles.length; i++) list.u32(handles[i].handle);
  const packed = list.finish();
  exportHandles(packed.dataStart, <u32>packed.length);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexKey(index: u8, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + key.length);
  out[0] = index;
  out.set(key, 1);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

/** A table row: packs itself and names its keys (already `to_key` encoded, see Key). */
export abstract class Row {
  abstract pack(): Uint8Array;
  abstract primaryKey(): Uint8Array;
  /** Keys of secondary indexes 1, 2, …; each must be unique within its index. */
  secondaryKeys(): Uint8Array[] { return []; }
}

const tableHandles = new Map<string, KvHandle>();

/**
 * A psibase table: the handle's prefix is the service account (8 bytes, big-endian)
 * and the table number (u16, big-endian). Inside it, index 0 maps
 * `0 ‖ primary key` to the packed row and index i ≥ 1 maps `i ‖ secondary key`
 * to `0 ‖ primary key`.
 */
export class Table<T extends Row> {
  private kv: KvHandle | null = null;
  private readKv: KvHandle | null = null;

  constructor(
    public service: u64,
    public table: u16,
    private unpackRow: (data: Uint8Array) => T,
    public mode: KvMode = KvMode.readWrite,
    public db: DbId = DbId.service,
  ) {}

  /**
   * The handle for this table. Reads go through a read-only handle: psibase refuses a
   * writable handle on objective state in a subjective context (queries, serveSys), so
   * a table that is only read must never ask for one.
   */
  handle(forWrite: bool = true): KvHandle {
    const mode = forWrite ? this.mode : KvMode.read;
    let kv = forWrite ? this.kv : this.readKv;
    if (kv === null) {
      const prefix = new Uint8Array(10);
      store<u64>(prefix.dataStart, bswap<u64>(this.service));
      store<u16>(prefix.dataStart + 8, bswap<u16>(this.table));
      // One handle per table for the life of the instance: every Table object for the
      // same table shares it, so a service never runs into psibase's handle limit.
      const cacheKey = (<u32>this.db).toString() + ":" + (<u32>mode).toString() + ":" + this.service.toString() + ":" + this.table.toString();
      if (tableHandles.has(cacheKey)) {
        kv = tableHandles.get(cacheKey);
      } else {
        kv = KvHandle.open(this.db, prefix, mode);
        tableHandles.set(cacheKey, kv);
      }
      if (forWrite) this.kv = kv;
      else this.readKv = kv;
    }
    return kv!;
  }

  /** Look a row up by primary key. */
  get(primaryKey: Uint8Array): T | null {
    const data = this.handle(false).get(indexKey(0, primaryKey));
    return data === null ? null : this.unpackRow(data);
  }

  /** Look a row up by the key of secondary index `index` (1-based). */
  getBy(index: u8, key: Uint8Array): T | null {
    check(index > 0, "getBy takes a secondary index; use get for the primary key");
    const kv = this.handle(false);
    const primary = kv.get(indexKey(index, key));
    if (primary === null) return null;
    const data = kv.get(primary);
    if (data === null) abortWith("secondary index points at a missing row");
    return this.unpackRow(data!);
  }

  /** Insert or replace a row, keeping secondary indexes in step. */
  put(row: T): void {
    const kv = this.handle();
    const pk = indexKey(0, row.primaryKey());
    const keys = row.secondaryKeys();
    if (keys.length > 0) {
      const oldData = kv.get(pk);
      const oldKeys = oldData === null ? new Array<Uint8Array>() : this.unpackRow(oldData).secondaryKeys();
      for (let i = 0; i < keys.length; i++) {
        const index = <u8>(i + 1);
        if (i < oldKeys.length && sameBytes(oldKeys[i], keys[i])) continue;
        if (i < oldKeys.length) kv.remove(indexKey(index, oldKeys[i]));
        const key = indexKey(index, keys[i]);
        if (kv.get(key) !== null) abortWith("duplicate key in secondary index " + index.toString());
        kv.put(key, pk);
      }
    }
    kv.put(pk, row.pack());
  }

  /** Remove a row and its secondary index entries. */
  remove(row: T): void {
    const kv = this.handle();
    kv.remove(indexKey(0, row.primaryKey()));
    const keys = row.secondaryKeys();
    for (let i = 0; i < keys.length; i++) kv.remove(indexKey(<u8>(i + 1), keys[i]));
  }

  /** Remove the row with this primary key, if any. */
  erase(primaryKey: Uint8Array): void {
    const row = this.get(primaryKey);
    if (row !== null) this.remove(row);
  }

  /** Rows of index `index` (0 = primary) whose key starts with `prefix`, in key order. */
  rows(index: u8 = 0, prefix: Uint8Array = new Uint8Array(0)): TableCursor<T> {
    return new TableCursor<T>(this.handle(false), indexKey(index, prefix), index > 0, this.unpackRow);
  }
}

/** Walks an index in key order; `next()` returns null after the last row. */
export class TableCursor<T extends Row> {
  private key: Uint8Array;
  private started: bool = false;
  /** The current row's key within the index, without the index byte. */
  currentKey: Uint8Array = new Uint8Array(0);

  constructor(
    private kv: KvHandle,
    private prefix: Uint8Array,
    private secondary: bool,
    private unpackRow: (data: Uint8Array) => T,
  ) {
    this.key = prefix;
  }

  next(): T | null {
    // The smallest key after k is k ‖ 0.
    const from = this.started ? concat(this.key, new Uint8Array(1)) : this.key;
    this.started = true;
    const entry = this.kv.greaterEqual(from, this.prefix.length);
    if (entry === null) return null;
    this.key = entry.key;
    this.currentKey = entry.key.slice(1);
    if (!this.secondary) return this.unpackRow(entry.value);
    const data = this.kv.get(entry.value);
    if (data === null) abortWith("secondary index points at a missing row");
    return this.unpackRow(data!);
  }
}

// psibase's native tables (nativeTables.hpp) as services reach them: through the
// `db` service (psibase's Native::tables opens them the same way), keys
// `(u16 table, u8 index 0, …)`, and a view of the status row that reads the few
// fields services need and copies the rest as packed bytes, so a service can
// rewrite one part of the row without a codec for all of it.

import { abortWith, check } from "./check";
import { Key } from "./key";
import { DbId, KvHandle, KvMode } from "./kv";
import { ObjectReader, ObjectWriter } from "./fracpack";

export enum NativeTableNum {
  status = 1,
  code = 2,
  codeByHash = 3,
  transactionWasmConfig = 5,
  proofWasmConfig = 6,
  config = 7,
  notify = 8,
  scheduledSnapshot = 12,
}

/** CodeRow flags. */
export const CODE_IS_PRIVILEGED: u64 = 1;
export const CODE_IS_VERIFY: u64 = 2;

/** The start of a native key: `(u16 table, u8 index = 0)`. */
export function nativeKey(table: NativeTableNum): Key {
  return new Key().u16(<u16>table).u8(0);
}

let readHandle: KvHandle | null = null;
let writeHandle: KvHandle | null = null;

/** A handle on the whole native db; writing needs the isPrivileged flag (db checks it). */
export function nativeDb(mode: KvMode = KvMode.read): KvHandle {
  if (mode == KvMode.read) {
    if (readHandle === null) readHandle = KvHandle.open(DbId.native, new Uint8Array(0), KvMode.read);
    return readHandle!;
  }
  if (writeHandle === null) writeHandle = KvHandle.open(DbId.native, new Uint8Array(0), KvMode.readWrite);
  return writeHandle!;
}

/** psibase CodeRow. */
export class CodeRow {
  constructor(
    public codeNum: u64,
    public flags: u64,
    public codeHash: Uint8Array,
    public vmType: u8,
    public vmVersion: u8,
  ) {}

  static key(account: u64): Uint8Array {
    return nativeKey(NativeTableNum.code).name(account).finish();
  }

  static get(account: u64): CodeRow | null {
    const data = nativeDb().get(CodeRow.key(account));
    return data === null ? null : CodeRow.unpack(data);
  }

  static unpack(data: Uint8Array): CodeRow {
    const r = ObjectReader.struct(data);
    const row = new CodeRow(r.u64(), r.u64(), r.raw(32), r.u8(), r.u8());
    r.done();
    return row;
  }

  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.codeNum).u64(this.flags).raw(this.codeHash).u8(this.vmType).u8(this.vmVersion).finish();
  }
}

/** A packed extensible struct inside `data`: its fixed fields, and its variable-size fields' packed bytes. */
export class PackedStruct {
  readonly fixedSize: i32;

  /** The struct occupies data[start, end). */
  constructor(public data: Uint8Array, public start: i32, public end: i32) {
    check(end <= data.length && start + 2 <= end, "packed struct out of bounds");
    this.fixedSize = <i32>load<u16>(data.dataStart + <usize>start);
    check(start + 2 + this.fixedSize <= end, "packed struct fixed area out of bounds");
  }

  private at(off: i32, size: i32): usize {
    check(off + size <= this.fixedSize, "packed struct field missing");
    return this.data.dataStart + <usize>(this.start + 2 + off);
  }

  u32(off: i32): u32 { return load<u32>(this.at(off, 4)); }
  u64(off: i32): u64 { return load<u64>(this.at(off, 8)); }
  i64(off: i32): i64 { return load<i64>(this.at(off, 8)); }
  raw(off: i32, size: i32): Uint8Array {
    this.at(off, size);
    const p = this.start + 2 + off;
    return this.data.slice(p, p + size);
  }

  /** Absolute position an offset field points at; -1 for an empty container, -2 for an absent optional. */
  target(off: i32): i32 {
    if (off + 4 > this.fixedSize) return -2;
    const offset = load<u32>(this.at(off, 4));
    if (offset == 0) return -1;
    if (offset == 1) return -2;
    const t = this.start + 2 + off + <i32>offset;
    check(t > this.start && t < this.end, "packed struct offset out of bounds");
    return t;
  }

  /**
   * The packed bytes of the variable-size field at `off`, or null when it is empty or
   * absent. `offs` lists every offset field of the struct in declaration order: in
   * canonical fracpack each child ends where the next present one begins.
   */
  field(off: i32, offs: i32[]): Uint8Array | null {
    const t = this.target(off);
    if (t < 0) return null;
    let end = this.end;
    let after = false;
    for (let i = 0; i < offs.length; i++) {
      if (offs[i] == off) { after = true; continue; }
      if (!after) continue;
      const next = this.target(offs[i]);
      if (next >= 0) { end = next; break; }
    }
    check(end > t, "packed struct fields out of order");
    return this.data.slice(t, end);
  }

  sub(off: i32, offs: i32[]): PackedStruct | null {
    const bytes = this.field(off, offs);
    return bytes === null ? null : new PackedStruct(bytes, 0, bytes.length);
  }
}

// Field offsets in the fixed areas (nativeTables.hpp StatusRow, block.hpp BlockHeader).
const STATUS_OFFS: i32[] = [32, 36, 40];
const JOINT_OFFS: i32[] = [0, 4];

/** psibase StatusRow {chainId, current: BlockHeader, head: BlockInfo?, consensus: JointConsensus}. */
export class StatusView {
  readonly row: PackedStruct;

  constructor(public packed: Uint8Array) {
    this.row = new PackedStruct(packed, 0, packed.length);
  }

  static key(): Uint8Array { return nativeKey(NativeTableNum.status).finish(); }

  static get(): StatusView | null {
    const data = nativeDb().get(StatusView.key());
    return data === null ? null : new StatusView(data);
  }

  static load(): StatusView {
    const s = StatusView.get();
    if (s === null) abortWith("missing status record");
    return s!;
  }

  chainId(): Uint8Array { return this.row.raw(0, 32); }
  /** The block being built. */
  currentPacked(): Uint8Array { return this.row.field(32, STATUS_OFFS)!; }
  current(): PackedStruct { return this.row.sub(32, STATUS_OFFS)!; }
  currentBlockNum(): u32 { return this.current().u32(32); }
  /** BlockTime: microseconds. */
  currentTime(): i64 { return this.current().i64(36); }

  hasHead(): bool { return this.row.target(36) >= 0; }
  /** The packed BlockInfo {header, blockId}, or null before the first block. */
  headPacked(): Uint8Array | null { return this.row.field(36, STATUS_OFFS); }
  headHeaderPacked(): Uint8Array {
    const info = this.row.sub(36, STATUS_OFFS)!;
    return info.field(0, [0])!;
  }
  headHeader(): PackedStruct {
    const bytes = this.headHeaderPacked();
    return new PackedStruct(bytes, 0, bytes.length);
  }
  headBlockNum(): u32 { return this.headHeader().u32(32); }
  headTime(): i64 { return this.headHeader().i64(36); }
  headBlockId(): Uint8Array { return this.row.sub(36, STATUS_OFFS)!.raw(4, 32); }

  consensusPacked(): Uint8Array { return this.row.field(40, STATUS_OFFS)!; }
  consensus(): PackedStruct { return this.row.sub(40, STATUS_OFFS)!; }
  /** The packed current Consensus {data, services, wasmConfig}. */
  currentConsensusPacked(): Uint8Array { return this.consensus().field(0, JOINT_OFFS)!; }
  /** PendingConsensus {consensus, blockNum}, or null. */
  nextConsensus(): PackedStruct | null { return this.consensus().sub(4, JOINT_OFFS); }

  /** The row with its consensus replaced by `jointConsensus` (a packed JointConsensus). */
  withConsensus(jointConsensus: Uint8Array): Uint8Array {
    const head = this.headPacked();
    return ObjectWriter.struct()
      .raw(this.chainId())
      .object(this.currentPacked())
      .optObject(head)
      .object(jointConsensus)
      .finish();
  }
}

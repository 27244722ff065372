// psibase's `setcode` system service (packages/system/SetCode): installs and replaces
// service code by writing native CodeRow / CodeByHashRow rows, which native checks
// (row format, key, code hash) and loads services from. Deploy with isPrivileged.
//
// Tables (psibase's numbering): 0 CodeRefCount keyed (codeHash, vmType, vmVersion),
// 1 StagedCode keyed (from, id, service), 2 VerifySequence (singleton).
//
// psibase reflects CodeRefCountRow without its numRefs field, so the stored row is
// {codeHash, vmType, vmVersion} and every reference count reads back as 0. This
// service keeps that row format, and with it psibase's resulting behaviour: code
// rows are written on every install and never removed.

import {
  abortWith, action, Call, check, CODE_IS_VERIFY, CodeRow, Key, KvMode, nativeDb, nativeKey, NativeTableNum,
  ObjectReader, ObjectWriter, receiver, Row, sha256, StatusView, Table,
} from "../sdk";
export { start, called } from "../sdk";

const ZERO_HASH = new Uint8Array(32);

class CodeRefCountRow extends Row {
  constructor(public codeHash: Uint8Array, public vmType: u8, public vmVersion: u8, public numRefs: u32) { super(); }
  static key(codeHash: Uint8Array, vmType: u8, vmVersion: u8): Uint8Array {
    return new Key().raw(codeHash).u8(vmType).u8(vmVersion).finish();
  }
  primaryKey(): Uint8Array { return CodeRefCountRow.key(this.codeHash, this.vmType, this.vmVersion); }
  pack(): Uint8Array { return ObjectWriter.struct().raw(this.codeHash).u8(this.vmType).u8(this.vmVersion).finish(); }
  static unpack(data: Uint8Array): CodeRefCountRow {
    const r = ObjectReader.struct(data);
    const row = new CodeRefCountRow(r.raw(32), r.u8(), r.u8(), 0);
    r.done();
    return row;
  }
}

class StagedCodeRow extends Row {
  constructor(public from: u64, public service: u64, public id: u64, public codeHash: Uint8Array, public vmType: u8, public vmVersion: u8) { super(); }
  static key(from: u64, id: u64, service: u64): Uint8Array { return new Key().name(from).u64(id).name(service).finish(); }
  primaryKey(): Uint8Array { return StagedCodeRow.key(this.from, this.id, this.service); }
  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.from).u64(this.service).u64(this.id).raw(this.codeHash).u8(this.vmType).u8(this.vmVersion).finish();
  }
  static unpack(data: Uint8Array): StagedCodeRow {
    const r = ObjectReader.struct(data);
    const row = new StagedCodeRow(r.u64(), r.u64(), r.u64(), r.raw(32), r.u8(), r.u8());
    r.done();
    return row;
  }
}

class VerifySequenceRow extends Row {
  constructor(public seq: u64) { super(); }
  primaryKey(): Uint8Array { return new Uint8Array(0); }
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.seq).finish(); }
  static unpack(data: Uint8Array): VerifySequenceRow {
    const r = ObjectReader.struct(data);
    const row = new VerifySequenceRow(r.u64());
    r.done();
    return row;
  }
}

const refsTable = (): Table<CodeRefCountRow> => new Table<CodeRefCountRow>(receiver(), 0, CodeRefCountRow.unpack);
const stagedTable = (): Table<StagedCodeRow> => new Table<StagedCodeRow>(receiver(), 1, StagedCodeRow.unpack);
const verifySeqTable = (): Table<VerifySequenceRow> => new Table<VerifySequenceRow>(receiver(), 2, VerifySequenceRow.unpack);

function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  return a.length == b.length && memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

function codeByHashKey(codeHash: Uint8Array, vmType: u8, vmVersion: u8): Uint8Array {
  return nativeKey(NativeTableNum.codeByHash).raw(codeHash).u8(vmType).u8(vmVersion).finish();
}

/** Returns whether the code was already referenced. */
function incrementRefCount(codeHash: Uint8Array, vmType: u8, vmVersion: u8): bool {
  const refs = refsTable();
  let count = refs.get(CodeRefCountRow.key(codeHash, vmType, vmVersion));
  if (count === null) count = new CodeRefCountRow(codeHash, vmType, vmVersion, 0);
  count.numRefs++;
  check(count.numRefs != 0, "Integer overflow");
  refs.put(count);
  return count.numRefs > 1;
}

function decrementRefCount(codeHash: Uint8Array, vmType: u8, vmVersion: u8): void {
  const refs = refsTable();
  const prev = refs.get(CodeRefCountRow.key(codeHash, vmType, vmVersion));
  check(prev !== null, "Missing reference count");
  prev!.numRefs--;
  if (prev!.numRefs != 0) {
    refs.put(prev!);
  } else {
    refs.remove(prev!);
    nativeDb(KvMode.readWrite).remove(codeByHashKey(codeHash, vmType, vmVersion));
  }
}

/** Changing a verify service changes the next consensus, so none may be pending. */
function incrementVerifySeq(flags: u64): void {
  if ((flags & CODE_IS_VERIFY) == 0) return;
  const status = StatusView.load();
  const next = status.nextConsensus();
  if (next !== null && next.u32(4) != status.currentBlockNum()) {
    abortWith("Cannot update verify services while a consensus update is pending");
  }
  const table = verifySeqTable();
  let row = table.get(new Uint8Array(0));
  if (row === null) row = new VerifySequenceRow(0);
  row.seq++;
  table.put(row);
}

function loadCodeRow(service: u64): CodeRow {
  const row = CodeRow.get(service);
  return row !== null ? row : new CodeRow(service, 0, new Uint8Array(32), 0, 0);
}

/** Stores the CodeRow, or removes it once it holds neither code nor flags. */
function putCodeRow(row: CodeRow): void {
  const native = nativeDb(KvMode.readWrite);
  if (!sameBytes(row.codeHash, ZERO_HASH) || row.flags != 0) native.put(CodeRow.key(row.codeNum), row.pack());
  else native.remove(CodeRow.key(row.codeNum));
}

function putCodeByHash(codeHash: Uint8Array, vmType: u8, vmVersion: u8, code: Uint8Array): void {
  const row = ObjectWriter.struct().raw(codeHash).u8(vmType).u8(vmVersion).bytes(code).finish();
  nativeDb(KvMode.readWrite).put(codeByHashKey(codeHash, vmType, vmVersion), row);
}

action("init", (c: Call): void => {
  const refs = refsTable();
  for (;;) {
    const row = refs.rows().next();
    if (row === null) break;
    refs.remove(row);
  }
  const native = nativeDb();
  const codeIndex = nativeKey(NativeTableNum.code).finish();
  let from = codeIndex;
  for (;;) {
    const entry = native.greaterEqual(from, codeIndex.length);
    if (entry === null) break;
    const row = CodeRow.unpack(entry.value);
    incrementRefCount(row.codeHash, row.vmType, row.vmVersion);
    const next = new Uint8Array(entry.key.length + 1);
    next.set(entry.key);
    from = next;
  }
  const staged = stagedTable().rows();
  for (;;) {
    const row = staged.next();
    if (row === null) break;
    incrementRefCount(row.codeHash, row.vmType, row.vmVersion);
  }
});

action("setCode", (c: Call): void => {
  const args = c.args;
  const service = args.u64();
  const vmType = args.u8();
  const vmVersion = args.u8();
  const code = args.bytes();
  check(c.sender == service, "sender must match service account");
  check(vmType == 0 && vmVersion == 0, "unsupported type or version");
  const account = loadCodeRow(service);
  const codeHash = code.length > 0 ? sha256(code) : new Uint8Array(32);
  if (vmType == account.vmType && vmVersion == account.vmVersion && sameBytes(codeHash, account.codeHash)) return;
  if (!sameBytes(account.codeHash, ZERO_HASH)) decrementRefCount(account.codeHash, account.vmType, account.vmVersion);
  incrementVerifySeq(account.flags);
  account.codeHash = codeHash;
  account.vmType = vmType;
  account.vmVersion = vmVersion;
  putCodeRow(account);
  if (code.length > 0 && !incrementRefCount(codeHash, vmType, vmVersion)) putCodeByHash(codeHash, vmType, vmVersion, code);
});

action("stageCode", (c: Call): void => {
  const args = c.args;
  const service = args.u64();
  const id = args.u64();
  const vmType = args.u8();
  const vmVersion = args.u8();
  const code = args.bytes();
  check(code.length > 0, "Cannot stage empty code");
  check(vmType == 0 && vmVersion == 0, "unsupported type or version");
  const codeHash = sha256(code);
  const row = new StagedCodeRow(c.sender, service, id, codeHash, vmType, vmVersion);
  const staged = stagedTable();
  check(staged.get(row.primaryKey()) === null, "staged code id must be unique");
  if (!incrementRefCount(codeHash, vmType, vmVersion)) putCodeByHash(codeHash, vmType, vmVersion, code);
  staged.put(row);
});

action("unstageCode", (c: Call): void => {
  const args = c.args;
  const service = args.u64();
  const id = args.u64();
  const staged = stagedTable();
  const row = staged.get(StagedCodeRow.key(c.sender, id, service));
  check(row !== null, "staged code does not exist");
  decrementRefCount(row!.codeHash, row!.vmType, row!.vmVersion);
  staged.remove(row!);
});

action("setCodeStaged", (c: Call): void => {
  const args = c.args;
  const from = args.u64();
  const id = args.u64();
  const vmType = args.u8();
  const vmVersion = args.u8();
  const codeHash = args.raw(32);
  const service = c.sender;
  check(vmType == 0 && vmVersion == 0, "unsupported type or version");
  const staged = stagedTable();
  const row = staged.get(StagedCodeRow.key(from, id, service));
  check(row !== null, "staged code does not exist");
  check(sameBytes(row!.codeHash, codeHash) && row!.vmType == vmType && row!.vmVersion == vmVersion, "staged code does not match");
  staged.remove(row!);
  const account = loadCodeRow(service);
  if (vmType == account.vmType && vmVersion == account.vmVersion && sameBytes(codeHash, account.codeHash)) return;
  if (!sameBytes(account.codeHash, ZERO_HASH)) decrementRefCount(account.codeHash, account.vmType, account.vmVersion);
  incrementVerifySeq(account.flags);
  account.codeHash = codeHash;
  account.vmType = vmType;
  account.vmVersion = vmVersion;
  nativeDb(KvMode.readWrite).put(CodeRow.key(service), account.pack());
});

action("setFlags", (c: Call): void => {
  const args = c.args;
  const service = args.u64();
  const flags = args.u64();
  check(c.sender == receiver(), "incorrect sender");
  const account = loadCodeRow(service);
  incrementVerifySeq(account.flags ^ flags);
  account.flags = flags;
  putCodeRow(account);
});

action("verifySeq", (c: Call): void => {
  const row = verifySeqTable().get(new Uint8Array(0));
  c.retU64(row === null ? 0 : row.seq);
});

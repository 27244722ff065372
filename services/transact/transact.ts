// psibase's `transact` system service (packages/system/Transact): every transaction
// enters the chain through its `processTransaction` export, which checks TaPoS and
// expiry against the block-suffix table `startBlock` keeps, refuses transactions it
// has already included, asks each sender's auth service (`checkAuthSys`) once boot
// has finished, and runs the actions. Deploy with isPrivileged.
//
// Tables (psibase's numbering): 0 TransactStatus, 1 ResMonitoringConfig,
// 2 BlockSummary, 3 IncludedTrx, 4 Callbacks, 5 EventIndexer, 6 SnapshotInfo.

import {
  abortWith, accountName, accountNumber, Action, action, Call, callAction, check, DbId, Key, KvMode,
  methodName, methodNumber, nativeDb, nativeKey, NativeTableNum, ObjectReader, ObjectWriter,
  PackedStruct, readBytes, receiver, Row, sha256, StatusView, Table,
} from "../sdk";
import { FIRST_AUTH_FLAG, READ_ONLY_FLAG, RUN_AS_MATCHED_EXPANDED_REQ, RUN_AS_MATCHED_REQ, RUN_AS_OTHER_REQ, RUN_AS_REQUESTER_REQ, TOP_ACTION_REQ } from "../sdk";
import { currentAction } from "../sdk/action";

// Method numbers called on every transaction, written out: computing one costs more
// than the call (names.test.ts checks each against methodNumber).
const M_START_BLOCK: u64 = 0xe05fed5f7e60; // = methodNumber("startBlock")
const M_GET_AUTH_OF: u64 = 0xa0e68478f6c0; // = methodNumber("getAuthOf")
const M_CHECK_AUTH_SYS: u64 = 0x9ccefc8d7e314c7c; // = methodNumber("checkAuthSys")
export { start, called } from "../sdk";

const TRANSACT = accountNumber("transact");
const ACCOUNTS = accountNumber("accounts");
const R_TRANSACT = accountNumber("r-transact");

/** Transact.cpp maxTrxLifetime: an hour. */
const MAX_TRX_LIFETIME_SEC: i64 = 60 * 60;
const US_PER_SEC: i64 = 1_000_000;
/** block.hpp Tapos::valid_flags. */
const TAPOS_VALID_FLAGS: u16 = 0x0001;


const KV_NOTIFY_NONE: u32 = 0xffff_ffff;

// CallbackType.
const CALLBACK_ON_TRANSACTION: u32 = 0;
const CALLBACK_ON_BLOCK: u32 = 1;
const CALLBACK_ON_FAILED_TRANSACTION: u32 = 2;

// ---- rows ----

class TransactStatus extends Row {
  constructor(public enforceAuth: bool, public bootTransactions: Uint8Array[] | null) { super(); }
  primaryKey(): Uint8Array { return new Uint8Array(0); }
  pack(): Uint8Array {
    const w = ObjectWriter.struct().bool(this.enforceAuth);
    const boot = this.bootTransactions;
    if (boot === null) return w.none().finish();
    const v = ObjectWriter.vector();
    for (let i = 0; i < boot.length; i++) v.raw(boot[i]);
    return w.vec(v).finish();
  }
  static unpack(data: Uint8Array): TransactStatus {
    const r = ObjectReader.struct(data);
    const enforceAuth = r.bool();
    let boot: Uint8Array[] | null = null;
    if (!r.isNone()) {
      const v = r.vector();
      const n = v.count(32);
      const ids = new Array<Uint8Array>();
      for (let i = 0; i < n; i++) ids.push(v.raw(32));
      v.done();
      boot = ids;
    }
    r.done();
    return new TransactStatus(enforceAuth, boot);
  }
}

class ResMonitoringConfig extends Row {
  constructor(public enabled: bool) { super(); }
  primaryKey(): Uint8Array { return new Uint8Array(0); }
  pack(): Uint8Array { return ObjectWriter.struct().bool(this.enabled).finish(); }
  static unpack(data: Uint8Array): ResMonitoringConfig {
    const r = ObjectReader.struct(data);
    const row = new ResMonitoringConfig(r.bool());
    r.done();
    return row;
  }
}

/** The last block suffix of recent block numbers, by TaPoS refBlockIndex. */
class BlockSummary extends Row {
  constructor(public blockSuffixes: Uint8Array, public blockNum: u32) { super(); }
  primaryKey(): Uint8Array { return new Uint8Array(0); }
  suffix(index: u32): u32 { return load<u32>(this.blockSuffixes.dataStart + (<usize>index << 2)); }
  setSuffix(index: u32, v: u32): void { store<u32>(this.blockSuffixes.dataStart + (<usize>index << 2), v); }
  pack(): Uint8Array { return ObjectWriter.struct().raw(this.blockSuffixes).u32(this.blockNum).finish(); }
  static unpack(data: Uint8Array): BlockSummary {
    const r = ObjectReader.struct(data);
    const row = new BlockSummary(r.raw(1024), r.u32());
    r.done();
    return row;
  }
}

class IncludedTrx extends Row {
  constructor(public expiration: i64, public id: Uint8Array) { super(); }
  static key(expiration: i64, id: Uint8Array): Uint8Array { return new Key().i64(expiration).raw(id).finish(); }
  primaryKey(): Uint8Array { return IncludedTrx.key(this.expiration, this.id); }
  pack(): Uint8Array { return ObjectWriter.struct().i64(this.expiration).raw(this.id).finish(); }
  static unpack(data: Uint8Array): IncludedTrx {
    const r = ObjectReader.struct(data);
    const row = new IncludedTrx(r.i64(), r.raw(32));
    r.done();
    return row;
  }
}

/** Callbacks and native NotifyRow share this shape: {type: u32, actions: Action[]}. */
class Callbacks extends Row {
  constructor(public type: u32, public actions: Action[]) { super(); }
  primaryKey(): Uint8Array { return new Key().u32(this.type).finish(); }
  pack(): Uint8Array {
    const v = ObjectWriter.vector();
    for (let i = 0; i < this.actions.length; i++) v.object(this.actions[i].pack());
    return ObjectWriter.struct().u32(this.type).vec(v).finish();
  }
  static unpack(data: Uint8Array): Callbacks {
    const r = ObjectReader.struct(data);
    const type = r.u32();
    const actions = readActions(r.vector());
    r.done();
    return new Callbacks(type, actions);
  }
}

class SnapshotInfo extends Row {
  constructor(public lastSnapshot: i64, public snapshotInterval: i64) { super(); }
  primaryKey(): Uint8Array { return new Uint8Array(0); }
  pack(): Uint8Array { return ObjectWriter.struct().i64(this.lastSnapshot).i64(this.snapshotInterval).finish(); }
  static unpack(data: Uint8Array): SnapshotInfo {
    const r = ObjectReader.struct(data);
    const row = new SnapshotInfo(r.i64(), r.i64());
    r.done();
    return row;
  }
}

const EMPTY_KEY = new Uint8Array(0);
const statusTable = (): Table<TransactStatus> => new Table<TransactStatus>(TRANSACT, 0, TransactStatus.unpack);
const resMonTable = (): Table<ResMonitoringConfig> => new Table<ResMonitoringConfig>(TRANSACT, 1, ResMonitoringConfig.unpack);
const summaryTable = (): Table<BlockSummary> => new Table<BlockSummary>(TRANSACT, 2, BlockSummary.unpack);
const includedTable = (): Table<IncludedTrx> => new Table<IncludedTrx>(TRANSACT, 3, IncludedTrx.unpack);
const callbacksTable = (): Table<Callbacks> => new Table<Callbacks>(TRANSACT, 4, Callbacks.unpack);
const snapshotTable = (): Table<SnapshotInfo> => new Table<SnapshotInfo>(TRANSACT, 6, SnapshotInfo.unpack);

// ---- transactions ----

class Claim {
  constructor(public service: u64, public rawData: Uint8Array) {}
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.service).bytes(this.rawData).finish(); }
}

class Tapos {
  expiration: i64 = 0;
  refBlockSuffix: u32 = 0;
  flags: u16 = 0;
  refBlockIndex: u8 = 0;
}

class Transaction {
  tapos: Tapos = new Tapos();
  actions: Action[] = [];
  claims: Claim[] = [];
}

// psio::fracpack_validate_strict: a known layout with no fields from a newer version.
function strictDone(r: ObjectReader): void {
  check(r.pos == r.fixedEnd, "transaction has invalid format");
  r.done();
}

function readActions(v: ObjectReader): Action[] {
  const n = v.count(4);
  const out = new Array<Action>();
  for (let i = 0; i < n; i++) {
    const a = v.struct();
    out.push(new Action(a.u64(), a.u64(), a.u64(), a.bytes()));
    strictDone(a);
  }
  v.done();
  return out;
}

function parseTransaction(data: Uint8Array): Transaction {
  const trx = new Transaction();
  const r = ObjectReader.struct(data);
  // Tapos is a fixed, non-extensible struct inlined in the fixed area.
  const t = r.raw(15);
  trx.tapos.expiration = load<i64>(t.dataStart);
  trx.tapos.refBlockSuffix = load<u32>(t.dataStart + 8);
  trx.tapos.flags = load<u16>(t.dataStart + 12);
  trx.tapos.refBlockIndex = load<u8>(t.dataStart + 14);
  trx.actions = readActions(r.vector());
  const c = r.vector();
  const n = c.count(4);
  for (let i = 0; i < n; i++) {
    const s = c.struct();
    trx.claims.push(new Claim(s.u64(), s.bytes()));
    strictDone(s);
  }
  c.done();
  strictDone(r);
  return trx;
}

function isStartBlockAction(a: Action): bool {
  return a.sender == 0 && a.service == TRANSACT && a.method == M_START_BLOCK;
}

function isStartBlock(trx: Transaction): bool {
  return trx.actions.length == 1 && isStartBlockAction(trx.actions[0]);
}

/** Seconds, rounded up, of a BlockTime in microseconds. */
function ceilSeconds(us: i64): i64 {
  return us / US_PER_SEC + (us % US_PER_SEC > 0 ? 1 : 0);
}

/** The block summary as of the current block: the stored one plus the head's suffix. */
function currentBlockSummary(stat: StatusView): BlockSummary {
  let summary = summaryTable().get(EMPTY_KEY);
  if (summary === null) summary = new BlockSummary(new Uint8Array(1024), 0);
  if (stat.hasHead()) {
    const id = stat.headBlockId();
    const suffix = load<u32>(id.dataStart + 28);
    const num = stat.headBlockNum();
    summary.setSuffix(num & 0x7f, suffix);
    if ((num & 0x1fff) == 0) summary.setSuffix((num >> 13) | 0x80, suffix);
  }
  summary.blockNum = stat.currentBlockNum();
  return summary;
}

function hexJson(b: Uint8Array): string {
  const digits = "0123456789ABCDEF";
  let s = "\"";
  for (let i = 0; i < b.length; i++) s += digits.charAt(b[i] >> 4) + digits.charAt(b[i] & 15);
  return s + "\"";
}

function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  return a.length == b.length && memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

/** Transact.cpp checkTapos: returns whether auth is enforced. */
function checkTapos(id: Uint8Array, tapos: Tapos, speculative: bool, startBlock: bool): bool {
  const stat = StatusView.load();
  check((tapos.flags & ~TAPOS_VALID_FLAGS) == 0, "unsupported flags on transaction");
  const now = stat.currentTime();
  // current.time (µs) < expiration (s), and expiration < current.time + maxTrxLifetime.
  check(now / US_PER_SEC < tapos.expiration, "transaction has expired");
  check(tapos.expiration < ceilSeconds(now) + MAX_TRX_LIFETIME_SEC, "transaction was submitted too early");
  const status = statusTable().get(EMPTY_KEY);
  const summary = speculative ? currentBlockSummary(stat) : summaryTable().get(EMPTY_KEY);
  const current = stat.currentBlockNum();
  const zeroTapos = tapos.refBlockIndex == 0 && tapos.refBlockSuffix == 0;
  if (startBlock) {
    if (summary !== null) {
      check(summary.blockNum + 1 >= current, "startBlock was not run in the previous block");
      check(summary.blockNum + 1 == current, "startBlock has already been run");
    }
    check(zeroTapos, "tapos must be zero for startBlock");
    return false;
  }
  if (summary === null) check(!stat.hasHead(), "startBlock has not been run");
  else check(summary.blockNum == current, "startBlock has not been run");

  if (status !== null && status.bootTransactions !== null) {
    const boot = status.bootTransactions!;
    check(boot.length > 0, "fatal error: All boot transactions have been pushed, but finishBoot was not run.");
    check(zeroTapos, "transaction references non-existing block");
    if (!speculative) {
      if (!sameBytes(id, boot[0])) abortWith("Wrong transaction during boot " + hexJson(id) + " != " + hexJson(boot[0]));
      boot.shift();
      statusTable().put(status);
    } else {
      let found = false;
      for (let i = 0; i < boot.length; i++) if (sameBytes(boot[i], id)) found = true;
      if (!found) abortWith("Wrong transaction during boot " + hexJson(id));
    }
  } else if (summary !== null && stat.hasHead()) {
    const index = <u32>tapos.refBlockIndex;
    const headNum = stat.headBlockNum();
    // psibase compares in unsigned 32-bit arithmetic: on young chains the bound wraps.
    const distance: u32 = (index - 2) & 0x7f;
    const bound: u32 = (index & 0x80) != 0 ? (headNum >> 13) - 2 : headNum - 2;
    check(distance <= bound, "transaction references non-existing block");
    check(tapos.refBlockSuffix == summary.suffix(index), "transaction references non-existing block");
  } else {
    check(zeroTapos, "transaction references non-existing block");
  }
  return status !== null && status.enforceAuth;
}

function packServiceMethod(service: u64, method: u64): Uint8Array {
  return ObjectWriter.struct().u64(service).u64(method).finish();
}

function getAuthOf(account: u64): u64 {
  const args = ObjectWriter.struct().u64(account).finish();
  const ret = callAction(new Action(TRANSACT, ACCOUNTS, M_GET_AUTH_OF, args));
  const r = ObjectReader.fixed(ret, 8);
  const auth = r.u64();
  r.done();
  return auth;
}

/** AuthInterface::checkAuthSys on `authService`, as transact. */
function callCheckAuth(authService: u64, flags: u32, requester: u64, sender: u64, service: u64, method: u64, allowed: Uint8Array, claims: Claim[]): bool {
  const c = ObjectWriter.vector();
  for (let i = 0; i < claims.length; i++) c.object(claims[i].pack());
  const args = ObjectWriter.struct()
    .u32(flags).u64(requester).u64(sender)
    .object(packServiceMethod(service, method))
    .container(allowed)
    .vec(c)
    .finish();
  const ret = callAction(new Action(TRANSACT, authService, M_CHECK_AUTH_SYS, args));
  const r = ObjectReader.fixed(ret, 1);
  const ok = r.bool();
  r.done();
  return ok;
}

const NO_SERVICE_METHODS = new Uint8Array(4);

function checkAuth(act: Action, claims: Claim[], first: bool, readOnly: bool): void {
  const authService = getAuthOf(act.sender);
  let flags = TOP_ACTION_REQ;
  if (first && !readOnly) flags |= FIRST_AUTH_FLAG;
  if (readOnly) flags |= READ_ONLY_FLAG;
  if (!callCheckAuth(authService, flags, 0, act.sender, act.service, act.method, NO_SERVICE_METHODS, claims)) {
    abortWith("Authorization for " + accountName(act.sender) + " -> " + accountName(act.service) + "::" + methodName(act.method) + " failed");
  }
}

// The transaction being processed (Transact::getTransaction) and its first sender.
let trxData: Uint8Array | null = null;

function processTransactionImpl(t: Uint8Array, speculative: bool): void {
  const trx = parseTransaction(t);
  trxData = t;
  const id = sha256(t);
  check(trx.actions.length > 0, "transaction has no actions");
  const tapos = trx.tapos;
  const included = includedTable();
  // psibase records every transaction, startBlock's too. Its blocks are whole seconds
  // apart, so each block's startBlock transaction (expiring a second after the block)
  // differs; psiweb also runs shorter block intervals, where two blocks in one second
  // would have the same one. It cannot be replayed (only native runs it, once a block),
  // so it is not recorded.
  const startBlock = isStartBlock(trx);
  if (!startBlock) check(included.get(IncludedTrx.key(tapos.expiration, id)) === null, "duplicate transaction");
  const enforceAuth = checkTapos(id, tapos, speculative, startBlock);
  for (let i = 0; i < trx.actions.length; i++) {
    const act = trx.actions[i];
    if (enforceAuth) checkAuth(act, trx.claims, i == 0, false);
    callAction(act);
  }
  if (!startBlock) included.put(new IncludedTrx(tapos.expiration, id));
  const callbacks = callbacksTable().get(new Key().u32(CALLBACK_ON_TRANSACTION).finish());
  if (callbacks !== null) {
    for (let i = 0; i < callbacks.actions.length; i++) callAction(callbacks.actions[i]);
  }
  trxData = null;
}

/** Native enters here with ProcessTransactionArgs{transaction: shared_view_ptr<Transaction>}. */
export function processTransaction(): void {
  const act = currentAction();
  const r = ObjectReader.struct(act.rawData);
  const t = r.bytes();
  r.done();
  processTransactionImpl(t, false);
}

// ---- boot ----

action("startBoot", (c: Call): void => {
  const v = c.args.vector();
  const n = v.count(32);
  const ids = new Array<Uint8Array>();
  for (let i = 0; i < n; i++) ids.push(v.raw(32));
  v.done();
  const table = statusTable();
  check(table.get(EMPTY_KEY) === null, "already started");
  table.put(new TransactStatus(false, ids));
});

action("finishBoot", (c: Call): void => {
  const table = statusTable();
  const status = table.get(EMPTY_KEY);
  if (status === null) {
    check(!StatusView.load().hasHead(), "fatal error: The boot process must use startBoot when split across multiple blocks");
  } else {
    check(!status.enforceAuth, "already started");
    check(status.bootTransactions !== null, "Invariant failure");
    check(status.bootTransactions!.length == 0, "Not all boot transactions have been run");
  }
  table.put(new TransactStatus(true, null));
  // psibase's default ConfigRow and WasmConfigRow, for transactions and for proofs.
  const native = nativeDb(KvMode.readWrite);
  native.put(nativeKey(NativeTableNum.config).finish(), ObjectWriter.struct().u32(128).u32(8 << 20).finish());
  const vmOptions = ObjectWriter.struct().u32(1024).u32(512).u32(8192).u32(1024 * 1024).finish();
  const wasmConfig = ObjectWriter.struct().u32(32).object(vmOptions).finish();
  native.put(nativeKey(NativeTableNum.transactionWasmConfig).finish(), wasmConfig);
  native.put(nativeKey(NativeTableNum.proofWasmConfig).finish(), wasmConfig);
});

// ---- blocks ----

action("startBlock", (c: Call): void => {
  check(c.sender == 0, "Only native code may call startBlock");
  const stat = StatusView.load();
  summaryTable().put(currentBlockSummary(stat));
  // Forget included transactions that have expired; the bound limits one block's work.
  const now = stat.currentTime();
  const included = includedTable();
  for (let i = 0; i < 20; i++) {
    const row = included.rows().next();
    if (row === null) break;
    if (row.expiration > now / US_PER_SEC) break;
    included.remove(row);
  }
  const snap = snapshotTable();
  const info = snap.get(EMPTY_KEY);
  if (info !== null) {
    if (info.snapshotInterval != 0 && now - info.lastSnapshot >= info.snapshotInterval * US_PER_SEC) {
      const blockNum = stat.currentBlockNum();
      const key = nativeKey(NativeTableNum.scheduledSnapshot).u32(blockNum).finish();
      nativeDb(KvMode.readWrite).put(key, ObjectWriter.struct().u32(blockNum).finish());
      info.lastSnapshot = now;
      snap.put(info);
    }
  } else {
    snap.put(new SnapshotInfo(stat.headTime(), 0));
  }
});

action("setSnapTime", (c: Call): void => {
  const seconds = c.args.u32();
  check(c.sender == receiver(), "Wrong sender");
  const snap = snapshotTable();
  let info = snap.get(EMPTY_KEY);
  if (info === null) {
    const stat = StatusView.load();
    info = new SnapshotInfo(stat.hasHead() ? stat.headTime() : stat.currentTime(), <i64>seconds);
  } else {
    info.snapshotInterval = <i64>seconds;
  }
  snap.put(info);
});

action("kvNotify", (c: Call): void => {
  const args = c.args;
  args.u64();
  args.u32();
  args.u32();
  const oldValueLen = args.u32();
  const newValueLen = args.u32();
  check(c.sender == 0, "Wrong sender");
  check(!(oldValueLen == KV_NOTIFY_NONE && newValueLen == KV_NOTIFY_NONE), "Invalid kv notify");
  // Disk billing happens only with resource monitoring, which needs VirtualServer.
});

action("execTrx", (c: Call): void => {
  const t = c.args.bytes();
  const speculative = c.args.bool();
  check(trxData === null, "Cannot reenter execTrx");
  check(c.sender == 0 || c.sender == R_TRANSACT, "Wrong sender");
  processTransactionImpl(t, speculative);
});

action("checkFirstAuth", (c: Call): void => {
  // (id: Checksum256, transaction: Transaction): the transaction is the last field.
  const raw = c.rawData;
  const args = new PackedStruct(raw, 0, raw.length);
  const id = args.raw(0, 32);
  const t = args.field(32, [32]);
  check(t !== null, "transaction has invalid format");
  const trx = parseTransaction(t!);
  check(trx.actions.length > 0, "transaction has no actions");
  const enforceAuth = checkTapos(id, trx.tapos, true, false);
  if (enforceAuth) checkAuth(trx.actions[0], trx.claims, true, true);
  c.retBool(enforceAuth);
});

// ---- callbacks ----


/** nativeTables.hpp NotifyType of a CallbackType. */
function notifyType(type: u32): u32 {
  if (type == CALLBACK_ON_BLOCK) return 0;
  if (type == CALLBACK_ON_TRANSACTION) return 1;
  if (type == CALLBACK_ON_FAILED_TRANSACTION) return 2;
  abortWith("Unknown callback type");
  return 0;
}

class CallbackArgs {
  constructor(public type: u32, public objective: bool, public act: Action) {}
}

/** (type: CallbackType, objective: bool, act: Action); only transact itself may change callbacks. */
function readCallbackArgs(c: Call): CallbackArgs {
  const args = c.args;
  const type = args.u32();
  const objective = args.bool();
  const a = args.struct();
  const act = new Action(a.u64(), a.u64(), a.u64(), a.bytes());
  a.done();
  check(c.sender == receiver(), "Wrong sender");
  return new CallbackArgs(type, objective, act);
}

function findAction(actions: Action[], act: Action): i32 {
  const packed = act.pack();
  for (let i = 0; i < actions.length; i++) if (sameBytes(actions[i].pack(), packed)) return i;
  return -1;
}

function notifyKey(type: u32): Uint8Array {
  return nativeKey(NativeTableNum.notify).u32(type).finish();
}

action("addCallback", (c: Call): void => {
  const req = readCallbackArgs(c);
  const objective = req.objective;
  const type = req.type;
  const act = req.act;
  if (objective) {
    check(act.sender == receiver(), "Objective callbacks must have 'transact' as sender");
    if (type == CALLBACK_ON_BLOCK) abortWith("Objective block callbacks not supported");
    if (type == CALLBACK_ON_FAILED_TRANSACTION) abortWith("Objective failed transaction callbacks not supported");
    if (type != CALLBACK_ON_TRANSACTION) abortWith("Unknown callback type");
    const table = callbacksTable();
    let row = table.get(new Key().u32(type).finish());
    if (row === null) row = new Callbacks(type, []);
    if (findAction(row.actions, act) < 0) {
      row.actions.push(act);
      table.put(row);
    }
  } else {
    check(act.sender == 0, "Subjective callbacks must not have a sender");
    const ntype = notifyType(type);
    const native = nativeDb(KvMode.readWrite);
    const data = native.get(notifyKey(ntype));
    const row = data === null ? new Callbacks(ntype, []) : Callbacks.unpack(data);
    if (findAction(row.actions, act) < 0) {
      row.actions.push(act);
      native.put(notifyKey(ntype), row.pack());
    }
  }
});

action("removeCallback", (c: Call): void => {
  const req = readCallbackArgs(c);
  const objective = req.objective;
  const type = req.type;
  const act = req.act;
  if (objective) {
    const table = callbacksTable();
    const row = table.get(new Key().u32(type).finish());
    if (row !== null) {
      const i = findAction(row.actions, act);
      if (i >= 0) {
        row.actions.splice(i, 1);
        if (row.actions.length == 0) table.remove(row);
        else table.put(row);
        return;
      }
    }
  } else {
    const ntype = notifyType(type);
    const native = nativeDb(KvMode.readWrite);
    const data = native.get(notifyKey(ntype));
    if (data !== null) {
      const row = Callbacks.unpack(data);
      const i = findAction(row.actions, act);
      if (i >= 0) {
        row.actions.splice(i, 1);
        if (row.actions.length == 0) native.remove(notifyKey(ntype));
        else native.put(notifyKey(ntype), row.pack());
        return;
      }
    }
  }
  abortWith("Callback not found");
});

// ---- runAs ----

class RunAsGrant {
  constructor(public sender: u64, public authorizedSender: u64, public service: u64, public method: u64, public count: u32) {}
}
const runAsGrants = new Array<RunAsGrant>();

function grant(sender: u64, authorized: u64, service: u64, method: u64, delta: i32): void {
  for (let i = 0; i < runAsGrants.length; i++) {
    const g = runAsGrants[i];
    if (g.sender == sender && g.authorizedSender == authorized && g.service == service && g.method == method) {
      g.count = <u32>(<i32>g.count + delta);
      return;
    }
  }
  runAsGrants.push(new RunAsGrant(sender, authorized, service, method, <u32>delta));
}

action("runAs", (c: Call): void => {
  const args = c.args;
  const a = args.struct();
  const act = new Action(a.u64(), a.u64(), a.u64(), a.bytes());
  a.done();
  const allowedReader = args.vector();
  const n = allowedReader.count(4);
  const allowedServices = new Array<u64>();
  const allowedMethods = new Array<u64>();
  const allowed = ObjectWriter.vector();
  for (let i = 0; i < n; i++) {
    const sm = allowedReader.struct();
    const service = sm.u64();
    const method = sm.u64();
    sm.done();
    allowedServices.push(service);
    allowedMethods.push(method);
    allowed.object(packServiceMethod(service, method));
  }
  allowedReader.done();
  const requester = c.sender;
  const status = statusTable().get(EMPTY_KEY);
  if (status !== null && status.enforceAuth) {
    const authService = getAuthOf(act.sender);
    if (requester != authService && requester != (act.sender & ~(<u64>0xff))) {
      let flags: u32 = 0;
      if (requester == act.sender) {
        flags = RUN_AS_REQUESTER_REQ;
      } else {
        for (let i = 0; i < runAsGrants.length; i++) {
          const g = runAsGrants[i];
          if (g.sender != act.sender || g.authorizedSender != requester || g.count == 0) continue;
          if ((g.service == 0 || g.service == act.service) && (g.method == 0 || g.method == act.method)) {
            flags = n == 0 ? RUN_AS_MATCHED_REQ : RUN_AS_MATCHED_EXPANDED_REQ;
            break;
          }
        }
        if (flags == 0) flags = RUN_AS_OTHER_REQ;
      }
      if (!callCheckAuth(authService, flags, requester, act.sender, act.service, act.method, allowed.finish(), [])) abortWith("Not authorized");
    }
  }
  for (let i = 0; i < n; i++) grant(act.sender, act.service, allowedServices[i], allowedMethods[i], 1);
  const result = callAction(act);
  for (let i = 0; i < n; i++) grant(act.sender, act.service, allowedServices[i], allowedMethods[i], -1);
  c.retBytes(result);
});

// ---- getters ----

action("isResMonitoring", (c: Call): void => {
  const row = resMonTable().get(EMPTY_KEY);
  c.retBool(row !== null && row.enabled);
});

action("getTransaction", (c: Call): void => {
  const t = trxData;
  check(t !== null, "No transaction");
  c.ret(t!);
});

action("isTransaction", (c: Call): void => {
  c.retBool(trxData !== null);
});

action("currentBlock", (c: Call): void => {
  c.ret(StatusView.load().currentPacked());
});

action("headBlock", (c: Call): void => {
  const stat = StatusView.load();
  check(stat.hasHead(), "head does not exist yet");
  c.ret(stat.headHeaderPacked());
});

action("headBlockTime", (c: Call): void => {
  const stat = StatusView.load();
  c.retI64(stat.hasHead() ? stat.headTime() : 0);
});

action("headTapos", (c: Call): void => {
  const stat = StatusView.load();
  let index: u8 = 0;
  let suffix: u32 = 0;
  if (stat.hasHead()) {
    index = <u8>(stat.headBlockNum() & 0x7f);
    suffix = currentBlockSummary(stat).suffix(index);
  }
  c.retStruct(ObjectWriter.struct().u8(index).u32(suffix));
});

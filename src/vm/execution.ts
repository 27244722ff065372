/**
 * One service instance inside a transaction (psibase's ExecutionContext) and the
 * native functions it imports from `env` (psibase NativeFunctions.cpp). Messages of
 * failed checks are psibase's, so traces read the same on both implementations.
 */
import { accountName, methodNumber } from '../protocol/names.ts';
import { protocolType } from '../protocol/types.ts';
import type { Action, ActionTrace } from '../protocol/types.ts';
import type { Bytes, KvEntry, KvWriter } from '../state/types.ts';
import { copyCanonicalAction, packCanonicalAction } from './action.ts';
import { BucketSet, canRead, canWrite, describeBucket } from './buckets.ts';
import type { Bucket } from './buckets.ts';
import { NO_RESULT, STACK_USAGE_FOR_CALL } from './constants.ts';
import { DbId, KvMode, dbKey } from './dbs.ts';
import { LimitError, ModuleError, ServiceError } from './errors.ts';
import { GuestMemory } from './memory.ts';
import type { LoadedService } from './host.ts';
import { ServiceInstance } from './instance.ts';
import type { Binding, WasmFunction } from './instance.ts';
import { HOST_MODULE, MEMORY_IMPORT } from './meter.ts';
import type { TransactionContext } from './transaction.ts';
import { wasiImports } from './wasi.ts';

/** CodeRow flags (psibase nativeTables.hpp). */
export const CodeFlags = {
  isPrivileged: 1n << 0n,
  isVerify: 1n << 1n,
  isReplacement: 1n << 32n,
} as const;

/** What the chain knows about a service: its code and its CodeRow flags. */
export interface ServiceCode {
  code: Uint8Array;
  /** sha256 of `code` when the caller already has it (CodeRow::codeHash). */
  codeHash?: Uint8Array;
  flags?: bigint;
  /** A node-local service (from nativeSubjective), allowed the node-local databases. */
  isLocal?: boolean;
}

/** The action a service is handling (psibase's ActionContext). */
export interface ActionContext {
  action: Action;
  trace: ActionTrace;
  /** The action's canonical fracpack, once known (getCurrentAction's result). */
  packed?: Uint8Array;
  /** Subjective checkouts this action opened and has not committed or aborted. */
  checkouts: number[];
}

const WASI_ERRNO_INVAL = 28;
const WASI_ERRNO_NOSYS = 52;
const WASI_ERRNO_BADF = 8;
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();
const KV_NOTIFY = methodNumber('kvNotify');

/** psibase's ExecutionContext caller flags, as execCalledAction receives them. */
export const CallerFlags = {
  /** The caller called as another sender (privileged). */
  sudo: 1,
  /** The caller is a node-local service. */
  isLocal: 2,
} as const;

/** An Action in any encoding psibase accepts from `call` (fracpack_validate_strict: no unknown fields). */
function decodeAction(data: Uint8Array): Action {
  try {
    const decoded = protocolType('Action').decodeWithInfo(data);
    if (decoded.hasUnknown) throw new ServiceError('unknown fields');
    return decoded.value as Action;
  } catch (e) {
    throw new ServiceError('call: invalid data format', { cause: e });
  }
}

/**
 * Small byte writers for the arrays host calls build. Those arrays are small and
 * short-lived; a DataView over one would make V8 move it out of its heap first.
 */
function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

const scratch64 = new DataView(new ArrayBuffer(8));

function putU64(out: Uint8Array, at: number, v: bigint): void {
  scratch64.setBigUint64(0, v, true);
  for (let i = 0; i < 8; i++) out[at + i] = scratch64.getUint8(i);
}

function concat(a: Bytes, b: Bytes): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class ExecutionContext {
  readonly flags: bigint;
  readonly isLocal: boolean;
  readonly isReplacement: boolean;
  /** The instance's meter (see meter.ts): holds the transaction's budget while it runs. */
  readonly budget: WebAssembly.Global;
  private readonly wasm: ServiceInstance;
  private readonly guest: GuestMemory;
  private readonly buckets: BucketSet;
  private resultKey: Uint8Array = EMPTY;
  private resultValue: Uint8Array = EMPTY;
  private readonly actions: ActionContext[] = [];
  private initialized = false;

  constructor(
    private readonly tx: TransactionContext,
    readonly service: bigint,
    loaded: LoadedService,
    code: ServiceCode,
    flags: bigint,
  ) {
    this.flags = flags;
    this.isLocal = code.isLocal === true;
    this.isReplacement = (flags & CodeFlags.isReplacement) !== 0n;
    this.buckets = new BucketSet(tx.limits.maxHandles);
    this.wasm = tx.takeInstance(loaded) ?? this.instantiate(loaded);
    this.wasm.binding.ec = this;
    this.guest = this.wasm.guest;
    this.budget = this.wasm.budget;
  }

  private instantiate(loaded: LoadedService): ServiceInstance {
    const memory = loaded.memory && this.tx.takeMemory(loaded.memory);
    const guest = new GuestMemory(memory);
    const binding: Binding = { ec: undefined };
    const imports = ExecutionContext.hostImports(binding, guest);
    if (memory) imports[HOST_MODULE] = { [MEMORY_IMPORT]: memory };
    try {
      return new ServiceInstance(loaded, binding, memory, guest, imports);
    } catch (e) {
      if (memory) this.tx.returnMemory(memory, loaded.memory!.maximum);
      if (e instanceof WebAssembly.LinkError) throw new ModuleError(`service ${this.name} cannot be linked: ${e.message}`, { cause: e });
      throw e;
    }
  }

  get name(): string {
    return accountName(this.service);
  }

  get privileged(): boolean {
    return (this.flags & CodeFlags.isPrivileged) !== 0n;
  }

  /** Gives the instance back to the host; this context must never run again. */
  release(): void {
    this.wasm.binding.ec = undefined;
    this.tx.returnInstance(this.wasm);
  }

  private current(): ActionContext {
    const ac = this.actions[this.actions.length - 1];
    if (ac === undefined) throw new ServiceError('no action is executing');
    return ac;
  }

  private export(name: string): WasmFunction {
    const f = this.wasm.instance.exports[name];
    if (typeof f !== 'function') throw new ModuleError(`service ${this.name} does not export ${name}`);
    return f as WasmFunction;
  }

  /**
   * Runs `called(service, sender)` for the action, after `start` on first use. Native
   * code enters some services through another export taking no arguments (psibase's
   * ExecutionContext::exec: `processTransaction` on transact); `entry` names it.
   */
  execCalled(ac: ActionContext, entry = 'called'): void {
    this.actions.push(ac);
    const meter = this.tx.enterMeter(this.budget);
    try {
      if (!this.initialized) {
        this.initialized = true;
        // The module's own wasm start function, then the service's `start`, as
        // psibase's ExecutionContextImpl::init does on first entry.
        this.wasm.wasmStart?.();
        this.export('start')(this.service);
      }
      // i64 arguments wrap to signed as the JS API converts them (ToBigInt64).
      const called = this.wasm.called;
      if (entry !== 'called') this.export(entry)();
      else if (called) called(ac.action.service, ac.action.sender);
      else this.export('called');
    } finally {
      this.tx.leaveMeter(this.budget, meter);
      const checkouts = ac.checkouts;
      while (checkouts.length > 0) this.tx.abortSubjective(checkouts.pop()!);
      this.actions.pop();
    }
  }

  // psibase's check(): a failed host-side check fails the action with this message.
  private fail(message: string): never {
    throw new ServiceError(message);
  }

  /** NativeFunctions::abortMessage. */
  abort(message: string): never {
    throw new ServiceError(`service '${this.name}' aborted with message: ${message}`);
  }

  private clearResult(): number {
    this.resultKey = EMPTY;
    this.resultValue = EMPTY;
    return NO_RESULT;
  }

  private setResult(value: Uint8Array | undefined): number {
    if (value === undefined) return this.clearResult();
    this.resultKey = EMPTY;
    this.resultValue = value;
    return value.length;
  }

  private setEntry(entry: KvEntry | undefined, trim: number): number {
    if (entry === undefined) return this.clearResult();
    this.resultKey = entry.key.subarray(trim);
    this.resultValue = entry.value;
    return entry.value.length;
  }

  writeConsole(bytes: Uint8Array): void {
    const inner = this.current().trace.innerTraces;
    const last = inner[inner.length - 1]?.inner;
    const text = decoder.decode(bytes);
    if (last !== undefined && 'ConsoleTrace' in last) last.ConsoleTrace.console += text;
    else inner.push({ inner: { ConsoleTrace: { console: text } } });
  }

  clockTimeGet(id: number, timePtr: number): number {
    if (!this.tx.dbMode.isSubjective) this.fail('clockGetTime cannot be called in a deterministic context');
    this.clearResult();
    let ns: bigint;
    if (id === 0) ns = this.tx.clock.realtimeNs();
    else if (id === 1) ns = this.tx.clock.monotonicNs();
    else if (id === 2 || id === 3) ns = this.tx.billableNs();
    else return WASI_ERRNO_INVAL;
    this.guest.setU64(timePtr, ns);
    return 0;
  }

  private store(db: number): KvWriter {
    if (db === DbId.subjective && this.tx.subjectiveDepth === 0)
      this.fail('subjective database accessed outside of checkoutSubjective');
    return this.tx.storeFor(db);
  }

  private readable(handle: number): Bucket {
    const b = this.buckets.get(handle);
    if (!canRead(b)) this.abort(`Cannot read from this db handle ${describeBucket(b)}`);
    return b;
  }

  private writable(handle: number): Bucket {
    const b = this.buckets.get(handle);
    if (!canWrite(b)) this.abort(`Cannot write to this db handle ${describeBucket(b)}`);
    return b;
  }

  private checkKeySize(n: number): void {
    if (n > this.tx.limits.maxKeySize) throw new LimitError('keySize', 'key is too big');
  }

  /** getDbWrite in NativeFunctions.cpp: which dbs a handle may write, and whether it is billed. */
  private chargeable(db: number): boolean {
    switch (db) {
      case DbId.subjective:
      case DbId.session:
      case DbId.temporary:
      case DbId.nativeSubjective:
      case DbId.nativeSession:
        return false;
      case DbId.writeOnly:
        return !this.tx.dbMode.isSubjective;
      case DbId.service:
      case DbId.native:
        return true;
      default:
        return this.fail(`service may not write this db (${db}), or must use another intrinsic`);
    }
  }

  private kvOpen(dbRaw: number, prefix: Uint8Array, modeRaw: number): number {
    this.checkKeySize(prefix.length);
    const db = dbRaw >>> 0;
    const mode = modeRaw >>> 0;
    if (mode !== KvMode.read && mode !== KvMode.write && mode !== KvMode.readWrite) this.abort('invalid mode');
    const isRead = mode !== KvMode.write;
    const isWrite = mode !== KvMode.read;
    // Only privileged services open databases; others ask a privileged service
    // (psibase's `db` service enforces the per-service prefixes) and import the handle.
    if (!this.privileged) this.abort('service may not open databases');
    const m = this.tx.dbMode;
    switch (db) {
      case DbId.native:
      case DbId.service:
        if (!m.isSubjective && !m.isSync) this.fail('database access disabled during proof verification');
        if (isWrite && m.isSubjective) this.fail('database cannot be written in subjective context');
        if (isWrite && !m.isSync) this.fail('database cannot be written in async context');
        break;
      case DbId.blockLog:
      case DbId.writeOnly:
        if (isRead && !m.isSubjective) this.fail('subjective databases cannot be read in a deterministic context');
        if (isWrite && !m.isSync) this.fail('database cannot be written in async context');
        break;
      case DbId.nativeSubjective:
      case DbId.nativeSession:
      case DbId.subjective:
      case DbId.session:
      case DbId.temporary:
        if (!m.isSubjective) this.fail('subjective databases cannot be accessed in a deterministic context');
        if (!this.isLocal) this.fail('service may not open this db');
        break;
      default:
        this.fail('service may not read this db, or must use another intrinsic');
    }
    return this.buckets.open({ db, prefix, mode: mode as KvMode });
  }

  private kvOpenAt(handle: number, prefix: Uint8Array, modeRaw: number): number {
    const b = this.buckets.get(handle);
    const full = concat(b.prefix, prefix);
    this.checkKeySize(full.length);
    const mode = modeRaw >>> 0;
    if ((b.mode & mode) !== mode) this.fail('Cannot increase permissions');
    return this.buckets.open({ db: b.db, prefix: full, mode: mode as KvMode });
  }

  /**
   * The key as the store holds it (dbKey of the bucket's prefix and the key): the db
   * byte, the prefix, then the `n` guest bytes at offset `p` (checked by `span`), built
   * in one array. Its subarray from 1 is the key within the database.
   */
  private storedKey(b: Bucket, p: number, n: number): Uint8Array {
    const prefix = b.prefix;
    const at = 1 + prefix.length;
    const out = new Uint8Array(at + n);
    out[0] = b.db;
    out.set(prefix, 1);
    const u8 = this.guest.u8;
    for (let i = 0; i < n; i++) out[at + i] = u8[p + i]!;
    return out;
  }

  /** kvPut of the key at guest offset `kp` (`kn` bytes, checked by `span`). */
  private kvPut(handle: number, kp: number, kn: number, value: Uint8Array): void {
    this.clearResult();
    const b = this.writable(handle);
    const stored = this.storedKey(b, kp, kn);
    const fullLength = stored.length - 1;
    this.checkKeySize(fullLength);
    if (value.length > this.tx.limits.maxValueSize) throw new LimitError('valueSize', 'value is too big');
    const store = this.store(b.db);
    const chargeable = this.chargeable(b.db);
    if (chargeable) {
      const refundable = b.db !== DbId.writeOnly;
      const existing = refundable ? store.get(stored) : undefined;
      if (b.db === DbId.native) this.tx.onNativeWrite?.(stored.subarray(1), value, existing);
      this.notifyKvWrite(b.db, fullLength, existing?.length ?? -1, value.length);
    }
    store.put(stored, value);
  }

  private kvRemove(handle: number, kp: number, kn: number): void {
    this.clearResult();
    const b = this.writable(handle);
    const stored = this.storedKey(b, kp, kn);
    const store = this.store(b.db);
    if (this.chargeable(b.db) && b.db !== DbId.writeOnly) {
      const existing = store.get(stored);
      if (existing !== undefined) {
        if (b.db === DbId.native) this.tx.onNativeWrite?.(stored.subarray(1), undefined, existing);
        this.notifyKvWrite(b.db, stored.length - 1, existing.length, -1);
      }
    }
    store.remove(stored);
  }

  private lookup(handle: number, kp: number, kn: number, matchKeySize: number | undefined, op: 'get' | 'ge' | 'lt' | 'max'): number {
    const match = matchKeySize === undefined ? 0 : matchKeySize >>> 0;
    if (match > kn) this.fail('matchKeySize is larger than key');
    const b = this.readable(handle);
    const stored = this.storedKey(b, kp, kn);
    const store = this.store(b.db);
    const fixed = 1 + b.prefix.length;
    switch (op) {
      case 'get':
        return this.setResult(store.get(stored));
      case 'ge':
        return this.setEntry(store.greaterEqual(stored, fixed + match), fixed);
      case 'lt':
        return this.setEntry(store.lessThan(stored, fixed + match), fixed);
      case 'max':
        return this.setEntry(store.max(stored), fixed);
    }
  }

  /**
   * notifyKvMut (psibase NativeFunctions.cpp): a billable write calls transact's
   * kvNotify(service, db, keyLen, oldValueLen, newValueLen), -1 standing for "none",
   * without disturbing the handles being passed between services.
   */
  private notifyKvWrite(db: number, keyLen: number, oldLen: number, newLen: number): void {
    const service = this.tx.kvNotifyService;
    if (service === undefined) return;
    // The arguments are a fracpack tuple: u16 fixed size, then the five fixed fields.
    const rawData = new Uint8Array(2 + 24);
    rawData[0] = 24;
    putU64(rawData, 2, this.service);
    putU32(rawData, 10, db);
    putU32(rawData, 14, keyLen);
    putU32(rawData, 18, oldLen >>> 0);
    putU32(rawData, 22, newLen >>> 0);
    const action: Action = { sender: 0n, service, method: KV_NOTIFY, rawData };
    const trace: ActionTrace = { action, rawRetval: EMPTY, innerTraces: [], totalTime: 0n };
    this.current().trace.innerTraces.push({ inner: { ActionTrace: trace } });
    const tx = this.tx;
    const { importedHandles, exportedHandles } = tx;
    const saved = this.deeper();
    try {
      tx.execCalledAction(this.isLocal ? CallerFlags.isLocal : 0, action, trace, 0n);
    } finally {
      tx.importedHandles = importedHandles;
      tx.exportedHandles = exportedHandles;
      tx.remainingStack = saved;
    }
  }

  /** Takes one call's share of psibase's shared stack budget; returns what to restore. */
  private deeper(): number {
    const tx = this.tx;
    const saved = tx.remainingStack;
    if (saved < STACK_USAGE_FOR_CALL) throw new LimitError('callDepth', 'stack overflow');
    tx.remainingStack = saved - STACK_USAGE_FOR_CALL;
    return saved;
  }

  /** NativeFunctions::call. */
  private call(ptr: number, len: number, flagsRaw: bigint): number {
    const tx = this.tx;
    const guest = this.guest;
    const p = guest.span(ptr, len);
    const n = len >>> 0;
    const saved = this.deeper();
    try {
      const canonical = copyCanonicalAction(guest.u8, guest.view, p, n);
      let action: Action;
      let packed: Uint8Array | undefined;
      if (canonical) ({ action, packed } = canonical);
      else action = decodeAction(guest.read(ptr, len));
      const flags = flagsRaw === 0n ? 0n : BigInt.asUintN(64, flagsRaw);
      if (flags === 1n || flags === 2n) {
        if (!tx.dbMode.isSync || tx.dbMode.isSubjective) this.fail('Can only change run mode in a transaction');
      } else if (flags !== 0n) {
        this.abort(`Invalid call flags: ${flags}`);
      }
      let callerFlags = this.isLocal ? CallerFlags.isLocal : 0;
      if (action.sender !== this.service) {
        if (!this.privileged) this.fail('service is not authorized to call as another sender');
        callerFlags |= CallerFlags.sudo;
      }
      const trace: ActionTrace = { action, rawRetval: EMPTY, innerTraces: [], totalTime: 0n };
      this.current().trace.innerTraces.push({ inner: { ActionTrace: trace } });
      tx.execCalledAction(callerFlags, action, trace, flags, packed);
      return this.setResult(trace.rawRetval);
    } finally {
      tx.remainingStack = saved;
    }
  }

  /** exportHandles of the `n` guest bytes at offset `p` (checked by `span`), read in place. */
  private exportHandles(p: number, n: number): void {
    const view = this.guest.view;
    const size = n >= 4 ? view.getUint32(p, true) : -1;
    if (size < 0 || size % 4 !== 0 || size + 4 !== n) this.fail('Expected list of handles');
    const count = size / 4;
    if (count > this.tx.limits.maxHandles) this.fail('Too many handles exported');
    const handles: Bucket[] = [];
    for (let i = 0; i < count; i++) handles.push(this.buckets.get(view.getUint32(p + 4 + i * 4, true)));
    this.tx.exportedHandles = handles;
  }

  private importHandles(): number {
    const handles = this.buckets.add(this.tx.importedHandles);
    this.tx.importedHandles = [];
    const out = new Uint8Array(4 + handles.length * 4);
    putU32(out, 0, handles.length * 4);
    for (let i = 0; i < handles.length; i++) putU32(out, 4 + i * 4, handles[i]!);
    return this.setResult(out);
  }

  private requireLocalPrivileged(what: string): void {
    if (!this.privileged || !this.isLocal) this.fail(`Service is not allowed to ${what}`);
  }

  /**
   * The host functions of one instance, which serve the ExecutionContext bound to it
   * (`binding.ec`, set whenever the instance is in use).
   */
  private static hostImports(binding: Binding, mem: GuestMemory): WebAssembly.Imports {
    const b: { ec: ExecutionContext } = binding as { ec: ExecutionContext };
    const env: Record<string, (...args: never[]) => unknown> = {
      getResult: (dest: number, size: number, offset: number): number => {
        const value = b.ec.resultValue;
        const at = mem.span(dest, size);
        const n = size >>> 0;
        const off = offset >>> 0;
        if (off < value.length && n > 0) {
          const end = Math.min(value.length, off + n);
          mem.u8.set(off === 0 && end === value.length ? value : value.subarray(off, end), at);
        }
        return value.length;
      },
      getKey: (dest: number, size: number): number => {
        const key = b.ec.resultKey;
        const at = mem.span(dest, size);
        const n = Math.min(key.length, size >>> 0);
        if (n > 0) mem.u8.set(n === key.length ? key : key.subarray(0, n), at);
        return key.length;
      },
      writeConsole: (ptr: number, len: number) => b.ec.writeConsole(mem.read(ptr, len)),
      abortMessage: (ptr: number, len: number) => b.ec.abort(decoder.decode(mem.bytes(ptr, len))),
      clockTimeGet: (id: number, ptr: number) => b.ec.clockTimeGet(id >>> 0, ptr),
      getRandom: (ptr: number, len: number): void => {
        if (!b.ec.tx.dbMode.isSubjective) b.ec.fail('getRandom cannot be called in a deterministic context');
        b.ec.tx.random(mem.bytes(ptr, len));
      },
      setMaxCpuTime: (ns: bigint): void => {
        if (!b.ec.privileged) b.ec.fail('setMaxCpuTime requires privileges');
        b.ec.clearResult();
        b.ec.tx.setMaxCpuTime(BigInt.asUintN(64, ns));
      },
      getCurrentAction: (): number => {
        const ac = b.ec.current();
        ac.packed ??= packCanonicalAction(ac.action);
        return b.ec.setResult(ac.packed);
      },
      call: (ptr: number, len: number, flags: bigint) => b.ec.call(ptr, len, flags),
      setRetval: (ptr: number, len: number): void => {
        b.ec.current().trace.rawRetval = mem.read(ptr, len);
        b.ec.clearResult();
      },
      kvOpen: (db: number, ptr: number, len: number, mode: number) => b.ec.kvOpen(db, mem.read(ptr, len), mode),
      kvOpenAt: (h: number, ptr: number, len: number, mode: number) => b.ec.kvOpenAt(h, mem.read(ptr, len), mode),
      kvClose: (h: number) => b.ec.buckets.close(h),
      exportHandles: (ptr: number, len: number) => b.ec.exportHandles(mem.span(ptr, len), len >>> 0),
      importHandles: () => b.ec.importHandles(),
      // Keys are checked here, in argument order as before, and copied once, straight
      // into the stored key (ExecutionContext.storedKey).
      kvPut: (h: number, k: number, kl: number, v: number, vl: number) => b.ec.kvPut(h, mem.span(k, kl), kl >>> 0, mem.read(v, vl)),
      kvRemove: (h: number, k: number, kl: number) => b.ec.kvRemove(h, mem.span(k, kl), kl >>> 0),
      kvGet: (h: number, k: number, kl: number) => b.ec.lookup(h, mem.span(k, kl), kl >>> 0, undefined, 'get'),
      kvGreaterEqual: (h: number, k: number, kl: number, m: number) => b.ec.lookup(h, mem.span(k, kl), kl >>> 0, m, 'ge'),
      kvLessThan: (h: number, k: number, kl: number, m: number) => b.ec.lookup(h, mem.span(k, kl), kl >>> 0, m, 'lt'),
      kvMax: (h: number, k: number, kl: number) => b.ec.lookup(h, mem.span(k, kl), kl >>> 0, undefined, 'max'),
      checkoutSubjective: (): void => {
        b.ec.current().checkouts.push(b.ec.tx.checkoutSubjective());
      },
      commitSubjective: (): number => {
        const sp = b.ec.current().checkouts.pop();
        if (sp === undefined) b.ec.fail('commitSubjective requires a checkout by the current action');
        // One thread runs everything here, so no other checkout can conflict: a
        // commit always succeeds (psibase retries only on conflicts).
        b.ec.tx.commitSubjective(sp);
        return 1;
      },
      abortSubjective: (): void => {
        const sp = b.ec.current().checkouts.pop();
        if (sp === undefined) b.ec.fail('abortSubjective requires a checkout by the current action');
        b.ec.tx.abortSubjective(sp);
      },
      // psiweb's hosts have no outgoing sockets or mounted files yet; these answer as
      // psinode does when the host provides none.
      socketOpen: (): number => {
        if (!b.ec.tx.dbMode.isSubjective) b.ec.fail('Sockets are only available during subjective execution');
        b.ec.requireLocalPrivileged('open sockets');
        return -WASI_ERRNO_NOSYS;
      },
      socketSend: (): number => {
        if (!b.ec.tx.dbMode.isSubjective) b.ec.fail('Sockets are only available during subjective execution');
        b.ec.requireLocalPrivileged('write to socket');
        if (!b.ec.tx.dbMode.sockets) b.ec.fail('Sockets disabled during speculative execution');
        return WASI_ERRNO_BADF;
      },
      socketSetFlags: (): number => {
        if (!b.ec.tx.dbMode.isSubjective) b.ec.fail('Sockets are only available during subjective execution');
        b.ec.requireLocalPrivileged('write to socket');
        if (!b.ec.tx.dbMode.sockets) b.ec.fail('Sockets disabled during speculative execution');
        return WASI_ERRNO_BADF;
      },
      readFile: (): number => {
        if (!b.ec.tx.dbMode.isSubjective) b.ec.fail('Files are only available during subjective execution');
        b.ec.requireLocalPrivileged('read files');
        return b.ec.clearResult();
      },
    };
    const wasi = wasiImports({
      memory: () => mem,
      writeConsole: (bytes) => b.ec.writeConsole(bytes),
      abort: (message) => b.ec.abort(message),
      clockTimeGet: (id, ptr) => b.ec.clockTimeGet(id, ptr),
    });
    return { env: env as WebAssembly.ModuleImports, wasi_snapshot_preview1: wasi as WebAssembly.ModuleImports };
  }
}

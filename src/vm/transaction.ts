/**
 * Everything one transaction (or query) shares across the services it runs: their
 * instances, the CPU budget, the call stack, handles passed between services, the run
 * mode and the state (psibase's TransactionContext).
 */
import { CacheMissError, PsiwebError } from '../errors.ts';
import { accountName } from '../protocol/names.ts';
import type { Action, ActionTrace } from '../protocol/types.ts';
import type { KvWriter, Overlay } from '../state/types.ts';
import type { Bucket } from './buckets.ts';
import {
  DEFAULT_CPU_BUDGET,
  MAX_HANDLES,
  MAX_KEY_SIZE,
  MAX_STACK_BYTES,
  MAX_VALUE_SIZE,
  METER_UNITS_PER_NS,
} from './constants.ts';
import { isChainDb } from './dbs.ts';
import { LimitError, ModuleError, ServiceError } from './errors.ts';
import { CallerFlags, CodeFlags, ExecutionContext } from './execution.ts';
import type { ActionContext, ServiceCode } from './execution.ts';
import type { LoadedService, ServiceHost } from './host.ts';
import type { ServiceInstance } from './instance.ts';
import type { MemoryLimits } from './meter.ts';

const NO_BYTES = new Uint8Array(0);

/** psibase's run modes (ExecutionContext.hpp DbMode). */
export type RunMode = 'transaction' | 'speculative' | 'verify' | 'callback' | 'rpc';

export interface DbMode {
  isSubjective: boolean;
  isSync: boolean;
  sockets: boolean;
  verifyOnly: boolean;
}

export const DB_MODES: Record<RunMode, DbMode> = {
  transaction: { isSubjective: false, isSync: true, sockets: true, verifyOnly: false },
  speculative: { isSubjective: false, isSync: true, sockets: false, verifyOnly: false },
  verify: { isSubjective: false, isSync: false, sockets: false, verifyOnly: true },
  callback: { isSubjective: true, isSync: true, sockets: true, verifyOnly: false },
  rpc: { isSubjective: true, isSync: false, sockets: true, verifyOnly: false },
};

export interface Limits {
  /** Meter units for the whole transaction (see meter.ts). */
  cpuBudget: bigint;
  /** VMOptions::max_stack_bytes; each nested call takes STACK_USAGE_FOR_CALL of it. */
  maxStackBytes: number;
  maxHandles: number;
  maxKeySize: number;
  maxValueSize: number;
  /** WasmConfigRow::numExecutionMemories: distinct services one transaction may run. */
  maxServices: number;
}

export const DEFAULT_LIMITS: Limits = {
  cpuBudget: DEFAULT_CPU_BUDGET,
  maxStackBytes: MAX_STACK_BYTES,
  maxHandles: MAX_HANDLES,
  maxKeySize: MAX_KEY_SIZE,
  maxValueSize: MAX_VALUE_SIZE,
  maxServices: 32,
};

export interface Clock {
  realtimeNs(): bigint;
  monotonicNs(): bigint;
}

const systemClock: Clock = {
  realtimeNs: () => BigInt(Date.now()) * 1_000_000n,
  monotonicNs: () => BigInt(Math.round(performance.now() * 1e6)),
};

export interface TransactionOptions {
  /** Chain databases (service, writeOnly, native, blockLog): a DbId byte prefixes each key. */
  state: Overlay;
  /** Node-local databases (subjective, session, temporary, …), never part of consensus. */
  subjective?: Overlay;
  /** A service's code and flags, or undefined when the account has none. */
  codeFor: (service: bigint) => ServiceCode | undefined;
  mode?: RunMode;
  limits?: Partial<Limits>;
  /**
   * Whether this node is producing the block. Producers record the results of
   * subjective calls (CallFlags runModeRpc/runModeCallback) and honour setMaxCpuTime;
   * validators replay the recorded results instead.
   */
  producing?: boolean;
  /** On replay: SignedTransaction::subjectiveData, the producer's recorded results. */
  subjectiveData?: readonly Uint8Array[];
  /**
   * psibase tells the transact service of every billable write by calling its
   * `kvNotify(service, db, keyLen, oldValueLen, newValueLen)`; set this to transact's
   * account to do the same. Unset: no notification (a chain without resource billing).
   */
  kvNotifyService?: bigint;
  /**
   * Checks a write to the native db before it lands (psibase's verifyWriteConstrained:
   * the row formats of the code, config and status tables are the chain's business).
   * Throw a ServiceError to refuse it.
   */
  onNativeWrite?: (key: Uint8Array, value: Uint8Array | undefined, existing: Uint8Array | undefined) => void;
  clock?: Clock;
  random?: (out: Uint8Array) => void;
}

/** Errors that fail an action; anything else is a host bug or a CacheMissError. */
export type VmError = ServiceError | LimitError | ModuleError;

/** Who made a call, as execCalledAction also accepts it besides CallerFlags bits. */
export interface CallerInfo {
  sudo: boolean;
  isLocal: boolean;
}

function defaultRandom(out: Uint8Array): void {
  for (let i = 0; i < out.length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(out.length, i + 65536)) as Uint8Array<ArrayBuffer>);
}

/**
 * Turns what a failed action threw into a VmError; rethrows misses and host bugs.
 * `budgetSpent`: the meter's trap (see meter.ts) is a wasm trap taken with the budget
 * below zero.
 */
export function toVmError(e: unknown, budgetSpent = false): VmError {
  if (e instanceof ServiceError || e instanceof LimitError || e instanceof ModuleError) return e;
  if (e instanceof CacheMissError) throw e;
  if (e instanceof WebAssembly.RuntimeError) {
    if (budgetSpent) return new LimitError('cpu', 'CPU budget exhausted');
    return new ServiceError(`wasm trap: ${e.message}`, { cause: e });
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) return new LimitError('stack', 'wasm stack overflow');
  if (e instanceof PsiwebError && e.name === 'DecodeError') return new ServiceError(e.message, { cause: e });
  throw e;
}

export class TransactionContext {
  readonly limits: Limits;
  /** The meter of the instance running now, which holds the budget; undefined between actions. */
  private meter: WebAssembly.Global | undefined;
  /** The budget while no service runs: a number, or the global `budget` once asked for. */
  private idleBudget: bigint;
  private idleGlobal: WebAssembly.Global | undefined;
  dbMode: DbMode;
  remainingStack: number;
  exportedHandles: Bucket[] = [];
  importedHandles: Bucket[] = [];
  readonly clock: Clock;
  readonly random: (out: Uint8Array) => void;
  readonly onNativeWrite: TransactionOptions['onNativeWrite'];
  readonly kvNotifyService: bigint | undefined;
  /** Results of subjective calls recorded while producing (SignedTransaction::subjectiveData). */
  readonly subjectiveDataOut: Uint8Array[] = [];
  private nextSubjectiveRead = 0;
  private contexts = new Map<bigint, ExecutionContext>();
  private altContexts = new Map<bigint, ExecutionContext>();
  private altMode = false;
  private closed = false;
  private cpuLimit: bigint;
  private readonly subjectiveCheckouts: number[] = [];

  constructor(
    private readonly host: ServiceHost,
    private readonly options: TransactionOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.cpuLimit = this.limits.cpuBudget;
    this.idleBudget = this.cpuLimit;
    this.dbMode = { ...DB_MODES[options.mode ?? 'transaction'] };
    this.remainingStack = this.limits.maxStackBytes;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? defaultRandom;
    this.onNativeWrite = options.onNativeWrite;
    this.kvNotifyService = options.kvNotifyService;
  }

  /** Meter units spent so far. */
  get cpuUsed(): bigint {
    return this.cpuLimit - this.budgetLeft;
  }

  /**
   * The remaining budget while no service runs, as a wasm global (made on first use:
   * creating one costs more than a small action). A running instance holds the budget
   * in its own meter instead (enterMeter); `cpuUsed` is always current.
   */
  get budget(): WebAssembly.Global {
    this.idleGlobal ??= new WebAssembly.Global({ value: 'i64', mutable: true }, this.idleBudget);
    return this.idleGlobal;
  }

  private get idle(): bigint {
    return this.idleGlobal ? (this.idleGlobal.value as bigint) : this.idleBudget;
  }

  private set idle(units: bigint) {
    if (this.idleGlobal) this.idleGlobal.value = units;
    else this.idleBudget = units;
  }

  private get budgetLeft(): bigint {
    return this.meter ? (this.meter.value as bigint) : this.idle;
  }

  private set budgetLeft(units: bigint) {
    if (this.meter) this.meter.value = units;
    else this.idle = units;
  }

  /** Hands the budget to an instance about to run; returns what to pass to leaveMeter. */
  enterMeter(meter: WebAssembly.Global): WebAssembly.Global | undefined {
    const outer = this.meter;
    meter.value = outer ? outer.value : this.idle;
    this.meter = meter;
    return outer;
  }

  /** Takes what is left of the budget back from an instance that stopped running. */
  leaveMeter(meter: WebAssembly.Global, outer: WebAssembly.Global | undefined): void {
    if (outer) outer.value = meter.value;
    else this.idle = meter.value as bigint;
    this.meter = outer;
  }

  /**
   * Ends the transaction context: its instances' memories go back to the host for
   * later transactions. Nothing may run in it afterwards.
   */
  close(): void {
    if (this.closed) return;
    if (this.meter !== undefined) throw new PsiwebError('a transaction context cannot close while an action runs');
    this.closed = true;
    this.dropContexts(this.contexts);
    this.dropContexts(this.altContexts);
  }

  /** Forgets instances that are not running (psibase clears contexts the same way). */
  private dropContexts(contexts: Map<bigint, ExecutionContext>): void {
    for (const ec of contexts.values()) ec.release();
    contexts.clear();
  }

  // The host's pools, for this transaction's ExecutionContexts.

  takeInstance(loaded: LoadedService): ServiceInstance | undefined {
    return this.host.takeInstance(loaded);
  }

  returnInstance(instance: ServiceInstance): void {
    this.host.returnInstance(instance);
  }

  takeMemory(limits: MemoryLimits): WebAssembly.Memory {
    return this.host.takeMemory(limits);
  }

  returnMemory(memory: WebAssembly.Memory, maximum: number): void {
    this.host.returnMemory(memory, maximum);
  }

  /**
   * Runs a top-level action and returns its trace; a failed action has `error` set.
   * `entry` is the export to enter the service through (see ExecutionContext.execCalled).
   */
  runAction(action: Action, entry = 'called'): { trace: ActionTrace; error?: VmError } {
    if (this.closed) throw new PsiwebError('transaction context is closed');
    const trace: ActionTrace = { action, rawRetval: NO_BYTES, innerTraces: [], totalTime: 0n };
    this.remainingStack = this.limits.maxStackBytes;
    try {
      this.execAction(0, action, trace, entry, undefined, true);
      return { trace };
    } catch (e) {
      // The instances saw their action fail part-way, as psibase's do when the
      // transaction aborts; later actions get fresh ones.
      this.dropContexts(this.contexts);
      this.dropContexts(this.altContexts);
      this.exportedHandles = [];
      this.importedHandles = [];
      return { trace, error: toVmError(e) };
    }
  }

  /**
   * TransactionContext::execCalledAction with call flags (psibase TransactionContext.cpp).
   * `caller` is CallerFlags bits; `packed` is the action's canonical fracpack if known.
   */
  execCalledAction(caller: number | CallerInfo, action: Action, trace: ActionTrace, flags: bigint, packed?: Uint8Array): void {
    const callerFlags =
      typeof caller === 'number' ? caller : (caller.sudo ? CallerFlags.sudo : 0) | (caller.isLocal ? CallerFlags.isLocal : 0);
    if (flags === 0n) {
      this.execAction(callerFlags, action, trace, 'called', packed, false);
      return;
    }
    const sudoCaller = callerFlags | CallerFlags.sudo;
    this.exportedHandles = [];
    if (this.options.producing ?? true) {
      this.inAltMode(flags, () => this.execAction(sudoCaller, action, trace, 'called', packed, true));
      this.subjectiveDataOut.push(trace.rawRetval);
    } else {
      if (flags === 2n) {
        try {
          this.inAltMode(flags, () => this.execAction(sudoCaller, action, trace, 'called', packed, true));
        } catch (e) {
          // Callbacks' failures are the producer's business; on replay they are ignored.
          toVmError(e);
          this.dropContexts(this.altContexts);
        }
      }
      const recorded = this.options.subjectiveData?.[this.nextSubjectiveRead++];
      if (recorded === undefined) throw new ServiceError('missing subjective data');
      trace.rawRetval = recorded;
    }
    this.importedHandles = [];
  }

  private inAltMode(flags: bigint, f: () => void): void {
    const saved = this.dbMode;
    this.altMode = true;
    this.dbMode = { ...saved, isSubjective: true, isSync: flags === 2n };
    try {
      f();
    } finally {
      this.altMode = false;
      this.dbMode = saved;
    }
  }

  /**
   * Runs one action. Only where a failure is caught and execution goes on (the top
   * level, and a callback on replay) does it need its own savepoint: psibase keeps
   * none per action, and a failed nested call fails its caller too, whose rollback
   * undoes both.
   */
  private execAction(
    callerFlags: number,
    action: Action,
    trace: ActionTrace,
    entry: string,
    packed: Uint8Array | undefined,
    boundary: boolean,
  ): void {
    const state = this.options.state;
    const savepoint = boundary ? state.savepoint() : -1;
    const started = performance.now();
    const ac: ActionContext = { action, trace, packed, checkouts: [] };
    try {
      const ec = this.executionContext(action.service);
      // ExecutionContext::execCalled: handles exported by the caller become the
      // callee's imports, and the callee's exports go back to the caller on return.
      this.transferControl();
      try {
        if ((callerFlags & (CallerFlags.sudo | CallerFlags.isLocal)) === CallerFlags.sudo && ec.isLocal && !ec.isReplacement)
          throw new ServiceError('on-chain service cannot sudo when calling a node-local service');
        ec.execCalled(ac, entry);
      } finally {
        this.transferControl();
      }
      if (boundary) state.release(savepoint);
    } catch (e) {
      if (boundary) state.rollback(savepoint);
      const error = toVmError(e, this.budgetLeft < 0n);
      trace.error = error.message;
      throw error;
    } finally {
      trace.totalTime = BigInt(Math.round((performance.now() - started) * 1e6));
    }
  }

  private transferControl(): void {
    this.importedHandles = this.exportedHandles;
    this.exportedHandles = [];
  }

  private executionContext(service: bigint): ExecutionContext {
    const contexts = this.altMode ? this.altContexts : this.contexts;
    const existing = contexts.get(service);
    if (existing) return existing;
    if (this.contexts.size + this.altContexts.size >= this.limits.maxServices)
      throw new LimitError('memory', 'exceeded maximum number of running services');
    const code = this.options.codeFor(service);
    if (code === undefined) throw new ServiceError(`unknown service account: ${accountName(service)}`);
    let flags = code.flags ?? 0n;
    if (this.dbMode.verifyOnly) {
      if ((flags & CodeFlags.isVerify) === 0n)
        throw new ServiceError(`service account ${accountName(service)} cannot be used in verify mode`);
      flags &= CodeFlags.isVerify;
    }
    const ec = new ExecutionContext(this, service, this.host.load(code.code, code.codeHash), code, flags);
    contexts.set(service, ec);
    return ec;
  }

  /** The CPU budget is spent. */
  exhausted(): never {
    throw new LimitError('cpu', 'CPU budget exhausted');
  }

  /**
   * setMaxCpuTime: a limit counted from the start of the transaction. As in psibase
   * it binds only the producer, which decides what enters a block.
   */
  setMaxCpuTime(ns: bigint): void {
    if (!(this.options.producing ?? true)) return;
    const units = BigInt(Math.floor(Number(ns) * METER_UNITS_PER_NS));
    const used = this.cpuUsed;
    this.cpuLimit = units;
    this.budgetLeft = units - used;
  }

  billableNs(): bigint {
    return BigInt(Math.floor(Number(this.cpuUsed) / METER_UNITS_PER_NS));
  }

  storeFor(db: number): KvWriter {
    if (isChainDb(db)) return this.options.state;
    const store = this.options.subjective;
    if (store === undefined) throw new ServiceError('node-local databases are not available to this context');
    return store;
  }

  get subjectiveDepth(): number {
    return this.subjectiveCheckouts.length;
  }

  checkoutSubjective(): number {
    const sp = this.options.subjective?.savepoint() ?? this.subjectiveCheckouts.length;
    this.subjectiveCheckouts.push(sp);
    return sp;
  }

  commitSubjective(sp: number): void {
    this.closeCheckout(sp);
    this.options.subjective?.release(sp);
  }

  abortSubjective(sp: number): void {
    this.closeCheckout(sp);
    this.options.subjective?.rollback(sp);
  }

  private closeCheckout(sp: number): void {
    const i = this.subjectiveCheckouts.lastIndexOf(sp);
    if (i >= 0) this.subjectiveCheckouts.length = i;
  }
}

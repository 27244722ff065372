/**
 * The service host: loads service code once per code hash (validated, metered and
 * memory-capped, then compiled) and opens transaction contexts that run actions
 * against the state. This is the chain executor's entry point into src/vm.
 *
 * It also keeps what closed transactions (TransactionContext.close) leave behind: idle
 * instances, reset to a fresh instance's state when the next transaction takes one,
 * and memories of instances that cannot be reused. A transaction that is never closed
 * simply leaves its instances to the garbage collector.
 *
 * That pool has a budget of pages and keeps only what a later transaction can take:
 * a memory is kept only at a size some module starts with. One that grew (a query with
 * a large request grows its service's memory) can never serve a fresh instance, since
 * wasm memory cannot shrink and a service sees its memory's size (memory.size, the
 * result of memory.grow); it is left to the garbage collector. When something new
 * does not fit, the least recently returned entries make room, so whatever ran
 * before, what runs now gets pooled.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../state/bytes.ts';
import type { Action, ActionTrace } from '../protocol/types.ts';
import { IMPORTS } from './abi.ts';
import { MAX_POOLED_INSTANCES, MAX_POOLED_PAGES, MAX_POOL_PAGES, WASM_PAGE_BYTES } from './constants.ts';
import { LimitError, ModuleError } from './errors.ts';
import type { ServiceInstance } from './instance.ts';
import { instrument } from './meter.ts';
import type { MemoryLimits, ResetInfo } from './meter.ts';
import { TransactionContext } from './transaction.ts';
import type { TransactionOptions, VmError } from './transaction.ts';

export interface ServiceHostInit {
  /** Compiled modules kept (least recently used are dropped first). */
  cacheSize?: number;
  /** The pool's budget in 64 KiB pages (MAX_POOL_PAGES). */
  maxPoolPages?: number;
  /** The largest memory the pool keeps, in pages (MAX_POOLED_PAGES). */
  maxPooledPages?: number;
  /** Idle instances kept over all services (MAX_POOLED_INSTANCES). */
  maxPooledInstances?: number;
}

/** What the pool holds now and how often it served (counts since the host was made). */
export interface PoolStats {
  idleInstances: number;
  spareMemories: number;
  /** Bytes of memory held by idle instances and spare memories. */
  bytes: number;
  /** The most `bytes` may ever be. */
  budgetBytes: number;
  /** Transactions' services that got an idle instance, and those that had to instantiate. */
  instancesReused: number;
  instancesCreated: number;
  /** New instances' memories taken from the pool, and those allocated. */
  memoriesReused: number;
  memoriesCreated: number;
  /** Returned memories left to the garbage collector: grown, or larger than the pool keeps. */
  memoriesDropped: number;
  /** Pooled entries dropped to make room for newer ones. */
  evicted: number;
}

/** A pool entry: its size and the list (a module's idle instances, or spare memories of one size) it sits in. */
interface Pooled {
  pages: number;
  list: unknown[];
  instance: boolean;
}

export interface ActionResult {
  trace: ActionTrace;
  /** The action's return value (setRetval). */
  retval: Uint8Array;
  /** Why the action failed; its writes were rolled back. */
  error?: VmError;
  /** Meter units the action spent. */
  cpuUsed: bigint;
}

/** Service code ready to instantiate: the compiled, instrumented module and the memory it imports. */
export interface LoadedService {
  module: WebAssembly.Module;
  memory: MemoryLimits | undefined;
  /** How to make a used instance fresh again, if that is possible (meter.ts). */
  reset: ResetInfo | undefined;
  /** Instances closed transactions left, waiting for the next one. */
  idle: ServiceInstance[];
  /** The host's cache key (the code hash). */
  key: string;
}

export class ServiceHost {
  private readonly cacheSize: number;
  private readonly modules = new Map<string, LoadedService | ModuleError | LimitError>();
  private readonly hashes = new WeakMap<Uint8Array, string>();
  /** Cache keys of code hashes callers passed. */
  private readonly hashKeys = new WeakMap<Uint8Array, string>();
  private readonly maxPoolPages: number;
  private readonly maxPooledPages: number;
  private readonly maxPooledInstances: number;
  /** Memories of closed transactions by "pages/maximum", zeroed again before reuse. */
  private readonly memories = new Map<string, WebAssembly.Memory[]>();
  /** The "initial/maximum" sizes modules asked takeMemory for: the only memories worth keeping. */
  private readonly wanted = new Set<string>();
  /** Idle instances and spare memories, least recently returned first. */
  private readonly pooled = new Map<ServiceInstance | WebAssembly.Memory, Pooled>();
  private idleInstances = 0;
  /** Pages of memory held by idle instances and pooled memories. */
  private pooledPages = 0;
  private readonly counts = { instancesReused: 0, instancesCreated: 0, memoriesReused: 0, memoriesCreated: 0, memoriesDropped: 0, evicted: 0 };

  constructor(init: ServiceHostInit = {}) {
    this.cacheSize = init.cacheSize ?? 256;
    this.maxPoolPages = init.maxPoolPages ?? MAX_POOL_PAGES;
    this.maxPooledPages = Math.min(init.maxPooledPages ?? MAX_POOLED_PAGES, this.maxPoolPages);
    this.maxPooledInstances = init.maxPooledInstances ?? MAX_POOLED_INSTANCES;
  }

  /** The pool of idle instances and spare memories, and how well it has served. */
  get poolStats(): PoolStats {
    return {
      idleInstances: this.idleInstances,
      spareMemories: this.pooled.size - this.idleInstances,
      bytes: this.pooledPages * WASM_PAGE_BYTES,
      budgetBytes: this.maxPoolPages * WASM_PAGE_BYTES,
      ...this.counts,
    };
  }

  /**
   * The compiled, instrumented module for `code`. Results, including refusals, are
   * cached by sha256 of the code (or the given codeHash, as psibase caches by
   * CodeRow::codeHash).
   */
  module(code: Uint8Array, codeHash?: Uint8Array): WebAssembly.Module {
    return this.load(code, codeHash).module;
  }

  /** As `module`, with what an instance of it needs besides the host functions. */
  load(code: Uint8Array, codeHash?: Uint8Array): LoadedService {
    // Both maps go by identity: callers hand the same arrays again and again (the chain
    // keeps one ServiceCode per service), and building the hex key each time is not free.
    let key = codeHash ? this.hashKeys.get(codeHash) : this.hashes.get(code);
    if (key === undefined) {
      key = toHex(codeHash ?? sha256(code));
      if (codeHash) this.hashKeys.set(codeHash, key);
      else this.hashes.set(code, key);
    }
    let entry = this.modules.get(key);
    if (entry === undefined) {
      entry = load(code, key);
      if (this.modules.size >= this.cacheSize) {
        const oldest = this.modules.keys().next().value as string;
        const evicted = this.modules.get(oldest);
        if (evicted && !(evicted instanceof Error)) for (const instance of evicted.idle) this.unpool(instance);
        this.modules.delete(oldest);
      }
    } else {
      this.modules.delete(key);
    }
    this.modules.set(key, entry);
    if (entry instanceof ModuleError || entry instanceof LimitError) throw entry;
    return entry;
  }

  /** An idle instance of `loaded`, reset to the state of a fresh one; undefined if there is none. */
  takeInstance(loaded: LoadedService): ServiceInstance | undefined {
    const instance = loaded.idle.pop();
    if (instance === undefined) {
      this.counts.instancesCreated++;
      return undefined;
    }
    this.counts.instancesReused++;
    this.unpool(instance);
    instance.reset();
    return instance;
  }

  /** Takes back an instance whose transaction is closed; it is reused, or its memory is. */
  returnInstance(instance: ServiceInstance): void {
    if (
      instance.reusable &&
      this.modules.get(instance.loaded.key) === instance.loaded &&
      this.admit(instance, pagesOf(instance.memory), instance.loaded.idle, true)
    ) {
      instance.loaded.idle.push(instance);
    } else if (instance.memory) {
      this.returnMemory(instance.memory, instance.loaded.memory!.maximum);
    }
  }

  /**
   * Makes room for an entry of `pages` (dropping the least recently returned ones) and
   * counts it in; false if it is larger than the pool keeps.
   */
  private admit(item: ServiceInstance | WebAssembly.Memory, pages: number, list: unknown[], instance: boolean): boolean {
    if (pages > this.maxPooledPages) return false;
    // (No closure for the test: this runs for every instance a transaction gives back.)
    if (!this.fits(pages, instance)) {
      for (const [old, entry] of this.pooled) {
        if (this.fits(pages, instance)) break;
        // Past the instance cap only instances need to go; past the page budget anything does.
        if (this.pooledPages + pages > this.maxPoolPages || entry.instance) this.evict(old, entry);
      }
      if (!this.fits(pages, instance)) return false;
    }
    this.pooled.set(item, { pages, list, instance });
    this.pooledPages += pages;
    if (instance) this.idleInstances++;
    return true;
  }

  private fits(pages: number, instance: boolean): boolean {
    return this.pooledPages + pages <= this.maxPoolPages && (!instance || this.idleInstances < this.maxPooledInstances);
  }

  private evict(item: ServiceInstance | WebAssembly.Memory, entry: Pooled): void {
    const i = entry.list.indexOf(item);
    if (i >= 0) entry.list.splice(i, 1);
    this.unpool(item);
    this.counts.evicted++;
  }

  /** Counts out a pooled entry that was taken or dropped. */
  private unpool(item: ServiceInstance | WebAssembly.Memory): void {
    const entry = this.pooled.get(item);
    if (entry === undefined) return;
    this.pooled.delete(item);
    this.pooledPages -= entry.pages;
    if (entry.instance) this.idleInstances--;
  }

  /**
   * A memory for a new instance: fresh from V8, or a closed transaction's returned
   * with every byte zeroed, which is what a fresh one holds (psibase likewise reuses
   * its executionMemories across transactions). Allocating one costs V8 more than
   * instantiating the module.
   */
  takeMemory(limits: MemoryLimits): WebAssembly.Memory {
    const key = `${limits.initial}/${limits.maximum}`;
    this.wanted.add(key);
    const pooled = this.memories.get(key)?.pop();
    if (pooled === undefined) {
      this.counts.memoriesCreated++;
      return new WebAssembly.Memory(limits);
    }
    this.counts.memoriesReused++;
    this.unpool(pooled);
    new Uint8Array(pooled.buffer).fill(0);
    return pooled;
  }

  /**
   * Takes back the memory of an instance that will never run again. Only a memory of a
   * size some module starts with is kept: nothing asks for any other size.
   */
  returnMemory(memory: WebAssembly.Memory, maximum: number): void {
    const pages = pagesOf(memory);
    const key = `${pages}/${maximum}`;
    const list = this.memories.get(key) ?? [];
    if (!this.wanted.has(key) || !this.admit(memory, pages, list, false)) {
      this.counts.memoriesDropped++;
      return;
    }
    this.memories.set(key, list);
    list.push(memory);
  }

  /** Opens a transaction (or query) context; run its actions with `runAction`. */
  transaction(options: TransactionOptions): TransactionContext {
    return new TransactionContext(this, options);
  }

  /** Runs one action in a fresh transaction context. */
  runAction(options: TransactionOptions & { action: Action }): ActionResult {
    const tx = this.transaction(options);
    try {
      const { trace, error } = tx.runAction(options.action);
      const result: ActionResult = { trace, retval: trace.rawRetval, cpuUsed: tx.cpuUsed };
      if (error) result.error = error;
      return result;
    } finally {
      tx.close();
    }
  }
}

function load(code: Uint8Array, key: string): LoadedService | ModuleError | LimitError {
  try {
    let original: WebAssembly.Module;
    try {
      original = new WebAssembly.Module(code as Uint8Array<ArrayBuffer>);
    } catch (e) {
      return new ModuleError(`service code is not valid wasm: ${(e as Error).message}`, { cause: e });
    }
    for (const imp of WebAssembly.Module.imports(original)) {
      if (imp.kind !== 'function' || !IMPORTS[imp.module]?.[imp.name])
        return new ModuleError(`service imports unknown ${imp.kind} ${imp.module}.${imp.name}`);
    }
    const { code: metered, memory, reset } = instrument(code, IMPORTS);
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(metered as Uint8Array<ArrayBuffer>);
    } catch (e) {
      // Metering adds code and a local; a module already at the JS API's limits
      // (e.g. 50000 locals in a function) can be valid without room for them.
      return new ModuleError(`service code cannot be metered: ${(e as Error).message}`, { cause: e });
    }
    return { module, memory, reset, idle: [], key };
  } catch (e) {
    if (e instanceof ModuleError || e instanceof LimitError) return e;
    throw e;
  }
}

function pagesOf(memory: WebAssembly.Memory | undefined): number {
  return memory ? memory.buffer.byteLength / WASM_PAGE_BYTES : 0;
}

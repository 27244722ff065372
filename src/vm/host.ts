/**
 * The service host: loads service code once per code hash (validated, metered and
 * memory-capped, then compiled) and opens transaction contexts that run actions
 * against the state. This is the chain executor's entry point into src/vm.
 *
 * It also keeps what closed transactions (TransactionContext.close) leave behind: idle
 * instances, reset to a fresh instance's state when the next transaction takes one,
 * and memories of instances that cannot be reused. A transaction that is never closed
 * simply leaves its instances to the garbage collector.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../state/bytes.ts';
import type { Action, ActionTrace } from '../protocol/types.ts';
import { IMPORTS } from './abi.ts';
import { MAX_POOLED_INSTANCES, MAX_POOLED_PAGES, MAX_POOL_PAGES } from './constants.ts';
import { LimitError, ModuleError } from './errors.ts';
import type { ServiceInstance } from './instance.ts';
import { instrument } from './meter.ts';
import type { MemoryLimits, ResetInfo } from './meter.ts';
import { TransactionContext } from './transaction.ts';
import type { TransactionOptions, VmError } from './transaction.ts';

export interface ServiceHostInit {
  /** Compiled modules kept (least recently used are dropped first). */
  cacheSize?: number;
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
  /** Memories of closed transactions by "pages/maximum", zeroed again before reuse. */
  private readonly memories = new Map<string, WebAssembly.Memory[]>();
  private idleInstances = 0;
  /** Pages of memory held by idle instances and pooled memories. */
  private pooledPages = 0;

  constructor(init: ServiceHostInit = {}) {
    this.cacheSize = init.cacheSize ?? 256;
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
    if (instance === undefined) return undefined;
    this.unpool(instance);
    instance.reset();
    return instance;
  }

  /** Takes back an instance whose transaction is closed; it is reused, or its memory is. */
  returnInstance(instance: ServiceInstance): void {
    const pages = pagesOf(instance.memory);
    if (
      instance.reusable &&
      this.idleInstances < MAX_POOLED_INSTANCES &&
      this.fits(pages) &&
      this.modules.get(instance.loaded.key) === instance.loaded
    ) {
      instance.loaded.idle.push(instance);
      this.idleInstances++;
      this.pooledPages += pages;
    } else if (instance.memory) {
      this.returnMemory(instance.memory, instance.loaded.memory!.maximum);
    }
  }

  private unpool(instance: ServiceInstance): void {
    this.idleInstances--;
    this.pooledPages -= pagesOf(instance.memory);
  }

  private fits(pages: number): boolean {
    return pages <= MAX_POOLED_PAGES && this.pooledPages + pages <= MAX_POOL_PAGES;
  }

  /**
   * A memory for a new instance: fresh from V8, or a closed transaction's returned
   * with every byte zeroed, which is what a fresh one holds (psibase likewise reuses
   * its executionMemories across transactions). Allocating one costs V8 more than
   * instantiating the module.
   */
  takeMemory(limits: MemoryLimits): WebAssembly.Memory {
    const pooled = this.memories.get(`${limits.initial}/${limits.maximum}`)?.pop();
    if (pooled === undefined) return new WebAssembly.Memory(limits);
    this.pooledPages -= limits.initial;
    new Uint8Array(pooled.buffer).fill(0);
    return pooled;
  }

  /** Takes back the memory of an instance that will never run again. */
  returnMemory(memory: WebAssembly.Memory, maximum: number): void {
    const pages = pagesOf(memory);
    if (!this.fits(pages)) return;
    const key = `${pages}/${maximum}`;
    let list = this.memories.get(key);
    if (list === undefined) this.memories.set(key, (list = []));
    list.push(memory);
    this.pooledPages += pages;
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
  return memory ? memory.buffer.byteLength / 65536 : 0;
}

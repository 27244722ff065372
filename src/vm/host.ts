/**
 * The service host: loads service code once per code hash (validated, metered and
 * memory-capped, then compiled) and opens transaction contexts that run actions
 * against the state. This is the chain executor's entry point into src/vm.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../state/bytes.ts';
import type { Action, ActionTrace } from '../protocol/types.ts';
import { IMPORTS } from './abi.ts';
import { LimitError, ModuleError } from './errors.ts';
import { METER_MODULE, instrument } from './meter.ts';
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

export class ServiceHost {
  private readonly cacheSize: number;
  private readonly modules = new Map<string, WebAssembly.Module | ModuleError | LimitError>();
  private readonly hashes = new WeakMap<Uint8Array, string>();

  constructor(init: ServiceHostInit = {}) {
    this.cacheSize = init.cacheSize ?? 256;
  }

  /**
   * The compiled, instrumented module for `code`. Results, including refusals, are
   * cached by sha256 of the code (or the given codeHash, as psibase caches by
   * CodeRow::codeHash).
   */
  module(code: Uint8Array, codeHash?: Uint8Array): WebAssembly.Module {
    let key = codeHash ? toHex(codeHash) : this.hashes.get(code);
    if (key === undefined) {
      key = toHex(sha256(code));
      this.hashes.set(code, key);
    }
    let entry = this.modules.get(key);
    if (entry === undefined) {
      entry = load(code);
      if (this.modules.size >= this.cacheSize) this.modules.delete(this.modules.keys().next().value as string);
    } else {
      this.modules.delete(key);
    }
    this.modules.set(key, entry);
    if (!(entry instanceof WebAssembly.Module)) throw entry;
    return entry;
  }

  /** Opens a transaction (or query) context; run its actions with `runAction`. */
  transaction(options: TransactionOptions): TransactionContext {
    return new TransactionContext(this, options);
  }

  /** Runs one action in a fresh transaction context. */
  runAction(options: TransactionOptions & { action: Action }): ActionResult {
    const tx = this.transaction(options);
    const { trace, error } = tx.runAction(options.action);
    const result: ActionResult = { trace, retval: trace.rawRetval, cpuUsed: tx.cpuUsed };
    if (error) result.error = error;
    return result;
  }
}

function load(code: Uint8Array): WebAssembly.Module | ModuleError | LimitError {
  try {
    let original: WebAssembly.Module;
    try {
      original = new WebAssembly.Module(code as Uint8Array<ArrayBuffer>);
    } catch (e) {
      return new ModuleError(`service code is not valid wasm: ${(e as Error).message}`, { cause: e });
    }
    for (const imp of WebAssembly.Module.imports(original)) {
      if (imp.module === METER_MODULE || imp.kind !== 'function' || !IMPORTS[imp.module]?.[imp.name])
        return new ModuleError(`service imports unknown ${imp.kind} ${imp.module}.${imp.name}`);
    }
    return new WebAssembly.Module(instrument(code, IMPORTS) as Uint8Array<ArrayBuffer>);
  } catch (e) {
    if (e instanceof ModuleError || e instanceof LimitError) return e;
    throw e;
  }
}

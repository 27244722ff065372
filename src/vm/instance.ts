/**
 * A service module's wasm instance, whose host functions serve whichever
 * ExecutionContext holds it. psibase compiles a service once and re-initializes that
 * backend for every transaction (ExecutionContextImpl::init: fresh memory and globals,
 * then `start`); here an instance a closed transaction used is put back into the state
 * of a fresh one and serves the next, because V8 takes longer to instantiate a module
 * than the whole rest of an action.
 */
import type { ExecutionContext } from './execution.ts';
import type { LoadedService } from './host.ts';
import type { GuestMemory } from './memory.ts';
import { BUDGET_EXPORT, START_EXPORT } from './meter.ts';
import type { ResetInfo } from './meter.ts';

export type WasmFunction = (...args: bigint[]) => unknown;

/** The ExecutionContext an instance's host functions serve; none while the instance is idle. */
export interface Binding {
  ec: ExecutionContext | undefined;
}

const PAGE = 65536;

/**
 * The start of a fresh instance's memory: the data segments laid out over zeros, up to
 * the end of the last one (the rest of a fresh memory is zero). Copying it in one call
 * costs a fraction of writing hundreds of small segments one by one.
 */
const images = new WeakMap<ResetInfo, Uint8Array>();

function imageOf(info: ResetInfo): Uint8Array {
  let image = images.get(info);
  if (image === undefined) {
    let end = 0;
    for (const s of info.segments) end = Math.max(end, s.offset + s.bytes.length);
    image = new Uint8Array(end);
    // In segment order, as instantiation writes them: a later segment wins where two overlap.
    for (const s of info.segments) image.set(s.bytes, s.offset);
    images.set(info, image);
  }
  return image;
}

export class ServiceInstance {
  readonly instance: WebAssembly.Instance;
  /** The meter (see meter.ts). */
  readonly budget: WebAssembly.Global;
  readonly called: WasmFunction | undefined;
  /** The module's wasm start function, run on first entry (meter.ts). */
  readonly wasmStart: WasmFunction | undefined;
  private readonly globals: WebAssembly.Global[];

  /** Instantiates `loaded`; throws what WebAssembly.Instance throws. */
  constructor(
    readonly loaded: LoadedService,
    readonly binding: Binding,
    readonly memory: WebAssembly.Memory | undefined,
    readonly guest: GuestMemory,
    imports: WebAssembly.Imports,
  ) {
    this.instance = new WebAssembly.Instance(loaded.module, imports);
    const exports = this.instance.exports;
    this.budget = exports[BUDGET_EXPORT] as WebAssembly.Global;
    this.called = typeof exports.called === 'function' ? (exports.called as WasmFunction) : undefined;
    this.wasmStart = exports[START_EXPORT] as WasmFunction | undefined;
    this.globals = (loaded.reset?.globals ?? []).map((g) => exports[g.name] as WebAssembly.Global);
  }

  /**
   * Whether `reset` gives back exactly a fresh instance: the module keeps all its other
   * state unchanged (meter.ts ResetInfo), and its memory has not grown, since wasm
   * memory cannot shrink.
   */
  get reusable(): boolean {
    if (this.loaded.reset === undefined) return false;
    return this.memory === undefined || this.memory.buffer.byteLength === this.loaded.memory!.initial * PAGE;
  }

  /** Memory as a fresh instance's (data segments over zeros), and the globals' initial values. */
  reset(): void {
    const info = this.loaded.reset!;
    if (this.memory) {
      const buffer = this.memory.buffer;
      const u8 = this.guest.u8.buffer === buffer ? this.guest.u8 : new Uint8Array(buffer);
      const image = imageOf(info);
      u8.set(image);
      u8.fill(0, image.length);
    }
    for (let i = 0; i < this.globals.length; i++) this.globals[i]!.value = info.globals[i]!.value;
  }
}

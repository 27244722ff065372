/**
 * The ServiceHost for browser contexts (the root service worker and the node's
 * worker). In Chromium every WebAssembly.Memory reserves its full guard region inside
 * the renderer process's V8 sandbox, whatever its size: measured here, a process holds
 * at most ~124 live memories, shared by the root worker, the leader's node worker and
 * the pages of the same site (their plugins). The generic host pools by pages (up to
 * 1024 of them), which in a browser means hundreds of memories; worse, a memory that
 * grew is pooled under its grown size, which no module asks for, so every query that
 * grows one (sites serving a file does) leaves one more behind until
 * `new WebAssembly.Memory` fails with "could not allocate memory".
 *
 * So here the pools are counted in memories: at most MAX_IDLE_INSTANCES idle instances
 * (each holds one) and MAX_POOLED_MEMORIES spare memories, only of sizes some module
 * asked for; everything else is left to the garbage collector.
 */
import { ServiceHost } from '../../vm/index.ts';
import { BROWSER_MODULE_CACHE, MAX_IDLE_INSTANCES, MAX_POOLED_MEMORIES, MAX_SPARE_MEMORY_PAGES } from './constants.ts';

type ServiceInstance = Parameters<ServiceHost['returnInstance']>[0];
type LoadedService = Parameters<ServiceHost['takeInstance']>[0];
type MemoryLimits = Parameters<ServiceHost['takeMemory']>[0];

const PAGE = 65536;

export interface BrowserServiceHostInit {
  cacheSize?: number;
  maxIdleInstances?: number;
  maxPooledMemories?: number;
}

// #private fields: the generic host's own private names must not collide with ours.
export class BrowserServiceHost extends ServiceHost {
  readonly #maxIdle: number;
  readonly #maxMemories: number;
  /** Spare memories by "pages/maximum". */
  readonly #spare = new Map<string, WebAssembly.Memory[]>();
  /** The "initial/maximum" sizes modules asked for: only these are worth keeping. */
  readonly #wanted = new Set<string>();
  #spareCount = 0;
  readonly #cacheSize: number;
  /**
   * The modules the generic host caches, by code hash, least recently used first (the
   * same order it keeps): their `idle` lists are the idle instances. Its own count is
   * private, and a module it drops takes its idle instances with it.
   */
  readonly #modules = new Map<string, LoadedService>();

  constructor(init: BrowserServiceHostInit = {}) {
    const cacheSize = init.cacheSize ?? BROWSER_MODULE_CACHE;
    super({ cacheSize });
    this.#cacheSize = cacheSize;
    this.#maxIdle = init.maxIdleInstances ?? MAX_IDLE_INSTANCES;
    this.#maxMemories = init.maxPooledMemories ?? MAX_POOLED_MEMORIES;
  }

  /** Wasm memories this host keeps between transactions (idle instances' and spare ones). */
  get pooledMemories(): number {
    return this.pooledInstances + this.#spareCount;
  }

  get pooledInstances(): number {
    let n = 0;
    for (const loaded of this.#modules.values()) n += loaded.idle.length;
    return n;
  }

  override load(code: Uint8Array, codeHash?: Uint8Array): LoadedService {
    const loaded = super.load(code, codeHash);
    this.#modules.delete(loaded.key);
    this.#modules.set(loaded.key, loaded);
    if (this.#modules.size > this.#cacheSize) this.#modules.delete(this.#modules.keys().next().value!);
    return loaded;
  }

  override returnInstance(instance: ServiceInstance): void {
    if (this.pooledInstances >= this.#maxIdle) {
      if (instance.memory) this.returnMemory(instance.memory, instance.loaded.memory!.maximum);
      return;
    }
    super.returnInstance(instance);
  }

  override takeMemory(limits: MemoryLimits): WebAssembly.Memory {
    const key = `${limits.initial}/${limits.maximum}`;
    this.#wanted.add(key);
    const memory = this.#spare.get(key)?.pop();
    if (memory === undefined) return new WebAssembly.Memory(limits);
    this.#spareCount--;
    new Uint8Array(memory.buffer).fill(0);
    return memory;
  }

  override returnMemory(memory: WebAssembly.Memory, maximum: number): void {
    const pages = memory.buffer.byteLength / PAGE;
    if (this.#spareCount >= this.#maxMemories || pages > MAX_SPARE_MEMORY_PAGES) return;
    const key = `${pages}/${maximum}`;
    if (!this.#wanted.has(key)) return;
    let list = this.#spare.get(key);
    if (list === undefined) this.#spare.set(key, (list = []));
    list.push(memory);
    this.#spareCount++;
  }
}

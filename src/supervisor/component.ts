/**
 * A plugin component's bytes → JS the browser can run, by jco's `transpile` (its
 * browser build: the bindgen runs as wasm in this page), and that JS → a live
 * instance given the host's imports. Transpiling is the costly step; its output is
 * plain data (JS text and core modules), which cache.ts keeps by the component's hash.
 */

/**
 * jco's output for one component. Fresh from jco its JS is a string and its core
 * modules bytes; read back from IndexedDB (cache.ts) they are Blobs, which the page
 * hands to the module loader and to streaming compilation without copying them
 * through JS.
 */
export interface TranspiledComponent {
  /** sha-256 of the component's bytes, hex. */
  hash: string;
  /** The instantiation module (`instantiate(getCoreModule, imports)`). */
  js: string | Blob;
  /** Core modules by the file name the JS asks for. */
  cores: [string, Uint8Array | Blob][];
  /**
   * sha-256 (hex) of each core module of at least SHARED_CORE_BYTES, by file name: one
   * compiled module serves every plugin that holds the same bytes (every QuickJS plugin
   * holds the same 1.3 MB engine). Absent in entries cached before it was kept.
   */
  coreHashes?: Record<string, string>;
  /** Imported interfaces (`ns:pkg/intf`) and functions. */
  imports: string[];
  /** Exported interfaces and functions with their kind. */
  exports: [string, string][];
}

/** The module jco generates with `instantiation: async`. */
export interface JcoModule {
  instantiate(getCoreModule: (path: string) => Promise<WebAssembly.Module>, imports: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Options as psibase's supervisor passes them: one async instantiate function, no Node, no TS. */
const GENERATE_OPTIONS = {
  name: 'plugin',
  noTypescript: true,
  instantiation: { tag: 'async' },
  noNodejsCompat: true,
  tlaCompat: false,
  validLiftingOptimization: false,
  noNamespacedExports: true,
  tracing: false,
} as const;

/** A module-level `import …`/`export … from`: the generated JS must not load anything itself. */
const STATIC_IMPORT = /^[ \t]*(?:import\s+(?:['"]|[\w*${}\s,]+from\s+['"])|export\s+(?:\*|[\w*${}\s,]+)\s+from\s+['"])/m;

/**
 * jco's generated `_debugLog`, called several times on every call across a component
 * boundary (with an object built for it each time), logs only when `process.env.JCO_DEBUG`
 * is set, which a page never has: made a no-op, it halves the cost of a call into a
 * small plugin (Node: ~17 → ~8 µs per call into tinyplugin's greet).
 */
const DEBUG_LOG = /const _debugLog = \(\.\.\.args\) => \{\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\s*console\.debug\(\.\.\.args\);\s*\};/;

/** The generated JS with its debug logging made a no-op (unchanged when jco's shape differs). */
export function withoutDebugLog(js: string): string {
  return js.replace(DEBUG_LOG, 'const _debugLog = () => {};');
}

export class TranspileError extends Error {
  override name = 'TranspileError';
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

type Jco = typeof import('@bytecodealliance/jco/component');
let jco: Promise<Jco> | undefined;

/**
 * jco's transpiler (its bindgen is a 3.5 MB core module), loaded once on first use: a
 * warm start never pays for it. The supervisor starts this early when a load looks cold.
 */
export function loadJco(): Promise<Jco> {
  const p = (jco ??= import('@bytecodealliance/jco/component'));
  p.catch(() => (jco = undefined));
  return p;
}

/** Transpiles a component with jco. */
export async function transpileComponent(bytes: Uint8Array, hash: string): Promise<TranspiledComponent> {
  const { generate } = await loadJco();
  let out: Awaited<ReturnType<Jco['generate']>>;
  try {
    out = await generate(bytes, GENERATE_OPTIONS as Parameters<Jco['generate']>[1]);
  } catch (e) {
    throw new TranspileError(`not a WebAssembly component jco can transpile: ${String((e as Error)?.message ?? e)}`);
  }
  let js: string | undefined;
  const cores: [string, Uint8Array][] = [];
  for (const [name, content] of out.files) {
    if (name.endsWith('.wasm')) cores.push([name, content]);
    else if (name.endsWith('.js')) js = new TextDecoder().decode(content);
  }
  if (js === undefined) throw new TranspileError('jco produced no JS');
  js = withoutDebugLog(js);
  if (STATIC_IMPORT.test(js)) throw new TranspileError('the generated JS has module-level imports; refusing to load it');
  const coreHashes: Record<string, string> = {};
  for (const [name, core] of cores) if (core.byteLength >= SHARED_CORE_BYTES) coreHashes[name] = await sha256Hex(core);
  return { hash, js, cores, coreHashes, imports: out.imports.map(String), exports: out.exports.map(([n, k]) => [String(n), String(k)]) };
}

/** Core modules at least this large are compiled once per page for every plugin holding the same bytes. */
export const SHARED_CORE_BYTES = 256 * 1024;
/**
 * Compiled modules by their bytes' hash (a page loads a handful of plugins; a few
 * distinct large cores at most), with the bytes they were compiled from, whose hash is
 * checked once another plugin asks for the same one.
 */
interface SharedCore {
  module: Promise<WebAssembly.Module>;
  /** Whether the bytes it was compiled from have the hash it is kept under (worked out on the first hit). */
  verified: () => Promise<boolean>;
}
const compiledByHash = new Map<string, SharedCore>();
const MAX_SHARED_CORES = 16;

/** Blobs of core modules at least this large are compiled as they stream in (off the main thread). */
const STREAM_COMPILE_BYTES = 64 * 1024;

/** One core module: bytes compiled at once; a large Blob streamed into the compiler. */
async function compileCore(core: Uint8Array | Blob): Promise<WebAssembly.Module> {
  if (!(core instanceof Blob)) return WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
  if (core.size >= STREAM_COMPILE_BYTES && typeof WebAssembly.compileStreaming === 'function' && typeof Response === 'function') {
    return WebAssembly.compileStreaming(new Response(core, { headers: { 'Content-Type': 'application/wasm' } }));
  }
  return WebAssembly.compile(await core.arrayBuffer());
}

/** Compiles the core modules once; `instantiate` can then be called per top-level call. */
export async function compileCores(t: TranspiledComponent): Promise<Map<string, WebAssembly.Module>> {
  const modules = new Map<string, WebAssembly.Module>();
  await Promise.all(t.cores.map(async ([name, core]) => modules.set(name, await compileShared(core, t.coreHashes?.[name]))));
  return modules;
}

const bytesOf = async (core: Uint8Array | Blob): Promise<Uint8Array> => (core instanceof Blob ? new Uint8Array(await core.arrayBuffer()) : core);
const hashes = async (core: Uint8Array | Blob, hash: string): Promise<boolean> => (await sha256Hex(await bytesOf(core))) === hash;

/**
 * A core module compiled once per page for its hash (when it has one). Sharing costs
 * nothing until a second plugin asks for a hash already compiled: then both its bytes
 * and those the module was compiled from are hashed (off the main thread, a few ms
 * against ~35 for compiling the engine), so a record whose hash does not match its
 * bytes never shares a module: it gets its own.
 */
async function compileShared(core: Uint8Array | Blob, hash: string | undefined): Promise<WebAssembly.Module> {
  if (hash === undefined) return compileCore(core);
  const shared = compiledByHash.get(hash);
  if (shared) {
    const [ours, theirs] = await Promise.all([hashes(core, hash), shared.verified()]);
    if (ours && theirs) return shared.module;
    // Ours is right and the kept one is not: ours is kept instead.
    if (!ours || compiledByHash.get(hash) !== shared) return compileCore(core);
    compiledByHash.delete(hash);
  }
  const module = compileCore(core);
  let verified: Promise<boolean> | undefined;
  const entry: SharedCore = { module, verified: () => (verified ??= hashes(core, hash).catch(() => false)) };
  if (compiledByHash.size >= MAX_SHARED_CORES) compiledByHash.delete(compiledByHash.keys().next().value!);
  compiledByHash.set(hash, entry);
  module.catch(() => compiledByHash.get(hash) === entry && compiledByHash.delete(hash));
  return module;
}

/** The generated JS as a Blob a module can be imported from, named for debuggers. */
export function jsBlob(js: string, debugName: string): Blob {
  return new Blob([js, `\n//# sourceURL=${debugName}`], { type: 'text/javascript' });
}

/**
 * Loads the generated JS as a module from a Blob URL (the supervisor's CSP allows
 * `blob:`): a string is wrapped first; a Blob (as the cache gives it back, named
 * already) is used as it is.
 */
export async function importFromBlob(js: string | Blob, debugName: string): Promise<JcoModule> {
  const url = URL.createObjectURL(typeof js === 'string' ? jsBlob(js, debugName) : js);
  try {
    return (await import(/* @vite-ignore */ url)) as JcoModule;
  } finally {
    URL.revokeObjectURL(url);
  }
}

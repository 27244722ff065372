// Compiles every AssemblyScript service `services/<name>/<name>.ts` to
// `services/build/<name>.wasm`, shaped the way a psibase node loads a service:
// exports `start(i64)`, `called(i64, i64)` and `memory`, imports only psibase's
// `env` functions, no JS bindings. Runs offline; the output depends only on the
// sources and the pinned compiler.
//
// Compiler choices:
// - `--runtime stub`: a bump allocator without a collector. A service instance
//   lives for one transaction or query, so reclaiming memory buys nothing, and the
//   stub is the smallest and most predictable runtime.
// - `--use abort=…`: AssemblyScript's `abort` goes to psibase's `abortMessage`
//   instead of becoming an `env.abort` import.
// - AssemblyScript runs top-level statements from the wasm start section; psibase
//   instead calls the exported `start(thisService)` after instantiation (C++ services
//   run their constructors there), so the build moves the start section into it.

import asc from 'assemblyscript/asc';
import binaryen from 'binaryen';
import { mkdirSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SERVICES_DIR = join(ROOT, 'services');
export const BUILD_DIR = join(SERVICES_DIR, 'build');

/** Folders under services/ that hold shared code, not services. */
const NOT_SERVICES = new Set(['sdk', 'build']);

const ABORT_HANDLER = 'services/sdk/check/psibaseAbort';

export const ASC_FLAGS: readonly string[] = [
  '--runtime', 'stub',
  '--use', `abort=${ABORT_HANDLER}`,
  '--optimizeLevel', '3',
  '--shrinkLevel', '1',
  '--noColors',
];

// The wasm features AssemblyScript emits by default, all of which psibase's VM
// accepts; binaryen must not re-encode the module with anything newer.
const PSIBASE_FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt;

export class ServiceBuildError extends Error {
  override name = 'ServiceBuildError';
}

/** Entry files of all services: `services/<name>/<name>.ts`. */
export function listServices(): { name: string; entry: string }[] {
  return readdirSync(SERVICES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NOT_SERVICES.has(d.name))
    .map((d) => ({ name: d.name, entry: join(SERVICES_DIR, d.name, `${d.name}.ts`) }))
    .filter((s) => existsSync(s.entry))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Compile one AssemblyScript entry file (absolute or relative to the repository root) to a psibase service module. */
export async function compileService(entry: string): Promise<Uint8Array<ArrayBuffer>> {
  const source = relative(ROOT, resolve(ROOT, entry));
  let wasm: Uint8Array | undefined;
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main([source, '--baseDir', ROOT, '--outFile', 'service.wasm', ...ASC_FLAGS], {
    stdout: asc.createMemoryStream(),
    stderr,
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith('.wasm') && typeof contents !== 'string') wasm = contents;
    },
  });
  if (error || !wasm) {
    throw new ServiceBuildError(`compiling ${source} failed: ${error?.message ?? 'no output'}\n${stderr.toString()}`);
  }
  return moveStartIntoExport(wasm, source);
}

function moveStartIntoExport(wasm: Uint8Array, source: string): Uint8Array<ArrayBuffer> {
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(PSIBASE_FEATURES);
    const startExport = mod.getExport('start');
    if (!startExport) throw new ServiceBuildError(`${source} does not export start(thisService: u64)`);
    if (!mod.getExport('called')) throw new ServiceBuildError(`${source} does not export called(receiver: u64, sender: u64)`);
    const init = mod.getStart();
    if (init) {
      // New `start(thisService)`: run the module's initialiser, then the service's own start.
      const initName = binaryen.getFunctionInfo(init).name;
      const original = binaryen.getFunctionInfo(mod.getFunction(binaryen.getExportInfo(startExport).value));
      const body = mod.block(null, [
        mod.call(initName, [], binaryen.none),
        mod.call(original.name, [mod.local.get(0, binaryen.i64)], binaryen.none),
      ]);
      mod.addFunction('psibase:start', binaryen.i64, binaryen.none, [], body);
      mod.removeExport('start');
      mod.addFunctionExport('psibase:start', 'start');
      mod.setStart(0);
    }
    if (!mod.validate()) throw new ServiceBuildError(`${source}: invalid module after moving the start function`);
    return new Uint8Array(mod.emitBinary());
  } finally {
    mod.dispose();
  }
}

/** Build every service into services/build/. */
export async function buildServices(): Promise<{ name: string; path: string; size: number }[]> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const built = [];
  for (const { name, entry } of listServices()) {
    const wasm = await compileService(entry);
    const path = join(BUILD_DIR, `${name}.wasm`);
    writeFileSync(path, wasm);
    built.push({ name, path, size: wasm.length });
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const { name, path, size } of await buildServices()) {
    console.log(`${name}: ${relative(ROOT, path)} (${size} bytes)`);
  }
}

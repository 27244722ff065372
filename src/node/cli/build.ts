/**
 * `psiweb build ENTRY.ts [-o OUT.wasm]`: compiles an app's AssemblyScript service
 * (written with psiweb's SDK, services/sdk) the way psiweb builds its own services
 * (scripts/build-services.ts): stub runtime, AssemblyScript's abort routed to psibase's
 * abortMessage, and the module's start section moved into the exported
 * `start(thisService)` psibase calls. The app imports the SDK through its
 * `node_modules/psiweb` (what `psiweb new` writes), and the build names the same path
 * for the abort handler, so the compiler sees one SDK. Skips the compile when OUT is
 * newer than every .ts file beside ENTRY and in the SDK.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PsiwebError } from '../../errors.ts';
import { EXIT_OK, UsageError, type CliIo } from './io.ts';

export const BUILD_USAGE = `usage: psiweb build ENTRY.ts [-o OUT.wasm] [--force]
  compiles an AssemblyScript service written with psiweb's SDK (imported from
  node_modules/psiweb/services/sdk) to a psibase service module
  -o, --out OUT.wasm: where to write it (default build/<entry name>.wasm)
  --force:            compile even when OUT is newer than the sources`;

const PSIWEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SDK_DIR = join(PSIWEB_ROOT, 'services', 'sdk');

export class ServiceCompileError extends PsiwebError {
  override name = 'ServiceCompileError';
}

/** The flags psiweb's own services are built with (scripts/build-services.ts ASC_FLAGS), minus the abort path. */
const FLAGS = ['--runtime', 'stub', '--optimizeLevel', '3', '--shrinkLevel', '1', '--noColors'];


function newestTs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'testing') newest = Math.max(newest, newestTs(p));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The project directory of ENTRY: the nearest folder above it holding node_modules/psiweb. */
function projectOf(entry: string): string | undefined {
  for (let d = dirname(entry); ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', 'psiweb', 'services', 'sdk'))) return d;
    if (dirname(d) === d) return undefined;
  }
}

/** Compiles `entry` (an absolute path) into a psibase service module. */
export async function compileApp(entry: string): Promise<Uint8Array> {
  // The compiler and binaryen take seconds to load: only when something is compiled.
  const { default: asc } = await import('assemblyscript/asc');
  const { default: binaryen } = await import('binaryen');
  /** The wasm features AssemblyScript emits and psibase's VM accepts. */
  const features =
    binaryen.Features.MutableGlobals | binaryen.Features.SignExt | binaryen.Features.NontrappingFPToInt | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt;
  const project = projectOf(entry);
  // Inside psiweb itself the SDK is services/sdk; in an app, node_modules/psiweb/services/sdk.
  const base = project ?? PSIWEB_ROOT;
  const abortModule = project ? 'node_modules/psiweb/services/sdk/check' : relative(base, join(SDK_DIR, 'check'));
  let wasm: Uint8Array | undefined;
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main([relative(base, entry), '--baseDir', base, '--outFile', 'service.wasm', '--use', `abort=${abortModule}/psibaseAbort`, ...FLAGS], {
    stdout: asc.createMemoryStream(),
    stderr,
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith('.wasm') && typeof contents !== 'string') wasm = contents;
    },
  });
  if (error || !wasm) throw new ServiceCompileError(`compiling ${entry} failed: ${error?.message ?? 'no output'}\n${stderr.toString()}`);
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(features);
    const startExport = mod.getExport('start');
    if (!startExport) throw new ServiceCompileError(`${entry} does not export start (add: export { start, called } from ".../services/sdk")`);
    if (!mod.getExport('called')) throw new ServiceCompileError(`${entry} does not export called (add: export { start, called } from ".../services/sdk")`);
    const init = mod.getStart();
    if (init) {
      // psibase calls the exported start(thisService): run the module's initialiser first.
      const body = mod.block(null, [
        mod.call(binaryen.getFunctionInfo(init).name, [], binaryen.none),
        mod.call(binaryen.getFunctionInfo(mod.getFunction(binaryen.getExportInfo(startExport).value)).name, [mod.local.get(0, binaryen.i64)], binaryen.none),
      ]);
      mod.addFunction('psibase:start', binaryen.i64, binaryen.none, [], body);
      mod.removeExport('start');
      mod.addFunctionExport('psibase:start', 'start');
      mod.setStart(0);
    }
    if (!mod.validate()) throw new ServiceCompileError(`${entry}: invalid module after moving the start function`);
    return new Uint8Array(mod.emitBinary());
  } finally {
    mod.dispose();
  }
}

export async function runBuild(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string', short: 'o' }, force: { type: 'boolean' } } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected ENTRY.ts, got ${positionals.length} argument(s)`);
  const entry = resolve(positionals[0]!);
  if (!entry.endsWith('.ts')) throw new UsageError(`ENTRY must be an AssemblyScript .ts file, got "${positionals[0]}"`);
  try {
    readFileSync(entry);
  } catch (e) {
    throw new UsageError(`cannot read ${positionals[0]}: ${(e as Error).message}`);
  }
  const out = resolve(values.out ?? join('build', `${entry.split('/').pop()!.replace(/\.ts$/, '')}.wasm`));
  const project = projectOf(entry);
  const sources = Math.max(newestTs(dirname(entry)), newestTs(project ? join(project, 'node_modules', 'psiweb', 'services', 'sdk') : SDK_DIR));
  if (!values.force && existsSync(out) && statSync(out).mtimeMs > sources) {
    io.stdout(`${relative('.', out)} is up to date\n`);
    return EXIT_OK;
  }
  const wasm = await compileApp(entry);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, wasm);
  renameSync(tmp, out);
  io.stdout(`${relative('.', out)} (${wasm.length} bytes)\n`);
  return EXIT_OK;
}

// Builds psiweb's plugins (plugins/<name>/plugin.js + wit/world.wit) into WebAssembly
// components at plugins/build/<name>/plugin.wasm, to be stored in the service's sites
// at /plugin.wasm. Each is built by `jco componentize --backend quickjs`
// (ARCHITECTURE.md §9: ~1.6 MB; the default StarlingMonkey backend gives ~12 MB) with
// WASI stubbed out and synchronous exports, against psiweb's WIT (wit/, laid under the
// plugin's deps/, with the other plugins' packages for plugins that call them).
// Runs offline; a plugin over 2 MB fails the build.
import { execFile } from 'node:child_process';
import asc from 'assemblyscript/asc';
import binaryen from 'binaryen';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PLUGINS_DIR = join(ROOT, 'plugins');
export const PLUGIN_BUILD_DIR = join(PLUGINS_DIR, 'build');
export const WIT_DIR = join(ROOT, 'wit');
/** The cap on one plugin. */
export const MAX_PLUGIN_BYTES = 2 * 1024 * 1024;

export class PluginBuildError extends Error {
  override name = 'PluginBuildError';
}

export function listPlugins(): { name: string; dir: string }[] {
  return readdirSync(PLUGINS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'build' && (existsSync(join(PLUGINS_DIR, d.name, 'plugin.js')) || existsSync(join(PLUGINS_DIR, d.name, 'plugin.ts'))))
    .map((d) => ({ name: d.name, dir: join(PLUGINS_DIR, d.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * An AssemblyScript plugin as a core module: `--runtime stub` (an instance lives for one
 * call), `abort` to the source's own `trap` (no imports), and each export
 * `<interface>__<function_name>` renamed to the component model's
 * `<package>/<interface>#<function-name>`.
 */
async function compileAsPlugin(entry: string, pkg: string): Promise<Uint8Array> {
  const source = relative(ROOT, entry);
  let wasm: Uint8Array | undefined;
  const stderr = asc.createMemoryStream();
  const abort = `${source.replace(/\.ts$/, '')}/trap`;
  const { error } = await asc.main([source, '--baseDir', ROOT, '--outFile', 'plugin.wasm', '--runtime', 'stub', '--use', `abort=${abort}`, '--optimizeLevel', '3', '--shrinkLevel', '1', '--noColors'], {
    stdout: asc.createMemoryStream(),
    stderr,
    writeFile(file: string, contents: Uint8Array | string) {
      if (file.endsWith('.wasm') && typeof contents !== 'string') wasm = contents;
    },
  });
  if (error || !wasm) throw new PluginBuildError(`compiling ${source} failed: ${error?.message ?? 'no output'}\n${stderr.toString()}`);
  const mod = binaryen.readBinary(wasm);
  try {
    // What AssemblyScript emits by default (bulk memory among them); browsers run all of it.
    mod.setFeatures(binaryen.Features.MutableGlobals | binaryen.Features.SignExt | binaryen.Features.NontrappingFPToInt | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt);
    for (let i = mod.getNumExports() - 1; i >= 0; i--) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      const m = /^([a-z0-9_]+)__([a-z0-9_]+)$/.exec(info.name);
      if (!m || info.kind !== binaryen.ExternalFunction) continue;
      const kebab = (x: string) => x.replace(/_/g, '-');
      mod.removeExport(info.name);
      mod.addFunctionExport(info.value, `${pkg}/${kebab(m[1]!)}#${kebab(m[2]!)}`);
    }
    mod.removeExport('trap');
    if (!mod.validate()) throw new PluginBuildError(`${source}: invalid module after renaming exports`);
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/** The `package ns:name;` a WIT file declares. */
function witPackage(path: string): string | undefined {
  return /^\s*package\s+([^;@\s]+)/m.exec(readFileSync(path, 'utf8'))?.[1];
}

/** Where a plugin's component is written. */
export function pluginWasmPath(name: string): string {
  return join(PLUGIN_BUILD_DIR, name, 'plugin.wasm');
}

export async function buildPlugin(name: string, dir: string): Promise<{ path: string; size: number }> {
  const witWorld = join(dir, 'wit', 'world.wit');
  if (!existsSync(witWorld)) throw new PluginBuildError(`${relative(ROOT, dir)} has no wit/world.wit`);
  const work = mkdtempSync(join(tmpdir(), `psiweb-plugin-${name}-`));
  try {
    const wit = join(work, 'wit');
    cpSync(join(dir, 'wit'), wit, { recursive: true });
    for (const pkg of readdirSync(WIT_DIR, { withFileTypes: true })) {
      if (pkg.isDirectory()) cpSync(join(WIT_DIR, pkg.name), join(wit, 'deps', pkg.name), { recursive: true });
    }
    // The other plugins' packages, for plugins that call them.
    const own = witPackage(witWorld);
    for (const other of listPlugins()) {
      const otherWorld = join(other.dir, 'wit', 'world.wit');
      if (other.name !== name && witPackage(otherWorld) !== own) cpSync(otherWorld, join(wit, 'deps', `plugin-${other.name}`, 'world.wit'));
    }
    const out = pluginWasmPath(name);
    mkdirSync(dirname(out), { recursive: true });
    const jco = (...args: string[]) =>
      promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js'), ...args], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
    try {
      if (existsSync(join(dir, 'plugin.ts'))) {
        // AssemblyScript: a core module with canonical-ABI exports, then `jco embed` + `jco new`.
        const core = join(work, 'core.wasm');
        writeFileSync(core, await compileAsPlugin(join(dir, 'plugin.ts'), own ?? name));
        await jco('embed', core, '--wit', wit, '--world-name', 'impl', '-o', join(work, 'embedded.wasm'));
        await jco('new', join(work, 'embedded.wasm'), '-o', out);
      } else {
        await jco('componentize', join(dir, 'plugin.js'), '--wit', wit, '--world-name', 'impl', '--backend', 'quickjs', '--backend-qjs-stub-wasi', '--backend-qjs-disable-async', '-o', out);
      }
    } catch (e) {
      if (e instanceof PluginBuildError) throw e;
      const err = e as { stderr?: string; stdout?: string; message: string };
      throw new PluginBuildError(`building plugin ${name} failed: ${err.stderr || err.stdout || err.message}`);
    }
    const size = statSync(out).size;
    if (size > MAX_PLUGIN_BYTES) throw new PluginBuildError(`plugin ${name} is ${size} bytes, over the ${MAX_PLUGIN_BYTES}-byte cap`);
    return { path: out, size };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function buildPlugins(): Promise<{ name: string; path: string; size: number }[]> {
  const built = [];
  for (const { name, dir } of listPlugins()) built.push({ name, ...(await buildPlugin(name, dir)) });
  return built;
}

/** The newest modification time of the files under `path` (a file or a folder). */
function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Whether a plugin's component is older than its sources, psiweb's WIT or another plugin's world. */
export function pluginStale(name: string, dir: string): boolean {
  const out = pluginWasmPath(name);
  if (!existsSync(out)) return true;
  const built = statSync(out).mtimeMs;
  if (newestMtime(dir) > built || newestMtime(WIT_DIR) > built) return true;
  return listPlugins().some((o) => newestMtime(join(o.dir, 'wit')) > built);
}

/**
 * `npm run build:plugins [-- [--changed] [NAME...]]`: every plugin, or the named ones;
 * `--changed` skips those whose component is newer than their sources (npm start uses it).
 */
async function main(args: string[]): Promise<void> {
  const changed = args.includes('--changed');
  const names = args.filter((a) => !a.startsWith('--'));
  const known = listPlugins();
  for (const n of names) if (!known.some((p) => p.name === n)) throw new PluginBuildError(`no plugin named ${n} in plugins/ (have: ${known.map((p) => p.name).join(', ')})`);
  for (const { name, dir } of known) {
    if (names.length > 0 && !names.includes(name)) continue;
    if (changed && !pluginStale(name, dir)) {
      console.log(`${name}: ${relative(ROOT, pluginWasmPath(name))} is up to date`);
      continue;
    }
    const { path, size } = await buildPlugin(name, dir);
    console.log(`${name}: ${relative(ROOT, path)} (${size} bytes)`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}

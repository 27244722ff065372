/**
 * The AssemblyScript services' wasm for the Node peer: services/build/<name>.wasm,
 * compiled again (by the build script's own compileService) when it is missing or
 * older than its sources or the SDK.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PsiwebError } from '../errors.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SERVICES_DIR = join(ROOT, 'services');
export const BUILD_DIR = join(SERVICES_DIR, 'build');

export class ServiceSourceError extends PsiwebError {
  override name = 'ServiceSourceError';
}

function newestTs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    // testing/ holds test stand-ins, not part of any service's build.
    if (entry.isDirectory() && entry.name === 'testing') continue;
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Whether services/build/<name>.wasm is missing or older than what it is built from. */
export function isStale(name: string): boolean {
  const wasm = join(BUILD_DIR, `${name}.wasm`);
  if (!existsSync(wasm)) return true;
  const built = statSync(wasm).mtimeMs;
  return newestTs(join(SERVICES_DIR, name)) > built || newestTs(join(SERVICES_DIR, 'sdk')) > built;
}

/** The wasm of the AssemblyScript service `services/<name>/<name>.ts`, built if needed. */
export async function serviceWasm(name: string): Promise<Uint8Array> {
  const entry = join(SERVICES_DIR, name, `${name}.ts`);
  if (!existsSync(entry)) throw new ServiceSourceError(`there is no service source ${entry}`);
  const out = join(BUILD_DIR, `${name}.wasm`);
  if (!isStale(name)) return new Uint8Array(readFileSync(out));
  // Loaded only when something must be compiled: the compiler takes a while to load.
  const { compileService } = await import('../../scripts/build-services.ts');
  const wasm = await compileService(entry);
  mkdirSync(BUILD_DIR, { recursive: true });
  // Written aside and renamed, so a concurrent reader never sees half a module.
  const tmp = `${out}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, wasm);
  renameSync(tmp, out);
  return wasm;
}

/** Several services' wasm by name, built where needed. */
export async function servicesWasm(names: readonly string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const n of names) out.set(n, await serviceWasm(n));
  return out;
}

/**
 * The devnet services' wasm for a network created in the browser: the modules psiweb
 * builds (services/build) ship with the PWA as static files of the production build,
 * which the root service worker precaches (vite.config.ts: every .wasm), so a network
 * can be created offline too.
 */
import { PsiwebError } from '../../errors.ts';

const URLS = import.meta.glob<string>(['../../../services/build/*.wasm', '!../../../services/build/example.wasm'], { query: '?url', import: 'default', eager: true });

/** A service's wasm is not in this build, or could not be fetched. */
export class ServiceWasmError extends PsiwebError {
  override name = 'ServiceWasmError';
}

/** The URL of service `name`'s wasm in this build. */
export function serviceWasmUrl(name: string): string {
  const url = URLS[`../../../services/build/${name}.wasm`];
  if (url === undefined) throw new ServiceWasmError(`this build of psiweb has no wasm for the service ${name}`);
  return url;
}

/** Fetches service `name`'s wasm from the page's origin (the service worker's precache when offline). */
export async function fetchServiceWasm(name: string): Promise<Uint8Array> {
  const url = serviceWasmUrl(name);
  const res = await fetch(url);
  if (!res.ok) throw new ServiceWasmError(`cannot fetch the wasm of the service ${name} (${url}: ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

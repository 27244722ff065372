/**
 * How the supervisor page fetches a plugin's `/plugin.wasm`: over the network, as psibase
 * does (sites answers with an ETag, so a warm load is a revalidation), and, when the
 * network cannot be reached (the PWA offline, the node gone), from the browser's own
 * node: the root origin's bridge asks the root service worker, which answers sites from
 * the chain state this browser synced. A plugin whose service the node has not synced,
 * or a browser that never opened the root origin, fails as a download failure.
 */
import { PsiwebError } from '../errors.ts';
import type { HostEnv } from './host.ts';
import { serviceFetch } from './root-bridge.ts';

/** Neither the network nor the browser's node could give a plugin's bytes. */
export class PluginFetchError extends PsiwebError {
  override name = 'PluginFetchError';
}

/** Where the last plugin fetch was answered from (for tests). */
export let lastPluginSource: 'network' | 'local' | undefined;

/** The plugin at `url`, or undefined when it is not there (404). */
export async function fetchPluginBytes(env: HostEnv, url: string, net: typeof fetch = fetch, local = serviceFetch): Promise<Uint8Array | undefined> {
  let response: Response;
  try {
    response = await net(url);
    lastPluginSource = 'network';
  } catch (networkError) {
    const target = new URL(url);
    const suffix = `.${env.rootHost}`;
    if (!target.hostname.endsWith(suffix)) throw networkError;
    const service = target.hostname.slice(0, -suffix.length);
    try {
      response = await local(env, service, target.pathname + target.search);
    } catch (localError) {
      throw new PluginFetchError(`GET ${url} failed over the network (${String((networkError as Error)?.message ?? networkError)}) and from this browser's node (${String((localError as Error)?.message ?? localError)})`, {
        cause: localError,
      });
    }
    lastPluginSource = 'local';
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw new PluginFetchError(`GET ${url} answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

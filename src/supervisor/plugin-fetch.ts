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

/**
 * A plugin download: its bytes with the ETag they came with (when the server lets the
 * page read it: Access-Control-Expose-Headers), or — asked with the ETag of the bytes
 * read last time — word that the server still has those bytes. The body is then never
 * read: the browser's revalidation (a 304) is all the load waits for.
 */
export type PluginDownload = { bytes: Uint8Array; etag: string | undefined } | { unchanged: true; etag: string };

/**
 * The plugin at `url`, or undefined when it is not there (404). With `knownEtag`, an
 * answer carrying that same ETag is `unchanged` and its body is dropped unread.
 */
export async function fetchPluginBytes(env: HostEnv, url: string, net: typeof fetch = fetch, local = serviceFetch, knownEtag?: string): Promise<PluginDownload | undefined> {
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
  const etag = response.headers.get('ETag') ?? undefined;
  if (knownEtag !== undefined && etag === knownEtag) {
    response.body?.cancel().catch(() => undefined);
    return { unchanged: true, etag };
  }
  return { bytes: new Uint8Array(await response.arrayBuffer()), etag };
}

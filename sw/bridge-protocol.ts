/**
 * The bridge protocol between an app origin (`<service>.<root>`) and the root origin.
 *
 * A service worker cannot create frames, and the root origin's service worker only
 * answers requests from root-origin clients. So every page on an app origin holds a
 * hidden root-origin frame (`/bridge.html`, the bridge), and the app's service worker
 * sends each request it intercepts to one of its window clients, which hands it to
 * its bridge. The bridge runs `fetch('/_svc/<service>/<path>')` on the root origin —
 * answered by the root service worker from the browser's own chain state — and
 * streams the answer straight back to the app's service worker.
 *
 *   app SW ──postMessage({type: 'psiweb-fetch', request}, [reply])──▶ app page
 *   app page ──reply: {kind: 'accepted'}──▶ app SW         (the page has the request)
 *   app page ──bridge port: {kind: 'fetch', request}, [reply]──▶ bridge (root origin)
 *   bridge ──reply: head, chunk…, end | refused | unavailable | error──▶ app SW
 *
 * The page connects once: it posts `{type: 'psiweb-bridge-connect'}` with a
 * MessagePort to the frame's window; the bridge checks the message's origin (a
 * `<service>.<root>` app origin with the root's scheme and port, see bridge-policy.ts)
 * and from then on answers on that port for that service only. Ports carry no origin,
 * so the origin verified at connect time is the one every later request is judged by.
 */

/** The bridge page on the root origin (precached by the root service worker). */
export const BRIDGE_PATH = '/bridge.html';

/** The root origin's prefix for service HTTP (answered by the root service worker). */
export const SVC_PREFIX = '/_svc/';

/**
 * The app origin's service worker script, and the loader page's file in the build
 * (the Node peer serves it for first-visit navigations to app hosts; afterwards the
 * app service worker serves its own copy).
 */
export { APP_LOADER_FILE, APP_SW_PATH } from '../src/http/constants.ts';

/**
 * Paths the app service worker answers itself on every app origin: the client script
 * it injects into the app's pages (`script-src 'self'` allows it, an inline one may not
 * be). The prefix is reserved on app origins.
 */
export const APP_RESERVED_PREFIX = '/_psiweb/';
export const APP_CLIENT_PATH = '/_psiweb/app-client.js';

/** A request as it crosses the bridge (structured-cloneable). */
export interface BridgeRequest {
  /** The service whose HTTP answers (the account name of `<service>.<root>`). */
  service: string;
  /** Path and query as the app asked for them, starting with "/". */
  target: string;
  method: string;
  headers: Array<[string, string]>;
  /** Transferred, not copied. */
  body: ArrayBuffer | null;
}

/** page → bridge, once, by window.postMessage with one port. */
export interface BridgeConnect {
  type: 'psiweb-bridge-connect';
}

/** SW → page, with the reply port. */
export interface BridgeFetchFromWorker {
  type: 'psiweb-fetch';
  request: BridgeRequest;
}

/** page → bridge over the connected port, with the reply port. */
export interface BridgeFetch {
  kind: 'fetch';
  request: BridgeRequest;
}

/** bridge → page over the connected port, answering BridgeConnect. */
export type BridgeHello =
  | { kind: 'ready'; rootServed: boolean }
  | { kind: 'refused'; message: string };

/** What comes back on a reply port. */
export type BridgeReply =
  /** The page took the request (the SW stops looking for another client). */
  | { kind: 'accepted' }
  | { kind: 'head'; status: number; statusText: string; headers: Array<[string, string]> }
  | { kind: 'chunk'; bytes: Uint8Array }
  | { kind: 'end' }
  /** The bridge's policy does not let this app make this request. */
  | { kind: 'refused'; status: number; message: string }
  /**
   * No root service worker serves the bridge (the root origin was never opened in this
   * browser), so there is no local chain state: the app SW goes to the network.
   */
  | { kind: 'unavailable' }
  | { kind: 'error'; message: string };

/** `<scheme>//<root host>[:port]` for an app origin's URL (the first label is the service). */
export function rootOriginOf(appUrl: URL): string {
  const dot = appUrl.hostname.indexOf('.');
  const rootHost = dot < 0 ? appUrl.hostname : appUrl.hostname.slice(dot + 1);
  return `${appUrl.protocol}//${rootHost}${appUrl.port ? `:${appUrl.port}` : ''}`;
}

/** The service an app origin belongs to (the first label of its host). */
export function serviceOfAppUrl(appUrl: URL): string {
  const dot = appUrl.hostname.indexOf('.');
  return dot < 0 ? appUrl.hostname : appUrl.hostname.slice(0, dot);
}

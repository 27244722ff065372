/// <reference lib="webworker" />
/**
 * The root origin's service worker. It precaches the shell so the node and every
 * installed app open offline, and it answers service HTTP from the chain state in
 * this browser's IndexedDB (ARCHITECTURE.md §1, §4):
 *
 *  - `/_svc/<service>/<path>?<query>` on the root origin (any method, body passed
 *    through) runs exactly as a request to `http://<service>.<root>/<path>` would: the
 *    app origins' bridge frame uses only this;
 *  - `/common/*` on the root origin, and requests from root pages to
 *    `<service>.<root>` URLs, are answered the same way;
 *  - a page's `GET /native/status` is this browser node's status (the leader's view, in
 *    the Node peer's shape); other `/native/*` and requests marked with the upstream
 *    header (the node forwarding a transaction to its peer, the dashboard asking the
 *    Node peer) go to the network;
 *  - push_transaction and push_status on transact go to the outbox (root-push.ts).
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, matchPrecache, precacheAndRoute } from 'workbox-precaching';
import { knownBody, useLazyBodies, withKnownBody } from '../src/http/known-body.ts';
import { COMMON_LIB_PATH } from '../src/http/supervisor-origin.ts';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { routeHost } from '../src/http/hosts.ts';
import { isValidAccountName } from '../src/protocol/names.ts';
import { NODE_CHANNEL } from '../src/node/browser/constants.ts';
import type { NodeMessage, NodeStatusView } from '../src/node/browser/messages.ts';
import { UPSTREAM_HEADER } from '../src/node/browser/node.ts';
import { browserNativeStatus } from '../src/node/browser/net-status.ts';
import { Outbox } from '../src/node/browser/outbox.ts';
import { PUSH_STATUS_PREFIX, PushService } from './root-push.ts';
import { ChainView } from './root-state.ts';
import { isNetworkMessage, type NetworkMessage } from '../src/node/browser/networks.ts';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

const SVC_PREFIX = '/_svc/';

/** A node status older than this is asked for again (the node sends one every second). */
const STATUS_STALE_MS = 3_000;

/** How long the view of a network no longer active stays open for the requests under way on it. */
const VIEW_CLOSE_GRACE_MS = 30_000;
/** How long a push waits to hear the node's status before deciding without it. */
const STATUS_ASK_MS = 500;
const rootHost = self.location.hostname;

let view: Promise<ChainView> | undefined;
const chainView = () =>
  (view ??= ChainView.open(rootHost).catch((e: unknown) => {
    view = undefined;
    throw e;
  }));
let outbox: Promise<Outbox> | undefined;
const openOutbox = () =>
  (outbox ??= Outbox.open().catch((e: unknown) => {
    outbox = undefined;
    throw e;
  }));

const channel = new BroadcastChannel(NODE_CHANNEL);
let nodeStatus: NodeStatusView | undefined;
let statusHeard: (() => void) | undefined;

/** Whether the node reaches its peer, per its latest status (asked for if none was heard). */
async function peerReachable(): Promise<boolean | undefined> {
  if (!nodeStatus || Date.now() - nodeStatus.updatedAt > STATUS_STALE_MS) {
    const heard = new Promise<void>((r) => (statusHeard = r));
    channel.postMessage({ type: 'status?' } satisfies NodeMessage);
    await Promise.race([heard, new Promise((r) => setTimeout(r, STATUS_ASK_MS))]);
  }
  return nodeStatus?.peerOnline;
}

const pushes = new PushService(openOutbox, (m) => channel.postMessage(m), peerReachable);
channel.onmessage = (e: MessageEvent<NodeMessage | NetworkMessage>) => {
  const m = e.data;
  if (isNetworkMessage(m)) {
    // Another network is active now: the next request opens its database. The same one
    // said again (a join or switch naming the active network) changes nothing.
    if (m.type === 'network') {
      const old = view;
      void old?.then(
        (v) => {
          if (v.db === m.db) return;
          if (view === old) view = undefined;
          // Requests under way finish on it first (closing it under them answered 500 "store is closed").
          setTimeout(() => void v.close(), VIEW_CLOSE_GRACE_MS);
        },
        () => undefined,
      );
    }
  } else if (m.type === 'block') void view?.then((v) => v.onBlock(m), () => undefined);
  else if (m.type === 'tx') pushes.onTx(m.record);
  else if (m.type === 'status') {
    nodeStatus = m.status;
    statusHeard?.();
  }
};

/** The service URL a request stands for, or undefined when this worker does not answer it. */
function serviceTarget(request: Request): URL | Response | undefined {
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.pathname.startsWith('/native/') || request.headers.has(UPSTREAM_HEADER)) return undefined;
  const route = routeHost(url.hostname, rootHost);
  if (route.kind === 'service') return url;
  if (route.kind !== 'root' || url.port !== self.location.port) return undefined;
  if (url.pathname.startsWith('/common/')) return url;
  if (!url.pathname.startsWith(SVC_PREFIX)) return undefined;
  const rest = url.pathname.slice(SVC_PREFIX.length);
  const slash = rest.indexOf('/');
  const service = slash < 0 ? rest : rest.slice(0, slash);
  if (service === '') return undefined;
  // Not an account name: the URL's hostname setter would silently refuse it and leave
  // the root host, routing the rest of the path there.
  if (!isValidAccountName(service)) return new Response(`no such service: ${JSON.stringify(service)}`, { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  // The URL's hostname and pathname setters cost more than parsing the URL anew.
  return new URL(`${url.protocol}//${service}.${rootHost}${url.port ? `:${url.port}` : ''}${slash < 0 ? '/' : rest.slice(slash)}${url.search}`);
}

async function answer(request: Request, target: URL): Promise<Response> {
  return streamed(await answerFromState(request, target));
}

async function answerFromState(request: Request, target: URL): Promise<Response> {
  // The app-side client of the supervisor, on every origin: from the build (precached), not a service.
  if (target.pathname === COMMON_LIB_PATH && request.method === 'GET') {
    const lib = await matchPrecache(COMMON_LIB_PATH);
    if (lib) return new Response(lib.body, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Access-Control-Allow-Origin': '*' } });
  }
  const isTransact = target.hostname === `transact.${rootHost}`;
  if (isTransact && target.pathname === '/push_transaction') return pushes.push(request);
  if (isTransact && target.pathname.startsWith(PUSH_STATUS_PREFIX) && request.method === 'GET') {
    return pushes.status(decodeURIComponent(target.pathname.slice(PUSH_STATUS_PREFIX.length)));
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  // No Host header reaches a service worker; the router takes it from the URL (with the
  // port, which services read through getSiblingUrl). The body is read once and goes
  // beside the request (known-body.ts), which the router reads: a request with a body
  // stream would have to be cloned (a stream tee, ~1 ms of a small POST) for every run
  // on a newer head (root-state.ts).
  const body = hasBody ? new Uint8Array(await request.arrayBuffer()) : undefined;
  const forwarded = new Request(target, { method: request.method, headers: request.headers });
  if (body) withKnownBody(forwarded, body);
  try {
    return await (await chainView()).handle(forwarded);
  } catch (e) {
    return new Response(`psiweb service worker: ${(e as Error).message ?? String(e)}`, { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  }
}

const encoder = new TextEncoder();

// Bodies psiweb makes stay bytes or strings (LazyBodyResponse) until streamed() below
// makes the response respondWith gets: building a body stream that is never read costs
// about as much as building the one sent. Every answer goes through streamed().
useLazyBodies();

/**
 * A response whose body psiweb made (known-body.ts) as one with a stream body. Chromium
 * hands a body made from a string or bytes to the page as a blob, registered with the
 * browser's blob registry on every response (BlobRegistry::Register, ~0.8 ms of a small
 * reply under load), and a stream body through a data pipe, which costs less.
 */
function streamed(response: Response): Response {
  const known = knownBody(response);
  if (known === undefined || response.bodyUsed) return response;
  const bytes = typeof known === 'string' ? encoder.encode(known) : known;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      if (bytes.length > 0) c.enqueue(bytes);
      c.close();
    },
  });
  return new Response(body as ReadableStream<Uint8Array<ArrayBuffer>>, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * A page's `GET /native/status` on the root origin: this browser node's status in the Node
 * peer's shape (net-status.ts), from the leader's latest status view. The node's own
 * requests (its worker, the upstream header) and a page when no node status is heard
 * go to the Node peer.
 */
async function nativeStatus(event: FetchEvent): Promise<Response> {
  const client = event.clientId ? await self.clients.get(event.clientId) : undefined;
  if (client?.type === 'window') {
    await peerReachable();
    if (nodeStatus) {
      return new Response(JSON.stringify(browserNativeStatus(nodeStatus)), {
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'x-psiweb-answered-by': 'browser-node' },
      });
    }
  }
  return fetch(event.request);
}

const isOwnNativeStatus = (request: Request): boolean => {
  if (request.method !== 'GET' || request.headers.has(UPSTREAM_HEADER)) return false;
  const url = new URL(request.url);
  return url.pathname === '/native/status' && url.hostname === rootHost && url.port === self.location.port;
};

// Before workbox's listener: the first respondWith wins.
self.addEventListener('fetch', (event) => {
  if (isOwnNativeStatus(event.request)) {
    event.respondWith(nativeStatus(event));
    event.stopImmediatePropagation();
    return;
  }
  const target = serviceTarget(event.request);
  if (!target) return;
  event.respondWith(target instanceof Response ? target : answer(event.request, target));
  // Answered: workbox's listener need not look for a route of its own.
  event.stopImmediatePropagation();
});

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/_svc\//, /^\/native\//, /^\/common\//] }));

// A first visit: the page that installed this worker gets service HTTP at once. Later
// workers only activate when the user accepts the update, so claiming is safe then too.
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  // Sent by the page when the user accepts "update available", after the node paused
  // at a block boundary (src/ui/update-prompt.ts), so no block is cut in half.
  if (event.data?.type === 'SKIP_WAITING') void self.skipWaiting();
});

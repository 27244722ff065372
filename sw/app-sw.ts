/// <reference lib="webworker" />
/**
 * The app origin's service worker (`/app-sw.js` on every `<service>.<root>`): a thin
 * proxy. The app's requests — pages, scripts, styles, API calls of any method, and
 * calls to other services' hosts — are answered by the root origin through a page's
 * bridge frame (protocol: bridge-protocol.ts), so they come from the browser's own
 * chain state, online or offline. It keeps nothing in memory between events (a
 * service worker is killed when idle) and nothing on disk: the loader page and the
 * bridge client script are compiled into this file, so installing the worker is
 * what makes them available offline.
 */
import {
  APP_CLIENT_PATH,
  rootOriginOf,
  serviceOfAppUrl,
  type BridgeFetchFromWorker,
  type BridgeReply,
  type BridgeRequest,
} from './bridge-protocol.ts';
import { injectIntoHtml } from '../src/http/html-inject.ts';

declare const self: ServiceWorkerGlobalScope;
/** The bridge client (src/ui/loader-app-client.ts), bundled at build time. */
declare const __PSIWEB_APP_CLIENT__: string;
/** The loader page (src/ui/loader.ts inlined into HTML), bundled at build time. */
declare const __PSIWEB_APP_LOADER__: string;

/**
 * How long a page may take to take a request before the next page is asked. A page
 * takes it at once from its message handler; one that does not has no bridge client
 * (its scripts failed, or it is frozen in the background).
 */
const ACCEPT_TIMEOUT_MS = 2_000;

/** How long an accepted request may take to start answering (a cold root node). */
const HEAD_TIMEOUT_MS = 30_000;

const here = new URL(self.location.href);
const rootOrigin = rootOriginOf(here);
const rootHost = new URL(rootOrigin).hostname;
const ownService = serviceOfAppUrl(here);

self.addEventListener('install', () => {
  // The worker holds no state and speaks the same bridge protocol as the pages it
  // injects into, so a new version can take over at once.
  void self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  // The first visit's loader waits for this to control it before it reloads.
  event.waitUntil(self.clients.claim());
});

/** The service a URL's host belongs to, or undefined when it is not one of this root's apps. */
function serviceOf(url: URL): string | undefined {
  if (url.origin === here.origin) return ownService;
  if (url.protocol !== here.protocol || url.port !== here.port) return undefined;
  if (!url.hostname.endsWith(`.${rootHost}`)) return undefined;
  const name = url.hostname.slice(0, -rootHost.length - 1);
  return name.includes('.') ? undefined : name;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin === here.origin && url.pathname === APP_CLIENT_PATH) {
    event.respondWith(new Response(__PSIWEB_APP_CLIENT__, { headers: { 'Content-Type': 'text/javascript; charset=utf-8' } }));
    return;
  }
  const service = serviceOf(url);
  // The root origin and other sites are not ours to answer.
  if (service === undefined) return;
  if (request.mode === 'navigate') {
    if (url.origin === here.origin) event.respondWith(navigate(event));
    return;
  }
  event.respondWith(subresource(event, service, url));
});

async function toBridgeRequest(request: Request, service: string, url: URL): Promise<BridgeRequest> {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const body = hasBody ? await request.arrayBuffer() : null;
  return { service, target: url.pathname + url.search, method: request.method, headers: [...request.headers], body: body && body.byteLength > 0 ? body : null };
}

type Outcome = { kind: 'response'; response: Response } | { kind: 'unavailable' } | { kind: 'no-client' };

/**
 * Asks `client` to pass `request` to its bridge. Undefined when it does not take the
 * request in time; otherwise the outcome once the head (or a refusal) arrives.
 */
function ask(client: Client, request: BridgeRequest): Promise<Outcome | undefined> {
  const channel = new MessageChannel();
  const port = channel.port1;
  return new Promise<Outcome | undefined>((resolve) => {
    let accepted = false;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    const timer = setTimeout(() => {
      port.close();
      resolve(accepted ? { kind: 'response', response: errorResponse(504, 'the root origin did not answer in time') } : undefined);
    }, ACCEPT_TIMEOUT_MS);
    port.onmessage = (e: MessageEvent<BridgeReply>) => {
      const m = e.data;
      switch (m.kind) {
        case 'accepted':
          accepted = true;
          clearTimeout(timer);
          setTimeout(() => {
            if (controller === undefined) {
              port.close();
              resolve({ kind: 'response', response: errorResponse(504, 'the root origin did not answer in time') });
            }
          }, HEAD_TIMEOUT_MS);
          return;
        case 'head': {
          clearTimeout(timer);
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              controller = c;
            },
            cancel() {
              port.close();
            },
          });
          const nullBody = m.status === 204 || m.status === 205 || m.status === 304 || request.method === 'HEAD';
          resolve({ kind: 'response', response: new Response(nullBody ? null : body, { status: m.status, statusText: m.statusText, headers: m.headers }) });
          if (nullBody) controller?.close();
          return;
        }
        case 'chunk':
          controller?.enqueue(m.bytes);
          return;
        case 'end':
          controller?.close();
          port.close();
          return;
        case 'error':
          clearTimeout(timer);
          if (controller) controller.error(new Error(m.message));
          else resolve({ kind: 'response', response: errorResponse(502, m.message) });
          port.close();
          return;
        case 'refused':
          clearTimeout(timer);
          resolve({ kind: 'response', response: errorResponse(m.status, m.message) });
          port.close();
          return;
        case 'unavailable':
          clearTimeout(timer);
          resolve({ kind: 'unavailable' });
          port.close();
          return;
      }
    };
    const message: BridgeFetchFromWorker = { type: 'psiweb-fetch', request };
    // The body is copied, not transferred: the next client may need it if this one
    // never takes the request.
    client.postMessage(message, [channel.port2]);
  });
}

/** Tries `clients` in order until one takes the request. */
async function viaClients(clients: readonly Client[], request: BridgeRequest): Promise<Outcome> {
  for (const client of clients) {
    const outcome = await ask(client, request);
    if (outcome) return outcome;
  }
  return { kind: 'no-client' };
}

/** This origin's pages, the requesting one first (its bridge is already connecting). */
async function windowClients(first: string | undefined, exclude: string | undefined): Promise<Client[]> {
  const all = (await self.clients.matchAll({ type: 'window' })).filter((c) => c.id !== exclude);
  const own = all.find((c) => c.id === first);
  return own ? [own, ...all.filter((c) => c !== own)] : all;
}

async function subresource(event: FetchEvent, service: string, url: URL): Promise<Response> {
  // Read the body before anything else: the network fallback below needs it too.
  const fallback = event.request.clone();
  const request = await toBridgeRequest(event.request, service, url);
  const outcome = await viaClients(await windowClients(event.clientId, undefined), request);
  if (outcome.kind === 'response') return outcome.response;
  // No local chain state (the root origin was never opened here) or no page to ask
  // (a request from a worker with every page closed): the network answers.
  return fetch(fallback).catch(() => errorResponse(503, 'offline, and this app is not available from local state'));
}

async function navigate(event: FetchEvent): Promise<Response> {
  const url = new URL(event.request.url);
  const fallback = event.request.clone();
  const request = await toBridgeRequest(event.request, ownService, url);
  const outcome = await viaClients(await windowClients(undefined, event.resultingClientId), request);
  if (outcome.kind === 'no-client') return htmlResponse(__PSIWEB_APP_LOADER__);
  let response: Response;
  if (outcome.kind === 'response') {
    response = outcome.response;
  } else {
    try {
      response = await fetch(fallback);
    } catch {
      return htmlResponse(OFFLINE_PAGE, 503);
    }
  }
  return withClientScript(response);
}

/** The app's page with the bridge client as the first thing it runs. */
async function withClientScript(response: Response): Promise<Response> {
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('text/html')) return response;
  const page = injectIntoHtml(new Uint8Array(await response.arrayBuffer()), contentType, `<script src="${APP_CLIENT_PATH}"></script>`);
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.set('content-type', page.contentType);
  return new Response(page.html, { status: response.status, statusText: response.statusText, headers });
}

function htmlResponse(html: string, status = 200): Response {
  return new Response(html, { status, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' } });
}

function errorResponse(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

const OFFLINE_PAGE = `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Offline</title><p style="font:16px system-ui,sans-serif;padding:1em">This app has no local copy yet: open it once while online.</p>`;

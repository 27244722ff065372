/// <reference lib="webworker" />
/**
 * The supervisor origin's service worker (`/supervisor-sw.js` on `supervisor.<root>`,
 * registered by src/supervisor/main.ts). It makes the supervisor open offline, as the
 * root and app origins do: the supervisor page, the prompt page and the scripts they
 * load at once are precached when it installs (the list is compiled into this file by
 * vite.config.ts, so a new build is a new worker), and the scripts they load later
 * (jco, for a plugin never transpiled here) are kept the first time they are fetched.
 *
 * Plugins themselves are not its business: the page fetches `<service>.<root>/plugin.wasm`
 * over the network and, when that fails, from the browser's own node through the root
 * origin's bridge (src/supervisor/plugin-fetch.ts); their transpiled form is in the
 * page's IndexedDB (cache.ts). Requests to other origins pass through untouched.
 */

export {};
declare const self: ServiceWorkerGlobalScope;

/** What vite.config.ts compiles in: the build's version and the files to keep. */
declare const __PSIWEB_SUPERVISOR_BUILD__: {
  /** A hash of the precached files and of every file name below. */
  version: string;
  /** Paths fetched and stored on install: the pages and what they import statically. */
  precache: string[];
  /** Paths the pages may load later (dynamic imports, wasm): kept when first fetched. */
  runtime: string[];
};

const BUILD = __PSIWEB_SUPERVISOR_BUILD__;
const CACHE_PREFIX = 'psiweb-supervisor-';
const CACHE = `${CACHE_PREFIX}${BUILD.version}`;
const precached = new Set(BUILD.precache);
const runtime = new Set(BUILD.runtime);

/** The build file a path of this origin stands for (as src/http/supervisor-origin.ts maps it). */
function fileOf(pathname: string): string {
  return pathname === '/' || pathname === '/index.html' ? '/supervisor.html' : pathname;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // Pages bypass the HTTP cache (they are not content-hashed); assets are immutable.
      await cache.addAll(BUILD.precache.map((p) => new Request(p, p.endsWith('.html') ? { cache: 'reload' } : {})));
      // The supervisor holds nothing between page loads: a new build can take over at once.
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const file = fileOf(url.pathname);
  if (precached.has(file)) event.respondWith(fromPrecache(request, file));
  else if (runtime.has(file)) event.respondWith(keptOnFirstUse(request, file));
});

async function fromPrecache(request: Request, file: string): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(file);
  if (hit) return hit;
  // Evicted, or the install is still under way: the network, kept for next time.
  const response = await fetch(request);
  if (response.ok && request.mode !== 'navigate') await cache.put(file, response.clone());
  return response;
}

async function keptOnFirstUse(request: Request, file: string): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(file);
  if (hit) return hit;
  const response = await fetch(request);
  // Content-hashed names: what is stored under one never changes.
  if (response.ok && response.type === 'basic') await cache.put(file, response.clone());
  return response;
}

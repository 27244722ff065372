/**
 * Browser tests of the app origins (sw/app-sw.ts, the bridge, the loader) against the
 * production build served by a devnet Node peer.
 *
 * `fakeRoot: true` replaces the root service worker with a stand-in that keeps the
 * contract the app side relies on — `fetch('/_svc/<service>/<target>')` on the root
 * origin answers as `http://<service>.<root>/<target>` would — by asking the Node peer
 * (through a `/_svc/` rewrite in front of its router, which the real peer does not
 * have) and remembering GET answers for offline use. It lets the app side be tested
 * alone; `fakeRoot: false` runs against the real root service worker.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ROOT_HOST, MAX_BODY_BYTES } from '../../src/http/constants.ts';
import { createHttpServer } from '../../src/node/http-server.ts';
import { startPeer, type Peer } from '../../src/node/peer.ts';
import type { BrowserContext, Page } from 'playwright-core';
import { DIST_DIR, ensureProductionBuild } from './devnet.ts';

export interface AppPeer {
  /** The root origin, `http://psiweb.localhost:<port>`. */
  url: string;
  port: number;
  rootHost: string;
  /** `http://<service>.psiweb.localhost:<port>`. */
  appUrl(service: string): string;
  peer: Peer;
  /** The build being served (a private copy with ownDist or fakeRoot). */
  distDir: string;
  /** `host path` of every request the pages sent to the server, oldest first. */
  requests: string[];
  /** Stops serving (the peer and its HTTP); the data stays until dispose. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/** The stand-in root service worker (plain JS, served as /root-sw.js). */
const FAKE_ROOT_SW = `
const CACHE = 'fake-root';
self.addEventListener('install', (e) => { e.waitUntil(caches.open(CACHE).then((c) => c.addAll(['/bridge.html']))); self.skipWaiting(); });
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== location.origin) return;
  if (url.pathname === '/bridge.html') {
    e.respondWith(caches.match('/bridge.html').then((r) => r ?? fetch(e.request)));
    return;
  }
  if (!url.pathname.startsWith('/_svc/')) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const r = await fetch(e.request);
      if (e.request.method === 'GET' && r.ok) await cache.put(e.request, r.clone());
      return r;
    } catch (err) {
      const hit = e.request.method === 'GET' ? await cache.match(e.request) : undefined;
      if (hit) return hit;
      throw err;
    }
  })());
});
`;

/** `/_svc/<service>/<target>` on the root host → `<service>.<root>/<target>` (the fake's backend). */
function svcRewrite(request: Request, rootHost: string): Request {
  const url = new URL(request.url);
  const m = /^\/_svc\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (url.hostname !== rootHost || !m) return request;
  const target = new URL(`${url.protocol}//${m[1]}.${rootHost}${url.port ? `:${url.port}` : ''}${m[2] ?? '/'}${url.search}`);
  const headers = new Headers(request.headers);
  headers.set('host', target.host);
  // What the fake answers is the service's content, never the first-visit loader.
  headers.delete('sec-fetch-mode');
  headers.delete('sec-fetch-dest');
  return new Request(target, { method: request.method, headers, body: request.body, duplex: 'half' } as RequestInit);
}

export interface AppPeerOptions {
  fakeRoot: boolean;
  /** Serve a copy of dist/ (AppPeer.distDir) that the test may change, e.g. to ship an update. */
  ownDist?: boolean;
  port?: number;
}

export async function startAppPeer(options: AppPeerOptions): Promise<AppPeer> {
  await ensureProductionBuild();
  const rootHost = DEFAULT_ROOT_HOST;
  const dataDir = mkdtempSync(join(tmpdir(), 'psiweb-app-'));
  let distDir = DIST_DIR;
  if (options.fakeRoot || options.ownDist) {
    distDir = join(dataDir, 'dist');
    cpSync(DIST_DIR, distDir, { recursive: true });
    if (options.fakeRoot) writeFileSync(join(distDir, 'root-sw.js'), FAKE_ROOT_SW);
  }
  // The peer's own listener is not used by the pages; this one (with the fake's
  // rewrite when asked for) is.
  const peer = await startPeer({ dataDir: join(dataDir, 'chain'), port: 0, rootHost, distDir, log: () => undefined });
  const requests: string[] = [];
  const server: Server = createHttpServer(
    (r) => {
      const url = new URL(r.url);
      requests.push(`${url.host} ${url.pathname}`);
      return peer.router.handle(options.fakeRoot ? svcRewrite(r, rootHost) : r);
    },
    { maxBodyBytes: MAX_BODY_BYTES },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await peer.close();
    })());
  return {
    url: `http://${rootHost}:${port}`,
    port,
    rootHost,
    appUrl: (service) => `http://${service}.${rootHost}:${port}`,
    peer,
    distDir,
    requests,
    stop,
    async dispose() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the root origin once in `context` (installing the root service worker and, with
 * the real one, starting the in-page node) and waits until the root origin answers
 * `service`'s `probe` from local state. Returns the root page, left open: with the real
 * root, it is the tab that runs the node.
 */
export async function primeRoot(context: BrowserContext, peer: AppPeer, probe = '/_svc/tokens/balances/alice'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(peer.url);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const state = await page.evaluate(async (path) => {
        // The root worker controls pages loaded after it activated.
        if (!navigator.serviceWorker.controller) return (await navigator.serviceWorker.ready, 'uncontrolled');
        const r = await fetch(path).catch(() => undefined);
        return r?.ok === true && (r.headers.get('content-type') ?? '').includes('json') ? 'ready' : 'syncing';
      }, probe);
      if (state === 'ready') break;
      if (state === 'uncontrolled' && !(await page.evaluate(() => navigator.serviceWorker.controller !== null))) await page.reload();
    } catch (e) {
      // The dashboard reloads itself when a new root worker takes over.
      if (!/destroyed|navigat/i.test((e as Error).message)) throw e;
    }
    if (Date.now() > deadline) throw new Error(`the root origin did not answer ${probe} from local state within 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return page;
}

/** Asks the tokens UI for an account's balance and returns what it shows. */
export async function showBalance(page: Page, account: string): Promise<string> {
  // The form is in the page before app.js (a module, so deferred) gives it its handler;
  // a click before that submits natively and reloads the page with nothing shown.
  await page.locator('html[data-interactive]').waitFor({ state: 'attached' });
  await page.fill('#lookup input[name=account]', account);
  await page.click('#lookup button');
  const shown = page.locator('#balance');
  try {
    await shown.filter({ hasText: /./ }).waitFor();
  } catch (e) {
    throw new Error(`no balance shown for ${account} at ${page.url()}: ${(e as Error).message}`);
  }
  return (await shown.textContent()) ?? '';
}

/**
 * App origins end to end (production build, devnet Node peer): the first visit's loader
 * installs the app service worker; afterwards the tokens app's page, scripts and API
 * calls come through the bridge from the root origin with no request reaching the
 * server, and offline with the peer stopped. Also the isolation the app origins exist
 * for: an app sees neither the root's storage nor another app's, and only app origins
 * of this root can use the bridge.
 *
 * PSIWEB_APP_ROOT=fake runs the app side against the stand-in root worker of
 * app-harness.ts instead of the real one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { primeRoot, showBalance, startAppPeer, type AppPeer } from './app-harness.ts';
import { launchChromium } from './chromium.ts';

const FAKE_ROOT = process.env.PSIWEB_APP_ROOT === 'fake';

describe('app origins', () => {
  let peer: AppPeer;
  let browser: Browser;
  let context: BrowserContext;
  let root: Page;
  let app: Page;
  let foreign: Server | undefined;

  beforeAll(async () => {
    peer = await startAppPeer({ fakeRoot: FAKE_ROOT });
    browser = await launchChromium();
    context = await browser.newContext();
    root = await primeRoot(context, peer);
  }, 180_000);

  afterAll(async () => {
    foreign?.close();
    await browser?.close();
    await peer?.dispose();
  });

  it('first visit: the loader installs the app worker, which serves the app through the bridge', async () => {
    app = await context.newPage();
    await app.goto(peer.appUrl('tokens'));
    await app.locator('#lookup').waitFor();
    const facts = await app.evaluate(() => ({
      controller: navigator.serviceWorker.controller?.scriptURL,
      bridges: [...document.querySelectorAll('iframe[data-psiweb-bridge]')].map((f) => (f as HTMLIFrameElement).src),
    }));
    expect(facts.controller).toBe(`${peer.appUrl('tokens')}/app-sw.js`);
    expect(facts.bridges).toEqual([`${peer.url}/bridge.html`]);
    expect(await showBalance(app, 'alice')).toBe('alice: 500000');
  });

  it('after the first visit no request of the app reaches the server', async () => {
    peer.requests.length = 0;
    await app.reload();
    await app.locator('#lookup').waitFor();
    expect(await showBalance(app, 'bob')).toBe('bob: 500000');
    // POSTs too: the UI's pack endpoint, answered by the tokens service from local state.
    const packed = await app.evaluate(async () => {
      const r = await fetch('/pack_action/transfer', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: 'bob', amount: '1', memo: '' }) });
      return { status: r.status, bytes: (await r.arrayBuffer()).byteLength };
    });
    expect(packed.status).toBe(200);
    expect(packed.bytes).toBeGreaterThan(8);
    expect(peer.requests.filter((r) => r.startsWith('tokens.'))).toEqual([]);
  });

  it("lets an app read other services but not write to their endpoints", async () => {
    const result = await app.evaluate(async (accounts) => {
      const read = await fetch(`${accounts}/common/chainid`);
      const write = await fetch(`${accounts}/anything`, { method: 'POST', body: 'x' });
      return { read: read.status, chainId: await read.json(), write: write.status, why: await write.text() };
    }, peer.appUrl('accounts'));
    expect(result.read).toBe(200);
    expect(result.chainId).toMatch(/^[0-9A-F]{64}$/);
    expect(result.write).toBe(403);
    expect(result.why).toContain('may not POST /anything of the service accounts');
  });

  it("an app's script sees none of the root's storage", async () => {
    // Make sure the root has something of each kind to find.
    const rootNames = await root.evaluate(async () => {
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('psiweb-isolation-probe', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('secrets').put('root-secret', 'key');
        open.onsuccess = () => (open.result.close(), resolve());
        open.onerror = () => reject(open.error);
      });
      localStorage.setItem('psiweb-isolation-probe', 'root-secret');
      return { dbs: (await indexedDB.databases()).map((d) => d.name!), caches: await caches.keys() };
    });
    expect(rootNames.dbs).toContain('psiweb-isolation-probe');
    expect(rootNames.caches.length).toBeGreaterThan(0);

    const seen = await app.evaluate(async (names) => {
      const stores: Record<string, string[]> = {};
      for (const name of names.dbs) {
        stores[name] = await new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open(name);
          open.onsuccess = () => {
            const list = [...open.result.objectStoreNames];
            open.result.close();
            indexedDB.deleteDatabase(name);
            resolve(list);
          };
          open.onerror = () => reject(open.error);
        });
      }
      let frameStorage: string;
      try {
        frameStorage = String((document.querySelector('iframe[data-psiweb-bridge]') as HTMLIFrameElement).contentWindow!.localStorage);
      } catch (e) {
        frameStorage = (e as Error).name;
      }
      return {
        origin: location.origin,
        dbs: (await indexedDB.databases()).map((d) => d.name),
        stores,
        caches: await caches.keys(),
        local: localStorage.getItem('psiweb-isolation-probe'),
        frameStorage,
      };
    }, rootNames);
    expect(seen.origin).toBe(peer.appUrl('tokens'));
    // Opening a root database's name from the app creates an empty one of the app's own.
    for (const name of rootNames.dbs) expect(seen.stores[name]).toEqual([]);
    for (const name of rootNames.caches) expect(seen.caches).not.toContain(name);
    expect(seen.local).toBeNull();
    expect(seen.frameStorage).toBe('SecurityError');
  });

  it("an app's script sees none of another app's storage", async () => {
    await app.evaluate(async () => {
      localStorage.setItem('tokens-private', 'x');
      await new Promise<void>((resolve) => {
        const open = indexedDB.open('tokens-private', 1);
        open.onsuccess = () => (open.result.close(), resolve());
      });
    });
    const other = await context.newPage();
    // The worker script is a plain file on every app host: a page of that origin that
    // is not an app, so nothing of the app side runs in it.
    await other.goto(`${peer.appUrl('accounts')}/app-sw.js`);
    const seen = await other.evaluate(async () => ({
      origin: location.origin,
      dbs: (await indexedDB.databases()).map((d) => d.name),
      local: localStorage.getItem('tokens-private'),
    }));
    await other.close();
    expect(seen.origin).toBe(peer.appUrl('accounts'));
    expect(seen.dbs).not.toContain('tokens-private');
    expect(seen.local).toBeNull();
  });

  it('only app origins of this root can use the bridge', async () => {
    // A page of another origin embedding the bridge: another site, and the app's own
    // host name on another port.
    foreign = createServer((_, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>foreign</title>');
    });
    await new Promise<void>((resolve) => foreign!.listen(0, '127.0.0.1', resolve));
    const port = (foreign.address() as AddressInfo).port;
    const page = await context.newPage();
    const attempt = async (url: string) => {
      await page.goto(url);
      return page.evaluate(async (bridgeUrl) => {
        const frame = document.createElement('iframe');
        frame.src = bridgeUrl;
        document.body.append(frame);
        await new Promise((r) => frame.addEventListener('load', r));
        const channel = new MessageChannel();
        const hello = new Promise<unknown>((resolve) => {
          channel.port1.onmessage = (e) => resolve(e.data);
          setTimeout(() => resolve('no answer'), 3000);
        });
        frame.contentWindow!.postMessage({ type: 'psiweb-bridge-connect' }, '*', [channel.port2]);
        const answer = await hello;
        // And a request sent anyway gets nothing back.
        const reply = new MessageChannel();
        const got = new Promise<unknown>((resolve) => {
          reply.port1.onmessage = (e) => resolve(e.data);
          setTimeout(() => resolve('no answer'), 1000);
        });
        channel.port1.postMessage({ kind: 'fetch', request: { service: 'tokens', target: '/balances/alice', method: 'GET', headers: [], body: null } }, [reply.port2]);
        return { answer, request: await got };
      }, `${peer.url}/bridge.html`);
    };
    for (const url of [`http://127.0.0.1:${port}/`, `http://tokens.psiweb.localhost:${port}/`]) {
      const { answer, request } = await attempt(url);
      expect(answer).toMatchObject({ kind: 'refused' });
      expect(request).toBe('no answer');
    }
    await page.close();
  });

  it('loads offline with the peer stopped, from local state', async () => {
    await context.setOffline(true);
    await peer.stop();
    await app.reload();
    await app.locator('#lookup').waitFor();
    expect(await showBalance(app, 'alice')).toBe('alice: 500000');
    // A new tab: no page of the app holds a bridge until it loads, so the loader does.
    const fresh = await context.newPage();
    await app.close();
    await fresh.goto(peer.appUrl('tokens'));
    await fresh.locator('#lookup').waitFor();
    expect(await showBalance(fresh, 'bob')).toBe('bob: 500000');
  });
});

/**
 * Browsers as peers, for a test file: one Chromium, a devnet Node peer (a libp2p relay),
 * and a fresh profile (its own peer) for each page opened. What each side said is kept:
 * the Node peer's log lines matching `nodeLog`, each page's console lines matching
 * `pageLog`; after a failed test (or always, with `printAlways`, its last 80 lines) they
 * are printed with each page's last `/native/status`.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, onTestFailed } from 'vitest';
import { ownStatus, openApp } from '../../src/node/browser/testing.ts';
import { launchChromium, newPeerContext } from './chromium.ts';
import { ensureProductionBuild, startDevnetPeer, type DevnetPeer } from './devnet.ts';

export interface PeerBrowsers {
  readonly browser: Browser;
  readonly peer: DevnetPeer;
  readonly pages: Page[];
  readonly log: string[];
  /** Opens `url` in a new profile (the root worker controlling it). */
  open(url: string): Promise<Page>;
  /** Prints the log after the test running now, if it fails. */
  watch(): void;
}

export function peerBrowsers(options: { nodeLog: RegExp; pageLog: RegExp; printAlways?: boolean; initScript?: { content: string } }): PeerBrowsers {
  let browser: Browser | undefined;
  let peer: DevnetPeer | undefined;
  let failed = false;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  const log: string[] = [];

  beforeAll(async () => {
    await ensureProductionBuild();
    browser = await launchChromium();
    peer = await startDevnetPeer({ log: (l) => void (options.nodeLog.test(l) && log.push(`[node] ${l}`)) });
  }, 300_000);

  afterAll(async () => {
    // What each browser saw, for a failure that only a loaded machine shows.
    if (failed) for (const [i, p] of pages.entries()) log.push(`[${i + 1}] status at the end: ${JSON.stringify(await ownStatus(p).catch((e: unknown) => String(e)))}`);
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await peer?.dispose();
    if (log.length > 0 && (failed || options.printAlways)) console.log(log.slice(failed || process.env.PSIWEB_FULL_LOG ? 0 : -80).join('\n'));
  });

  return {
    get browser() {
      return browser!;
    },
    get peer() {
      return peer!;
    },
    pages,
    log,
    async open(url: string): Promise<Page> {
      const context = await newPeerContext(browser!, peer!.url);
      contexts.push(context);
      if (options.initScript) await context.addInitScript(options.initScript);
      const n = contexts.length;
      const page = await openApp(context, url);
      page.on('console', (m) => {
        if (options.pageLog.test(m.text())) log.push(`[${n}] ${m.text()}`);
      });
      pages.push(page);
      return page;
    },
    watch() {
      onTestFailed(() => {
        failed = true;
      });
    },
  };
}

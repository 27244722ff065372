/**
 * The `psiweb/playwright` fixture as an app's test uses it: imported by its package
 * name, its `devnet` and `page` fixtures run exactly as Playwright's runner would call
 * them. The app under test is psiweb's example counter service with a small UI from
 * sites; the test pushes, reads the UI, goes offline and still reads, comes back
 * online and sees a new write.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appActions, psiwebFixtures, startDevnet, type AppDevnet, type AppSpec, type PsiwebOptions } from 'psiweb/playwright';
import { fetchNode } from '../src/node/client.ts';
import { serviceWasm } from '../src/node/service-build.ts';
import { launchChromium } from './browser/chromium.ts';
import { DIST_DIR, ensureProductionBuild } from './browser/devnet.ts';

const APP: AppSpec = {
  account: 'counterapp',
  wasm: join('services', 'build', 'example.wasm'),
  files: {
    '/index.html': '<!doctype html><title>Counter</title><h1>Counter</h1><p>alice: <span id="value">…</span></p><script type="module" src="/app.js"></script>',
    '/app.js': "const r = await fetch('/counter?account=alice'); document.getElementById('value').textContent = (await r.json()).value;",
  },
};

async function shown(page: Page): Promise<string> {
  const value = page.locator('#value');
  await value.filter({ hasNotText: '…' }).waitFor({ timeout: 30_000 });
  return (await value.textContent()) ?? '';
}

beforeAll(async () => {
  await ensureProductionBuild();
  await serviceWasm('example');
}, 300_000);

describe('psiweb/playwright fixture', () => {
  it('gives a test a devnet with the app deployed and its origin open; reads offline; writes again online', async () => {
    const fixtures = psiwebFixtures();
    const psiweb: PsiwebOptions = { distDir: DIST_DIR, app: APP };
    let devnetSeen: AppDevnet | undefined;
    // As Playwright's runner gives it: one browser for the worker, a context per test.
    const browser = await launchChromium();
    try {
    await fixtures.devnet({ psiweb, browser }, async (devnet) => {
      devnetSeen = devnet;
      await fixtures.page({ devnet, psiweb }, async (page) => {
        expect(new URL(page.url()).origin).toBe(new URL(devnet.appUrl()).origin);
        expect(await shown(page)).toBe('0');
        // Stored as text/html with no charset: the app worker says UTF-8, so nothing is guessed.
        expect(await page.evaluate(() => document.characterSet)).toBe('UTF-8');

        const inc = await devnet.push('alice', 'counterapp', 'inc', '040007000000');
        expect(inc.error).toBeNull();
        expect(inc.actions[0]?.rawRetval).toBe('0700000000000000');
        await devnet.waitForSync();
        await page.reload();
        expect(await shown(page)).toBe('7');

        await devnet.offline();
        // The node is really out of reach: nothing answers on the browser's port.
        await expect(fetchNode(`${devnet.url}/native/status`, { timeoutMs: 2000 })).rejects.toThrow(/cannot reach/);
        await page.reload();
        expect(await shown(page)).toBe('7');

        await devnet.online();
        const bob = await devnet.createAccount('bobbyjones');
        const more = await devnet.push('bobbyjones', 'counterapp', 'inc', '040001000000', bob.key);
        expect(more.error).toBeNull();
        expect((await devnet.push('alice', 'counterapp', 'inc', '040002000000')).error).toBeNull();
        await devnet.waitForSync();
        await page.reload();
        expect(await shown(page)).toBe('9');
        const before = await devnet.head();
        expect(await devnet.waitForBlock(2)).toBeGreaterThanOrEqual(before + 2);
      });
    });
    // Closed after the test: the peer's port answers nothing; the worker's browser stays.
    await expect(fetchNode(`${devnetSeen!.peer.url}/native/status`, { timeoutMs: 2000 })).rejects.toThrow(/cannot reach/);
    expect(browser.isConnected()).toBe(true);
    expect(browser.contexts()).toHaveLength(0);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it('refuses what cannot work with a clear error', async () => {
    await expect(startDevnet({ distDir: join('test', 'fixtures') })).rejects.toThrow(/is not psiweb's PWA build \(no index\.html\): run `npm run build`/);
    await expect(appActions({ account: 'Not A Name' })).rejects.toThrow(/app\.account must be an account name/);
    await expect(appActions({ account: 'counterapp', files: { '/x.unknownext': 'x' } })).rejects.toThrow(/unknown content type of \/x\.unknownext/);
  });
});

/**
 * The supervisor offline (issue 10, the PWA's offline mode), in Chromium on the
 * production build: an app that called its plugin once keeps calling it with the
 * network gone (browser context offline, the Node peer's front server stopped). The
 * supervisor frame and the prompt and management pages come from the supervisor
 * origin's service worker (sw/supervisor-sw.ts); the plugin's bytes come from the
 * browser's own node through the root origin's bridge (plugin-fetch.ts), and its
 * transpiled form from IndexedDB; client data is read and written as online.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDevnet } from '../../playwright/devnet.ts';
import { call, GREETINGS as APP, startGreetingsDevnet, supervisorFrame, supervisorStats } from './testing/harness.ts';

let devnet: AppDevnet;
const greet = { service: APP, intf: 'api', method: 'greet', params: ['alice'] };
const g = (page: Page, method: string, params: unknown[]) => call(page, { service: APP, intf: 'api', method, params });
const pluginSource = (page: Page) => supervisorFrame(page, devnet.rootHost).evaluate(() => (globalThis as unknown as { __psiwebLastPluginSource?: string }).__psiwebLastPluginSource);

beforeAll(async () => {
  devnet = await startGreetingsDevnet();
}, 300_000);

afterAll(async () => {
  await devnet?.close();
});

describe('the supervisor offline', () => {
  it('an app that loaded its plugin once calls it offline; client data survives reload offline', async () => {
    const page = await devnet.open();
    expect(await call(page, greet)).toMatchObject({ ok: true, result: 'Hello, alice, from the greetings plugin' });
    expect(await pluginSource(page)).toBe('network');
    expect(await g(page, 'remember', ['color', 'blue'])).toMatchObject({ ok: true });
    // The supervisor origin's worker is installed (its pages precached) once it is active.
    const sw = await supervisorFrame(page, devnet.rootHost).evaluate(() =>
      Promise.race([navigator.serviceWorker.ready.then((r) => r.active?.scriptURL), new Promise((r) => setTimeout(() => r('no worker became active in 30 s'), 30_000))]),
    );
    expect(sw).toBe(`http://supervisor.${devnet.rootHost}:${devnet.port}/supervisor-sw.js`);

    await devnet.offline();
    await page.reload();
    expect(await call(page, greet)).toMatchObject({ ok: true, result: 'Hello, alice, from the greetings plugin' });
    const frame = supervisorFrame(page, devnet.rootHost);
    expect(await frame.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(sw);
    // The bytes from the browser's node, the transpiled plugin from IndexedDB.
    expect(await pluginSource(page)).toBe('local');
    expect(await supervisorStats(page, devnet.rootHost)).toMatchObject({ transpiles: 0, cacheHits: 1 });

    // Client data, read and written offline, durable across an offline reload.
    expect(await g(page, 'recall', ['color'])).toMatchObject({ ok: true, result: 'blue' });
    expect(await g(page, 'remember', ['color', 'red'])).toMatchObject({ ok: true });
    await page.reload();
    expect(await g(page, 'recall', ['color'])).toMatchObject({ ok: true, result: 'red' });

    // A plugin this browser's node does not have fails as a download failure, offline too.
    expect(await call(page, { service: 'nosuchapp', intf: 'api', method: 'greet', params: [] })).toMatchObject({
      ok: false,
      error: { name: 'PluginError', message: 'Plugin download failed.', pluginId: { service: 'nosuchapp', plugin: 'plugin' } },
    });
  }, 240_000);

  it('opens the management and prompt pages offline', async () => {
    await devnet.offline();
    const manage = await devnet.context.newPage();
    await manage.goto(`http://supervisor.${devnet.rootHost}:${devnet.port}/`);
    await manage.locator('#grants').waitFor();
    await manage.goto(`http://supervisor.${devnet.rootHost}:${devnet.port}/prompt.html?returnPath=%2F`);
    expect(await manage.locator('#allow').textContent()).toBe('Allow');
    await manage.close();
  }, 120_000);
});

/**
 * clientdata beyond LocalStorage (issue 10 §5), in Chromium on the production build:
 *  - 50 MB stored through `clientdata:plugin/keyvalue` by a plugin (testing/fixtures/bulkdata,
 *    which makes and checks the values itself, so they need not cross postMessage), in
 *    IndexedDB before each call answers, read back whole after a reload;
 *  - a user's plugin data exported to a file from the supervisor's management page in
 *    one browser context and imported in a fresh one (another device), where the plugin
 *    reads it; a damaged or foreign file is refused with a clear message and changes nothing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDevnet } from '../../playwright/devnet.ts';
import { buildPlugin, pluginWasmPath } from '../../scripts/build-plugins.ts';
import { call, GREETINGS as APP, pluginApp, startGreetingsDevnet, supervisorFrame } from './testing/harness.ts';

const BULK = 'bulkdata';
const MB = 1 << 20;
let devnet: AppDevnet;

beforeAll(async () => {
  const [d] = await Promise.all([startGreetingsDevnet(), buildPlugin('test-bulkdata', join(dirname(fileURLToPath(import.meta.url)), 'testing', 'fixtures', 'bulkdata'))]);
  devnet = d;
  await devnet.deploy(pluginApp(BULK, readFileSync(pluginWasmPath('test-bulkdata'))));
  await devnet.waitForSync();
}, 600_000);

afterAll(async () => {
  await devnet?.close();
});

const bulk = (page: Page, method: string, params: unknown[]) => call(page, { service: BULK, intf: 'api', method, params });
const greetings = (page: Page, method: string, params: unknown[]) => call(page, { service: APP, intf: 'api', method, params });
const recall = async (page: Page, key: string) => {
  const r = await greetings(page, 'recall', [key]);
  expect(r.ok).toBe(true);
  return (r as { result?: unknown }).result ?? null;
};

/** An app's page in `context`, once its app service worker serves it (as the devnet's open() waits). */
async function openApp(context: BrowserContext, account: string): Promise<Page> {
  const page = await context.newPage();
  const url = devnet.appUrl(account);
  await page.goto(url);
  const sw = `${new URL(url).origin}/app-sw.js`;
  await expect
    .poll(async () => page.evaluate((s) => navigator.serviceWorker.controller?.scriptURL === s && document.readyState === 'complete', sw).catch(() => false), { timeout: 60_000 })
    .toBe(true);
  return page;
}

const manageUrl = () => `http://supervisor.${devnet.rootHost}:${devnet.port}/`;

/** Picks `file` in the management page's import input; the status line it ends with. */
async function importFile(manage: Page, name: string, content: Buffer | string): Promise<string> {
  await manage.setInputFiles('#import', { name, mimeType: 'application/json', buffer: Buffer.from(content) });
  await expect.poll(() => manage.locator('#status').textContent()).toMatch(/^(Imported|Not imported)/);
  return (await manage.locator('#status').textContent())!;
}

describe('clientdata beyond LocalStorage', () => {
  // Before the 50 MB test, whose data would otherwise be exported too.
  it("carries a user's plugin data to another browser as a file; a damaged or foreign file is refused and changes nothing", async () => {
    // This device: greetings keeps two entries.
    const here = await devnet.open();
    expect(await greetings(here, 'remember', ['color', 'purple'])).toMatchObject({ ok: true });
    expect(await greetings(here, 'remember', ['note', 'grüße, 你好 ✓'])).toMatchObject({ ok: true });
    const manageHere = await devnet.context.newPage();
    await manageHere.goto(manageUrl());
    const [download] = await Promise.all([manageHere.waitForEvent('download'), manageHere.click('#export')]);
    expect(download.suggestedFilename()).toBe('psiweb-plugin-data.json');
    const exported = readFileSync((await download.path())!, 'utf8');
    expect(await manageHere.locator('#status').textContent()).toMatch(/^Exported \d+ entries\.$/);

    // Another device: a fresh browser context, its own storage.
    const there = await devnet.browser.newContext();
    try {
      const app = await openApp(there, APP);
      expect(await recall(app, 'color')).toBeNull();
      expect(await greetings(app, 'remember', ['color', 'seed'])).toMatchObject({ ok: true });
      const manage = await there.newPage();
      await manage.goto(manageUrl());
      await manage.locator('#import').waitFor();

      // Refused whole, each with its reason: truncated, one value changed, another file, a forged grant.
      expect(await importFile(manage, 'cut.json', exported.slice(0, exported.length >> 1))).toBe('Not imported: not a psiweb plugin data file (not JSON)');
      const file = JSON.parse(exported) as { rows: { plugin: string; key: string; value: string }[] };
      const i = file.rows.findIndex((r) => r.plugin === `${APP}:plugin` && r.key === 'color');
      expect(i).toBeGreaterThanOrEqual(0);
      const changed = structuredClone(file);
      changed.rows[i]!.value = changed.rows[i]!.value.replace(/^A/, 'B');
      expect(changed.rows[i]!.value).not.toBe(file.rows[i]!.value);
      expect(await importFile(manage, 'changed.json', JSON.stringify(changed))).toBe('Not imported: the file is damaged: its checksum does not match its contents');
      expect(await importFile(manage, 'package.json', readFileSync('package.json'))).toBe('Not imported: not a psiweb plugin data file');
      const forged = { format: 'psiweb-plugin-data', version: 1, rows: [...file.rows, { plugin: 'psiweb/grants', key: `composer|${APP}`, value: Buffer.from('allow').toString('base64') }] };
      expect(await importFile(manage, 'forged.json', JSON.stringify(forged))).toMatch(/^Not imported: row \d+ writes the supervisor's own data \(psiweb\/grants\)/);
      // Nothing changed: the app's own value is still there, the file's is not.
      expect(await recall(app, 'color')).toBe('seed');
      expect(await recall(app, 'note')).toBeNull();

      // The real file: imported, and the plugin reads it there, an open app frame included.
      expect(await importFile(manage, 'psiweb-plugin-data.json', exported)).toMatch(/^Imported \d+ entries\.$/);
      expect(await recall(app, 'color')).toBe('purple');
      await app.reload();
      expect(await recall(app, 'color')).toBe('purple');
      expect(await recall(app, 'note')).toBe('grüße, 你好 ✓');
    } finally {
      await there.close();
      await manageHere.close();
      await here.close();
    }
  }, 300_000);

  it('stores 50 MB through clientdata:plugin/keyvalue and reads it all back after a reload', async () => {
    const page = await devnet.open(BULK);
    const t0 = Date.now();
    // 50 values of 1 MB, ten to a call.
    for (let first = 0; first < 50; first += 10) expect(await bulk(page, 'fill', ['v', first, 10, MB])).toMatchObject({ ok: true });
    const writeMs = Date.now() - t0;
    expect(await bulk(page, 'check', ['v', 0, 50, MB])).toMatchObject({ ok: true, result: 50 });
    // In IndexedDB (read there directly), not LocalStorage.
    const where = await supervisorFrame(page, devnet.rootHost).evaluate(
      () =>
        new Promise<{ local: boolean; rows: number; bytes: number }>((resolve, reject) => {
          const open = indexedDB.open('psiweb-clientdata');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const all = open.result.transaction('kv').objectStore('kv').getAll(IDBKeyRange.bound(['bulkdata:plugin'], ['bulkdata:plugin', []]));
            all.onerror = () => reject(all.error);
            all.onsuccess = () => {
              const rows = all.result as { value: Uint8Array }[];
              resolve({ local: Object.entries(localStorage).reduce((n, [k, v]) => n + k.length + String(v).length, 0) < 4096, rows: rows.length, bytes: rows.reduce((n, r) => n + r.value.byteLength, 0) });
              open.result.close();
            };
          };
        }),
    );
    // (LocalStorage holds less than 4 KB here, none of it the plugin's.)
    expect(where).toEqual({ local: true, rows: 50, bytes: 50 * MB });

    await page.reload();
    const t1 = Date.now();
    expect(await bulk(page, 'check', ['v', 0, 50, MB])).toMatchObject({ ok: true, result: 50 });
    const readMs = Date.now() - t1;
    // The check refuses what fill did not write: another size, values never written.
    expect(await bulk(page, 'check', ['v', 0, 50, MB - 1])).toMatchObject({ ok: true, result: 0 });
    expect(await bulk(page, 'check', ['v', 45, 10, MB])).toMatchObject({ ok: true, result: 5 });
    console.log(`clientdata: 50 × 1 MB written in ${writeMs} ms (5 calls), read back after a reload in ${readMs} ms (1 call, with the key space's load)`);
    await page.close();
  }, 300_000);
});

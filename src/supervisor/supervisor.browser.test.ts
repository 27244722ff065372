/**
 * Issue 10's first vertical slice, end to end in Chromium on the production build: an
 * app page (the `greetings` app, from sites) imports `/common/common-lib.js`, whose
 * `getSupervisor().functionCall` reaches the hidden supervisor frame at
 * `supervisor.<root>`, which fetches the app's `/plugin.wasm` (built by
 * scripts/build-plugins.ts), transpiles it with jco in the browser, instantiates it
 * and answers. A reload is warm: the transpiled plugin comes from IndexedDB (the
 * supervisor's counters say so). Failures reject with psibase's error shapes.
 * The cold and warm load times are printed (supervisor: …).
 * Then, on the same devnet (the tests run in order and share the apps they deploy):
 * composition and the seed's FIFO example, an AssemblyScript plugin, client data, the
 * cross-app prompt (Deny, Allow), and a replaced plugin picked up on the next load.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDevnet } from '../../playwright/devnet.ts';
import { buildPlugin, pluginWasmPath } from '../../scripts/build-plugins.ts';
import { builtPlugin, call, GREETINGS as APP, pluginApp, startGreetingsDevnet, supervisorStats } from './testing/harness.ts';

let devnet: AppDevnet;
const stats = (page: Page) => supervisorStats(page, devnet.rootHost);
const greet = { service: APP, intf: 'api', method: 'greet', params: ['alice'] };

beforeAll(async () => {
  devnet = await startGreetingsDevnet();
}, 300_000);

afterAll(async () => {
  await devnet?.close();
});

describe('supervisor and plugins (issue 10, first slice)', () => {
  it('an app calls its plugin through common-lib; a reload is warm (no transpile); failures have psibase shapes', async () => {
    const page = await devnet.open();

    // Cold: download, transpile in the browser, instantiate, call.
    const cold = await call(page, greet);
    expect(cold).toMatchObject({ ok: true, result: 'Hello, alice, from the greetings plugin' });
    const coldStats = await stats(page);
    expect(coldStats.transpiles).toBe(1);
    expect(coldStats.cacheHits).toBe(0);
    const coldLoad = coldStats.loads[0]!;
    expect(coldLoad).toMatchObject({ plugin: 'greetings:plugin', cached: false });
    expect(coldLoad.transpileMs).toBeGreaterThan(0);
    const coldInst = coldStats.instantiateMs['greetings:plugin']!;

    // The host's client interface: the app is the sender and the active app.
    expect(await call(page, { service: APP, intf: 'api', method: 'caller', params: [] })).toMatchObject({ ok: true, result: 'greetings -> greetings (active app greetings)' });

    // Failures, as psibase's common-lib rejects them.
    expect(await call(page, { service: APP, intf: 'api', method: 'nope', params: [] })).toMatchObject({
      ok: false,
      error: { name: 'PluginError', message: 'Unrecognized call: api:nope', pluginId: { service: APP, plugin: 'plugin' } },
    });
    expect(await call(page, { service: APP, intf: 'nointf', method: 'greet', params: [] })).toMatchObject({ ok: false, error: { name: 'PluginError', message: 'Unrecognized call: nointf:greet' } });
    expect(await call(page, { service: 'nosuchapp', intf: 'api', method: 'greet', params: [] })).toMatchObject({
      ok: false,
      error: { name: 'PluginError', message: expect.stringMatching(/^Plugin download failed/), pluginId: { service: 'nosuchapp', plugin: 'plugin' } },
    });
    // A plugin's own error record (result err): its producer and message.
    expect(await call(page, { service: APP, intf: 'api', method: 'fail', params: ['boom'] })).toMatchObject({
      ok: false,
      error: { name: 'PluginError', message: 'boom', pluginId: { service: APP, plugin: 'plugin' } },
    });
    // host:common/server reaches the plugin's own service only (synchronous XHR, as psibase does).
    expect(await call(page, { service: APP, intf: 'api', method: 'ownGet', params: ['/index.html'] })).toMatchObject({ ok: true, result: expect.stringContaining('<title>app</title>') });
    expect(await call(page, { service: APP, intf: 'api', method: 'ownGet', params: ['/missing.json'] })).toMatchObject({
      ok: false,
      error: { name: 'PluginError', message: expect.stringMatching(/^GET \/missing.json answered 404/), pluginId: { service: 'host', plugin: 'common' } },
    });
    expect(await call(page, { service: APP, intf: 'api', method: 'ownGet', params: ['http://evil.example/x'] })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/must be a path starting with/) } });
    // An action goes into the call's FIFO, for the plugin's own service; nobody is logged in, so nothing is submitted.
    const queued = await call(page, { service: APP, intf: 'api', method: 'queue', params: ['inc'] });
    expect(queued).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'transact', plugin: 'plugin' } } });
    const afterQueue = await stats(page);
    expect(afterQueue.lastActions.map((a) => [a.service, a.method])).toEqual([[APP, 'inc']]);
    // Still one transpile: the page keeps what it loaded.
    expect(afterQueue.transpiles).toBe(1);

    // Warm: a new supervisor frame finds the transpiled plugin in IndexedDB.
    await page.reload();
    const warm = await call(page, greet);
    expect(warm).toMatchObject({ ok: true, result: 'Hello, alice, from the greetings plugin' });
    const warmStats = await stats(page);
    expect(warmStats.transpiles).toBe(0);
    expect(warmStats.cacheHits).toBe(1);
    const warmLoad = warmStats.loads[0]!;
    expect(warmLoad.cached).toBe(true);
    const warmInst = warmStats.instantiateMs['greetings:plugin']!;

    const f = (n: number) => n.toFixed(1);
    const line = (what: string, l: typeof coldLoad, inst: number, e2e: number) =>
      `supervisor: ${what} load of ${l.plugin} (${l.bytes} bytes): ${f(l.totalMs + inst)} ms; steps, some overlapping: fetch ${f(l.fetchMs)}, hash ${f(l.hashMs)}, transpile ${f(l.transpileMs)}, cache ${f(l.cacheMs)}, compile ${f(l.compileMs)}, import ${f(l.importMs)}, instantiate ${f(inst)}; first functionCall end to end ${f(e2e)} ms`;
    console.log(line('cold', coldLoad, coldInst, cold.ms));
    console.log(line('warm', warmLoad, warmInst, warm.ms));

    // preLoadPlugins answers null (psibase's reply) once the plugin is loaded.
    expect(await page.evaluate(() => (window as unknown as { preload(p: unknown): Promise<unknown> }).preload([{ service: 'greetings' }]))).toBeNull();
  }, 240_000);

  it("composes plugins synchronously: the seed's FIFO example gives actions C, A, B; the called plugin sees its caller", async () => {
    await devnet.deploy(pluginApp('composer', await builtPlugin('composer')));
    const page = await devnet.open();
    // composer.run: greetings adds c, composer adds a, greetings adds b.
    const run = await call(page, { service: 'composer', intf: 'api', method: 'run', params: [] });
    expect(run).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'transact', plugin: 'plugin' } } });
    const s = await stats(page);
    expect(s.lastActions.map((a) => [a.service, a.method])).toEqual([
      [APP, 'c'],
      ['composer', 'a'],
      [APP, 'b'],
    ]);
    // Both plugins were loaded for the call (composer imports greetings).
    expect(s.loads.map((l) => l.plugin).sort()).toEqual(['composer:plugin', 'greetings:plugin']);
    expect(await call(page, { service: 'composer', intf: 'api', method: 'greetingsCaller', params: [] })).toMatchObject({
      ok: true,
      result: 'composer -> greetings (active app greetings)',
    });
  }, 240_000);

  it('runs a tiny AssemblyScript plugin built with jco embed + jco new', async () => {
    const bytes = await builtPlugin('tinyplugin');
    expect(bytes.length).toBeLessThan(10_000);
    await devnet.deploy(pluginApp('tinyplugin', bytes));
    const page = await devnet.open();
    expect(await call(page, { service: 'tinyplugin', intf: 'api', method: 'greet', params: ['Zoë'] })).toMatchObject({ ok: true, result: 'Hello, Zoë, from the tiny plugin' });
  }, 240_000);

  // Runs after the composition test (composer is deployed) and before the replacement one.
  it("keeps each plugin's client data in its own key space, durable across a reload", async () => {
    const page = await devnet.open();
    const g = (method: string, params: unknown[]) => call(page, { service: APP, intf: 'api', method, params });
    expect(await g('remember', ['color', 'blue'])).toMatchObject({ ok: true });
    expect(await g('recall', ['color'])).toMatchObject({ ok: true, result: 'blue' });
    // composer reads its own key space, not greetings'; greetings may share through its API.
    expect(await call(page, { service: 'composer', intf: 'api', method: 'has', params: ['color'] })).toMatchObject({ ok: true, result: false });
    expect(await call(page, { service: 'composer', intf: 'api', method: 'recallViaGreetings', params: ['color'] })).toMatchObject({ ok: true, result: 'blue' });
    // Written to IndexedDB before the call was answered: a new supervisor frame reads it.
    await page.reload();
    expect(await g('recall', ['color'])).toMatchObject({ ok: true, result: 'blue' });
    expect(await g('forget', ['color'])).toMatchObject({ ok: true });
    await page.reload();
    const gone = await g('recall', ['color']);
    expect(gone.ok).toBe(true);
    expect((gone as { result?: unknown }).result ?? null).toBeNull();
  }, 240_000);

  // Runs after composer and tinyplugin are deployed.
  it('asks the user when another app reaches a guarded plugin: Deny is remembered, Allow lets calls through', async () => {
    const secret = { service: 'composer', intf: 'api', method: 'secret', params: [] };
    // composer's own app needs no prompt.
    const own = await devnet.open('composer');
    expect(await call(own, secret)).toMatchObject({ ok: true, result: 'the secret' });

    const answer = async (page: Page, button: 'Allow' | 'Deny', app: string) => {
      await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
      // common-lib sends the page to the prompt page (psibase's redirect), ending this evaluate.
      void page.evaluate((a) => (window as unknown as { call(a: unknown): Promise<unknown> }).call(a), secret).catch(() => undefined);
      await page.waitForURL(/^http:\/\/supervisor\.[^/]+\/prompt\.html\?returnPath=%2F$/);
      await expect.poll(() => page.locator('#title').textContent()).toBe(`${app} wants to use composer`);
      expect(await page.locator('#detail').textContent()).toBe(`${app} may read composer's secret`);
      await page.getByRole('button', { name: button }).click();
      await page.waitForURL(devnet.appUrl(app));
    };

    const greetings = await devnet.open();
    await answer(greetings, 'Deny', APP);
    // Denied, and remembered: no prompt again, the plugin's own error.
    expect(await call(greetings, secret)).toMatchObject({ ok: false, error: { name: 'PluginError', message: `${APP} is not allowed to read the secret`, pluginId: { service: 'composer', plugin: 'plugin' } } });

    const tiny = await devnet.open('tinyplugin');
    await answer(tiny, 'Allow', 'tinyplugin');
    expect(await call(tiny, secret)).toMatchObject({ ok: true, result: 'the secret' });
    // Each caller has its own answer: greetings stays denied.
    expect(await call(greetings, secret)).toMatchObject({ ok: false, error: { message: `${APP} is not allowed to read the secret` } });
  }, 240_000);

  // Runs after the prompt test (its two answers are the grants listed).
  it('lists grants with Revoke, and exports plugin data to a file and imports it back', async () => {
    const greetings = await devnet.open();
    const g = (method: string, params: unknown[]) => call(greetings, { service: APP, intf: 'api', method, params });
    expect(await g('remember', ['color', 'green'])).toMatchObject({ ok: true });

    const manage = await devnet.context.newPage();
    await manage.goto(`http://supervisor.${devnet.rootHost}:${devnet.port}/`);
    const rows = manage.locator('#grants tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.allTextContents()).toEqual(expect.arrayContaining([`${APP}composerdenyRevoke`, 'tinyplugincomposerallowRevoke']));

    const [download] = await Promise.all([manage.waitForEvent('download'), manage.click('#export')]);
    const exported = readFileSync((await download.path())!, 'utf8');
    const file = JSON.parse(exported) as { format: string; rows: { plugin: string; key: string; value: string }[] };
    expect(file.format).toBe('psiweb-plugin-data');
    expect(file.rows.map((r) => [r.plugin, r.key])).toEqual(expect.arrayContaining([[`${APP}:plugin`, 'color']]));
    // The supervisor's own grants are not plugin data.
    expect(file.rows.filter((r) => r.plugin.startsWith('psiweb/'))).toEqual([]);

    expect(await g('forget', ['color'])).toMatchObject({ ok: true });
    // A file that is not an export changes nothing.
    await manage.setInputFiles('#import', { name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('nope') });
    await expect.poll(() => manage.locator('#status').textContent()).toBe('Not imported: not a psiweb plugin data file (not JSON)');
    await manage.setInputFiles('#import', { name: 'psiweb-plugin-data.json', mimeType: 'application/json', buffer: Buffer.from(exported) });
    await expect.poll(() => manage.locator('#status').textContent()).toMatch(/^Imported \d+ entries\.$/);
    await greetings.reload();
    expect(await g('recall', ['color'])).toMatchObject({ ok: true, result: 'green' });

    // Revoking greetings' answer: its next call to composer's secret asks again.
    await manage.click(`button[data-grant="composer|${APP}"]`);
    await expect.poll(() => rows.count()).toBe(2);
    await greetings.reload();
    await greetings.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
    void greetings.evaluate((a) => (window as unknown as { call(a: unknown): Promise<unknown> }).call(a), { service: 'composer', intf: 'api', method: 'secret', params: [] }).catch(() => undefined);
    await greetings.waitForURL(/^http:\/\/supervisor\.[^/]+\/prompt\.html/);
    await manage.close();
  }, 240_000);

  it('picks up a service that replaced its plugin on the next load', async () => {
    await buildPlugin('test-greetings-v2', join(dirname(fileURLToPath(import.meta.url)), 'testing', 'fixtures', 'greetings-v2'));
    const page = await devnet.open();
    expect(await call(page, greet)).toMatchObject({ ok: true, result: 'Hello, alice, from the greetings plugin' });
    const v2 = readFileSync(pluginWasmPath('test-greetings-v2'));
    const stored = await devnet.push(APP, 'sites', 'storeSys', { path: '/plugin.wasm', contentType: 'application/wasm', contentEncoding: null, content: Buffer.from(v2).toString('hex') });
    expect(stored.error).toBeNull();
    await page.reload();
    expect(await call(page, greet)).toMatchObject({ ok: true, result: 'Hi, alice (greetings v2)' });
    const s = await stats(page);
    expect(s).toMatchObject({ transpiles: 1, cacheHits: 0 });
  }, 240_000);
});

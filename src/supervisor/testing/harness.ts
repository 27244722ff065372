/**
 * Shared by the supervisor's browser test and bench: a devnet with the `greetings`
 * app (a page that imports /common/common-lib.js, and the greetings plugin at
 * /plugin.wasm, built by scripts/build-plugins.ts) on the production PWA build, and
 * helpers that call through common-lib and read the supervisor frame's counters.
 */
import { readFileSync } from 'node:fs';
import type { Frame, Page } from 'playwright-core';
import { startDevnet, type AppDevnet, type AppSpec } from '../../../playwright/devnet.ts';
import { buildPlugin, listPlugins, pluginWasmPath } from '../../../scripts/build-plugins.ts';
import { DIST_DIR, ensureProductionBuild } from '../../../test/browser/devnet.ts';
import type { SupervisorStats } from '../supervisor.ts';

export const GREETINGS = 'greetings';

/** An app page that exposes `call(args)` and `preload(plugins)` through psibase's common-lib API. */
export const APP_PAGE = `<!doctype html><title>app</title><h1>app</h1>
<script type="module">
import { getSupervisor } from '/common/common-lib.js';
const supervisor = getSupervisor();
window.call = async (args) => {
  const t0 = performance.now();
  try {
    const result = await supervisor.functionCall(args);
    return { ok: true, result, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: { name: e.name, message: e.message, pluginId: e.pluginId }, ms: performance.now() - t0 };
  }
};
window.preload = (plugins) => supervisor.preLoadPlugins(plugins);
window.appReady = true;
</script>`;

export type CallOutcome =
  | { ok: true; result: unknown; ms: number }
  | { ok: false; error: { name: string; message: string; pluginId?: { service: string; plugin: string } }; ms: number };

/** Builds plugin `name` (plugins/<name>) and returns its component's bytes. */
export async function builtPlugin(name: string): Promise<Uint8Array> {
  const plugin = listPlugins().find((p) => p.name === name);
  if (!plugin) throw new Error(`no plugin ${name} under plugins/`);
  await buildPlugin(plugin.name, plugin.dir);
  return readFileSync(pluginWasmPath(name));
}

/** An app whose sites hold APP_PAGE and, when given, a plugin at /plugin.wasm. */
export function pluginApp(account: string, plugin?: Uint8Array): AppSpec {
  const files: NonNullable<AppSpec['files']> = { '/index.html': APP_PAGE };
  if (plugin) files['/plugin.wasm'] = { content: plugin, contentType: 'application/wasm' };
  return { account, files };
}

/** A devnet on the production build with the greetings app deployed. */
export async function startGreetingsDevnet(): Promise<AppDevnet> {
  const [, plugin] = await Promise.all([ensureProductionBuild(), builtPlugin(GREETINGS)]);
  return startDevnet({ distDir: DIST_DIR, app: pluginApp(GREETINGS, plugin) });
}

export async function call(page: Page, args: Record<string, unknown>): Promise<CallOutcome> {
  await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
  return page.evaluate((a) => (window as unknown as { call(a: unknown): Promise<CallOutcome> }).call(a), args);
}

export async function preload(page: Page, plugins: { service: string; plugin?: string }[]): Promise<unknown> {
  await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
  return page.evaluate((p) => (window as unknown as { preload(p: unknown): Promise<unknown> }).preload(p), plugins);
}

export function supervisorFrame(page: Page, rootHost: string): Frame {
  const frame = page.frames().find((f) => f.url().startsWith(`http://supervisor.${rootHost}:`));
  if (!frame) throw new Error('no supervisor frame');
  return frame;
}

export function supervisorStats(page: Page, rootHost: string): Promise<SupervisorStats> {
  return supervisorFrame(page, rootHost).evaluate(
    () => JSON.parse(JSON.stringify((globalThis as unknown as { __psiwebSupervisor: { stats: SupervisorStats } }).__psiwebSupervisor.stats)) as SupervisorStats,
  );
}

/** Forgets every transpiled plugin (the supervisor origin's IndexedDB cache). */
export function clearTranspileCache(page: Page, rootHost: string): Promise<void> {
  return supervisorFrame(page, rootHost).evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const r = indexedDB.deleteDatabase('psiweb-supervisor');
        r.onsuccess = () => resolve();
        r.onerror = () => reject(r.error);
        r.onblocked = () => resolve();
      }),
  );
}


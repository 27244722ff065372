/**
 * Issue 10 §6: tokens' plugin `helpers` `fetch-network-token` (psibase's
 * tokens:plugin/helpers: `func() -> result<option<u32>, error>`) answers the devnet's
 * system token, 1, called from another app's page through common-lib's functionCall
 * (Chromium, production build). It reads tokens' GraphQL `config { sysTid }` as
 * psibase's plugin does, asks the user nothing (psibase: authorized(None)) and adds no
 * action.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDevnet } from '../../playwright/devnet.ts';
import { startDevnet } from '../../playwright/devnet.ts';
import { buildPlugin, listPlugins, pluginStale } from '../../scripts/build-plugins.ts';
import { DIST_DIR, ensureProductionBuild } from '../../test/browser/devnet.ts';
import { call, pluginApp, supervisorStats } from './testing/harness.ts';

let devnet: AppDevnet;
const APP = 'walletapp';

/** The tokens plugin, built unless its component is newer than its sources (the devnet stores it at boot). */
async function tokensPlugin(): Promise<void> {
  const p = listPlugins().find((x) => x.name === 'tokens')!;
  if (pluginStale(p.name, p.dir)) await buildPlugin(p.name, p.dir);
}

beforeAll(async () => {
  await Promise.all([ensureProductionBuild(), tokensPlugin()]);
  devnet = await startDevnet({ distDir: DIST_DIR, app: pluginApp(APP) });
}, 300_000);

afterAll(async () => {
  await devnet?.close();
});

describe('tokens:plugin/helpers fetch-network-token', () => {
  it('answers the system token, 1, without a prompt or a transaction', async () => {
    const page = await devnet.open(APP);
    const r = await call(page, { service: 'tokens', intf: 'helpers', method: 'fetchNetworkToken', params: [] });
    expect(r).toMatchObject({ ok: true, result: 1 });
    // Still on the app (no prompt redirect), nothing submitted.
    expect(page.url()).toBe(devnet.appUrl(APP));
    const stats = await supervisorStats(page, devnet.rootHost);
    expect(stats.submitted).toEqual([]);
    expect(stats.lastActions).toEqual([]);
    // An interface the plugin does not export is psibase's InvalidCall, from tokens.
    expect(await call(page, { service: 'tokens', intf: 'helpers', method: 'fetchTheToken', params: [] })).toMatchObject({
      ok: false,
      error: { name: 'PluginError', pluginId: { service: 'tokens' }, message: expect.stringMatching(/Unrecognized call/) },
    });
  }, 120_000);
});

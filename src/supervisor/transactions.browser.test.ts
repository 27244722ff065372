/**
 * Issue 10 §3 end to end in Chromium on the production build: a page of an app
 * (walletapp.<root>) that uses psiweb's tokens plugin (tokens.<root>/plugin.wasm) imports alice's devnet
 * key through auth-sig keyvault import-key (a non-extractable CryptoKey in the
 * supervisor origin's IndexedDB), logs in as alice (accounts active-app login) and
 * calls tokens' `user` `credit`, whose transfer action the supervisor signs and pushes:
 * GET /balances/alice shows the tokens gone. Before the key is imported, the same call
 * rejects with psibase's PluginError from auth-sig and nothing is submitted. Without a
 * login it rejects from transact. Prints the click → trace time.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDevnet } from '../../playwright/devnet.ts';
import { devKeyPair, privateKeyToPem } from '../crypto/keys.ts';
import { devnetKey } from '../node/devnet.ts';
import { startDevnet } from '../../playwright/devnet.ts';
import { DIST_DIR, ensureProductionBuild } from '../../test/browser/devnet.ts';
import { builtPlugin, call, pluginApp, supervisorStats } from './testing/harness.ts';

/** A push the browser node executed: answered `submitted` (not yet in a block) or `applied`, whichever came first. */
const EXECUTED = expect.stringMatching(/^(submitted|applied)$/);

let devnet: AppDevnet;
/** A second app (issue 10 §6's tips, in short) that moves tokens through tokens' plugin. */
const APP = 'walletapp';

/** GET /balances/<account> through the root origin (its service worker answers from the browser's node). */
async function balance(account: string): Promise<bigint> {
  const r = await devnet.rootPage.evaluate(async (a) => (await fetch(`/_svc/tokens/balances/${a}`, { cache: 'no-store' })).json(), account);
  return BigInt((r as { balance: string }).balance);
}

beforeAll(async () => {
  // Built before the devnet boots, which stores it in tokens' sites at /plugin.wasm.
  await Promise.all([ensureProductionBuild(), builtPlugin('tokens')]);
  devnet = await startDevnet({ distDir: DIST_DIR, app: pluginApp(APP) });
  // No CORS stand-in: tokens answers its own HTTP with psibase's allowCors headers.
}, 300_000);

afterAll(async () => {
  await devnet?.close();
});

const credit = (amount: string) => ({ service: 'tokens', intf: 'user', method: 'credit', params: [1, 'bob', amount, 'from the plugin'] });

describe('actions from plugins become signed, submitted transactions (issue 10 §3)', () => {
  it('no login or no key: rejected with psibase shapes, nothing submitted; then import-key + login: credit moves tokens', async () => {
    const page = await devnet.open(APP);
    const before = await balance('alice');
    const stats = () => supervisorStats(page, devnet.rootHost);

    // walletapp is not tokens: tokens' plugin asks the user once whether walletapp may send tokens.
    await allowPrompt(page, credit('7'));
    // Nobody logged in to the app: transact refuses.
    expect(await call(page, credit('7'))).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'transact', plugin: 'plugin' }, message: expect.stringMatching(/no user is logged in/) } });
    // alice is not connected to the app: login asks the user first (Allow), then logs in.
    const login = { service: 'accounts', intf: 'activeApp', method: 'login', params: ['alice'] };
    await allowPrompt(page, login);
    expect(await call(page, login)).toMatchObject({ ok: true });
    expect(await call(page, { service: 'accounts', intf: 'activeApp', method: 'login', params: ['Not An Account'] })).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'accounts' } } });
    expect(await call(page, { service: 'accounts', intf: 'api', method: 'getCurrentUser', params: [] })).toMatchObject({ ok: true, result: 'alice' });
    // No key on this device: auth-sig refuses before anything is sent.
    const noKey = await call(page, credit('7'));
    expect(noKey).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'auth-sig', plugin: 'plugin' }, message: expect.stringMatching(/no key on this device can sign for alice/) } });
    expect((await stats()).submitted).toEqual([]);
    expect((await stats()).lastActions.map((a) => [a.sender, a.service, a.method])).toEqual([['alice', 'tokens', 'transfer']]);
    // A bad PEM is refused and stores nothing.
    expect(await call(page, { service: 'auth-sig', intf: 'keyvault', method: 'importKey', params: ['not a pem'] })).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'auth-sig' } } });
    expect(await call(page, credit('7'))).toMatchObject({ ok: false, error: { pluginId: { service: 'auth-sig' } } });
    await devnet.waitForBlock(1);
    await devnet.waitForSync();
    expect(await balance('alice')).toBe(before);

    // The app is not auth-sig: importing a key asks the user (issue 10 §3).
    // devnetKey('alice') is non-extractable; the same dev key, extractable, gives its PEM.
    const alice = await devnetKey('alice');
    const extractableAlice = await devKeyPair('p256', 'alice', { extractable: true });
    expect(extractableAlice.publicKeyDer).toEqual(alice.publicKeyDer);
    const pem = await privateKeyToPem(extractableAlice);
    const importKey = { service: 'auth-sig', intf: 'keyvault', method: 'importKey', params: [pem] };
    await allowPrompt(page, importKey);
    const again = await call(page, importKey);
    expect(again).toMatchObject({ ok: true, result: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----/) });
    // Non-extractable in the supervisor's IndexedDB.
    const extractable = await supervisorFrame(page).evaluate(
      () =>
        new Promise<boolean[]>((resolve, reject) => {
          const r = indexedDB.open('psiweb-supervisor-keys');
          r.onsuccess = () => {
            const g = r.result.transaction('keys').objectStore('keys').getAll();
            g.onsuccess = () => resolve((g.result as { privateKey: CryptoKey }[]).map((k) => k.privateKey.extractable));
            g.onerror = () => reject(g.error);
          };
          r.onerror = () => reject(r.error);
        }),
    );
    expect(extractable).toEqual([false]);

    // Logged in as alice (kept across the prompt's round trip), credit 7 to bob.
    const t0 = Date.now();
    const sent = await call(page, credit('7'));
    const clickToTrace = Date.now() - t0;
    expect(sent).toMatchObject({ ok: true });
    const s = await stats();
    expect(s.submitted).toHaveLength(1);
    // Through the root origin's service worker (the browser node), as the PWA pushes.
    expect(s.submitted[0]).toMatchObject({ sender: 'alice', actions: 1, route: 'bridge', status: EXECUTED });
    console.log(`supervisor: click → ${s.submitted[0]!.status} ${clickToTrace} ms (call as the page saw it ${(sent as { ms: number }).ms.toFixed(0)} ms; tapos ${s.submitted[0]!.timing.taposMs.toFixed(0)}, sign ${s.submitted[0]!.timing.signMs.toFixed(0)}, push ${s.submitted[0]!.timing.pushMs.toFixed(0)} ms)`);
    // Again, with the bridge connected and alice's key bound: the steady click → trace.
    const t1 = Date.now();
    expect(await call(page, credit('3'))).toMatchObject({ ok: true });
    const warmClick = Date.now() - t1;
    const w = (await stats()).submitted[1]!;
    expect(w).toMatchObject({ sender: 'alice', route: 'bridge', status: EXECUTED });
    console.log(`supervisor: second click → ${w.status} ${warmClick} ms (tapos ${w.timing.taposMs.toFixed(0)}, sign ${w.timing.signMs.toFixed(0)}, push ${w.timing.pushMs.toFixed(0)} ms)`);
    await devnet.waitForBlock(1);
    await devnet.waitForSync();
    expect(await balance('alice')).toBe(before - 10n);

    // A token that does not exist: the plugin's own error, nothing submitted.
    expect(await call(page, { ...credit('1'), params: [2, 'bob', '1', ''] })).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'tokens' } } });
    expect((await stats()).submitted).toHaveLength(2);
  }, 180_000);
});

/** Calls `args`, which asks the user: common-lib sends the page to the prompt page (psibase's redirect); Allow, and back. */
async function allowPrompt(page: Page, args: Record<string, unknown>): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
  // The redirect ends this evaluate.
  void page.evaluate((a) => (window as unknown as { call(a: unknown): Promise<unknown> }).call(a), args).catch(() => undefined);
  await page.waitForURL(/^http:\/\/supervisor\.[^/]+\/prompt\.html\?returnPath=/);
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(devnet.appUrl(APP));
}

function supervisorFrame(page: Page) {
  const frame = page.frames().find((f) => f.url().startsWith(`http://supervisor.${devnet.rootHost}:`));
  if (!frame) throw new Error('no supervisor frame');
  return frame;
}

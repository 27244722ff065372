/**
 * Issue 10 §3 and §6 through the tokens UI (services/tokens/ui, uploaded to tokens'
 * sites at boot with tokens' plugin at /plugin.wasm) in Chromium on the production
 * build, clicking as a user would:
 *
 * - import alice's devnet key and log in as alice (each asks once on the prompt page);
 * - transfer through tokens' plugin (`tokens:plugin` `user` `credit`, fetched from
 *   tokens' sites): GET /balances/alice shows it;
 * - create an account with a key made in the browser: the prompt page offers the key's
 *   PEM for download and enables Allow only after it; the stored key is
 *   non-extractable and is the one in the file; Deny stores nothing and refuses;
 * - the new account receives tokens, logs in (switching accounts) and spends them,
 *   signed by its browser-made key; then back to alice;
 * - a second app, tips-app (plugins/tips-app), whose plugin tips through tokens' plugin:
 *   tokens asks the user on the prompt page whether tips-app may send tokens; Deny →
 *   nothing is sent; the grant revoked on the supervisor page, then Allow → the tip is
 *   applied.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyFromPem, privateKeyToPem, devKeyPair } from '../crypto/keys.ts';
import { startDevnet, type AppDevnet } from '../../playwright/devnet.ts';
import { DIST_DIR, ensureProductionBuild } from '../../test/browser/devnet.ts';
import { builtPlugin, supervisorFrame, supervisorStats } from './testing/harness.ts';

/** A push the browser node executed: answered `submitted` (not yet in a block) or `applied`, whichever came first. */
const EXECUTED = expect.stringMatching(/^(submitted|applied)$/);

let devnet: AppDevnet;
let plugin: Uint8Array;
let tipsPlugin: Uint8Array;
const APP = 'tokens';
const TIPS = 'tips-app';
const TIPS_PAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'plugins', 'tips-app', 'ui', 'index.html');

async function balance(account: string): Promise<bigint> {
  const r = (await devnet.rootPage.evaluate(async (a) => (await fetch(`/_svc/tokens/balances/${a}`, { cache: 'no-store' })).json(), account)) as {
    balance?: string;
    balances?: { tokenId: number; balance: string }[];
  };
  return BigInt(r.balance ?? r.balances?.find((b) => b.tokenId === 1)?.balance ?? '0');
}

beforeAll(async () => {
  // Built before the devnet boots: boot stores it in tokens' sites (src/node/devnet.ts).
  [, plugin, tipsPlugin] = await Promise.all([ensureProductionBuild(), builtPlugin('tokens'), builtPlugin(TIPS)]);
  devnet = await startDevnet({ distDir: DIST_DIR });
  // The browser's node serves the tokens origin: it needs the genesis block's sites first.
  await devnet.waitForSync();
}, 300_000);

afterAll(async () => {
  await devnet?.close();
});

async function ready(page: Page, app = APP): Promise<void> {
  await page.waitForURL(devnet.appUrl(app));
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
}

/** Submits `form` (filled by `fill`), which asks: the prompt page opens; `answer` there, then back to the app. */
async function throughPrompt(page: Page, fill: () => Promise<void>, form: string, answer: (prompt: Page) => Promise<void>, app = APP): Promise<void> {
  await fill();
  await page.locator(`#${form} button`).click();
  await page.waitForURL(/^http:\/\/supervisor\.[^/]+\/prompt\.html\?returnPath=/);
  await answer(page);
  await ready(page, app);
}

const allow = (page: Page) => page.getByRole('button', { name: 'Allow' }).click();

async function submit(page: Page, form: string, fields: Record<string, string>, statusId: string, expected: RegExp): Promise<void> {
  for (const [name, value] of Object.entries(fields)) await page.locator(`#${form} [name="${name}"]`).fill(value);
  await page.locator(`#${form} button`).click();
  await expect.poll(() => page.locator(`#${statusId}`).textContent(), { timeout: 30_000 }).toMatch(expected);
}

/** The keys in the supervisor origin's IndexedDB: extractable flags and public keys. */
function storedKeys(page: Page) {
  return supervisorFrame(page, devnet.rootHost).evaluate(
    () =>
      new Promise<{ extractable: boolean; der: number[] }[]>((resolve, reject) => {
        const r = indexedDB.open('psiweb-supervisor-keys');
        r.onsuccess = () => {
          const g = r.result.transaction('keys').objectStore('keys').getAll();
          g.onsuccess = () =>
            resolve((g.result as { privateKey: CryptoKey; publicKeyDer: Uint8Array }[]).map((k) => ({ extractable: k.privateKey.extractable, der: Array.from(k.publicKeyDer) })));
          g.onerror = () => reject(g.error);
        };
        r.onerror = () => reject(r.error);
      }),
  );
}

describe('the tokens UI signs through plugins (issue 10 §3, §6)', () => {
  it('imports a key, logs in, transfers through the plugin, creates an account with a backed-up browser key, switches to it and back', async () => {
    const page = await devnet.open(APP);
    page.on('pageerror', (e) => console.log('tokens UI error:', e.message));
    await ready(page);
    await expect.poll(() => page.locator('#user').textContent()).toBe('nobody');
    const aliceBefore = await balance('alice');

    // alice's devnet key (what `psiweb devkey alice` prints), imported: the prompt, then again.
    const pem = await privateKeyToPem(await devKeyPair('p256', 'alice', { extractable: true }));
    const fillPem = () => page.locator('#import-key [name="pem"]').fill(pem);
    await throughPrompt(page, fillPem, 'import-key', allow);
    await fillPem();
    await submit(page, 'import-key', {}, 'account-status', /^Key imported/);

    // Log in as alice: connecting alice to tokens asks once.
    const fillLogin = (name: string) => () => page.locator('#login [name="account"]').fill(name);
    await throughPrompt(page, fillLogin('alice'), 'login', allow);
    await submit(page, 'login', { account: 'alice' }, 'account-status', /^Logged in as alice$/);
    await expect.poll(() => page.locator('#user').textContent()).toBe('alice');

    // A transfer through tokens' plugin, fetched from tokens' sites (what boot stored).
    await submit(page, 'transfer', { to: 'bob', amount: '7', memo: 'through the plugin' }, 'status', /^Sent 7 to bob$/);
    const stats = await supervisorStats(page, devnet.rootHost);
    expect(stats.loads.find((l) => l.plugin === 'tokens:plugin')?.bytes).toBe(plugin.length);
    expect(stats.lastActions.map((a) => [a.sender, a.service, a.method])).toEqual([['alice', 'tokens', 'transfer']]);
    expect(stats.submitted).toMatchObject([{ sender: 'alice', actions: 1, status: EXECUTED }]);
    await devnet.waitForBlock(1);
    await devnet.waitForSync();
    expect(await balance('alice')).toBe(aliceBefore - 7n);
    // A refusal from the plugin's service shows and moves nothing.
    await submit(page, 'transfer', { to: 'bob', amount: '999999999', memo: '' }, 'status', /.+/);
    await expect.poll(() => page.locator('#status').getAttribute('class')).toBe('error');

    // Create an account: Deny stores nothing and is refused.
    const fillCreate = (name: string) => () => page.locator('#create-account [name="account"]').fill(name);
    await throughPrompt(page, fillCreate('dave-devx'), 'create-account', (p) => p.getByRole('button', { name: 'Deny' }).click());
    await submit(page, 'create-account', { account: 'dave-devx' }, 'account-status', /denied tokens creating the account dave-devx/);
    expect(await storedKeys(page)).toHaveLength(1);

    // Allow: only after the key's backup was downloaded.
    let backup = '';
    await throughPrompt(page, fillCreate('carol-dev'), 'create-account', async (p) => {
      await p.locator('#backup').waitFor();
      await expect.poll(() => p.getByRole('button', { name: 'Allow' }).isDisabled()).toBe(true);
      const download = p.waitForEvent('download');
      await p.locator('#backup').click();
      const file = await download;
      expect(file.suggestedFilename()).toBe('carol-dev.pem');
      backup = readFileSync(await file.path()).toString('utf8');
      await expect.poll(() => p.getByRole('button', { name: 'Allow' }).isDisabled()).toBe(false);
      await allow(p);
    });
    expect(backup).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const backedUp = await privateKeyFromPem(backup);
    const keys = await storedKeys(page);
    expect(keys.map((k) => k.extractable)).toEqual([false, false]);
    expect(keys.map((k) => k.der)).toContainEqual(Array.from(backedUp.publicKeyDer));
    await submit(page, 'create-account', { account: 'carol-dev' }, 'account-status', /^Created carol-dev/);
    expect((await supervisorStats(page, devnet.rootHost)).submitted).toMatchObject([{ sender: 'alice', actions: 1, status: EXECUTED }]);

    // alice gives carol-dev 20; carol-dev logs in (the user connected accounts to tokens
    // already: no prompt) and spends 5 with its browser-made key.
    await submit(page, 'transfer', { to: 'carol-dev', amount: '20', memo: 'welcome' }, 'status', /^Sent 20 to carol-dev$/);
    await submit(page, 'login', { account: 'carol-dev' }, 'account-status', /^Logged in as carol-dev$/);
    await expect.poll(() => page.locator('#user').textContent()).toBe('carol-dev');
    await submit(page, 'transfer', { to: 'bob', amount: '5', memo: 'from a browser key' }, 'status', /^Sent 5 to bob$/);
    expect((await supervisorStats(page, devnet.rootHost)).submitted.at(-1)).toMatchObject({ sender: 'carol-dev', status: EXECUTED });
    await devnet.waitForBlock(1);
    await devnet.waitForSync();
    expect(await balance('carol-dev')).toBe(15n);

    // And back to alice.
    await submit(page, 'login', { account: 'alice' }, 'account-status', /^Logged in as alice$/);
    await expect.poll(() => page.locator('#user').textContent()).toBe('alice');
  }, 240_000);

  it('tips-app tips through tokens plugin: tokens asks the user; Deny sends nothing; revoked, then Allow: applied', async () => {
    const deployed = await devnet.deploy({ account: TIPS, files: { '/index.html': readFileSync(TIPS_PAGE, 'utf8'), '/plugin.wasm': { content: tipsPlugin, contentType: 'application/wasm' } } });
    expect(deployed.error).toBeNull();
    await devnet.waitForSync();
    const page = await devnet.open(TIPS);
    page.on('pageerror', (e) => console.log('tips UI error:', e.message));
    await ready(page, TIPS);
    // alice's key is on this device already (the first test); tips-app connects her.
    const fillLogin = () => page.locator('#login [name="account"]').fill('alice');
    await throughPrompt(page, fillLogin, 'login', allow, TIPS);
    await submit(page, 'login', { account: 'alice' }, 'status', /^Logged in as alice$/);
    const before = await balance('alice');
    const tip = { to: 'bob', amount: '3', memo: 'thanks' };
    const fillTip = async () => {
      for (const [name, value] of Object.entries(tip)) await page.locator(`#tip [name="${name}"]`).fill(value);
    };

    // tokens' prompt, reached through tips-app's plugin: Deny.
    await throughPrompt(
      page,
      fillTip,
      'tip',
      async (p) => {
        await expect.poll(() => p.locator('#title').textContent()).toBe('tips-app wants to use tokens');
        await expect.poll(() => p.locator('#detail').textContent()).toBe('tips-app may send your tokens from the account you log in with there');
        await p.getByRole('button', { name: 'Deny' }).click();
      },
      TIPS,
    );
    await submit(page, 'tip', tip, 'status', /the user did not allow tips-app to send tokens/);
    expect((await supervisorStats(page, devnet.rootHost)).submitted).toEqual([]);

    // The user changes their mind on the supervisor page: Revoke, then Allow in the prompt.
    const manage = await devnet.context.newPage();
    await manage.goto(`http://supervisor.${devnet.rootHost}:${devnet.port}/`);
    await manage.locator('button[data-grant="tokens|tips-app"]').click();
    await expect.poll(() => manage.locator('button[data-grant="tokens|tips-app"]').count()).toBe(0);
    await manage.close();
    await throughPrompt(page, fillTip, 'tip', allow, TIPS);
    await submit(page, 'tip', tip, 'status', /^Tipped bob 3$/);
    const stats = await supervisorStats(page, devnet.rootHost);
    expect(stats.lastActions.map((a) => [a.sender, a.service, a.method])).toEqual([['alice', 'tokens', 'transfer']]);
    expect(stats.submitted).toMatchObject([{ sender: 'alice', actions: 1, status: EXECUTED }]);
    await devnet.waitForBlock(1);
    await devnet.waitForSync();
    expect(await balance('alice')).toBe(before - 3n);
  }, 240_000);
});

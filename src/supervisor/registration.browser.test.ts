/**
 * Issue 10 §6, open registration on the devnet (Chromium, production build): a
 * brand-new user — a fresh browser context, no account, no key, nobody logged in —
 * creates accounts with keys made in the browser (auth-sig `actions` `create-account`
 * through common-lib's functionCall), logs in, switches accounts, and each account
 * transfers with its own key through tokens' plugin. With nobody logged in, the
 * devnet's `registrar` sends auth-sig newAccount unsigned (services/accounts authorizes
 * that one action for it; src/supervisor/accounts.ts). A taken name and a bad name are
 * refused with a clear error before anything is asked or stored.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDevnet } from '../../playwright/devnet.ts';
import { startDevnet } from '../../playwright/devnet.ts';
import { buildPlugin, listPlugins, pluginStale } from '../../scripts/build-plugins.ts';
import { DIST_DIR, ensureProductionBuild } from '../../test/browser/devnet.ts';
import { call, pluginApp, supervisorFrame, supervisorStats } from './testing/harness.ts';

let devnet: AppDevnet;
const APP = 'walletapp';

beforeAll(async () => {
  const tokens = listPlugins().find((p) => p.name === 'tokens')!;
  await Promise.all([ensureProductionBuild(), pluginStale(tokens.name, tokens.dir) ? buildPlugin(tokens.name, tokens.dir) : undefined]);
  devnet = await startDevnet({ distDir: DIST_DIR, app: pluginApp(APP) });
}, 300_000);

afterAll(async () => {
  await devnet?.close();
});

const create = (name: string) => ({ service: 'auth-sig', intf: 'actions', method: 'createAccount', params: [name] });
const login = (name: string) => ({ service: 'accounts', intf: 'activeApp', method: 'login', params: [name] });
const currentUser = { service: 'accounts', intf: 'api', method: 'getCurrentUser', params: [] };
const credit = (to: string, amount: string) => ({ service: 'tokens', intf: 'user', method: 'credit', params: [1, to, amount, 'open registration'] });

async function balance(account: string): Promise<bigint> {
  const r = (await devnet.rootPage.evaluate(async (a) => (await fetch(`/_svc/tokens/balances/${a}`, { cache: 'no-store' })).json(), account)) as {
    balance?: string;
    balances?: { tokenId: number; balance: string }[];
  };
  return BigInt(r.balance ?? r.balances?.find((b) => b.tokenId === 1)?.balance ?? '0');
}

/** accounts' GraphQL on the root origin (the browser's node): the account's auth service, or null. */
async function authServiceOf(account: string): Promise<string | null> {
  const r = (await devnet.rootPage.evaluate(
    async (a) => (await fetch(`/_svc/accounts/graphql?query=${encodeURIComponent(`{ getAccount(accountName: "${a}") { authService } }`)}`, { cache: 'no-store' })).json(),
    account,
  )) as { data: { getAccount: { authService: string } | null } };
  return r.data.getAccount?.authService ?? null;
}

/** The keys in the supervisor origin's IndexedDB (whether each is extractable); none while the store does not exist (opening it here would create it empty). */
function storedKeys(page: Page) {
  return supervisorFrame(page, devnet.rootHost).evaluate(
    async () =>
      !(await indexedDB.databases()).some((d) => d.name === 'psiweb-supervisor-keys') ? [] :
      new Promise<{ extractable: boolean }[]>((resolve, reject) => {
        const r = indexedDB.open('psiweb-supervisor-keys');
        r.onsuccess = () => {
          if (!r.result.objectStoreNames.contains('keys')) return resolve([]);
          const g = r.result.transaction('keys').objectStore('keys').getAll();
          g.onsuccess = () => resolve((g.result as { privateKey: CryptoKey }[]).map((k) => ({ extractable: k.privateKey.extractable })));
          g.onerror = () => reject(g.error);
        };
        r.onerror = () => reject(r.error);
      }),
  );
}

/** Calls `args`, which asks: common-lib sends the page to the prompt page; `answer` there, then back to the app. */
async function throughPrompt(page: Page, args: Record<string, unknown>, answer: (prompt: Page) => Promise<void>): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true);
  // The redirect ends this evaluate.
  void page.evaluate((a) => (window as unknown as { call(a: unknown): Promise<unknown> }).call(a), args).catch(() => undefined);
  await page.waitForURL(/^http:\/\/supervisor\.[^/]+\/prompt\.html\?returnPath=/);
  await answer(page);
  await page.waitForURL(devnet.appUrl(APP));
}

const allow = (p: Page) => p.getByRole('button', { name: 'Allow' }).click();

/** The create-account prompt: it says who sends; download the key's backup, then Allow. */
async function backUpAndAllow(p: Page, name: string): Promise<void> {
  await p.locator('#backup').waitFor();
  await expect.poll(() => p.locator('#detail').textContent()).toMatch(/open registration: registrar sends it/);
  const download = p.waitForEvent('download');
  await p.locator('#backup').click();
  expect((await download).suggestedFilename()).toBe(`${name}.pem`);
  await expect.poll(() => p.getByRole('button', { name: 'Allow' }).isDisabled()).toBe(false);
  await allow(p);
}

describe('open registration on the devnet (issue 10 §6)', () => {
  it('a new user creates accounts with browser-made keys, logs in, switches accounts, and transfers; taken and bad names change nothing', async () => {
    const page = await devnet.open(APP);
    const stats = () => supervisorStats(page, devnet.rootHost);
    expect(await call(page, currentUser)).toMatchObject({ ok: true, result: null });
    expect(await authServiceOf('registrar')).toBe('accounts');

    // Refused before anything is asked or stored: a taken name (the app's own account,
    // registrar itself) and bad names. The page stays on the app: no prompt.
    for (const [name, message] of [
      [APP, `create-account: the account ${APP} already exists`],
      ['registrar', 'create-account: the account registrar already exists'],
      ['carol', 'shorter than 8 characters'],
      ['Carol Dev!', 'is not an account name'],
    ] as const) {
      const r = await call(page, create(name));
      expect(r).toMatchObject({ ok: false, error: { name: 'PluginError', pluginId: { service: 'auth-sig' } } });
      expect((r as { error: { message: string } }).error.message).toContain(message);
      expect(page.url()).toBe(devnet.appUrl(APP));
    }
    expect(await storedKeys(page)).toEqual([]);
    expect((await stats()).submitted).toEqual([]);

    // Two accounts, nobody logged in: each a prompt (backup, Allow), then the call sends
    // auth-sig newAccount from registrar, unsigned.
    for (const name of ['carol-dev', 'dave-devx']) {
      expect(await authServiceOf(name)).toBeNull();
      await throughPrompt(page, create(name), (p) => backUpAndAllow(p, name));
      const made = await call(page, create(name));
      expect(made).toMatchObject({ ok: true, result: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----/) });
      expect((await stats()).submitted.at(-1)).toMatchObject({ sender: 'registrar', actions: 1, status: expect.stringMatching(/^(submitted|applied)$/) });
    }
    expect(await storedKeys(page)).toEqual([{ extractable: false }, { extractable: false }]);
    await devnet.waitForBlock(1);
    await devnet.waitForSync();
    expect(await authServiceOf('carol-dev')).toBe('auth-sig');
    expect(await authServiceOf('dave-devx')).toBe('auth-sig');
    // Creating does not log in.
    expect(await call(page, currentUser)).toMatchObject({ ok: true, result: null });
    // Now taken: refused, nothing sent.
    const sent = (await stats()).submitted.length;
    expect(await call(page, create('carol-dev'))).toMatchObject({ ok: false, error: { message: expect.stringContaining('the account carol-dev already exists') } });
    expect((await stats()).submitted).toHaveLength(sent);

    // carol-dev gets 20 tokens from alice (on the Node side, alice's devnet key).
    expect((await devnet.push('alice', 'tokens', 'transfer', { to: 'carol-dev', amount: '20', memo: 'welcome' })).error).toBeNull();
    await devnet.waitForSync();
    expect(await balance('carol-dev')).toBe(20n);

    // Log in as carol-dev (connecting it to walletapp asks once); walletapp may send
    // tokens once the user allows it (tokens' prompt); carol-dev gives dave-devx 8.
    await throughPrompt(page, login('carol-dev'), allow);
    expect(await call(page, login('carol-dev'))).toMatchObject({ ok: true });
    expect(await call(page, currentUser)).toMatchObject({ ok: true, result: 'carol-dev' });
    await throughPrompt(page, credit('dave-devx', '8'), allow);
    expect(await call(page, credit('dave-devx', '8'))).toMatchObject({ ok: true });
    expect((await stats()).submitted.at(-1)).toMatchObject({ sender: 'carol-dev', actions: 1 });

    // Switch to dave-devx (walletapp holds the user's accounts grant already: no
    // prompt), who sends 3 back with its own key.
    expect(await call(page, login('dave-devx'))).toMatchObject({ ok: true });
    expect(await call(page, currentUser)).toMatchObject({ ok: true, result: 'dave-devx' });
    expect(await call(page, credit('carol-dev', '3'))).toMatchObject({ ok: true });
    expect((await stats()).submitted.at(-1)).toMatchObject({ sender: 'dave-devx', actions: 1 });
    await devnet.waitForBlock(1);
    await devnet.waitForSync();
    expect(await balance('carol-dev')).toBe(15n);
    expect(await balance('dave-devx')).toBe(5n);

    // And back to carol-dev (connected already: no prompt).
    expect(await call(page, login('carol-dev'))).toMatchObject({ ok: true });
    expect(await call(page, currentUser)).toMatchObject({ ok: true, result: 'carol-dev' });
  }, 240_000);
});

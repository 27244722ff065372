/**
 * A fresh psiweb devnet for one browser test: the Node peer (`psiweb start`'s
 * startPeer) in a temporary data directory on a free 127.0.0.1 port, producing a block
 * a second; the app under test deployed onto it (account, service, UI files) in one
 * transaction; Debian's Chromium (playwright-core, never `playwright install`) with the
 * root origin opened, so the in-browser node syncs the chain and app origins work
 * offline; helpers for accounts with keys, pushes, blocks and the network.
 *
 *   const devnet = await startDevnet({ app: { account: 'myappsvc', wasm: 'build/app.wasm', site: 'ui/dist' } });
 *   const page = await devnet.open();          // http://myappsvc.psiweb.localhost:<port>/
 *   await devnet.offline();                    // the browser can no longer reach the node
 *   …
 *   await devnet.close();
 *
 * Pages reach the node through a front HTTP server of the fixture's own, so offline()
 * really cuts them off (the server stops listening; the browser context is also set
 * offline), while the Node-side helpers (push, createAccount, deploy) use the peer's
 * own listener and keep working. Needs psiweb's production PWA build (`npm run build`
 * → dist/, or `distDir`), which holds the root and app-origin service workers.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type LaunchOptions, type Page } from 'playwright-core';
import { generateKeyPair, privateKeyToPem, publicKeyToPem, type KeyPair } from '../src/crypto/keys.ts';
import { PsiwebError } from '../src/errors.ts';
import { DEFAULT_ROOT_HOST, MAX_BODY_BYTES } from '../src/http/constants.ts';
import { accountNumber, isValidAccountName, methodNumber } from '../src/protocol/names.ts';
import type { Action } from '../src/protocol/types.ts';
import { createAccountActions } from '../src/node/cli/create.ts';
import { actionResults, hexBytes, pushActions, type ActionResult, type Signers } from '../src/node/cli/tx.ts';
import { fetchNode } from '../src/node/client.ts';
import { devnetKey } from '../src/node/devnet.ts';
import { createHttpServer } from '../src/node/http-server.ts';
import { startPeer, type Peer } from '../src/node/peer.ts';
import { packActionArgs } from '../src/node/schemas.ts';
import { guessContentType, siteFiles } from '../services/sites/upload.ts';

const PSIWEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

/** Bad fixture options or a devnet that did not become ready. */
export class DevnetFixtureError extends PsiwebError {
  override name = 'DevnetFixtureError';
}

/** The app under test, deployed before the test runs. */
export interface AppSpec {
  /** The app's account (8 or more characters: shorter names need the chain's preapproval). */
  account: string;
  /** The service module (a path or its bytes): set as the account's code. */
  wasm?: string | Uint8Array;
  /** Register the service with http so its serveSys answers its origin (default: true with wasm). */
  registerProxy?: boolean;
  /** A directory of UI files uploaded to sites for the account (types guessed from names). */
  site?: string;
  /** UI files by path (`/index.html` → content), uploaded like `site`. */
  files?: Record<string, string | Uint8Array | { content: string | Uint8Array; contentType: string }>;
}

export interface DevnetOptions {
  /** Deployed before the browser opens anything. */
  app?: AppSpec;
  /** psiweb's production PWA build (default PSIWEB_DIST, else psiweb's dist/). */
  distDir?: string;
  rootHost?: string;
  /** A browser to open the pages in (default: Chromium launched for this devnet, closed with it). */
  browser?: Browser;
  launchOptions?: LaunchOptions;
  /** Peer log lines (default dropped). */
  log?: (line: string) => void;
  /** How long start-up and each wait may take (default 60 s). */
  timeoutMs?: number;
  /**
   * Milliseconds between blocks (default 100: a test's pushes apply at once; psibase's
   * block time is in microseconds, so this is a valid chain, only a fast one).
   */
  blockIntervalMs?: number;
}

export interface DevnetAccount {
  name: string;
  key: KeyPair;
  /** PKCS#8 PEM of the private key (for `psiweb … -s FILE`, after writing it to a file). */
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface PushResult {
  error: string | null;
  /** The transaction's actions as they ran: `rawRetval` hex and `console`. */
  actions: ActionResult[];
  actionTraces: unknown[];
}

export interface AppDevnet {
  /** The root origin the browser uses, `http://psiweb.localhost:<port>`. */
  url: string;
  port: number;
  rootHost: string;
  /** `http://<account>.<root>:<port>` (default: the app's account). */
  appUrl(account?: string, path?: string): string;
  peer: Peer;
  browser: Browser;
  context: BrowserContext;
  /** The root origin's page: it runs the in-browser node; keep it open. */
  rootPage: Page;
  /** The app's page once open() ran. */
  page: Page | undefined;
  /** Opens an app origin (default the app's) and waits until its service worker serves it. */
  open(account?: string, path?: string): Promise<Page>;
  /** Deploys (another) app: account (created with its devnet key when new), code, files. */
  deploy(app: AppSpec): Promise<PushResult>;
  /** A new account with a fresh key (or its devnet key with `{ devnetKey: true }`). */
  createAccount(name: string, options?: { devnetKey?: boolean; sender?: string }): Promise<DevnetAccount>;
  /**
   * Pushes one action: args as packed bytes (Uint8Array or hex) for any service, or JSON
   * for psiweb's system services. Signed by `signer`'s key, or the sender's devnet key.
   */
  push(sender: string, service: string, method: string, args: Uint8Array | string | Record<string, unknown>, signer?: KeyPair): Promise<PushResult>;
  /** The peer's head block number. */
  head(): Promise<number>;
  /** Waits until the peer's head is `count` blocks past the current one; its number. */
  waitForBlock(count?: number): Promise<number>;
  /** Waits until the browser's node has the peer's current head (what offline reads come from). */
  waitForSync(): Promise<number>;
  /** Cuts the browser off the node (front server stops, context offline). */
  offline(): Promise<void>;
  /** Reconnects the browser. */
  online(): Promise<void>;
  close(): Promise<void>;
}

/** psiweb's PWA build to serve: distDir, PSIWEB_DIST or psiweb's dist/, checked. */
export function resolveDist(distDir?: string): string {
  const dir = distDir ?? process.env.PSIWEB_DIST ?? join(PSIWEB_ROOT, 'dist');
  for (const f of ['index.html', 'root-sw.js', 'app-sw.js', 'bridge.html']) {
    if (!existsSync(join(dir, f))) throw new DevnetFixtureError(`${dir} is not psiweb's PWA build (no ${f}): run \`npm run build\` in ${PSIWEB_ROOT}, or pass distDir / PSIWEB_DIST`);
  }
  return dir;
}

function action(sender: string, service: string, method: string, args: unknown): Action {
  return { sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData: packActionArgs(service, method, args) };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const DEVNET: Signers = { devnet: true };

/** The actions deploying `app`: psiweb deploy -c [-p] and psiweb upload, in one transaction. */
export async function appActions(app: AppSpec): Promise<Action[]> {
  if (!isValidAccountName(app.account)) throw new DevnetFixtureError(`app.account must be an account name, got "${app.account}"`);
  const actions = await createAccountActions('prod', app.account, {}, DEVNET);
  if (app.wasm !== undefined) {
    const code = typeof app.wasm === 'string' ? new Uint8Array(readFileSync(app.wasm)) : app.wasm;
    actions.push(action(app.account, 'setcode', 'setCode', { service: app.account, vmType: 0, vmVersion: 0, code: hex(code) }));
    if (app.registerProxy ?? true) actions.push(action(app.account, 'http', 'registerServer', { server: app.account }));
  }
  const files: { path: string; contentType: string; content: Uint8Array }[] = [];
  if (app.site !== undefined) files.push(...siteFiles(app.site));
  for (const [path, value] of Object.entries(app.files ?? {})) {
    const spec = typeof value === 'string' || value instanceof Uint8Array ? { content: value, contentType: guessContentType(path) } : value;
    if (spec.contentType === undefined) throw new DevnetFixtureError(`app.files: unknown content type of ${path}; give { content, contentType }`);
    files.push({ path: path.startsWith('/') ? path : `/${path}`, contentType: spec.contentType, content: typeof spec.content === 'string' ? new TextEncoder().encode(spec.content) : spec.content });
  }
  for (const f of files) actions.push(action(app.account, 'sites', 'storeSys', { path: f.path, contentType: f.contentType, contentEncoding: null, content: hex(f.content) }));
  return actions;
}

async function until<T>(fn: () => Promise<T>, timeoutMs: number, what: string, pollMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new DevnetFixtureError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolvePromise();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** A test devnet's default block interval (see DevnetOptions.blockIntervalMs). */
export const FIXTURE_BLOCK_INTERVAL_MS = 100;

export async function startDevnet(options: DevnetOptions = {}): Promise<AppDevnet> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const distDir = resolveDist(options.distDir);
  const rootHost = options.rootHost ?? DEFAULT_ROOT_HOST;
  const dataDir = mkdtempSync(join(tmpdir(), 'psiweb-fixture-'));
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => rmSync(dataDir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const launching = options.browser ? Promise.resolve(options.browser) : chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, ...options.launchOptions, args: [...CHROMIUM_ARGS, ...(options.launchOptions?.args ?? [])] });
    launching.catch(() => undefined);
    // Closed on failure too, once launched.
    if (!options.browser) cleanups.push(async () => (await launching.catch(() => undefined))?.close());
    const peer = await startPeer({ dataDir, port: 0, rootHost, distDir, log: options.log ?? (() => undefined), blockIntervalMs: options.blockIntervalMs ?? FIXTURE_BLOCK_INTERVAL_MS });
    cleanups.push(() => peer.close());
    const nodeUrl = peer.url;
    const head = async () => ((await fetchNode(`${nodeUrl}/native/status`)).json() as { head: { num: number } }).head.num;
    // Transactions go in from block 2 on (the genesis block names the producer set).
    await until(async () => (await head()) >= 2, timeoutMs, 'the devnet to produce its first blocks');

    const push = async (actions: Action[], signers: Signers): Promise<PushResult> => {
      const trace = await pushActions(nodeUrl, actions, signers);
      return { error: trace.error ?? null, actions: actionResults(trace, actions), actionTraces: trace.actionTraces };
    };
    const deploy = async (app: AppSpec) => {
      const result = await push(await appActions(app), DEVNET);
      if (result.error) throw new DevnetFixtureError(`deploying ${app.account} failed: ${result.error}`);
      return result;
    };
    const deploying = options.app ? deploy(options.app) : Promise.resolve(undefined);
    // Awaited below; until then a failure must not count as unhandled.
    deploying.catch(() => undefined);

    // The browser's way in: a front server of our own, so offline() can cut it.
    const front = createHttpServer((r) => peer.router.handle(r), { maxBodyBytes: MAX_BODY_BYTES });
    const port = await listen(front, 0);
    let frontUp = true;
    const closeFront = () =>
      new Promise<void>((r) => {
        if (!frontUp) return r();
        frontUp = false;
        front.close(() => r());
        front.closeAllConnections();
      });
    cleanups.push(closeFront);
    const url = `http://${rootHost}:${port}`;
    const appUrl = (account = options.app?.account, path = '/') => {
      if (account === undefined) throw new DevnetFixtureError('appUrl: no account given and no app deployed');
      return `http://${account}.${rootHost}:${port}${path.startsWith('/') ? path : `/${path}`}`;
    };

    const browser = await launching;
    const context = await browser.newContext();
    cleanups.push(() => context.close());
    // The root origin installs its service worker while the app is being deployed.
    const rootPage = await context.newPage();
    await rootPage.goto(url);
    await rootPage.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: timeoutMs });
    await deploying;

    /** The block the root service worker answers from (its in-browser node's head). */
    const browserHead = () =>
      rootPage.evaluate(async () => {
        const r = await fetch('/_svc/common-api/common/chainid');
        const b = r.headers.get('x-psiweb-block');
        return r.ok && b !== null ? Number(b) : 0;
      });
    const waitForSync = async () => {
      const target = await head();
      return until(async () => ((await browserHead()) >= target ? target : 0), timeoutMs, `the browser's node to sync block ${target}`, 100);
    };

    const devnet: AppDevnet = {
      url,
      port,
      rootHost,
      appUrl,
      peer,
      browser,
      context,
      rootPage,
      page: undefined,
      async open(account, path) {
        const page = await context.newPage();
        const target = appUrl(account, path);
        await page.goto(target);
        // The loader installs the app-origin worker, then reloads through it: the page
        // is ready once that worker controls it and the load completed.
        const sw = `${new URL(target).origin}/app-sw.js`;
        await until(
          async () => {
            await page.waitForLoadState('load');
            return page.evaluate((s) => navigator.serviceWorker.controller?.scriptURL === s && document.readyState === 'complete', sw);
          },
          timeoutMs,
          `${target} to be served by its app service worker`,
        );
        if (account === undefined || account === options.app?.account) devnet.page = page;
        return page;
      },
      deploy,
      async createAccount(name, opts = {}) {
        const key = opts.devnetKey ? await devnetKey(name) : await generateKeyPair('p256', { extractable: true });
        const actions = await createAccountActions(opts.sender ?? 'prod', name, opts.devnetKey ? {} : { key: publicKeyToPem(key.publicKeyDer) }, DEVNET);
        const result = await push(actions, DEVNET);
        if (result.error) throw new DevnetFixtureError(`creating ${name} failed: ${result.error}`);
        return { name, key, privateKeyPem: opts.devnetKey ? '' : await privateKeyToPem(key), publicKeyPem: publicKeyToPem(key.publicKeyDer) };
      },
      async push(sender, service, method, args, signer) {
        let rawData: Uint8Array;
        if (args instanceof Uint8Array) rawData = args;
        else if (typeof args === 'string') rawData = hexBytes(args, 'args');
        else rawData = packActionArgs(service, method, args);
        return push([{ sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData }], signer ? { keys: [signer] } : DEVNET);
      },
      head,
      async waitForBlock(count = 1) {
        const target = (await head()) + count;
        return until(async () => ((await head()) >= target ? target : 0), timeoutMs, `block ${target}`);
      },
      waitForSync,
      async offline() {
        await context.setOffline(true);
        await closeFront();
      },
      async online() {
        if (!frontUp) {
          await listen(front, port);
          frontUp = true;
        }
        await context.setOffline(false);
      },
      close: cleanup,
    };
    if (options.app) await waitForSync();
    return devnet;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Runs `fn` with a fresh devnet and closes it afterwards, whatever happens. */
export async function withDevnet<T>(options: DevnetOptions, fn: (devnet: AppDevnet) => Promise<T>): Promise<T> {
  const devnet = await startDevnet(options);
  try {
    return await fn(devnet);
  } finally {
    await devnet.close();
  }
}

/**
 * `psiweb/playwright`: offline-first testing of a psibase app on a fresh psiweb devnet.
 *
 * With Playwright's test runner (@playwright/test, installed by the app):
 *
 *   // tests/app.spec.ts
 *   import { test, expect } from 'psiweb/playwright';
 *   test.use({ psiweb: { app: { account: 'myappsvc', wasm: 'build/app.wasm', site: 'ui/dist' } } });
 *   test('reads offline', async ({ devnet, page }) => {
 *     await devnet.offline();
 *     await page.reload();
 *     await expect(page.locator('h1')).toHaveText('My app');
 *   });
 *
 * `devnet` is a fresh devnet per test (startDevnet in ./devnet.ts: Node peer on a free
 * 127.0.0.1 port, the app deployed, a new context in Playwright's browser with the root
 * origin synced; `use: { ...psiwebUse }` in playwright.config runs Debian's Chromium);
 * `page` is the app's origin, opened. Or bring your own base test:
 * `export const test = withPsiweb(base)`. Without Playwright's runner (vitest, node:test),
 * use `startDevnet` / `withDevnet` directly.
 */
import type { AppDevnet, DevnetOptions } from './devnet.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { startDevnet } from './devnet.ts';

export * from './devnet.ts';

/**
 * What a playwright.config's `use` needs to run Debian's Chromium (or PSIWEB_CHROMIUM)
 * as psiweb's own tests do: `use: { ...psiwebUse }`.
 */
export const psiwebUse = { launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS } };

/** Options of the `devnet` fixture (`test.use({ psiweb: { … } })`). */
export type PsiwebOptions = DevnetOptions;

/** What the fixtures give a test. */
export interface PsiwebFixtures {
  psiweb: PsiwebOptions;
  devnet: AppDevnet;
  page: import('playwright-core').Page;
}

type Use<T> = (value: T) => Promise<void>;

/**
 * The fixtures as Playwright's `test.extend` takes them. Playwright reads each fixture
 * function's first parameter (an object pattern) to learn what it depends on.
 */
export function psiwebFixtures(defaults: PsiwebOptions = {}) {
  return {
    psiweb: [defaults, { option: true }] as [PsiwebOptions, { option: true }],
    // Playwright's worker-scoped browser (launched once per worker, as Playwright does),
    // a new context per test; psiweb.browser overrides it.
    devnet: async ({ psiweb, browser }: { psiweb: PsiwebOptions; browser: import('playwright-core').Browser }, use: Use<AppDevnet>) => {
      const devnet = await startDevnet({ browser, ...psiweb });
      try {
        await use(devnet);
      } finally {
        await devnet.close();
      }
    },
    // The app's origin, opened (the root origin's page when no app was deployed).
    page: async ({ devnet, psiweb }: { devnet: AppDevnet; psiweb: PsiwebOptions }, use: Use<import('playwright-core').Page>) => {
      await use(devnet.page ?? (psiweb.app ? await devnet.open() : devnet.rootPage));
    },
  };
}

/** A Playwright `test` (anything with `extend`) with the psiweb fixtures added. */
export function withPsiweb<B extends { extend: (fixtures: never) => unknown }>(base: B, defaults: PsiwebOptions = {}): ReturnType<B['extend']> {
  return (base.extend as (f: unknown) => ReturnType<B['extend']>)(psiwebFixtures(defaults));
}

interface PlaywrightTestModule {
  test: { extend: (fixtures: never) => unknown };
  expect: unknown;
}

/** @playwright/test when the app has it installed. */
const playwrightTest = (await import(/* @vite-ignore */ '@playwright/test' as string).catch(() => undefined)) as PlaywrightTestModule | undefined;

function missing(): never {
  throw new Error("psiweb/playwright: `test` needs @playwright/test (npm i -D @playwright/test); without it use startDevnet() or withDevnet()");
}

/** Playwright's `test` with `devnet` and `page` fixtures (needs @playwright/test). */
export const test = (playwrightTest ? withPsiweb(playwrightTest.test) : new Proxy(missing, { get: missing, apply: missing })) as unknown as {
  (name: string, fn: (fixtures: PsiwebFixtures) => Promise<void>): void;
  use(options: { psiweb?: PsiwebOptions }): void;
  [key: string]: unknown;
};

/** Playwright's `expect` (needs @playwright/test). */
export const expect = (playwrightTest?.expect ?? new Proxy(missing, { get: missing, apply: missing })) as unknown;

/**
 * The one place that launches Chromium for tests and benchmarks: Debian's build through
 * playwright-core, with the flags this loopback-only machine needs (ARCHITECTURE.md §7).
 */
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';

export { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright/chromium.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright/chromium.ts';

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}

/** A fresh context (its own storage: one peer) with the camera grant WebRTC needs on loopback. */
export async function newPeerContext(browser: Browser, origin?: string): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.grantPermissions(['camera'], origin ? { origin } : undefined);
  return context;
}

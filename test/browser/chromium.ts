/**
 * The one place that launches Chromium for tests and benchmarks: Debian's build through
 * playwright-core, with the flags this loopback-only machine needs (ARCHITECTURE.md §7).
 */
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PSIWEB_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these, Chromium dials Google's hosts at start, and this closed network refuses each.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC between peers on 127.0.0.1 only works with loopback candidates allowed.
  '--allow-loopback-in-peer-connection',
];

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

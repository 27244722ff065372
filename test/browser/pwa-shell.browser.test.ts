/**
 * The PWA shell on the root origin, against the production build served by a devnet
 * Node peer, in a persistent Chromium profile (installability is judged there): the
 * manifest, installability, the offline banner, asking for persistent storage, and the
 * update flow (a changed root worker → "update available" → accept → the new version).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { primeRoot, startAppPeer, type AppPeer } from './app-harness.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

describe('PWA shell', () => {
  let peer: AppPeer;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    peer = await startAppPeer({ fakeRoot: false, ownDist: true });
    profile = mkdtempSync(join(tmpdir(), 'psiweb-profile-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    page = await primeRoot(context, peer);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await peer?.dispose();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('has a valid web app manifest', async () => {
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]');
      const m = await (await fetch(link!.href)).json();
      const icons = [];
      for (const icon of m.icons) {
        const r = await fetch(icon.src);
        const bitmap = await createImageBitmap(await r.blob());
        icons.push({ ...icon, status: r.status, type: r.headers.get('content-type'), actual: `${bitmap.width}x${bitmap.height}` });
      }
      return { ...m, icons };
    });
    expect(manifest).toMatchObject({ name: 'psiweb — psibase node', short_name: 'psiweb', display: 'standalone', start_url: '/', scope: '/' });
    for (const icon of manifest.icons) {
      expect(icon).toMatchObject({ status: 200, type: 'image/png' });
      expect(icon.actual).toBe(icon.sizes);
    }
    expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
  });

  it('is installable: Chromium reports no installability errors', async () => {
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    await cdp.detach();
    expect(installabilityErrors).toEqual([]);
  });

  it('shows the offline banner while offline', async () => {
    const banner = page.locator('psiweb-offline-banner [role=status]');
    expect(await banner.count()).toBe(0);
    await context.setOffline(true);
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Offline');
    await context.setOffline(false);
    await banner.waitFor({ state: 'detached' });
  });

  it('asks for persistent storage on a click and shows the answer', async () => {
    const shown = page.locator('psiweb-storage-persist [data-state]');
    await shown.waitFor();
    expect(await shown.getAttribute('data-state')).toBe('not-persisted');
    await page.locator('psiweb-storage-persist button').click();
    const answer = await page.evaluate(() => navigator.storage.persisted());
    await page.locator(`psiweb-storage-persist [data-state=${answer ? 'persisted' : 'not-persisted'}]`).waitFor();
    // The button goes away only when the browser said yes.
    expect(await page.locator('psiweb-storage-persist button').count()).toBe(answer ? 0 : 1);
  });

  it('offers an update of the root worker and reloads into it', async () => {
    const probe = () => page.evaluate(async () => (await fetch('/__psiweb_update_probe')).text());
    expect(await probe()).not.toBe('new version');
    // A new root-sw.js: same worker plus an answer only the new version gives.
    appendFileSync(
      join(peer.distDir, 'root-sw.js'),
      `\nself.addEventListener('fetch', (e) => { if (new URL(e.request.url).pathname === '/__psiweb_update_probe') e.respondWith(new Response('new version')); });\n`,
    );
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    const prompt = page.locator('psiweb-update-prompt [role=status]');
    await prompt.waitFor({ timeout: 30_000 });
    expect(await prompt.textContent()).toContain('update');
    const reloaded = page.waitForEvent('load', { timeout: 60_000 });
    await page.locator('psiweb-update-prompt button').click();
    await reloaded;
    await page.locator('psiweb-chain-status [data-field=head]').filter({ hasText: /^\d+/ }).waitFor({ timeout: 30_000 });
    expect(await probe()).toBe('new version');
    expect(await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return { waiting: r?.waiting ?? null, controlled: navigator.serviceWorker.controller !== null };
    })).toEqual({ waiting: null, controlled: true });
    // The node still answers from local state after the swap.
    const balance = await page.evaluate(async () => (await (await fetch('/_svc/tokens/balances/alice')).json()).balance);
    expect(balance).toBe('500000');
    expect(pageErrors).toEqual([]);
  }, 150_000);
});

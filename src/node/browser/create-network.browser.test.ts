/**
 * Creating a network in the browser, end to end on a production build: `#create` in a
 * fresh profile boots a new chain in the node's worker, which produces it with its own
 * WebCrypto key (the head advances with the Node peer stopped); the root service worker
 * answers from the new network's database (another chain id, the devnet's balances); a
 * transfer pushed through it is applied; and the dashboard switches back to the
 * network synced from the Node peer.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../test/browser/chromium.ts';
import { ensureProductionBuild, startDevnetPeer } from '../../../test/browser/devnet.ts';
import { toHex } from '../../state/bytes.ts';
import { CHAIN_DB, NODE_CHANNEL } from './constants.ts';
import { nodeStatus, openApp, svc, until } from './testing.ts';
import { signedTransfer } from './tx.ts';

describe('a network created in the browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    await ensureProductionBuild();
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('#create boots a chain this browser produces, served by the root worker; a transfer applies; switching back works', async () => {
    const peer = await startDevnetPeer();
    const context = await browser.newContext();
    try {
      const page = await openApp(context, `${peer.url}/#create`);
      const peerChain = toHex(peer.peer.node.chain.chainId!).toLowerCase();
      // The node produces: its status names this browser as its own peer, and the head advances.
      const first = await until(async () => {
        const s = await nodeStatus(page);
        return s.peerUrl === 'this browser' && s.producing && (s.head?.num ?? 0) >= 3 ? s : undefined;
      }, 60_000, 'the created network producing');
      expect(first.producer).toBe('prod');
      // The fragment is gone once the network is made (a reload does not make another).
      expect(await page.evaluate(() => location.hash)).toBe('');
      const later = await until(async () => {
        const s = await nodeStatus(page);
        return (s.head?.num ?? 0) >= first.head!.num + 2 ? s : undefined;
      }, 30_000, 'the head advancing');
      expect(later.error).toBeNull();
      // The page's /native/status (answered by the root worker) says this browser produces.
      const native = JSON.parse(await page.evaluate(async () => (await fetch('/native/status', { cache: 'no-store' })).text())) as Record<string, unknown>;
      expect(native).toMatchObject({ role: 'producer', producing: true, producers: ['prod'], consensus: 'cft' });
      // The root service worker answers from the created network's database.
      const chainId = JSON.parse(await page.evaluate(async () => (await fetch('/common/chainid')).text())) as string;
      expect(chainId).toMatch(/^[0-9a-f]{64}$/i);
      expect(chainId.toLowerCase()).not.toBe(peerChain);
      expect(JSON.parse((await svc(page, 'tokens/balances/alice')).body).balance).toBe('500000');
      // A transfer pushed through the root worker is applied by this browser's producer.
      const tapos = JSON.parse(await page.evaluate(async () => (await fetch('/common/tapos/head')).text())) as { refBlockIndex: number; refBlockSuffix: number };
      const tx = await signedTransfer({ from: 'alice', to: 'bob', amount: '7', memo: 'made here', tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
      const pushed = await svc(page, 'transact/push_transaction', { method: 'POST', body: Array.from(tx) });
      expect(pushed.status, pushed.body).toBe(200);
      expect(JSON.parse(pushed.body).error ?? null).toBeNull();
      await until(async () => JSON.parse((await svc(page, 'tokens/balances/bob')).body).balance === '500007', 30_000, "bob's balance");
      // The registry lists both networks; switching back opens the peer's database again.
      const rows = await until(async () => {
        const r = await page.evaluate(() =>
          Array.from(document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-networks')?.shadowRoot?.querySelectorAll('[data-network]') ?? [], (e) => ({
            db: e.getAttribute('data-network'),
            active: e.hasAttribute('data-active'),
            text: e.textContent ?? '',
          })),
        );
        return r.length === 2 ? r : undefined;
      }, 10_000, 'two networks listed');
      expect(rows.find((r) => r.active)!.text).toContain('this browser produces');
      expect(rows.find((r) => r.active)!.db).toBe(`${CHAIN_DB}-${chainId.toLowerCase()}`);
      await page.evaluate(
        ([channel, db]) => new BroadcastChannel(channel!).postMessage({ type: 'switch-network', db }),
        [NODE_CHANNEL, CHAIN_DB] as const,
      );
      await until(async () => ((await nodeStatus(page)).peerUrl !== 'this browser' ? true : undefined), 30_000, 'the switch back');
      await until(
        async () => (JSON.parse(await page.evaluate(async () => (await fetch('/common/chainid')).text())) as string).toLowerCase() === peerChain || undefined,
        30_000,
        "the root worker answering from the peer's network",
      );
    } finally {
      await context.close();
      await peer.dispose();
    }
  }, 180_000);
});

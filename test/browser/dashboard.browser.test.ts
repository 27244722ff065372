/**
 * The node dashboard (issue 11 §4) against the production build served by a devnet
 * Node peer that produces a block every second: each panel shows the right values, live
 * (head and irreversible advance; sync state; consensus mode, this node's role and the
 * producers equal the Node peer's; peers with transport and round trip; finality latency;
 * recent blocks equal the peer's own blocks), and, with the peer stopped and the browser
 * offline, keeps its last values marked stale.
 *
 * PSIWEB_SCREENSHOTS=1 also writes docs/screenshots/dashboard.png and dashboard-offline.png.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardField, dashboardHead, openApp, until } from '../../src/node/browser/testing.ts';
import { launchChromium } from './chromium.ts';
import { ensureProductionBuild, startDevnetPeer, type DevnetPeer } from './devnet.ts';

const SCREENSHOTS = process.env.PSIWEB_SCREENSHOTS === '1';
const SHOTS_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'docs', 'screenshots');

/** An attribute of the first element matching `selector` inside a dashboard panel's shadow root. */
function panelAttr(page: Page, panel: string, selector: string, attr: string): Promise<string | null | undefined> {
  return page.evaluate(
    ([p, s, a]) => document.querySelector('psiweb-app')?.shadowRoot?.querySelector(p!)?.shadowRoot?.querySelector(s!)?.getAttribute(a!),
    [panel, selector, attr],
  );
}

const field = (page: Page, panel: string, f: string) => dashboardField(page, panel, f);

/** The peer's explorer answer for blocks lo..hi: number → "time · producer". */
async function peerBlocks(peer: DevnetPeer, lo: number, hi: number): Promise<Map<number, string>> {
  const query = `query { blocks(ge: ${lo} le: ${hi}) { edges { node { header { blockNum time producer } } } } }`;
  const r = await peer.peer.router.handle(new Request(`http://explorer.${peer.rootHost}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } }));
  const json = (await r.json()) as { data: { blocks: { edges: { node: { header: { blockNum: number; time: string; producer: string } } }[] } } };
  return new Map(json.data.blocks.edges.map((e) => [e.node.header.blockNum, `${e.node.header.time} · ${e.node.header.producer}`]));
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  const path = join(SHOTS_DIR, name);
  await page.screenshot({ path, fullPage: true });
  expect(statSync(path).size, `${name} under 200 KB`).toBeLessThan(200 * 1024);
}

describe('the node dashboard', () => {
  let peer: DevnetPeer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    await ensureProductionBuild();
    peer = await startDevnetPeer({ produce: true });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await openApp(context, peer.url);
    await until(async () => ((await dashboardHead(page)) ?? 0) >= peer.peer.node.chain.head!.num - 1 && (await field(page, 'psiweb-chain-status', 'sync'))?.startsWith('in sync'), 120_000, 'the browser node to sync');
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await peer?.dispose();
  });

  it('head and irreversible advance live; the sync state says how and whether in sync', async () => {
    const first = (await dashboardHead(page))!;
    await until(async () => ((await dashboardHead(page)) ?? 0) >= first + 3, 30_000, 'the head to advance by 3');
    const head = (await dashboardHead(page))!;
    const irreversible = Number(await field(page, 'psiweb-chain-status', 'irreversible'));
    // One producer: every block is irreversible as it is made (a status view may fall between).
    expect(irreversible).toBeGreaterThanOrEqual(head - 1);
    expect(irreversible).toBeLessThanOrEqual(head);
    expect(await field(page, 'psiweb-chain-status', 'sync')).toBe('in sync (peer protocol over WebSocket, connected)');
    expect(await panelAttr(page, 'psiweb-chain-status', '[data-field="sync"]', 'data-mode')).toBe('p2p');
    expect(await field(page, 'psiweb-chain-status', 'peer')).toMatch(new RegExp(`^${peer.url} — online, head \\d+$`));
    expect(await field(page, 'psiweb-chain-status', 'status-stale')).toBeUndefined();
  });

  it("consensus mode, this node's role and the producers are the chain's", async () => {
    const status = await peer.peer.status();
    expect(status.consensus).toBe('cft');
    await until(async () => (await field(page, 'psiweb-consensus', 'producers')) !== '—', 15_000, 'the producers');
    expect(await field(page, 'psiweb-consensus', 'consensus')).toBe('CFT (crash fault tolerant)');
    expect(await field(page, 'psiweb-consensus', 'node-role')).toBe('follower');
    const shown = await page.evaluate(() =>
      [...(document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-consensus')?.shadowRoot?.querySelectorAll('[data-field="producers"] [data-producer]') ?? [])].map((e) => e.textContent),
    );
    expect(shown).toEqual(status.producers);
    expect(shown.length).toBeGreaterThan(0);
  });

  it('peers: the Node peer over a WebSocket with a round trip, and the Node peer’s own view', async () => {
    await until(async () => (await field(page, 'psiweb-peers', 'rtt'))?.endsWith(' ms'), 15_000, 'a round trip');
    expect(await panelAttr(page, 'psiweb-peers', '[data-field="peers"] tr[data-peer]', 'data-transport')).toBe('websocket');
    const rtt = Number((await field(page, 'psiweb-peers', 'rtt'))!.replace(' ms', ''));
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(5_000);
    const status = await peer.peer.status();
    expect(await field(page, 'psiweb-peers', 'native-role')).toBe(`${status.role} (producing as ${status.producer})`);
    const nativeHead = Number((await field(page, 'psiweb-peers', 'native-head'))!.split(' ')[0]);
    expect(Math.abs(nativeHead - status.head!.num)).toBeLessThanOrEqual(3);
    // The Node peer lists this browser's node core: dialed in over its WebSocket, with the ping it measured.
    expect(status.peers.some((p) => p.direction === 'in' && p.transport === 'websocket')).toBe(true);
    const rows = await page.evaluate(() =>
      [...(document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-peers')?.shadowRoot?.querySelectorAll('[data-field="native-peers"] tr[data-peer]') ?? [])].map((tr) => ({
        transport: tr.getAttribute('data-transport'),
        text: tr.textContent?.replace(/\s+/g, ' ').trim(),
      })),
    );
    expect(rows.length).toBe(status.peers.length);
    expect(rows.some((r) => r.transport === 'websocket' && r.text!.includes('dialed in'))).toBe(true);
  });

  it('finality latency: block time → irreversible and head → irreversible, from blocks seen here', async () => {
    await until(async () => Number(await panelAttr(page, 'psiweb-finality', '[data-field="finality-block-time"]', 'data-samples')) >= 3, 30_000, 'three finality samples');
    const blockTime = Number((await field(page, 'psiweb-finality', 'finality-block-time'))!.split(' ')[0]);
    // A block's time is its slot's start (1 s slots): final here within seconds (1.4–3 s seen on
    // the shared 2-core machine). A block opened late in its slot carries the next slot's
    // time (its parent's + 1 s: core/node.ts nextBlockTime), so it can be final here up to
    // one slot before its time (−23 ms seen in CI), never more.
    expect(blockTime).toBeGreaterThan(-1_000);
    expect(blockTime).toBeLessThan(10_000);
    const head = Number((await field(page, 'psiweb-finality', 'finality-head'))!.split(' ')[0]);
    // One producer: irreversible when first seen as head.
    expect(head).toBe(0);
    expect(await panelAttr(page, 'psiweb-finality', '[data-field="finality-block-time"]', 'title')).toMatch(/header time/);
  });

  it("recent blocks are the Node peer's newest blocks, live", async () => {
    const panel = page.locator('psiweb-explorer');
    // The explorer lists the ten newest blocks: wait for a chain that long (a fast machine
    // gets here a few seconds after the devnet started, with fewer blocks than that).
    await until(async () => (await panel.locator('li[data-block]').count()) === 10, 30_000, 'ten blocks in the explorer');
    const before = Number(await panel.locator('li[data-block]').first().getAttribute('data-block'));
    await until(async () => Number(await panel.locator('li[data-block]').first().getAttribute('data-block')) > before, 15_000, 'a new block in the explorer');
    const nums = (await panel.locator('li[data-block]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-block'))))) as number[];
    expect(nums).toHaveLength(10);
    expect(nums).toEqual(nums.map((_, i) => nums[0]! - i));
    expect(peer.peer.node.chain.head!.num - nums[0]!).toBeLessThanOrEqual(3);
    const theirs = await peerBlocks(peer, nums[9]!, nums[0]!);
    const ours = await panel.locator('li[data-block] > .meta').allTextContents();
    expect(ours.map((m) => m.split(' · ').slice(0, 2).join(' · '))).toEqual(nums.map((n) => theirs.get(n)));
    await screenshot(page, 'dashboard.png');
  });

  it('with the peer stopped and the browser offline, the panels keep their last values, marked stale', async () => {
    const head = (await dashboardHead(page))!;
    const producersShown = await field(page, 'psiweb-consensus', 'producers');
    await peer.stop();
    await context.setOffline(true);
    await until(async () => (await field(page, 'psiweb-peers', 'native-stale'))?.startsWith('unreachable: last seen'), 20_000, 'the Node peer marked unreachable');
    await until(async () => (await field(page, 'psiweb-chain-status', 'peer'))?.includes('unreachable'), 20_000, 'the peer unreachable');
    expect(await field(page, 'psiweb-chain-status', 'peer')).toMatch(/unreachable, last head \d+$/);
    expect(await panelAttr(page, 'psiweb-chain-status', '[data-field="peer"]', 'data-stale')).toBe('');
    expect(await field(page, 'psiweb-chain-status', 'sync')).toMatch(/^peer unreachable: serving local state/);
    // The Node peer's last known role and head stay, dimmed.
    expect(await field(page, 'psiweb-peers', 'native-role')).toMatch(/^producer/);
    expect(await panelAttr(page, 'psiweb-peers', 'dl', 'data-stale')).toBe('');
    // The node's own peer list follows its libp2p connection, whose close the leader hears
    // on its own schedule (a loaded machine: after the page's poll already failed).
    await until(async () => (await field(page, 'psiweb-peers', 'no-peers')) !== undefined, 20_000, 'no peer listed');
    expect(await field(page, 'psiweb-peers', 'no-peers')).toBe('No peer connected: the Node peer is unreachable.');
    // Local state still answers: head, producers, recent blocks.
    expect(await dashboardHead(page)).toBeGreaterThanOrEqual(head);
    expect(await field(page, 'psiweb-consensus', 'producers')).toBe(producersShown);
    expect(await page.locator('psiweb-explorer li[data-block]').count()).toBe(10);
    await screenshot(page, 'dashboard-offline.png');
  });
});

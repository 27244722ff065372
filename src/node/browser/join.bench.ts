/**
 * Every browser a peer (issue 11), its join benchmarks, in Chromium against a production
 * build served by a Node peer (a devnet producer and libp2p relay):
 *
 *  1. Invite opened → synced and connected, for a 1,000-block chain. The Node peer makes
 *     1,000 blocks back to back on a clock set back ~1,000 s (so they are dated in the
 *     past, one a second, as a running network's are), then produces one a second. One browser context (the
 *     inviter) opens the dashboard and syncs; each of JOINERS fresh contexts (its own
 *     profile: nothing cached, no service worker) opens the inviter's invite link. Timed
 *     from `page.goto` to the first `/native/status` the root service worker answers from
 *     the browser node (polled every POLL_MS) whose head is at least the Node peer's head
 *     read just before it was asked, and that lists the inviter with transport 'webrtc'
 *     (a direct connection, as browser-peers.browser.test.ts checks). Median of JOINERS,
 *     each joiner closed before the next opens (each meets the Node peer and the inviter only).
 *  2. Sync rate of a fresh browser from ONE and from THREE browser peers, the Node peer
 *     serving it no block: its PeerNetwork's sendToPeer / broadcast are wrapped here so a
 *     block message to any connection but the serving browsers' is dropped (and counted).
 *     The joiner's status must then show libp2p on, sync 'p2p', exactly the serving
 *     browsers as its webrtc peers, and the Node peer must have dropped the blocks it
 *     tried to send it and sent it none. Timed from the joiner's node's block-stored
 *     events (an init script stamps each), first block stored → the Node peer's head at
 *     navigation.
 * Uses its own Chromium (the service worker needs the peer's origin).
 */
import { execFileSync } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { figure, type BenchFile, type Figure } from '../../../test/bench-kit.ts';
import { launchChromium, newPeerContext } from '../../../test/browser/chromium.ts';
import { clockSetBack, ensureProductionBuild, startDevnetPeer, type DevnetPeer } from '../../../test/browser/devnet.ts';
import { percentile } from '../../../test/measure.ts';
import type { CoreNode } from '../../core/node.ts';
import { toHex } from '../../state/bytes.ts';
import { NODE_CHANNEL } from './constants.ts';
import { gateNodeBlocks, openApp, ownStatus, until, type OwnStatus } from './testing.ts';

const CHAIN_BLOCKS = 1000;
const JOINERS = 3;
const POLL_MS = 50;
const JOIN_TARGET_MS = 3000;

type Status = OwnStatus;

const load = (): string => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average:\s*/, 'load ');
  } catch {
    return 'load ?';
  }
};

const bench: BenchFile = async () => {
  await ensureProductionBuild();
  // The chain's blocks lie in the past (its producer's clock set back while it builds
  // them), as those of a network that has been running do.
  const clock = clockSetBack((CHAIN_BLOCKS + 10) * 1000);
  const peer: DevnetPeer = await startDevnetPeer({ produce: false, clock });
  const browser: Browser = await launchChromium();
  const figures: Figure[] = [];
  const contexts: BrowserContext[] = [];
  const node = peer.peer.node as CoreNode;
  const nodeHead = () => node.chain.head!.num;
  const open = async (url: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await newPeerContext(browser, peer.url);
    contexts.push(context);
    // Before any page script: stamp every block the node reports stored (wall clock, so a reload would not reset it).
    await context.addInitScript((channel) => {
      const w = window as unknown as { __psiwebStored?: { num: number; at: number }[] };
      if (window !== window.top || w.__psiwebStored) return;
      const stored: { num: number; at: number }[] = (w.__psiwebStored = []);
      new BroadcastChannel(channel).onmessage = (e: MessageEvent<{ type: string; num: number }>) => {
        if (e.data?.type === 'block') stored.push({ num: e.data.num, at: Date.now() });
      };
    }, NODE_CHANNEL);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e));
    const n = contexts.length;
    if (process.env.JOIN_BENCH_LOG) page.on('console', (m) => console.error(`[${n} ${Date.now() % 100_000}] ${m.text().slice(0, 300)}`));
    return { context, page };
  };
  const close = async (context: BrowserContext) => {
    contexts.splice(contexts.indexOf(context), 1);
    await context.close();
  };
  /** Checks that a browser's head is the Node peer's block of that number (same chain, same block). */
  const sameBlock = async (s: Status, who: string): Promise<void> => {
    const ours = s.head && (await node.chain.state.store.block(s.head.num));
    if (!s.head || !ours || toHex(ours.id).toLowerCase() !== s.head.id.toLowerCase()) {
      throw new Error(`${who}'s head ${JSON.stringify(s.head)} is not the Node peer's block ${ours ? toHex(ours.id) : '(none)'}`);
    }
  };
  /** A browser synced to the Node peer's head with libp2p on: its peer id. */
  const synced = async (page: Page, what: string): Promise<Status> =>
    until(
      async () => {
        const s = await ownStatus(page);
        return s && s.libp2pState === 'on' && s.libp2p && s.invite && (s.head?.num ?? 0) >= nodeHead() - 1 ? s : undefined;
      },
      120_000,
      what,
    );
  try {
    for (let i = 0; i < CHAIN_BLOCKS; i++) await node.produceBlock();
    const built = nodeHead();
    if (built < CHAIN_BLOCKS) throw new Error(`the Node peer made ${built} blocks, not ${CHAIN_BLOCKS}`);
    // From now on, a block a second, as a live network.
    clock.catchUp();
    node.start();

    const a = await open(peer.url);
    await a.page.goto(peer.url);
    const inviter = await synced(a.page, 'the inviter synced with libp2p on');
    const inviterId = inviter.libp2p!.peerId;
    const invite = inviter.invite!;

    // 1. Invite opened → synced and connected.
    const joinMs: number[] = [];
    const parts: string[] = [];
    const loadJoin = load();
    for (let j = 0; j < JOINERS; j++) {
      const { context, page } = await open(invite);
      const t0 = Date.now();
      if (process.env.JOIN_BENCH_LOG) console.error(`joiner ${j + 1} opens the link at ${t0 % 100_000}`);
      await page.goto(invite);
      let syncedAt: number | undefined;
      let connectedAt: number | undefined;
      let last: Status | undefined;
      for (;;) {
        const head = nodeHead();
        const s = await ownStatus(page);
        const now = Date.now();
        if (s) last = s;
        if (s && (s.head?.num ?? 0) >= head) syncedAt ??= now;
        // Both in the same answer: a connection the first document made is gone once the page reloads.
        const connected = s?.peers.some((p) => p.id === inviterId && p.transport === 'webrtc') ?? false;
        if (connected) connectedAt ??= now;
        if (s && (s.head?.num ?? 0) >= head && connected) {
          joinMs.push(now - t0);
          break;
        }
        if (now - t0 > 60_000) throw new Error(`joiner ${j + 1} not synced and connected in 60 s: ${JSON.stringify(last)?.slice(0, 800)}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const stored = await page.evaluate(() => (window as any).__psiwebStored as { num: number; at: number }[]);
      const firstBlock = stored.find((b) => b.num > 1);
      parts.push(`#${j + 1}: ${joinMs.at(-1)} ms (first block stored +${firstBlock ? firstBlock.at - t0 : '?'} ms, head reached +${syncedAt! - t0} ms, inviter first listed as webrtc +${connectedAt! - t0} ms)`);
      // Every block the chain had when the joiner opened the link is applied in it, the Node peer's own.
      if ((last?.head?.num ?? 0) < built) throw new Error(`joiner ${j + 1} at ${last?.head?.num}, below ${built}`);
      await sameBlock(last!, `joiner ${j + 1}`);
      await close(context);
    }
    const median = percentile(joinMs, 50);
    console.error(`join: ${parts.join('; ')}`);
    figures.push(
      figure(
        `invite opened → synced and connected (${CHAIN_BLOCKS.toLocaleString('en-US')}-block chain)`,
        'chromium',
        median,
        'ms',
        { op: '<=', value: JOIN_TARGET_MS, text: '≤ 3 s' },
        `median of ${JOINERS} fresh contexts (cold: no service worker, no cache), each from page.goto(invite) to the first own /native/status (polled every ${POLL_MS} ms) with head ≥ the Node peer's and the inviter listed as webrtc; the Node peer producing 1 block/s; ${parts.join('; ')}; ${loadJoin}`,
      ),
    );

    // 2. Sync rate from browsers only.
    const servers: { context: BrowserContext; page: Page; id: string }[] = [{ ...a, id: inviterId }];
    const syncFrom = async (n: number): Promise<void> => {
      while (servers.length < n) {
        const s = await open(invite);
        await s.page.goto(invite);
        const st = await synced(s.page, `serving browser ${servers.length + 1} synced`);
        servers.push({ context: s.context, page: s.page, id: st.libp2p!.peerId });
      }
      const ids = new Set(servers.map((s) => s.id));
      const loadNow = load();
      const gate = gateNodeBlocks(peer.peer.network, ids);
      try {
        const { context, page } = await open(invite);
        const target = nodeHead();
        await page.goto(invite);
        await page.waitForFunction((t) => (window as any).__psiwebStored?.some((b: { num: number }) => b.num >= t), target, { timeout: 300_000, polling: 100 });
        const stored = await page.evaluate(() => (window as any).__psiwebStored as { num: number; at: number }[]);
        const first = stored.find((b) => b.num > 1);
        const last = stored.find((b) => b.num >= target);
        if (!first || !last) throw new Error(`no blocks stored: ${stored.length}`);
        const blocks = last.num - first.num;
        if (blocks < target / 2) throw new Error(`only ${blocks} blocks were synced by the timed node`);
        const seconds = (last.at - first.at) / 1000;
        const timed = stored.filter((b) => b.num >= first.num && b.num <= last.num);
        const longestPause = Math.max(0, ...timed.slice(1).map((b, i) => b.at - timed[i]!.at));
        // It really synced from the browsers: libp2p on, over the peer protocol, the
        // serving browsers its webrtc peers, and the Node peer sent it no block.
        const s = await until(async () => {
          const st = await ownStatus(page);
          return st && ids.size === st.peers.filter((p) => p.transport === 'webrtc' && ids.has(p.id)).length ? st : undefined;
        }, 20_000, `the joiner listing the ${n} serving browsers as webrtc peers`);
        await sameBlock(s, 'the browser-synced joiner');
        const joinerId = s.libp2p?.peerId ?? '';
        const droppedToJoiner = gate.dropped.get(joinerId) ?? 0;
        // (libp2p may say 'off': the Node peer's stream, sending no block, stays silent, and
        // the worker opens the x-peers WebSocket, whose blocks the gate drops too.)
        const droppedToXpeers = gate.dropped.get('') ?? 0;
        if (s.sync !== 'p2p' || !joinerId || ids.has(joinerId) || (gate.sent.get(joinerId) ?? 0) > 0 || (gate.sent.get('') ?? 0) > 0 || droppedToJoiner + droppedToXpeers === 0) {
          throw new Error(`the joiner did not sync from browsers only: libp2p ${s.libp2pState}, sync ${s.sync}, node blocks sent ${gate.sent.get(joinerId) ?? 0} / dropped ${droppedToJoiner} (+${droppedToXpeers} to x-peers), peers ${JSON.stringify(s.peers)}`);
        }
        if (s.peers.some((p) => p.transport === 'webrtc' && !ids.has(p.id))) throw new Error(`the joiner has webrtc peers besides the ${n} serving browsers: ${JSON.stringify(s.peers)}`);
        figures.push(
          figure(
            `fresh browser sync from ${n === 1 ? 'ONE browser peer' : `${n} browser peers`} (empty blocks)`,
            'chromium',
            blocks / seconds,
            'blocks/s',
            undefined,
            `one fresh context by invite, blocks ${first.num} → ${last.num} timed from its node's block-stored events (longest pause between two: ${longestPause} ms); the Node peer dropped the ${droppedToJoiner + droppedToXpeers} block messages it tried to send it over libp2p or x-peers (sent 0), libp2p ${s.libp2pState}, its webrtc peers exactly the ${n} serving browser(s); ${loadNow}`,
          ),
        );
        await close(context);
      } finally {
        gate.restore();
      }
    };
    await syncFrom(1);
    await syncFrom(3);
  } finally {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    await browser.close();
    await peer.dispose();
  }
  return figures;
};

export default bench;

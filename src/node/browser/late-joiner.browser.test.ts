/**
 * Every browser a peer (issue 11): a late joiner syncs a 10,000-block chain from browsers
 * only. The Node peer builds the chain back to back on a clock set back ~10,000 s (a
 * network that has run for hours, one block a second), then produces one a second. A
 * browser syncs it from the Node peer; then the Node peer is made to send no block to
 * anyone but that browser, and a fresh profile opens its invite link. The joiner's
 * genesis block comes over HTTP from the page's origin, as every joiner's does; every
 * block after it must come from the serving browser over WebRTC. Each block is
 * validated in the joiner (signature, re-execution, id), and its head must be the Node
 * peer's block of that number.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newPeerContext } from '../../../test/browser/chromium.ts';
import { clockSetBack, ensureProductionBuild, startDevnetPeer, type DevnetPeer } from '../../../test/browser/devnet.ts';
import type { CoreNode } from '../../core/node.ts';
import { toHex } from '../../state/bytes.ts';
import { gateNodeBlocks, openApp, ownStatus, until, type OwnStatus } from './testing.ts';

const BLOCKS = 10_000;

describe('a late joiner', () => {
  let browser: Browser;
  let peer: DevnetPeer;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await ensureProductionBuild();
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await peer?.dispose();
  });

  it(`syncs a ${BLOCKS.toLocaleString('en-US')}-block chain from a browser peer only, every block validated, to the Node peer's head block`, async () => {
    const clock = clockSetBack((BLOCKS + 10) * 1000);
    peer = await startDevnetPeer({ produce: false, clock });
    const node = peer.peer.node as CoreNode;
    const t0 = Date.now();
    for (let i = 0; i < BLOCKS; i++) await node.produceBlock();
    const built = Date.now();
    clock.catchUp();
    node.start();
    const nodeHead = () => node.chain.head!.num;
    const sameBlock = async (s: OwnStatus) => {
      const ours = s.head && (await node.chain.state.store.block(s.head.num));
      return !!ours && toHex(ours.id).toLowerCase() === s.head!.id.toLowerCase();
    };

    const open = async (url: string) => {
      const context = await newPeerContext(browser, peer.url);
      contexts.push(context);
      return openApp(context, url);
    };
    const server = await open(peer.url);
    const served = await until(
      async () => {
        const s = await ownStatus(server);
        return s && s.libp2pState === 'on' && s.libp2p && s.invite && (s.head?.num ?? 0) >= nodeHead() - 1 ? s : undefined;
      },
      300_000,
      'the serving browser synced from the Node peer with libp2p on',
    );
    const serverId = served.libp2p!.peerId;
    const serverSynced = Date.now();

    const gate = gateNodeBlocks(peer.peer.network, new Set([serverId]));
    try {
      const target = nodeHead();
      const opened = Date.now();
      const joiner = await open(served.invite!);
      const s = await until(
        async () => {
          const st = await ownStatus(joiner);
          return st && (st.head?.num ?? 0) >= target && st.peers.some((p) => p.id === serverId && p.transport === 'webrtc') ? st : undefined;
        },
        300_000,
        `the joiner at block ${target} with the serving browser as its webrtc peer`,
      );
      console.log(`late joiner: chain built in ${built - t0} ms; a browser synced it from the Node peer in ${serverSynced - built} ms; the joiner reached block ${target} from that browser ${Date.now() - opened} ms after opening its link`);
      expect(s.sync).toBe('p2p');
      expect(await sameBlock(s)).toBe(true);
      // The Node peer tried to send it blocks (over libp2p or the x-peers WebSocket) and
      // the gate dropped them all: every block after genesis came from the serving browser.
      const joinerId = s.libp2p?.peerId ?? '';
      expect(joinerId).not.toBe('');
      expect(joinerId).not.toBe(serverId);
      expect((gate.dropped.get(joinerId) ?? 0) + (gate.dropped.get('') ?? 0)).toBeGreaterThan(0);
    } finally {
      gate.restore();
    }
  }, 900_000);
});

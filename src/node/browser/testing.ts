/**
 * Node-side helpers for browser tests and benches of the browser node: open the PWA
 * from the Node peer, read the dashboard, ask the root service worker for service
 * HTTP, and build a busy devnet (many blocks of signed transfers) to sync.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { MESSAGE_TYPES } from '../../net/wire/index.ts';
import type { PeerNetwork } from '../p2p/network.ts';
import type { Peer } from '../peer.ts';
import { NODE_CHANNEL } from './constants.ts';
import type { NodeStatusView } from './messages.ts';
import type { BrowserNativeStatus } from './net-status.ts';
import { signedTransfer } from './tx.ts';

/** Opens the dashboard and waits until the root service worker controls the page. */
export async function openApp(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e));
  await page.goto(url);
  // The root worker claims the page once it activates (the page does not reload for it).
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  return page;
}

/** The dashboard's text of a data-field inside one of its elements. */
export async function dashboardField(page: Page, element: string, field: string): Promise<string | undefined> {
  return page.evaluate(
    ([el, f]) =>
      document
        .querySelector('psiweb-app')
        ?.shadowRoot?.querySelector(el!)
        ?.shadowRoot?.querySelector(`[data-field="${f}"]`)
        ?.textContent?.replace(/\s+/g, ' ')
        .trim(),
    [element, field],
  );
}

/** The leader's status view, asked for on the node channel as a tab asks. */
export async function nodeStatus(page: Page): Promise<NodeStatusView> {
  return page.evaluate(
    (channel) =>
      new Promise<NodeStatusView>((resolve) => {
        const bc = new BroadcastChannel(channel);
        bc.onmessage = (e: MessageEvent<{ type: string; status: NodeStatusView }>) => {
          if (e.data?.type !== 'status') return;
          bc.close();
          resolve(e.data.status);
        };
        bc.postMessage({ type: 'status?' });
      }),
    NODE_CHANNEL,
  );
}

export async function nodeRole(page: Page): Promise<string | undefined> {
  return dashboardField(page, 'psiweb-chain-status', 'role');
}

/** The local head number as the dashboard shows it. */
export async function dashboardHead(page: Page): Promise<number | undefined> {
  const t = await dashboardField(page, 'psiweb-chain-status', 'head');
  const n = Number(t?.split(' ')[0]);
  return Number.isInteger(n) ? n : undefined;
}

export interface SvcReply {
  status: number;
  body: string;
  /** The block the answer came from (x-psiweb-block). */
  block: number | undefined;
}

/** `fetch('/_svc/<path>')` from the page, answered by the root service worker. */
export async function svc(page: Page, path: string, init?: { method?: string; body?: number[]; contentType?: string }): Promise<SvcReply> {
  return page.evaluate(
    async ([p, i]) => {
      const r = await fetch(`/_svc/${p}`, {
        method: i?.method ?? 'GET',
        ...(i?.body && { body: new Uint8Array(i.body), headers: { 'content-type': i.contentType ?? 'application/octet-stream' } }),
      });
      const b = r.headers.get('x-psiweb-block');
      return { status: r.status, body: await r.text(), block: b === null ? undefined : Number(b) };
    },
    [path, init] as const,
  );
}

/** Polls `fn` until it returns a truthy value. */
export async function until<T>(fn: () => Promise<T>, timeoutMs = 60_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The peer's TaPoS reference to its head, for transactions built on the Node side. */
export async function peerTapos(peer: Peer): Promise<{ refBlockIndex: number; refBlockSuffix: number }> {
  const r = await peer.router.handle(new Request(`http://${peer.router.rootHost}/common/tapos/head`));
  return (await r.json()) as { refBlockIndex: number; refBlockSuffix: number };
}

/**
 * Makes the peer's chain busy: `blocks` blocks of `perBlock` alice → bob transfers of
 * one token each, pushed to its node and produced back to back (the peer must not
 * produce on its timer). Peers connected over the peer protocol (a browser node's
 * core) are sent each block as it is made.
 */
export async function produceTransferBlocks(peer: Peer, blocks: number, perBlock: number): Promise<number> {
  const tapos = await peerTapos(peer);
  const expiration = BigInt(Math.floor(Date.now() / 1000) + 600);
  let n = 0;
  for (let b = 0; b < blocks; b++) {
    const transactions: Uint8Array[] = [];
    for (let i = 0; i < perBlock; i++) {
      transactions.push(await signedTransfer({ from: 'alice', to: 'bob', amount: '1', memo: `bulk ${b}.${i}`, tapos, expiration }));
    }
    await Promise.all(transactions.map((t) => peer.node.submit(t, { waitFor: 'applied' })));
    await peer.node.produceBlock();
    n += transactions.length;
  }
  return n;
}

/** A browser's `/native/status` with who answered it (`x-psiweb-answered-by`). */
export type OwnStatus = BrowserNativeStatus & { answeredBy: string | null };

/** The browser node's own /native/status, or undefined while the Node peer (no service worker yet) or nothing answers. */
export async function ownStatus(page: Page): Promise<OwnStatus | undefined> {
  try {
    const s = await page.evaluate(async () => {
      const r = await fetch('/native/status', { cache: 'no-store' });
      return { ...(await r.json()), answeredBy: r.headers.get('x-psiweb-answered-by') } as OwnStatus;
    });
    return s.answeredBy === 'browser-node' ? s : undefined;
  } catch {
    // The page is navigating (a reload, an update taking over).
    return undefined;
  }
}

/**
 * Makes the Node peer serve no block to any connection but those of `allowed` libp2p
 * peer ids. Returns the counts of block messages dropped and let through per peer id
 * ('' for a connection without one, e.g. an x-peers WebSocket).
 */
export function gateNodeBlocks(net: PeerNetwork, allowed: ReadonlySet<string>): { dropped: Map<string, number>; sent: Map<string, number>; restore(): void } {
  const dropped = new Map<string, number>();
  const sent = new Map<string, number>();
  const originalSend = net.sendToPeer;
  const originalBroadcast = net.broadcast;
  const peerIdOf = (id: number) => net.peers().find((p) => p.id === id)?.peerId ?? '';
  const count = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);
  net.sendToPeer = function (peer: number, bytes: Uint8Array): boolean {
    if (bytes[0] !== MESSAGE_TYPES.BlockMessage) return originalSend.call(net, peer, bytes);
    const id = peerIdOf(peer);
    if (!allowed.has(id)) {
      count(dropped, id);
      return false;
    }
    count(sent, id);
    return originalSend.call(net, peer, bytes);
  };
  net.broadcast = function (bytes: Uint8Array): void {
    if (bytes[0] !== MESSAGE_TYPES.BlockMessage) return originalBroadcast.call(net, bytes);
    for (const p of net.peers()) {
      const id = p.peerId ?? '';
      if (!allowed.has(id)) count(dropped, id);
      else if (originalSend.call(net, p.id, bytes)) count(sent, id);
    }
  };
  return {
    dropped,
    sent,
    restore() {
      net.sendToPeer = originalSend;
      net.broadcast = originalBroadcast;
    },
  };
}

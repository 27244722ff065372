/**
 * The browser node end to end, against a production build served by the Node peer
 * (`psiweb start`'s startPeer with a devnet): sync into IndexedDB, service HTTP from
 * the root service worker, writes queued with no node or no peer, a tab closed in the
 * middle of applying blocks, and one node for two tabs.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { decodeMessage, encodeMessage } from '../../net/wire/index.ts';
import { unpackSignedBlock } from '../../protocol/types.ts';
import { acceptWebSocket, dialWebSocket } from '../p2p/websocket.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchNode } from '../client.ts';
import { launchChromium } from '../../../test/browser/chromium.ts';
import { ensureProductionBuild, startDevnetPeer, type DevnetPeer } from '../../../test/browser/devnet.ts';
import { dashboardHead, nodeRole, nodeStatus, openApp, peerTapos, produceTransferBlocks, svc, until } from './testing.ts';
import { signedTransfer } from './tx.ts';

/**
 * A man in the middle between the browser and the Node peer: HTTP passes through, and on
 * the p2p WebSocket block `forge` has a byte of its producer's signature flipped.
 */
async function forgingProxy(target: DevnetPeer, forge: number): Promise<{ url: string; forged: () => number; close(): Promise<void> }> {
  let forged = 0;
  const server = createServer((req, res) => {
    const up = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    const client = acceptWebSocket(req, socket, head);
    void dialWebSocket(target.url).then((upstream) => {
      upstream.on('message', (bytes) => {
        let out = bytes;
        if (bytes[0] === 34) {
          const m = decodeMessage(bytes);
          if (m.kind === 'BlockMessage' && unpackSignedBlock(m.value.block).block.header.blockNum === forge) {
            const b = new Uint8Array(m.value.block);
            b[b.length - 5]! ^= 0xff;
            out = encodeMessage({ kind: 'BlockMessage', value: { block: b } });
            forged++;
          }
        }
        client.send(out);
      });
      client.on('message', (bytes) => void upstream.send(bytes));
      client.on('close', () => upstream.close());
      upstream.on('close', () => client.close());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://${target.rootHost}:${(server.address() as AddressInfo).port}`,
    forged: () => forged,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const balanceAtPeer = async (peer: DevnetPeer, account: string) =>
  (await fetchNode(`http://tokens.${peer.rootHost}:${peer.port}/balances/${account}`)).json() as { balance: string };

describe('browser node', () => {
  let browser: Browser;
  beforeAll(async () => {
    await ensureProductionBuild();
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('syncs the devnet and answers /_svc/tokens/balances from local state, also with the peer stopped', async () => {
    const peer = await startDevnetPeer();
    const context = await browser.newContext();
    try {
      const page = await openApp(context, peer.url);
      const peerHead = peer.peer.node.chain.head!.num;
      await until(async () => ((await dashboardHead(page)) ?? 0) >= peerHead, 60_000, 'sync');
      const r = await svc(page, 'tokens/balances/alice');
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body)).toEqual(await balanceAtPeer(peer, 'alice'));
      expect(r.block).toBeGreaterThanOrEqual(peerHead);
      // /common/* on the root origin comes from local state too.
      const chainId = await page.evaluate(async () => (await fetch('/common/chainid')).text());
      expect(JSON.parse(chainId)).toMatch(/^[0-9a-f]{64}$/i);
      // A /_svc/ name that is not an account name is no service (it must not fall back to the root host).
      for (const bad of ['transact:1/push_transaction', 'a%2Fb/x', 'x@y/balances/alice']) {
        const r = await page.evaluate(async (p) => {
          const res = await fetch(`/_svc/${p}`);
          return { status: res.status, body: await res.text() };
        }, bad);
        expect(r.status, bad).toBe(404);
        expect(r.body, bad).toContain('no such service');
      }

      await peer.stop();
      for (let i = 0; i < 3; i++) {
        const again = await svc(page, 'tokens/balances/alice');
        expect(again.status).toBe(200);
        expect(JSON.parse(again.body).balance).toBe('500000');
      }
      // A cold worker rebuilds its view from IndexedDB.
      const cdp = await context.newCDPSession(page);
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      expect(JSON.parse((await svc(page, 'tokens/balances/bob')).body).balance).toBe('500000');
    } finally {
      await context.close();
      await peer.dispose();
    }
  });

  it('syncs with the node core over the peer protocol (a WebSocket to x-peers.<root>/p2p) to the peer head and balances, and follows new blocks', async () => {
    const peer = await startDevnetPeer({ produce: false });
    const context = await browser.newContext();
    // The x-peers WebSocket's path: libp2p (which would reach the Node peer past the proxy) stays off.
    await context.addInitScript(() => localStorage.setItem('psiweb.libp2p', 'off'));
    try {
      const transfers = await produceTransferBlocks(peer.peer, 30, 5);
      const page = await openApp(context, peer.url);
      const target = peer.peer.node.chain.head!;
      await until(async () => ((await dashboardHead(page)) ?? 0) >= target.num, 60_000, 'sync');
      const status = await nodeStatus(page);
      expect(status.sync).toBe('p2p');
      expect(status.peerConnected).toBe(true);
      expect(status.error).toBeNull();
      expect(status.head!.id).toBe(Buffer.from(target.id).toString('hex'));
      // The Node peer sees the browser's core as a peer that dialed in.
      expect(peer.peer.network.peers().filter((p) => p.direction === 'in')).toHaveLength(1);
      const bob = JSON.parse((await svc(page, 'tokens/balances/bob')).body) as { balance: string };
      expect(bob.balance).toBe(String(500000 + transfers));
      expect(bob).toEqual(await balanceAtPeer(peer, 'bob'));
      // Blocks produced now come over the open WebSocket.
      const more = await produceTransferBlocks(peer.peer, 2, 3);
      const next = peer.peer.node.chain.head!.num;
      await until(async () => ((await dashboardHead(page)) ?? 0) >= next, 30_000, 'the new blocks');
      expect((JSON.parse((await svc(page, 'tokens/balances/bob')).body) as { balance: string }).balance).toBe(String(500000 + transfers + more));
    } finally {
      await context.close();
      await peer.dispose();
    }
  });

  it('refuses a forged block from its peer: the WebSocket is dropped, nothing of the block is committed, head and state stay', async () => {
    const peer = await startDevnetPeer({ produce: false });
    // Blocks 3..12, two one-token transfers each; block 8 arrives forged.
    await produceTransferBlocks(peer.peer, 10, 2);
    const proxy = await forgingProxy(peer, 8);
    const context = await browser.newContext();
    // The x-peers WebSocket's path: libp2p (which would reach the Node peer past the proxy) stays off.
    await context.addInitScript(() => localStorage.setItem('psiweb.libp2p', 'off'));
    try {
      const page = await openApp(context, proxy.url);
      await until(async () => /block 8 that does not run/.test((await nodeStatus(page)).error ?? '') || undefined, 40_000, 'the forged block refused');
      await new Promise((r) => setTimeout(r, 1_000));
      const status = await nodeStatus(page);
      expect(proxy.forged()).toBeGreaterThanOrEqual(1);
      expect(status.sync).toBe('p2p');
      expect(status.peerConnected).toBe(false);
      expect(status.head?.num).toBe(7);
      expect(status.error).toMatch(/signature/);
      expect(await dashboardHead(page)).toBe(7);
      // Blocks 3..7 only: five blocks of two transfers.
      const bob = JSON.parse((await svc(page, 'tokens/balances/bob')).body) as { balance: string };
      expect(bob.balance).toBe(String(500000 + 10));
    } finally {
      await context.close();
      await proxy.close();
      await peer.dispose();
    }
  }, 120_000);

  it('answers 200 queries in one root worker lifetime, serving files that grow a service memory', async () => {
    const peer = await startDevnetPeer();
    const context = await browser.newContext();
    try {
      const page = await openApp(context, peer.url);
      await until(async () => ((await dashboardHead(page)) ?? 0) >= 2, 60_000, 'first blocks');
      const cdp = await context.newCDPSession(page);
      const states: string[] = [];
      cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
        for (const v of e.versions) states.push(v.runningStatus);
      });
      await cdp.send('ServiceWorker.enable');
      // sites serving the app's page grows its memory on every request: before the root
      // worker's host counted its memories, each one stayed pooled and Chromium refused
      // new memories after about a hundred.
      const targets = ['tokens/', 'tokens/balances/alice', 'tokens/', 'tokens/common/tapos/head'];
      const statuses = await page.evaluate(async (paths) => {
        // A failure names itself: status, path, block and the start of the body.
        const out: (number | string)[] = [];
        for (let i = 0; i < 200; i++) {
          const r = await fetch(`/_svc/${paths[i % paths.length]}`);
          const body = await r.text();
          out.push(r.status === 200 ? 200 : `${r.status} ${paths[i % paths.length]} block ${r.headers.get('x-psiweb-block')}: ${body.slice(0, 200)}`);
        }
        return out;
      }, targets);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(statuses).toHaveLength(200);
      // One lifetime: the worker never stopped in between.
      expect(states.filter((s) => s === 'stopping' || s === 'stopped')).toEqual([]);
    } finally {
      await context.close();
      await peer.dispose();
    }
  });

  it('queues a transfer with no node running, then applies it once a node runs', async () => {
    const peer = await startDevnetPeer();
    const context = await browser.newContext();
    try {
      const page = await openApp(context, peer.url);
      await until(async () => ((await dashboardHead(page)) ?? 0) >= 2, 60_000, 'first blocks');
      const tapos = await peerTapos(peer.peer);
      const expiration = BigInt(Math.floor(Date.now() / 1000) + 120);
      const packed = await signedTransfer({ from: 'alice', to: 'bob', amount: '25', memo: 'while no node ran', tapos, expiration });
      // No tab with the dashboard: a document on the root origin that runs no node.
      await page.goto(`${peer.url}/icons/icon.svg`);
      expect(await page.evaluate(async () => (await navigator.locks.query()).held?.length ?? 0)).toBe(0);
      const queued = await svc(page, 'transact/push_transaction', { method: 'POST', body: [...packed] });
      expect(queued.status).toBe(202);
      const status = JSON.parse(queued.body) as { status: string; id: string };
      expect(status.status).toBe('queued');
      expect(status.id).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.parse((await svc(page, `transact/push_status/${status.id}`)).body).status).toBe('queued');

      await page.goto(peer.url);
      const applied = await until(async () => {
        const s = JSON.parse((await svc(page, `transact/push_status/${status.id}`)).body) as { status: string; blockNum?: number; trace?: unknown };
        return s.status === 'applied' ? s : undefined;
      }, 30_000, 'the queued transfer to be applied');
      expect(applied.blockNum).toBeGreaterThan(2);
      expect(applied.trace).toMatchObject({ error: null });
      expect((await balanceAtPeer(peer, 'bob')).balance).toBe('500025');
      await until(async () => JSON.parse((await svc(page, 'tokens/balances/bob')).body).balance === '500025', 10_000, 'local balance');
      expect((await svc(page, 'transact/push_status/' + '0'.repeat(64))).status).toBe(404);
    } finally {
      await context.close();
      await peer.dispose();
    }
  });

  it('queues a transfer while offline with the peer down, and applies it once both are back', async () => {
    const peer = await startDevnetPeer();
    const context = await browser.newContext();
    let restarted: DevnetPeer | undefined;
    try {
      const page = await openApp(context, peer.url);
      await until(async () => ((await dashboardHead(page)) ?? 0) >= 2, 60_000, 'first blocks');
      const tapos = await peerTapos(peer.peer);
      const packed = await signedTransfer({ from: 'bob', to: 'alice', amount: '3', memo: 'offline', tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 120) });
      await peer.stop();
      await context.setOffline(true);
      await until(async () => (await page.evaluate(() => document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-chain-status')?.shadowRoot?.textContent ?? '')).includes('unreachable'), 10_000, 'the node to see its peer down');
      const started = Date.now();
      const queued = await svc(page, 'transact/push_transaction', { method: 'POST', body: [...packed] });
      expect(queued.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(5_000);
      const { id } = JSON.parse(queued.body) as { id: string };

      restarted = await startDevnetPeer({ dataDir: peer.dataDir, port: peer.port });
      await context.setOffline(false);
      const final = await until(async () => {
        const s = JSON.parse((await svc(page, `transact/push_status/${id}`)).body) as { status: string };
        return s.status === 'applied' || s.status === 'failed' ? s : undefined;
      }, 30_000, 'a verdict');
      expect(final.status).toBe('applied');
      expect((await balanceAtPeer(restarted, 'alice')).balance).toBe('500003');
    } finally {
      await context.close();
      await restarted?.stop();
      await peer.dispose();
    }
  });

  it('a tab closed in the middle of applying blocks leaves a consistent state', async () => {
    const peer = await startDevnetPeer({ produce: false });
    const context = await browser.newContext();
    try {
      const transfers = await produceTransferBlocks(peer.peer, 100, 20);
      const target = peer.peer.node.chain.head!.num;
      let page = await openApp(context, peer.url);
      // Watched from inside the page: the whole sync takes well under a second now.
      const closedAt = await page.waitForFunction(
        () => {
          const el = document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-chain-status')?.shadowRoot?.querySelector('[data-field="head"]');
          const h = Number(el?.textContent?.trim().split(' ')[0]);
          return h > 10 ? h : undefined;
        },
        null,
        { timeout: 60_000, polling: 10 },
      ).then((h) => h.jsonValue() as Promise<number>);
      expect(closedAt).toBeLessThan(target);
      await page.close();

      page = await openApp(context, peer.url);
      await until(async () => (await dashboardHead(page)) === target, 120_000, 'sync to finish after reopening');
      expect(await dashboardField(page)).toBeUndefined();
      const bob = JSON.parse((await svc(page, 'tokens/balances/bob')).body) as { balance: string };
      expect(bob.balance).toBe(String(500000 + transfers));
      expect(bob).toEqual(await balanceAtPeer(peer, 'bob'));
    } finally {
      await context.close();
      await peer.dispose();
    }
  });

  it('two tabs run one node, and the other takes over when the leader closes', async () => {
    const peer = await startDevnetPeer();
    const context = await browser.newContext();
    try {
      const a = await openApp(context, peer.url);
      await until(async () => (await nodeRole(a)) === 'this tab runs the node', 30_000, 'tab A to lead');
      const b = await openApp(context, peer.url);
      await until(async () => (await nodeRole(b)) === 'another tab runs the node', 30_000, 'tab B to wait');
      const locks = await b.evaluate(async () => {
        const q = await navigator.locks.query();
        return { held: q.held?.filter((l) => l.name === 'psiweb-node').length, pending: q.pending?.filter((l) => l.name === 'psiweb-node').length };
      });
      expect(locks).toEqual({ held: 1, pending: 1 });
      // B follows the node's status even though A runs it.
      await until(async () => ((await dashboardHead(b)) ?? 0) >= 2, 30_000, 'B to show the head');

      await a.close();
      await until(async () => (await nodeRole(b)) === 'this tab runs the node', 30_000, 'tab B to take over');
      const before = (await dashboardHead(b)) ?? 0;
      await until(async () => ((await dashboardHead(b)) ?? 0) > before, 30_000, 'B to sync new blocks');
    } finally {
      await context.close();
      await peer.dispose();
    }
  });
});

async function dashboardField(page: import('playwright-core').Page): Promise<string | undefined> {
  const { dashboardField: field } = await import('./testing.ts');
  return field(page, 'psiweb-chain-status', 'error');
}

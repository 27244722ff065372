/**
 * The write path of the root service worker (sw/root-push.ts) with the browser node
 * (node.ts) and its outbox (outbox.ts), in Node against an in-process Node peer that
 * produces blocks only when the test says: a push is answered with the producer's
 * trace as soon as the transaction ran (executed, not yet in a block), while its
 * outbox record stays pending until the block holding it is synced here.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { PushService } from '../../../sw/root-push.ts';
import { loadDevnet, type Devnet } from '../devnet.ts';
import { startPeer, type Peer } from '../peer.ts';
import { NODE_LOCK, PUSH_WAIT_MS } from './constants.ts';
import { BrowserNode } from './node.ts';
import { Outbox } from './outbox.ts';
import { signedTransfer } from './tx.ts';

const ROOT = 'psiweb.localhost';
type Trace = { error: string | null; actionTraces: unknown[] };

describe('push through the root service worker, answered when the transaction ran', () => {
  let dir: string;
  let peer: Peer;
  let devnet: Devnet;
  let outbox: Outbox;
  let node: BrowserNode;
  let push: PushService;
  let dbs = 0;
  const fetchPeer = (url: string, init?: RequestInit) => peer.router.handle(new Request(url, init));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psiweb-push-'));
    peer = await startPeer({ dataDir: dir, port: 0, rootHost: ROOT, distDir: join(dir, 'none'), log: () => undefined, produce: false });
    devnet = await loadDevnet();
    // The service worker's view of the platform: a node holds the lock, online.
    vi.stubGlobal('navigator', { onLine: true, locks: { query: async () => ({ held: [{ name: NODE_LOCK }] }) } });
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => outbox?.close());

  /** A fresh browser node (its own chain and outbox) wired to a PushService as the channel wires them. */
  async function browserNode(): Promise<void> {
    const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
    outbox = await Outbox.open(`psiweb-outbox-push-test-${++dbs}`);
    node = new BrowserNode({
      chain,
      outbox,
      peerUrl: `http://${ROOT}/`,
      fetch: fetchPeer,
      post: (m) => {
        if (m.type === 'tx') push.onTx(m.record);
      },
    });
    push = new PushService(
      async () => outbox,
      (m) => node.onMessage(m),
      async () => true,
    );
  }

  async function transfer(amount: string, memo: string): Promise<Uint8Array> {
    const tapos = (await (await fetchPeer(`http://${ROOT}/common/tapos/head`)).json()) as { refBlockIndex: number; refBlockSuffix: number };
    return signedTransfer({ from: 'alice', to: 'bob', amount, memo, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
  }

  const pushRequest = (packed: Uint8Array) =>
    new Request(`http://transact.${ROOT}/push_transaction`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: packed as Uint8Array<ArrayBuffer> });

  /** Syncs the browser node to the peer's head. */
  async function sync(): Promise<void> {
    const status = await node.sync.peerStatus();
    while ((await node.sync.step(status)) > 0);
  }

  it('answers the trace before any block holds the transaction; the record leaves the outbox once the block is synced', async () => {
    await browserNode();
    await peer.node.produceBlock();
    await sync();
    const headBefore = (await peer.node.status()).head;

    const packed = await transfer('7', 'early');
    const t0 = Date.now();
    const res = await push.push(pushRequest(packed));
    // Told by the node, not found by the service worker's fallback look after PUSH_WAIT_MS.
    expect(Date.now() - t0).toBeLessThan(PUSH_WAIT_MS / 3);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-psiweb-tx-status')).toBe('submitted');
    const id = res.headers.get('x-psiweb-tx-id')!;
    const trace = (await res.json()) as Trace;
    expect(trace.error).toBeNull();
    expect(trace.actionTraces.length).toBeGreaterThan(0);
    // No block was produced meanwhile: the trace is the executed, not yet final one.
    expect((await peer.node.status()).head).toEqual(headBefore);
    // Still in the outbox, with the trace the caller got.
    const submitted = await outbox.get(id);
    expect(submitted).toMatchObject({ status: 'submitted', trace });
    expect((await outbox.pending()).map((r) => r.id)).toEqual([id]);
    // The same transaction pushed again is answered at once from the record.
    const again = await push.push(pushRequest(submitted!.packed));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(trace);

    // Blocks committed at the producer and synced here: applied, out of the outbox.
    await peer.node.produceBlock();
    await peer.node.produceBlock();
    await sync();
    const applied = await outbox.get(id);
    expect(applied).toMatchObject({ status: 'applied', trace: { error: null } });
    expect(applied!.blockNum).toBeGreaterThan(headBefore!.num);
    expect(await outbox.pending()).toEqual([]);
    const status = (await (await push.status(id)).json()) as { status: string; blockNum: number };
    expect(status).toMatchObject({ status: 'applied', blockNum: applied!.blockNum });
  }, 60_000);

  it('a transaction the producer refuses fails at once and leaves the outbox', async () => {
    await browserNode();
    await sync();
    const res = await push.push(pushRequest(await transfer('999999999999', 'too much')));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-psiweb-tx-status')).toBe('failed');
    const trace = (await res.json()) as Trace;
    expect(trace.error).toMatch(/.+/);
    const rec = await outbox.get(res.headers.get('x-psiweb-tx-id')!);
    expect(rec).toMatchObject({ status: 'failed', error: trace.error });
    expect(await outbox.pending()).toEqual([]);
  }, 60_000);

  it('a transaction that ran but expires without getting into a block fails and leaves the outbox', async () => {
    await browserNode();
    await sync();
    // A peer that runs the transaction (a trace) but never puts it in a block.
    const ran: Trace = { error: null, actionTraces: [] };
    const real = fetchPeer;
    (node as unknown as { fetch: typeof fetchPeer }).fetch = async (url, init) => (new URL(url).pathname === '/push_transaction' ? Response.json(ran) : real(url, init));
    const tapos = (await (await fetchPeer(`http://${ROOT}/common/tapos/head`)).json()) as { refBlockIndex: number; refBlockSuffix: number };
    // Expires within a second or two: the next blocks are past it.
    const expiration = Math.floor(Date.now() / 1000) + 1;
    const packed = await signedTransfer({ from: 'alice', to: 'bob', amount: '1', memo: 'expires', tapos, expiration: BigInt(expiration) });
    const res = await push.push(pushRequest(packed));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-psiweb-tx-status')).toBe('submitted');
    const id = res.headers.get('x-psiweb-tx-id')!;
    expect((await outbox.pending()).map((r) => r.id)).toEqual([id]);
    await new Promise((r) => setTimeout(r, 2_500));
    // The block open now may carry a time from before the expiration (a block's time is
    // set when it opens); the next one is past it. Until then the record waits.
    for (let i = 0; i < 3; i++) {
      const b = await peer.node.produceBlock();
      await sync();
      if (b.block.block.header.time / 1_000_000n > BigInt(expiration)) break;
      expect(await outbox.get(id), 'before a block past its expiration').toMatchObject({ status: 'submitted' });
    }
    expect(await outbox.get(id)).toMatchObject({ status: 'failed', error: 'transaction expired before it got into a block' });
    expect(await outbox.pending()).toEqual([]);
  }, 60_000);
});

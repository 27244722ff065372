/**
 * The browser's follower core (core-sync.ts) in Node: against the Node peer over its
 * real p2p WebSocket, and against a fake peer that sends a forged block.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chain, openTransaction } from '../../chain/executor.ts';
import type { CommittedBlock } from '../../core/node.ts';
import { Router } from '../../http/router.ts';
import { decodeMessage, encodeMessage } from '../../net/wire/index.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { toHex } from '../../state/bytes.ts';
import { systemClock } from '../node.ts';
import { loadDevnet, type Devnet } from '../devnet.ts';
import { startPeer, type Peer } from '../peer.ts';
import { dialWebSocket } from '../p2p/websocket.ts';
import { CoreSync, p2pUrl, type Dial, type LinkEvents } from './core-sync.ts';
import { BlockSync } from './sync.ts';
import { signedTransfer } from './tx.ts';

/** The Node side's WebSocket client, shaped as the browser's (core-sync's Dial). */
const nodeDial: Dial = async (url, events) => {
  const root = url.replace(/^ws:\/\/x-peers\./, 'http://').replace(/\/p2p$/, '');
  const ws = await dialWebSocket(root);
  ws.on('message', (bytes) => events.message(bytes));
  ws.on('close', (code, reason) => events.close(code, reason));
  return { send: (b) => void ws.send(b), close: () => ws.close() };
};

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the browser core (CoreSync) following the Node peer', () => {
  let dir: string;
  let peer: Peer;
  let devnet: Devnet;
  const fetchPeer = (url: string, init?: RequestInit) => peer.router.handle(new Request(url, init));
  const TRANSFERS = 3;
  const AMOUNT = 7;
  const START_BALANCE = 500_000;
  const transferIds: string[] = [];

  const balance = async (chain: Chain, account: string) => {
    const res = await new Router({ rootHost: 'psiweb.localhost', chain }).handle(new Request(`http://tokens.psiweb.localhost/balances/${account}`));
    expect(res.status).toBe(200);
    return ((await res.json()) as { balance: string }).balance;
  };
  const newChain = async () => Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  const transfer = async (memo: string) => {
    const tapos = (await (await fetchPeer('http://psiweb.localhost/common/tapos/head')).json()) as { refBlockIndex: number; refBlockSuffix: number };
    const packed = await signedTransfer({ from: 'alice', to: 'bob', amount: String(AMOUNT), memo, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
    transferIds.push(toHex(openTransaction(packed).id));
    return peer.node.submit(packed, { waitFor: 'applied' });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psiweb-core-sync-'));
    peer = await startPeer({ dataDir: dir, port: 0, rootHost: 'psiweb.localhost', distDir: join(dir, 'none'), log: () => undefined, produce: false });
    devnet = await loadDevnet();
    // Each ran into the open block (`applied`) before the blocks are produced.
    for (let i = 0; i < TRANSFERS; i++) await transfer(`t${i}`);
    for (let i = 0; i < 4; i++) await peer.node.produceBlock();
  });
  afterAll(async () => {
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("p2pUrl is the peer's x-peers.<root>/p2p", () => {
    expect(p2pUrl('http://psiweb.localhost:8080/')).toBe('ws://x-peers.psiweb.localhost:8080/p2p');
    expect(p2pUrl('https://psiweb.example')).toBe('wss://x-peers.psiweb.example/p2p');
  });

  it("syncs over the peer's WebSocket to its head and balances, validating each block, and follows new blocks", async () => {
    const chain = await newChain();
    const committed: CommittedBlock[] = [];
    const sync = new BlockSync({ chain, peerUrl: 'http://psiweb.localhost', fetch: fetchPeer });
    const core = new CoreSync({ chain, peerUrl: peer.url, genesis: () => sync.genesis(), onCommitted: (b) => void committed.push(b), clock: systemClock, dial: nodeDial, ...(process.env.PSIWEB_TEST_LOG && { log: (l: string) => console.log(l) }) });
    try {
      await core.start();
      const head = peer.node.chain.head!;
      await until(`block ${head.num}`, () => (chain.head?.num ?? 0) >= head.num);
      expect(core.connected).toBe(true);
      expect(toHex(chain.head!.id)).toBe(toHex(head.id));
      expect(await balance(chain, 'bob')).toBe(String(START_BALANCE + TRANSFERS * AMOUNT));
      expect(await balance(chain, 'alice')).toBe(await balance(peer.node.chain, 'alice'));
      // Every block after genesis came through the core, each once, in order, with the transfers' traces.
      expect(committed.map((b) => b.num)).toEqual(Array.from({ length: head.num - 2 }, (_, i) => i + 3));
      const traced = committed.flatMap((b) => b.transactions).filter((t) => transferIds.includes(toHex(t.id)));
      expect(traced).toHaveLength(TRANSFERS);
      for (const t of traced) expect(t.trace.error).toBeNull();
      // A block produced now reaches it live (the peer announces its new head).
      await transfer('live');
      await peer.node.produceBlock();
      await until('the live block', () => chain.head!.num === peer.node.chain.head!.num);
      expect(await balance(chain, 'bob')).toBe(String(START_BALANCE + (TRANSFERS + 1) * AMOUNT));
      expect(core.misbehaviour).toBeNull();
      // Stopped and opened again on its chain (a tab reopened): its root is now a block the
      // peer has, which it shows on connect before its hello; the peer sends what follows.
      await core.stop();
      await transfer('after a restart');
      await peer.node.produceBlock();
      await core.start();
      await until('the block after the restart', () => chain.head!.num === peer.node.chain.head!.num);
      expect(await balance(chain, 'bob')).toBe(String(START_BALANCE + (TRANSFERS + 2) * AMOUNT));
    } finally {
      await core.stop();
    }
  });

  it('refuses a forged block from its peer: disconnected, nothing of it committed, state and head unchanged', async () => {
    const chain = await newChain();
    const sync = new BlockSync({ chain, peerUrl: 'http://psiweb.localhost', fetch: fetchPeer });
    const real = peer.node.chain;
    const b3 = (await real.state.store.block(3))!.bytes;
    const forged = new Uint8Array((await real.state.store.block(4))!.bytes);
    forged[forged.length - 5]! ^= 0xff; // in the producer's signature
    // A fake Node peer: answers the core's hello with block 3, then the forged block 4.
    let peerEvents: LinkEvents | undefined;
    let closed = 0;
    const fake: Dial = async (_url, events) => {
      peerEvents = events;
      return {
        send: (bytes) => {
          const m = decodeMessage(bytes);
          if (m.kind !== 'HelloRequest') return;
          queueMicrotask(() => {
            events.message(encodeMessage({ kind: 'BlockMessage', value: { block: b3 } }));
            events.message(encodeMessage({ kind: 'BlockMessage', value: { block: forged } }));
          });
        },
        close: () => void closed++,
      };
    };
    const core = new CoreSync({ chain, peerUrl: peer.url, genesis: () => sync.genesis(), onCommitted: () => undefined, clock: systemClock, dial: fake, ...(process.env.PSIWEB_TEST_LOG && { log: (l: string) => console.log(l) }) });
    try {
      await core.start();
      await until('block 3', () => chain.head?.num === 3);
      await until('the forged block refused', () => core.misbehaviour !== null);
      const balances = [await balance(chain, 'alice'), await balance(chain, 'bob')];
      await new Promise((r) => setTimeout(r, 300));
      expect(core.misbehaviour).toMatch(/block 4 that does not run: .*signature/i);
      expect(closed).toBe(1);
      expect(core.connected).toBe(false);
      expect(chain.head?.num).toBe(3);
      expect(toHex(chain.head!.id)).toBe(toHex((await real.state.store.block(3))!.id));
      expect(await chain.state.store.block(4)).toBeUndefined();
      expect([await balance(chain, 'alice'), await balance(chain, 'bob')]).toEqual(balances);
      // Sent again on the same (stale) connection: ignored, still nothing committed.
      peerEvents!.message(encodeMessage({ kind: 'BlockMessage', value: { block: forged } }));
      await new Promise((r) => setTimeout(r, 100));
      expect(chain.head?.num).toBe(3);
      expect(core.core?.haltError).toBeUndefined();
    } finally {
      await core.stop();
    }
  });
});

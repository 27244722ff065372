/**
 * The bridge between the leader page's libp2p peers and the worker's core (peer-bridge.ts),
 * in Node: a real MessageChannel, the page's Libp2pTransport over fake peer sockets, the
 * worker's CoreSync following over them. A peer that serves the chain is followed to its
 * head without the x-peers WebSocket; a peer that sends a forged block is dropped: the
 * core's misbehaved reaches the page, which closes that peer's stream and bans its id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { Libp2pTransport, type IdentifiedSocket } from '../../net/libp2p/transport.ts';
import type { PeerSocketEvents } from '../../net/libp2p/peer-socket.ts';
import { decodeMessage, encodeMessage } from '../../net/wire/index.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { toHex } from '../../state/bytes.ts';
import { systemClock } from '../node.ts';
import { loadDevnet, type Devnet } from '../devnet.ts';
import { startPeer, type Peer } from '../peer.ts';
import { CoreSync, type Dial } from './core-sync.ts';
import { PagePeerBridge, WorkerPeerBridge, type PageToWorker, type WorkerToPage } from './peer-bridge.ts';
import { FakePeerSocket, PairSocket } from '../../net/libp2p/test-sockets.ts';
import { BlockSync } from './sync.ts';

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const PEER_A = '12D3KooWGRUVh4QYmC3E7ZHH8dBbnzUy4LZGBbXVSZy5DzQWyPmA';
const PEER_B = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
const PEER_C = '12D3KooWEJynBTES5G6HrGhZj45k5eFKhNbRgMFR1a2WScwmwFf2';
const PEER_D = '12D3KooWNBjzMjC6L1zGLJCd7D3aV8y8rD7W1TiZbX4kVijvSWyV';

describe('the libp2p bridge: page transport ⇄ MessageChannel ⇄ worker core', () => {
  let dir: string;
  let peer: Peer;
  let devnet: Devnet;
  const fetchPeer = (url: string, init?: RequestInit) => peer.router.handle(new Request(url, init));
  const blocks: Uint8Array[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psiweb-peer-bridge-'));
    peer = await startPeer({ dataDir: dir, port: 0, rootHost: 'psiweb.localhost', distDir: join(dir, 'none'), log: () => undefined, produce: false });
    devnet = await loadDevnet();
    for (let i = 0; i < 4; i++) await peer.node.produceBlock();
    for (let n = 1; n <= peer.node.chain.head!.num; n++) {
      const b = await peer.node.chain.state.store.block(n);
      if (b) blocks[n] = b.bytes;
    }
  });
  afterAll(async () => {
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A worker core with a bridge, and the page's transport at the other end of a MessageChannel. */
  async function setup() {
    const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
    const channel = new MessageChannel();
    const workerBridge = new WorkerPeerBridge();
    workerBridge.attach(channel.port2 as unknown as Parameters<WorkerPeerBridge['attach']>[0]);
    const transport = new Libp2pTransport();
    const dropped: { peerId: string; reason: string }[] = [];
    const page = new PagePeerBridge(channel.port1 as unknown as ConstructorParameters<typeof PagePeerBridge>[0], transport, { onDropped: (peerId, reason) => void dropped.push({ peerId, reason }) });
    page.setMode(true);
    let dials = 0;
    const noDial: Dial = async () => {
      dials++;
      throw new Error('the x-peers WebSocket must not be dialed while libp2p reaches the Node peer');
    };
    const sync = new BlockSync({ chain, peerUrl: 'http://psiweb.localhost', fetch: fetchPeer });
    const core = new CoreSync({ chain, peerUrl: peer.url, genesis: () => sync.genesis(), onCommitted: () => undefined, clock: systemClock, dial: noDial, bridge: workerBridge, ...(process.env.PSIWEB_TEST_LOG && { log: (l: string) => console.log(l) }) });
    await until('the mode to reach the worker', () => workerBridge.libp2p === true);
    return {
      chain,
      core,
      transport,
      page,
      dropped,
      dials: () => dials,
      close: async () => {
        await core.stop();
        page.close();
        transport.close();
        channel.port1.close();
        channel.port2.close();
      },
    };
  }

  it('follows a libp2p peer to its head through the bridge, never dialing x-peers; the page learns the chain id', async () => {
    const s = await setup();
    try {
      await s.core.start();
      const good = new FakePeerSocket(PEER_A, (after) => blocks.slice(after + 1).filter(Boolean));
      s.transport.add(good);
      const head = peer.node.chain.head!;
      await until(`block ${head.num}`, () => (s.chain.head?.num ?? 0) >= head.num);
      expect(toHex(s.chain.head!.id)).toBe(toHex(head.id));
      expect(good.received).toContain('HelloRequest');
      expect(s.core.connected).toBe(true);
      expect(s.core.xpeersConnected).toBe(false);
      expect(s.dials()).toBe(0);
      await until('the chain id at the page', () => s.page.chainId !== undefined);
      expect(s.page.chainId).toBe(toHex(peer.node.chain.chainId!));
    } finally {
      await s.close();
    }
  });

  it('drops a peer that sends a forged block: misbehaved reaches the page, its stream is closed (1008) and its id banned; nothing of the block is committed, and the genuine block from an honest peer still is', async () => {
    const s = await setup();
    try {
      await s.core.start();
      const forged = new Uint8Array(blocks[4]!);
      forged[forged.length - 5]! ^= 0xff; // in the producer's signature
      const bad = new FakePeerSocket(PEER_B, () => [blocks[3]!, forged]);
      s.transport.add(bad);
      await until('the forged block refused', () => bad.closedWith !== undefined);
      expect(bad.closedWith!.code).toBe(1008);
      expect(bad.closedWith!.reason).toMatch(/block 4 that does not run: .*signature/i);
      expect(s.dropped).toEqual([{ peerId: PEER_B, reason: expect.stringMatching(/signature/i) }]);
      expect(s.transport.isBanned(PEER_B)).toBe(true);
      expect(s.core.dropped.at(-1)?.reason).toMatch(/signature/i);
      await until('block 3', () => s.chain.head?.num === 3);
      await new Promise((r) => setTimeout(r, 300));
      expect(s.chain.head?.num).toBe(3);
      expect(await s.chain.state.store.block(4)).toBeUndefined();
      // Banned: the same peer id coming back is refused at the page.
      expect(() => s.transport.add(new FakePeerSocket(PEER_B, () => []))).toThrow(/banned/);
      expect(s.core.core?.haltError).toBeUndefined();
      // An honest peer sending the genuine block 4 afterwards is heard: the core remembers
      // the forged copy by its id and signature, not by the id alone (which does not cover
      // the signature).
      const honest = new FakePeerSocket(PEER_C, () => [blocks[3]!, blocks[4]!]);
      s.transport.add(honest);
      await until('the genuine block 4', () => s.chain.head?.num === 4);
      expect(honest.closedWith).toBeUndefined();
      expect(s.transport.isBanned(PEER_C)).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('a browser serves blocks to a browser: a core whose only peer is another browser core syncs to the head from it', async () => {
    const a = await setup();
    const b = await setup();
    try {
      await a.core.start();
      await b.core.start();
      // a follows the chain's source; b hears only a.
      a.transport.add(new FakePeerSocket(PEER_A, (after) => blocks.slice(after + 1).filter(Boolean)));
      const head = peer.node.chain.head!;
      await until(`a at block ${head.num}`, () => (a.chain.head?.num ?? 0) >= head.num);
      const [toB, toA] = PairSocket.pair(PEER_C, PEER_D);
      a.transport.add(toB);
      b.transport.add(toA);
      await until(`b at block ${head.num} from a`, () => (b.chain.head?.num ?? 0) >= head.num);
      expect(toHex(b.chain.head!.id)).toBe(toHex(head.id));
      expect(b.dials()).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the worker ignores messages for a peer it was not told of and bridge posts for unknown labels', async () => {
    const w = new WorkerPeerBridge();
    const posted: WorkerToPage[] = [];
    const port = { postMessage: (m: WorkerToPage) => void posted.push(m), onmessage: null as ((e: MessageEvent<PageToWorker>) => void) | null };
    w.attach(port);
    const heard: string[] = [];
    w.listen({ connected: (l) => heard.push(`c ${l}`), message: (l) => heard.push(`m ${l}`), closed: (l) => heard.push(`x ${l}`), mode: () => undefined });
    port.onmessage!({ data: { type: 'message', peer: '#9', bytes: new Uint8Array([1]) } } as MessageEvent<PageToWorker>);
    expect(heard).toEqual([]);
    expect(w.sendToPeer('#lp#9', encodeMessage({ kind: 'InitMessage', value: { version: 0 } }))).toBe(false);
    port.onmessage!({ data: { type: 'connected', peer: '#9', peerId: PEER_A } } as MessageEvent<PageToWorker>);
    port.onmessage!({ data: { type: 'message', peer: '#9', bytes: new Uint8Array([1]) } } as MessageEvent<PageToWorker>);
    w.misbehaved('#lp#9', 'bad');
    w.misbehaved('#lp#9', 'again');
    expect(heard).toEqual(['c #lp#9', 'm #lp#9', 'x #lp#9']);
    expect(posted).toEqual([{ type: 'misbehaved', peer: '#9', reason: 'bad' }]);
  });
});

/**
 * A network created in one browser, followed by browsers that joined by its invite, in
 * Node: the producer (ProducerNode) and a joiner (BrowserNode, peersOnly) each with its
 * page's side of the bridge (PagePeerBridge over a Libp2pTransport), the two pages linked
 * by an in-memory psibase stream (WebRTC's stand-in). The joiner's chain starts empty: it
 * asks its peers for the genesis block, takes only the one whose id is the invite's chain
 * id, and then follows the producer's blocks. Both tell their page the Node peer is not
 * of this network. A peer that answers with another chain's genesis is dropped.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_BLOCK_NUM } from '../../chain/constants.ts';
import { Chain } from '../../chain/executor.ts';
import { FakePeerSocket, PairSocket } from '../../net/libp2p/test-sockets.ts';
import { Libp2pTransport } from '../../net/libp2p/transport.ts';
import { MemoryStore } from '../../state/memory-store.ts';
import { MirroredStore } from '../../state/mirrored-store.ts';
import { IdbStore } from '../../state/idb-store.ts';
import { StateDb } from '../../state/state-db.ts';
import { toHex } from '../../state/bytes.ts';
import { packSignedBlock, unpackSignedBlock } from '../../protocol/types.ts';
import { serviceWasm } from '../service-build.ts';
import { createNetwork } from './create-network.ts';
import type { NodeMessage } from './messages.ts';
import { NetworkRegistry, type NetworkRecord } from './networks.ts';
import { BrowserNode, PEERS_ONLY } from './node.ts';
import { Outbox } from './outbox.ts';
import { PagePeerBridge, WorkerPeerBridge, type WorkerToPage } from './peer-bridge.ts';
import { ProducerNode } from './producer-node.ts';
import { signedTransfer } from './tx.ts';
import { openTransaction } from '../../chain/executor.ts';
import { Router } from '../../http/router.ts';
import { taposRef } from '../../protocol/tapos.ts';
import type { PushAnswer } from '../../net/libp2p/push.ts';

const INTERVAL_MS = 100;
const PRODUCER_PEER = '12D3KooWGRUVh4QYmC3E7ZHH8dBbnzUy4LZGBbXVSZy5DzQWyPmA';
const JOINER_PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
const OTHER_PEER = '12D3KooWEJynBTES5G6HrGhZj45k5eFKhNbRgMFR1a2WScwmwFf2';

async function until<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A worker's bridge and its page's side, over a MessageChannel; what the worker tells the page is kept. */
function bridgePair(push?: (tx: Uint8Array) => Promise<PushAnswer>) {
  const channel = new MessageChannel();
  const worker = new WorkerPeerBridge();
  worker.attach(channel.port2 as unknown as Parameters<WorkerPeerBridge['attach']>[0]);
  const transport = new Libp2pTransport();
  const told: WorkerToPage[] = [];
  const dropped: { peerId: string; reason: string }[] = [];
  const page = new PagePeerBridge(channel.port1 as unknown as ConstructorParameters<typeof PagePeerBridge>[0], transport, {
    onChain: (chainId, nodePeer) => void told.push({ type: 'chain', chainId, nodePeer }),
    onDropped: (peerId, reason) => void dropped.push({ peerId, reason }),
    ...(push && { push }),
  });
  return {
    worker,
    transport,
    page,
    told,
    dropped,
    close() {
      page.close();
      transport.close();
      channel.port1.close();
      channel.port2.close();
    },
  };
}

/** A joiner's node on an empty chain with its own outbox, running; counts any HTTP fetch or x-peers dial it makes. */
async function startJoiner(side: ReturnType<typeof bridgePair>, chainId: string, outboxName: string) {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  const outbox = await Outbox.open(outboxName);
  const counts = { fetches: 0, dials: 0 };
  const node = new BrowserNode({
    chain,
    outbox,
    peerUrl: 'http://psiweb.localhost:8080',
    post: () => undefined,
    sync: 'p2p',
    bridge: side.worker,
    peersOnly: { chainId },
    fetch: async () => {
      counts.fetches++;
      throw new TypeError('no HTTP in a network joined over peers');
    },
    dial: async () => {
      counts.dials++;
      throw new Error('no x-peers WebSocket in a network joined over peers');
    },
  });
  const running = node.run();
  return {
    chain,
    outbox,
    node,
    counts,
    async stop() {
      node.stop();
      await running;
      side.close();
      outbox.close();
    },
  };
}

/** The record of `id` once the outbox holds a verdict for it (applied or failed). */
function verdictOf(outbox: Outbox, id: string, what: string) {
  return until(async () => {
    const r = await outbox.get(id);
    return r && (r.status === 'applied' || r.status === 'failed') ? r : undefined;
  }, what);
}

describe('a network created in one browser, joined by invite over browser peers', () => {
  let registry: NetworkRegistry;
  let network: NetworkRecord;
  let outbox: Outbox;
  let store: MirroredStore;
  let producer: ProducerNode;
  let running: Promise<void>;
  let producerChain: Chain;
  const producerSide = bridgePair();

  beforeAll(async () => {
    registry = await NetworkRegistry.open('psiweb-networks-join-created-test');
    outbox = await Outbox.open('psiweb-outbox-join-created-test');
    network = await createNetwork({ registry, wasm: serviceWasm, openStore: (db) => IdbStore.open(db), label: 'made here' });
    store = await MirroredStore.open(await IdbStore.open(network.db));
    producerChain = await Chain.open({ state: new StateDb(store) });
    const key = (await registry.producerKey(network.db))!;
    producer = new ProducerNode({ chain: producerChain, outbox, producer: network.producer!, key, post: () => undefined, blockIntervalMs: INTERVAL_MS, bridge: producerSide.worker });
    running = producer.run();
    await until(() => producerChain.head!.num >= GENESIS_BLOCK_NUM + 3, 'the producer making blocks');
  }, 60_000);

  afterAll(async () => {
    producer?.stop();
    await running;
    producerSide.close();
    await store?.close();
    registry?.close();
    outbox?.close();
  });

  it('the producer tells its page its chain, and that the Node peer is not of it', async () => {
    await until(() => producerSide.told.length > 0, 'the chain told');
    expect(producerSide.told[0]).toEqual({ type: 'chain', chainId: network.chainId!.toLowerCase(), nodePeer: false });
    expect(producerSide.page.nodePeer).toBe(false);
  });

  it('a joiner with an empty chain takes the genesis block from its peer and follows the producer, with no HTTP and no x-peers dial; its transfers reach the producer through its peers', async () => {
    // The joiner's page pushes to the producer's page (/psiweb/push/1.0.0 in the browser).
    const side = bridgePair((tx) => producerSide.page.pushIn(tx, JOINER_PEER));
    const { chain, outbox: joinerOutbox, node: joiner, counts, stop } = await startJoiner(side, network.chainId!.toLowerCase(), 'psiweb-outbox-join-created-joiner');
    try {
      // The stream between the two pages (WebRTC in the browser).
      const [toJoiner, toProducer] = PairSocket.pair(PRODUCER_PEER, JOINER_PEER);
      producerSide.transport.add(toJoiner);
      side.transport.add(toProducer);
      await until(() => chain.head && chain.head.num >= producerChain.head!.num - 1, "the joiner at the producer's head");
      expect(toHex(chain.chainId!).toUpperCase()).toBe(network.chainId);
      // It keeps following: new blocks arrive.
      const at = chain.head!.num;
      await until(() => chain.head!.num >= at + 3, 'three more blocks at the joiner');
      // The ids match the producer's: the same chain.
      const n = chain.head!.num - 1;
      expect(toHex((await chain.state.store.block(n))!.id)).toBe(toHex((await producerChain.state.store.block(n))!.id));
      expect(side.told[0]).toEqual({ type: 'chain', chainId: network.chainId!.toLowerCase(), nodePeer: false });
      const status = joiner.status();
      expect(status).toMatchObject({ peerUrl: PEERS_ONLY, sync: 'p2p', peerConnected: true, error: null });
      expect(status.peerHead).toBeGreaterThanOrEqual(at);
      // A transfer queued at the joiner goes to the producer through the peers and is applied at both.
      const head = chain.head!;
      const tx = await signedTransfer({ from: 'alice', to: 'bob', amount: '31', memo: 'from a joiner', tapos: taposRef(head.num, head.id), expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
      const id = toHex(openTransaction(tx).id);
      await joinerOutbox.enqueue(id, tx, Math.floor(Date.now() / 1000) + 60);
      void joiner.pumpOutbox();
      const rec = await verdictOf(joinerOutbox, id, 'the transfer applied at the joiner');
      expect(rec.error).toBeUndefined();
      expect(rec.status).toBe('applied');
      for (const c of [chain, producerChain]) {
        const router = new Router({ rootHost: 'psiweb.localhost', chain: c });
        expect(await (await router.handle(new Request('http://tokens.psiweb.localhost/balances/bob'))).text()).toContain('500031');
      }
      // One the producer refuses (expired) fails at the joiner with the producer's reason.
      const stale = await signedTransfer({ from: 'alice', to: 'bob', amount: '1', memo: 'too late', tapos: taposRef(head.num, head.id), expiration: BigInt(Math.floor(Date.now() / 1000) - 10) });
      const staleId = toHex(openTransaction(stale).id);
      await joinerOutbox.enqueue(staleId, stale, Math.floor(Date.now() / 1000) + 60);
      void joiner.pumpOutbox();
      const refused = await verdictOf(joinerOutbox, staleId, 'the stale transfer refused');
      expect(refused.status).toBe('failed');
      expect(refused.error).toMatch(/the producer refused the transaction: .*expir/i);
      expect(counts).toEqual({ fetches: 0, dials: 0 });
    } finally {
      await stop();
    }
  }, 60_000);

  it("a peer that answers with another chain's genesis block is dropped, and nothing is applied", async () => {
    const side = bridgePair();
    // Block 2 of another chain: this one's genesis with another time, so another id.
    const real = unpackSignedBlock((await producerChain.state.store.block(GENESIS_BLOCK_NUM))!.bytes);
    const foreign = packSignedBlock({ ...real, block: { ...real.block, header: { ...real.block.header, time: real.block.header.time + 1_000_000n } } });
    const { chain, stop } = await startJoiner(side, network.chainId!.toLowerCase(), 'psiweb-outbox-join-created-foreign');
    try {
      const liar = new FakePeerSocket(OTHER_PEER, (after) => (after < GENESIS_BLOCK_NUM ? [foreign] : []));
      side.transport.add(liar);
      await until(() => side.dropped.length > 0, 'the peer dropped');
      expect(side.dropped[0]!.peerId).toBe(OTHER_PEER);
      expect(side.dropped[0]!.reason).toMatch(/genesis block .* is not this network's/);
      expect(liar.closedWith?.code).toBe(1008);
      expect(side.transport.isBanned(OTHER_PEER)).toBe(true);
      expect(chain.head).toBeUndefined();
    } finally {
      await stop();
    }
  }, 60_000);
});

/**
 * A network created in the browser, in Node with fake-indexeddb and Node's WebCrypto:
 * created (genesis with the devnet services, a non-extractable producer key kept in the
 * registry), produced by ProducerNode (blocks signed by that key, a pushed transfer
 * applied), reopened on the same database (it goes on from its head), and its blocks
 * checked by a follower that refuses a block whose signature is not the producer's.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_BLOCK_NUM } from '../../chain/constants.ts';
import { Chain } from '../../chain/executor.ts';
import { blockSigningData, blockId } from '../../consensus/block.ts';
import { generateKeyPair, sign, verify, type KeyPair } from '../../crypto/keys.ts';
import { Router } from '../../http/router.ts';
import { taposRef } from '../../protocol/tapos.ts';
import { type SignedBlock } from '../../protocol/types.ts';
import { IdbStore } from '../../state/idb-store.ts';
import { MemoryStore } from '../../state/memory-store.ts';
import { MirroredStore } from '../../state/mirrored-store.ts';
import { StateDb } from '../../state/state-db.ts';
import { serviceWasm } from '../service-build.ts';
import { createNetwork } from './create-network.ts';
import type { NodeMessage } from './messages.ts';
import { NetworkRegistry, type NetworkRecord } from './networks.ts';
import { Outbox } from './outbox.ts';
import { ProducerKeyError, ProducerNode } from './producer-node.ts';
import { signedTransfer } from './tx.ts';

const INTERVAL_MS = 100;
let seq = 0;

async function until<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a network created in the browser, produced by the browser', () => {
  let registry: NetworkRegistry;
  let network: NetworkRecord;
  let outbox: Outbox;
  const stores: IdbStore[] = [];
  const openStore = async (db: string) => {
    const s = await IdbStore.open(db);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    registry = await NetworkRegistry.open(`psiweb-networks-producer-test-${++seq}`);
    outbox = await Outbox.open(`psiweb-outbox-producer-test-${seq}`);
    network = await createNetwork({ registry, wasm: serviceWasm, openStore, label: 'test net' });
  }, 60_000);
  afterAll(async () => {
    registry.close();
    outbox.close();
  });

  /** Opens the network's chain and a producer on it (not yet running). */
  async function open(key?: KeyPair, posts: NodeMessage[] = [], pageHidden?: () => boolean | null) {
    const store = await MirroredStore.open(await openStore(network.db));
    const chain = await Chain.open({ state: new StateDb(store) });
    const producerKey = key ?? (await registry.producerKey(network.db))!;
    const node = new ProducerNode({ chain, outbox, producer: network.producer!, key: producerKey, post: (m) => posts.push(m), blockIntervalMs: INTERVAL_MS, ...(pageHidden && { pageHidden }) });
    return { store, chain, node, posts };
  }

  it('registers the network, active, with its non-extractable producer key', async () => {
    expect(network).toMatchObject({ createdHere: true, producer: 'prod', label: 'test net' });
    expect(network.chainId).toMatch(/^[0-9A-F]{64}$/);
    expect(network.db).toBe(`psiweb-chain-${network.chainId!.toLowerCase()}`);
    expect((await registry.active()).db).toBe(network.db);
    const key = (await registry.producerKey(network.db))!;
    expect(key.alg).toBe('p256');
    expect(key.alg === 'p256' && key.privateKey.extractable).toBe(false);
  });

  let firstRunHead = 0;
  let produced: SignedBlock[] = [];

  it('produces blocks signed by the browser key, and applies a pushed transfer', async () => {
    const { chain, node, store, posts } = await open();
    const key = (await registry.producerKey(network.db))!;
    const running = node.run();
    const start = chain.head!.num;
    await until(() => chain.head!.num >= start + 3, 'three blocks');
    // A transfer alice → bob through the outbox, as the root service worker queues it.
    const head = chain.head!;
    const tapos = taposRef(head.num, head.id);
    const packed = await signedTransfer({ from: 'alice', to: 'bob', amount: '25', memo: 'made here', tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
    const id = await txIdOf(packed);
    await outbox.enqueue(id, packed, Math.floor(Date.now() / 1000) + 60);
    void node.pumpOutbox();
    const rec = await until(async () => {
      const r = await outbox.get(id);
      return r && (r.status === 'applied' || r.status === 'failed') ? r : undefined;
    }, 'the transfer applied');
    expect(rec.error).toBeUndefined();
    expect(rec.status).toBe('applied');
    expect(posts.some((m) => m.type === 'tx' && m.record.id === id && m.record.status === 'applied')).toBe(true);
    // bob's balance says so (the devnet boot gave him half the supply).
    const router = new Router({ rootHost: 'psiweb.localhost', chain });
    const bal = await (await router.handle(new Request('http://tokens.psiweb.localhost/balances/bob'))).text();
    expect(bal).toContain('500025');
    const status = node.status();
    expect(status).toMatchObject({ producer: 'prod', producing: true, peerUrl: 'this browser', behind: 0 });
    node.stop();
    await running;
    firstRunHead = chain.head!.num;
    // Every block after genesis is signed by the browser's key (r‖s over the block signing data, as verify-sig checks).
    produced = [];
    for (let n = start + 1; n <= firstRunHead; n++) {
      const b = (await chain.blockByNum(n))!;
      produced.push(b);
      expect(b.signature).toHaveLength(64);
      expect(await verify(key.publicKeyDer, blockSigningData(blockId(b)), b.signature)).toBe(true);
    }
    await store.close();
  }, 60_000);

  it('reopened on the same database, goes on producing from its head', async () => {
    const { chain, node, store } = await open();
    expect(chain.head!.num).toBe(firstRunHead);
    const running = node.run();
    await until(() => chain.head!.num >= firstRunHead + 2, 'two more blocks');
    node.stop();
    await running;
    const b = (await chain.blockByNum(firstRunHead + 1))!;
    expect(toHexId(b.block.header.previous)).toBe(blockId((await chain.blockByNum(firstRunHead))!));
    await store.close();
  }, 60_000);

  it('says its tab is hidden, and reports the block slots it missed while its worker did not run', async () => {
    let hidden: boolean | null = null;
    const { chain, node, store } = await open(undefined, [], () => hidden);
    const running = node.run();
    const start = chain.head!.num;
    await until(() => chain.head!.num >= start + 2, 'two blocks');
    expect(node.status().liveness.hidden).toBeNull();
    hidden = true;
    expect(node.status().liveness.hidden).toBe(true);
    // The worker does not run for 6+ block intervals (a frozen tab, a sleeping machine).
    const stalled = Date.now();
    while (Date.now() - stalled < 650);
    const v = await until(() => {
      const l = node.status().liveness;
      return l.lastStall && l.lastStall.ms >= 650 ? l : undefined;
    }, 'the stall reported');
    expect(v.missedSlots).toBeGreaterThanOrEqual(6);
    expect(v.lastStall!.slots).toBeGreaterThanOrEqual(6);
    // It goes on producing after it.
    const after = chain.head!.num;
    await until(() => chain.head!.num >= after + 2, 'blocks after the stall');
    node.stop();
    await running;
    await store.close();
  }, 60_000);

  it('a burst of pushes: records queued while it submits others are submitted too, each applied', async () => {
    const { chain, node, store } = await open();
    const running = node.run();
    await until(() => node.node !== undefined, 'the core');
    const head = chain.head!;
    const tapos = taposRef(head.num, head.id);
    const ids: string[] = [];
    // Each queued and announced as the root service worker does it, while the node is still submitting the ones before.
    for (let i = 0; i < 30; i++) {
      const packed = await signedTransfer({ from: 'alice', to: 'bob', amount: '1', memo: `burst ${i}`, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
      const id = await txIdOf(packed);
      ids.push(id);
      await outbox.enqueue(id, packed, Math.floor(Date.now() / 1000) + 60);
      void node.pumpOutbox();
    }
    await until(async () => (await Promise.all(ids.map((id) => outbox.get(id)))).every((r) => r?.status === 'applied'), 'every record of the burst applied');
    node.stop();
    await running;
    await store.close();
  }, 60_000);

  it('refuses to produce with a key that is not the chain’s producer key, and changes nothing', async () => {
    const { chain, node, store } = await open(await generateKeyPair('p256'));
    const head = chain.head!.num;
    await expect(node.run()).rejects.toBeInstanceOf(ProducerKeyError);
    expect(chain.head!.num).toBe(head);
    await store.close();
  });

  it('a follower validates the blocks it made, and refuses one whose signature is not the producer key’s', async () => {
    const source = await open();
    const genesis = (await source.chain.blockByNum(GENESIS_BLOCK_NUM))!;
    const follower = await Chain.open({ state: new StateDb(new MemoryStore()) });
    await follower.applyBlock(genesis);
    const next = (await source.chain.blockByNum(GENESIS_BLOCK_NUM + 1))!;
    // The same block signed by another P-256 key: a well-formed signature, the wrong key.
    const forger = await generateKeyPair('p256');
    const forged: SignedBlock = { ...next, signature: await sign(forger, blockSigningData(blockId(next))) };
    await expect(follower.applyBlock(forged)).rejects.toThrow(/signature|proof/i);
    // A flipped bit in the real signature likewise.
    const flipped = new Uint8Array(next.signature);
    flipped[10]! ^= 1;
    await expect(follower.applyBlock({ ...next, signature: flipped })).rejects.toThrow(/signature|proof/i);
    expect(follower.head!.num).toBe(GENESIS_BLOCK_NUM);
    // The real ones validate, up to the transfer.
    for (let n = GENESIS_BLOCK_NUM + 1; n <= firstRunHead; n++) await follower.applyBlock((await source.chain.blockByNum(n))!);
    expect(follower.head!.num).toBe(firstRunHead);
    await source.store.close();
  }, 60_000);
});

function toHexId(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function txIdOf(packed: Uint8Array): Promise<string> {
  const { openTransaction } = await import('../../chain/executor.ts');
  return toHexId(openTransaction(packed).id);
}

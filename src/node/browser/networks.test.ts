/**
 * Several networks per profile (networks.ts, network-host.ts), in Node with
 * fake-indexeddb: the registry (records, the active network, producer keys), and the
 * node worker's switching — the peer's network on CHAIN_DB followed, a network created
 * on request produced on its own database, switching back and forth reopening the
 * right database, and a database holding another chain refused.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import type { HardState } from '../../consensus/types.ts';
import { generateKeyPair } from '../../crypto/keys.ts';
import { toHex } from '../../state/bytes.ts';
import { IdbStore } from '../../state/idb-store.ts';
import { StateDb } from '../../state/state-db.ts';
import { ServiceHost } from '../../vm/index.ts';
import { bootDevnet, loadDevnet } from '../devnet.ts';
import { serviceWasm } from '../service-build.ts';
import { CHAIN_DB } from './constants.ts';
import type { NodeMessage } from './messages.ts';
import { NetworkHost, type NetworkNode } from './network-host.ts';
import { chainDbName, NetworkError, NetworkMismatchError, NetworkRegistry, activeChainDb, type NetworkMessage } from './networks.ts';
import { Outbox } from './outbox.ts';
import { ProducerNode } from './producer-node.ts';

let seq = 0;
const CHAIN_A = 'A'.repeat(64);
const CHAIN_B = 'b'.repeat(64);

describe('the networks registry', () => {
  let reg: NetworkRegistry;
  let name: string;
  beforeAll(async () => {
    name = `psiweb-networks-test-${++seq}`;
    reg = await NetworkRegistry.open(name);
  });
  afterAll(() => reg.close());

  it('starts with the peer network (CHAIN_DB) listed and active', async () => {
    expect((await reg.active()).db).toBe(CHAIN_DB);
    expect(await reg.list()).toEqual([expect.objectContaining({ db: CHAIN_DB, chainId: null, createdHere: false })]);
    expect(await activeChainDb(name)).toBe(CHAIN_DB);
  });

  it('names a network’s database from its chain id, and refuses anything else', async () => {
    expect(chainDbName(CHAIN_A)).toBe(`psiweb-chain-${'a'.repeat(64)}`);
    expect(() => chainDbName('nope')).toThrow(NetworkError);
    await expect(reg.put({ db: 'psiweb-chain-other', chainId: CHAIN_A, label: 'x', createdHere: true, lastUsed: 1 })).rejects.toBeInstanceOf(NetworkError);
    await expect(reg.put({ db: chainDbName(CHAIN_A), chainId: null, label: 'x', createdHere: true, lastUsed: 1 })).rejects.toBeInstanceOf(NetworkError);
    expect(await reg.get(chainDbName(CHAIN_A))).toBeUndefined();
  });

  it('keeps records, switches the active one (most recently used first), and refuses an unknown one', async () => {
    await reg.put({ db: chainDbName(CHAIN_A), chainId: CHAIN_A, label: 'a', createdHere: true, producer: 'prod', lastUsed: 10 });
    await reg.put({ db: chainDbName(CHAIN_B), chainId: CHAIN_B, label: 'b', createdHere: false, bootstrap: ['/dns4/x/tcp/1'], lastUsed: 20 });
    expect((await reg.get(chainDbName(CHAIN_B)))!.chainId).toBe('B'.repeat(64));
    await reg.setActive(chainDbName(CHAIN_A), 100);
    expect((await reg.active()).label).toBe('a');
    expect(await activeChainDb(name)).toBe(chainDbName(CHAIN_A));
    expect((await reg.list()).map((n) => n.label)).toEqual(['a', 'b', 'synced from this site']);
    await expect(reg.setActive('psiweb-chain-nothing')).rejects.toBeInstanceOf(NetworkError);
    expect((await reg.active()).label).toBe('a');
    await reg.setActive(CHAIN_DB, 200);
    expect((await reg.active()).db).toBe(CHAIN_DB);
    await reg.notePeerChain(CHAIN_B.toLowerCase());
    expect((await reg.get(CHAIN_DB))!.chainId).toBe('B'.repeat(64));
  });

  it('keeps a non-extractable producer key as the key object, and refuses an extractable one', async () => {
    const key = await generateKeyPair('p256');
    await reg.saveProducerKey(chainDbName(CHAIN_A), key);
    const back = (await reg.producerKey(chainDbName(CHAIN_A)))!;
    expect(back.alg === 'p256' && back.privateKey instanceof CryptoKey && !back.privateKey.extractable).toBe(true);
    expect(back.publicKeyDer).toEqual(key.publicKeyDer);
    await expect(reg.saveProducerKey(chainDbName(CHAIN_B), await generateKeyPair('p256', { extractable: true }))).rejects.toBeInstanceOf(NetworkError);
    expect(await reg.producerKey(chainDbName(CHAIN_B))).toBeUndefined();
  });

  it("keeps a producing browser's consensus hard state per network, its bytes and numbers as they were", async () => {
    const vote = { kind: 'prepare' as const, blockId: 'ab'.repeat(32), producer: 'p-bbbbbbbb', signer: { service: 123n, rawData: new Uint8Array([1, 2, 3]) }, signature: new Uint8Array(64).fill(7) };
    const hard = {
      term: 4,
      votedFor: undefined,
      irreversible: 'cd'.repeat(32),
      lastPrepared: { term: 4, id: 'ab'.repeat(32) },
      lastCommitted: undefined,
      bestPrepared: { blockId: 'ab'.repeat(32), term: 4, num: 9, prepares: [vote] },
      irreversibleProof: new Uint8Array([9, 8, 7]),
    } as unknown as HardState;
    expect(await reg.hardState(chainDbName(CHAIN_A))).toBeUndefined();
    await reg.saveHardState(chainDbName(CHAIN_A), hard);
    expect(await reg.hardState(chainDbName(CHAIN_A))).toEqual(hard);
    expect(await reg.hardState(chainDbName(CHAIN_B))).toBeUndefined();
    // Its producer key is where it was.
    expect(await reg.producerKey(chainDbName(CHAIN_A))).toBeDefined();
  });
});

/** A stand-in follower that runs until stopped. */
class FakeFollower implements NetworkNode {
  stopped = false;
  private wake: (() => void) | undefined;
  constructor(readonly chain: Chain) {}
  onMessage(): void {}
  async pumpOutbox(): Promise<void> {}
  async pause(): Promise<void> {}
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
  run(): Promise<void> {
    return this.stopped ? Promise.resolve() : new Promise((r) => (this.wake = r));
  }
}

describe('the node worker switching networks (NetworkHost)', () => {
  let reg: NetworkRegistry;
  let outbox: Outbox;
  let host: NetworkHost;
  const posts: (NodeMessage | NetworkMessage)[] = [];
  const opened: string[] = [];
  let peerChainId: string;

  beforeAll(async () => {
    reg = await NetworkRegistry.open(`psiweb-networks-host-test-${++seq}`);
    outbox = await Outbox.open(`psiweb-outbox-host-test-${seq}`);
    // The peer's network, synced before: a devnet in CHAIN_DB.
    const store = await IdbStore.open(CHAIN_DB);
    const devnet = await loadDevnet();
    const chain = await Chain.open({ state: new StateDb(store) });
    if (!chain.head) await bootDevnet(chain, devnet, BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n);
    peerChainId = toHex(chain.chainId!).toUpperCase();
    await store.close();
    host = new NetworkHost({
      registry: reg,
      outbox,
      post: (m) => posts.push(m),
      host: () => new ServiceHost(),
      nativeVerifiers: devnet.nativeVerifiers,
      wasm: serviceWasm,
      openStore: async (db) => {
        opened.push(db);
        return IdbStore.open(db);
      },
      blockIntervalMs: 100,
      follower: (chain) => new FakeFollower(chain),
    });
  }, 60_000);
  afterAll(() => {
    reg.close();
    outbox.close();
  });

  /** The worker's loop: runs the active network's node until it stops for good; returns the nodes it ran. */
  async function workerLoop(onOpen: (node: NetworkNode, chain: Chain) => Promise<void>): Promise<void> {
    for (;;) {
      const { node, chain } = await host.open();
      const running = node.run();
      await onOpen(node, chain);
      await running;
      await host.close();
      if (!host.switched) return;
    }
  }

  it('follows the peer network on CHAIN_DB, creates a network on request and produces it, switches back and again', async () => {
    const seen: { kind: string; chainId: string; head: number }[] = [];
    let step = 0;
    let nonce = '';
    await workerLoop(async (node, chain) => {
      const kind = node instanceof ProducerNode ? 'producer' : 'follower';
      seen.push({ kind, chainId: toHex(chain.chainId!).toUpperCase(), head: chain.head!.num });
      step++;
      if (step === 1) {
        // On the peer's network: the registry learns its chain id.
        expect((await reg.get(CHAIN_DB))!.chainId).toBe(peerChainId);
        nonce = crypto.randomUUID();
        void host.handle({ type: 'create-network', nonce, label: 'made here' });
      } else if (step === 2) {
        // The created network's producer: blocks come.
        const start = chain.head!.num;
        await until(() => chain.head!.num >= start + 2);
        void host.handle({ type: 'switch-network', db: CHAIN_DB });
      } else if (step === 3) {
        void host.handle({ type: 'switch-network', db: (await reg.list()).find((n) => n.createdHere)!.db });
      } else {
        const start = chain.head!.num;
        await until(() => chain.head!.num >= start + 1);
        node.stop();
      }
    });
    const created = (await reg.list()).find((n) => n.createdHere)!;
    expect(seen.map((s) => s.kind)).toEqual(['follower', 'producer', 'follower', 'producer']);
    expect(seen.map((s) => s.chainId)).toEqual([peerChainId, created.chainId, peerChainId, created.chainId]);
    // The producer went on from where it stopped when it came back.
    expect(seen[3]!.head).toBeGreaterThanOrEqual(seen[1]!.head + 2);
    expect(opened.filter((db) => db !== CHAIN_DB).every((db) => db === created.db)).toBe(true);
    expect(posts).toContainEqual({ type: 'network-created', nonce, db: created.db, chainId: created.chainId });
    expect(posts.filter((m) => m.type === 'network').map((m) => (m as { db: string }).db)).toEqual([created.db, CHAIN_DB, created.db]);
    // The same create request said again gets the same answer, and creates nothing more.
    posts.length = 0;
    await host.handle({ type: 'create-network', nonce });
    expect(posts).toEqual([{ type: 'network-created', nonce, db: created.db, chainId: created.chainId }]);
    expect((await reg.list()).filter((n) => n.createdHere)).toHaveLength(1);
  }, 60_000);

  it('refuses a database that holds another chain than its record says, and opens nothing', async () => {
    const created = (await reg.list()).find((n) => n.createdHere)!;
    // A record claiming the created chain's database is another network: never misread.
    await reg.put({ ...created, chainId: CHAIN_A, db: chainDbName(CHAIN_A) });
    const wrongKey = await reg.producerKey(created.db);
    await reg.saveProducerKey(chainDbName(CHAIN_A), wrongKey!);
    // Point the record at the real database's content: copy it under the other name.
    const src = await IdbStore.open(created.db);
    const dst = await IdbStore.open(chainDbName(CHAIN_A));
    const head = (await src.head())!;
    const block = (await src.block(head.num))!;
    await dst.commitBlock({ writes: (await src.getRange(new Uint8Array(0), undefined)).map((e) => [e.key, e.value] as const), block, head });
    await src.close();
    await dst.close();
    await reg.setActive(chainDbName(CHAIN_A));
    await expect(host.open()).rejects.toBeInstanceOf(NetworkMismatchError);
    await reg.setActive(CHAIN_DB);
  });

  it('refuses to switch to a network not in the registry, and keeps the active one', async () => {
    const before = (await reg.active()).db;
    posts.length = 0;
    await host.handle({ type: 'switch-network', db: 'psiweb-chain-nothing' });
    expect((await reg.active()).db).toBe(before);
    expect(posts).toEqual([]);
  });
});

async function until(fn: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

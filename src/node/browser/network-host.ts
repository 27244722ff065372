/**
 * The node worker's side of several networks (networks.ts): opens the active network's
 * database and the node for it — a follower of the Node peer (BrowserNode, as the
 * worker builds it) for the peer's network, the producer (ProducerNode) for one created
 * here — and carries out the network requests that come on NODE_CHANNEL (create one,
 * switch to another): the registry changes, the new active network is announced, and
 * the running node is stopped at a block boundary so the worker's loop opens the other.
 */
import { Chain } from '../../chain/executor.ts';
import type { NativeVerifier } from '../../chain/verify.ts';
import { IdbStore } from '../../state/idb-store.ts';
import { MirroredStore } from '../../state/mirrored-store.ts';
import type { KvStore } from '../../state/store.ts';
import { toHex } from '../../state/bytes.ts';
import type { ServiceHost } from '../../vm/index.ts';
import { BroadcastingStateDb } from './broadcasting-state.ts';
import type { DevnetWasm } from '../devnet-genesis.ts';
import { createNetwork } from './create-network.ts';
import type { NodeMessage } from './messages.ts';
import { CHAIN_DB } from './constants.ts';
import { chainDbName, NetworkError, NetworkMismatchError, type NetworkMessage, type NetworkRecord, type NetworkRegistry } from './networks.ts';
import type { WorkerPeerBridge } from './peer-bridge.ts';
import type { Outbox } from './outbox.ts';
import { ProducerKeyError, ProducerNode } from './producer-node.ts';

/** What the worker runs for a network: BrowserNode (follower) or ProducerNode. */
export interface NetworkNode {
  onMessage(m: NodeMessage): void;
  run(): Promise<void>;
  pause(): Promise<void>;
  stop(): void;
  pumpOutbox(): Promise<void>;
}

export interface NetworkHostInit {
  registry: NetworkRegistry;
  outbox: Outbox;
  /** Posts on NODE_CHANNEL. */
  post: (m: NodeMessage | NetworkMessage) => void;
  /** The service host of each chain opened (BrowserServiceHost). */
  host: () => ServiceHost;
  nativeVerifiers: NativeVerifier[];
  /**
   * The follower of a network, as the worker builds it: of the Node peer's network, or
   * (`network.joined`) of one joined by a browser's invite, over browser peers only.
   */
  follower: (chain: Chain, state: BroadcastingStateDb, network: NetworkRecord) => NetworkNode;
  /** The chain id (hex) of the Node peer that served the page (its /native/status), or null when it cannot say. */
  peerChainId?: () => Promise<string | null>;
  /** The leader page's libp2p peers: a network created here is served to its joiners over them. */
  bridge?: WorkerPeerBridge;
  /** The devnet services' wasm for a network created here (fetchServiceWasm). */
  wasm: DevnetWasm;
  openStore?: (db: string) => Promise<KvStore>;
  blockIntervalMs?: number;
  log?: (line: string) => void;
}

export interface OpenedNetwork {
  network: NetworkRecord;
  store: KvStore;
  state: BroadcastingStateDb;
  chain: Chain;
  node: NetworkNode;
}

export class NetworkHost {
  private current: OpenedNetwork | undefined;
  /** Set while the running node is stopped for another network: the worker's loop opens the active one again. */
  private switching = false;
  /** Answers to create requests by nonce (undefined while one runs). */
  private readonly created = new Map<string, Promise<NetworkMessage | undefined>>();
  private readonly openStore: (db: string) => Promise<KvStore>;

  constructor(private readonly init: NetworkHostInit) {
    this.openStore = init.openStore ?? ((db) => IdbStore.open(db));
  }

  /** Opens the active network's chain and its node (not yet running). A database holding another chain is refused. */
  async open(): Promise<OpenedNetwork> {
    const { registry, post } = this.init;
    const network = await registry.active();
    const backing = await this.openStore(network.db);
    let store: KvStore = backing;
    try {
      // A producer builds blocks synchronously: its state is read into memory (mirrored-store.ts).
      if (network.createdHere) store = await MirroredStore.open(backing);
      const state = new BroadcastingStateDb(store, post);
      const chain = await Chain.open({ state, host: this.init.host(), nativeVerifiers: this.init.nativeVerifiers });
      const chainId = chain.chainId ? toHex(chain.chainId).toUpperCase() : null;
      if (network.chainId !== null && chainId !== null && chainId !== network.chainId)
        throw new NetworkMismatchError(`the database ${network.db} holds chain ${chainId}, not the network's ${network.chainId}`);
      if (!network.createdHere && network.chainId === null && chainId !== null) await registry.notePeerChain(chainId);
      let node: NetworkNode;
      if (network.createdHere) {
        const key = await registry.producerKey(network.db);
        if (!key || !network.producer) throw new ProducerKeyError(`this browser holds no producer key for the network ${network.label}`);
        node = new ProducerNode({
          chain,
          outbox: this.init.outbox,
          producer: network.producer,
          key,
          post,
          settled: () => state.settled(),
          ...(this.init.bridge && { bridge: this.init.bridge }),
          ...(this.init.blockIntervalMs !== undefined && { blockIntervalMs: this.init.blockIntervalMs }),
          ...(this.init.log && { log: this.init.log }),
        });
      } else node = this.init.follower(chain, state, network);
      this.current = { network, store, state, chain, node };
      this.switching = false;
      return this.current;
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /** Whether the node stopped to switch networks (the worker opens the active one again), rather than for good. */
  get switched(): boolean {
    return this.switching;
  }

  /** Closes the network opened last. */
  async close(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    await c?.store.close();
  }

  /** A network request from the channel (other messages are the node's). */
  async handle(m: NetworkMessage): Promise<void> {
    if (m.type === 'create-network') {
      // A request said again (the page resends until answered, also after a reload) gets the same answer.
      const known = this.created.get(m.nonce);
      if (known) {
        const answer = await known;
        if (answer) this.init.post(answer);
        return;
      }
      let done!: (a: NetworkMessage | undefined) => void;
      this.created.set(m.nonce, new Promise((r) => (done = r)));
      let answer: NetworkMessage | undefined;
      try {
        const record = await createNetwork({
          registry: this.init.registry,
          wasm: this.init.wasm,
          openStore: this.openStore,
          host: this.init.host(),
          nativeVerifiers: this.init.nativeVerifiers,
          ...(m.label !== undefined && { label: m.label }),
        });
        answer = { type: 'network-created', nonce: m.nonce, db: record.db, chainId: record.chainId! };
        await this.restart(record);
      } catch (e) {
        this.init.log?.(`cannot create a network: ${(e as Error).message}`);
        answer = { type: 'network-failed', nonce: m.nonce, error: (e as Error).message ?? String(e) };
      } finally {
        done(answer);
      }
      this.init.post(answer);
    } else if (m.type === 'join-network') {
      await this.join(m.chainId, m.bootstrap);
    } else if (m.type === 'switch-network') {
      if (this.current?.network.db === m.db && !this.switching) {
        // Already active: said again, so whoever asked hears it.
        this.init.post({ type: 'network', db: m.db, chainId: this.current.network.chainId });
        return;
      }
      let record: NetworkRecord;
      try {
        record = await this.init.registry.setActive(m.db);
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        this.init.log?.(e.message);
        return;
      }
      await this.restart(record);
    }
  }

  /**
   * An invite for `chainId` was opened: the Node peer's network when the peer is of that
   * chain, else the registry's record of it, else a new record of a network joined over
   * browser peers (its database named from the chain id). Made active unless it is.
   */
  private async join(chainId: string, bootstrap: string[]): Promise<void> {
    const { registry, post, log } = this.init;
    const id = chainId.toUpperCase();
    let record: NetworkRecord | undefined;
    try {
      const peerNet = (await registry.get(CHAIN_DB))!;
      const peerChain = peerNet.chainId ?? (await this.init.peerChainId?.().catch(() => null))?.toUpperCase() ?? null;
      // Not knowing the peer's chain, nothing is decided: the page says it again.
      if (peerChain === null) return log?.(`an invite for ${id.slice(0, 16)}…: the Node peer's chain is not known yet`);
      if (peerChain === id) record = peerNet;
      else {
        const db = chainDbName(chainId);
        record = await registry.get(db);
        if (!record) {
          record = { db, chainId: id, label: 'joined by invite', createdHere: false, joined: true, bootstrap: bootstrap.slice(0, 16), lastUsed: Date.now() };
          await registry.put(record);
        }
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      log?.(`cannot join: ${e.message}`);
      return;
    }
    if (this.current?.network.db === record.db && !this.switching) {
      post({ type: 'network', db: record.db, chainId: this.current.network.chainId ?? record.chainId });
      return;
    }
    await this.restart(await registry.setActive(record.db));
  }

  /** Stops the running node at a block boundary; the worker's loop then opens `record` (now active). */
  private async restart(record: NetworkRecord): Promise<void> {
    const node = this.current?.node;
    this.switching = true;
    if (node) {
      await node.pause();
      node.stop();
    }
    this.init.post({ type: 'network', db: record.db, chainId: record.chainId });
  }
}

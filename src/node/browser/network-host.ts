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
import { candidateTransactions, newProducerName, ProducerSetError, readCandidates, setProducersTransaction } from './producer-set.ts';
import { openTransaction } from '../../chain/executor.ts';
import { generateKeyPair } from '../../crypto/keys.ts';

/** How long a producer-set transaction may take to be applied. */
const SUBMIT_TIMEOUT_MS = 60_000;
const SUBMIT_POLL_MS = 100;

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
  /** Whether the page of this worker is hidden (a producer reports it). */
  pageHidden?: () => boolean | null;
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
  /** Answers to producer-set requests by nonce (the page says a request again until answered). */
  private readonly answered = new Map<string, Promise<NetworkMessage>>();

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
      const producing = network.createdHere || network.producer !== undefined;
      if (producing) store = await MirroredStore.open(backing);
      const state = new BroadcastingStateDb(store, post);
      const chain = await Chain.open({ state, host: this.init.host(), nativeVerifiers: this.init.nativeVerifiers });
      const chainId = chain.chainId ? toHex(chain.chainId).toUpperCase() : null;
      if (network.chainId !== null && chainId !== null && chainId !== network.chainId)
        throw new NetworkMismatchError(`the database ${network.db} holds chain ${chainId}, not the network's ${network.chainId}`);
      if (!network.createdHere && network.chainId === null && chainId !== null) await registry.notePeerChain(chainId);
      let node: NetworkNode;
      if (producing) {
        const key = await registry.producerKey(network.db);
        if (!key || !network.producer) throw new ProducerKeyError(`this browser holds no producer key for the network ${network.label}`);
        node = new ProducerNode({
          chain,
          outbox: this.init.outbox,
          producer: network.producer,
          key,
          // A joiner that offered to produce follows until the set names it.
          ...(!network.createdHere && { candidate: true }),
          hardState: { load: () => registry.hardState(network.db), save: (hard) => registry.saveHardState(network.db, hard) },
          post,
          settled: () => state.settled(),
          ...(this.init.bridge && { bridge: this.init.bridge }),
          ...(this.init.blockIntervalMs !== undefined && { blockIntervalMs: this.init.blockIntervalMs }),
          ...(this.init.pageHidden && { pageHidden: this.init.pageHidden }),
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
    } else if (m.type === 'offer-produce' || m.type === 'set-producers') {
      let answer = this.answered.get(m.nonce);
      if (!answer) {
        answer = (m.type === 'offer-produce' ? this.offerToProduce() : this.setProducers(m.mode, m.producers)).then(
          (a) => ({ type: 'producer-answer' as const, nonce: m.nonce, ...a }),
          (e: unknown) => {
            this.init.log?.(`${m.type}: ${(e as Error).message}`);
            return { type: 'producer-answer' as const, nonce: m.nonce, error: (e as Error).message ?? String(e) };
          },
        );
        this.answered.set(m.nonce, answer);
      }
      this.init.post(await answer);
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

  /**
   * Offers this browser as a producer of the active network, joined over browser peers:
   * a new non-extractable key and account, registered as a candidate through the
   * network's producers; once both transactions are applied the key is kept and the
   * node runs again as that producer (a candidate until the set names it).
   */
  private async offerToProduce(): Promise<{ producer: string }> {
    const c = this.current;
    if (!c) throw new ProducerSetError('no network is open');
    if (c.network.producer) return { producer: c.network.producer };
    if (!c.network.joined) throw new ProducerSetError('only a network joined over browser peers takes this browser as a producer (the Node peer’s network has its producers)');
    const key = await generateKeyPair('p256');
    const name = newProducerName();
    const [account, candidacy] = await candidateTransactions(c.chain, name, key);
    await this.submit(account, 'the producer account');
    await this.submit(candidacy, 'the candidacy');
    await this.init.registry.saveProducerKey(c.network.db, key);
    const record = { ...c.network, producer: name };
    await this.init.registry.put(record);
    this.init.log?.(`offered to produce as ${name}`);
    await this.restart(record);
    return { producer: name };
  }

  /** Names the producer set (this browser's producer first, then `names`, default every candidate): the creator's producers::setConsensus. */
  private async setProducers(mode: 'cft' | 'bft', names: string[] | undefined): Promise<{ producers: string[] }> {
    const c = this.current;
    if (!c) throw new ProducerSetError('no network is open');
    const own = c.network.producer;
    const key = await this.init.registry.producerKey(c.network.db);
    if (!c.network.createdHere || !own || !key) throw new ProducerSetError('only the browser that created this network names its producers');
    const producers = [own, ...(names ?? readCandidates(c.chain).map((x) => x.name)).filter((n) => n !== own)];
    await this.submit(await setProducersTransaction(c.chain, mode, producers, own, key), 'the producer set');
    return { producers };
  }

  /** Queues a transaction in the outbox for the running node and waits for its verdict; a ProducerSetError naming `what` when it fails. */
  private async submit(packed: Uint8Array, what: string, timeoutMs = SUBMIT_TIMEOUT_MS): Promise<void> {
    const opened = openTransaction(packed);
    const id = toHex(opened.id);
    await this.init.outbox.enqueue(id, packed, Number(opened.transaction.tapos.expiration));
    this.init.post({ type: 'outbox' });
    const end = Date.now() + timeoutMs;
    for (;;) {
      void this.current?.node.pumpOutbox();
      const r = await this.init.outbox.get(id);
      if (r?.status === 'applied') return;
      if (r?.status === 'failed') throw new ProducerSetError(`${what} failed: ${r.error ?? 'no reason given'}`);
      if (Date.now() > end) throw new ProducerSetError(`${what} was not applied within ${timeoutMs / 1000} s`);
      await new Promise((res) => setTimeout(res, SUBMIT_POLL_MS));
    }
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

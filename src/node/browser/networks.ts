/**
 * The networks of this browser profile. Each network's chain lives in its own IndexedDB
 * database: the one synced from the Node peer that served the page keeps CHAIN_DB
 * ('psiweb-chain', as before there were several), every other one is named from its
 * chain id (chainDbName). A small registry database (NETWORKS_DB) lists them —
 * {db, chainId, label, createdHere, bootstrap?, lastUsed} — says which one is active
 * (the node worker and the root service worker open that one), and keeps the producer
 * key of each network created here: a non-extractable WebCrypto key, which IndexedDB's
 * structured clone stores as the key object itself, never its secret.
 *
 * A database is never read as another network: the worker checks the chain id of what
 * it opened against its record (NetworkMismatchError), and the follower checks the
 * peer's chain against its own (sync.ts).
 *
 * Switching: whoever makes another network active (the page, the worker after creating
 * one) announces it on NODE_CHANNEL as a NetworkMessage; the node worker stops its node
 * and opens the active network's database, the root service worker drops its view.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { PsiwebError } from '../../errors.ts';
import type { KeyPair } from '../../crypto/keys.ts';
import type { HardState } from '../../consensus/types.ts';
import { CHAIN_DB } from './constants.ts';

/** The registry database of this profile's networks. */
export const NETWORKS_DB = 'psiweb-networks';

const VERSION = 1;
const NETWORKS = 'networks';
const META = 'meta';
const KEYS = 'keys';
const ACTIVE_KEY = 'active';

/** A network's record in the registry. */
export interface NetworkRecord {
  /** Its IndexedDB database: CHAIN_DB for the network of the Node peer that served the page, else chainDbName(chainId). */
  db: string;
  /** The chain id (hex, upper case as /native/status shows it); null while the peer's network is not synced yet. */
  chainId: string | null;
  label: string;
  /** Booted in this browser, which is its producer. */
  createdHere: boolean;
  /** Joined by an invite: its blocks come from browser peers only (the Node peer is not of it). */
  joined?: boolean;
  /** The producer account this browser signs as: of a network created here, or one whose producer set it offered to join. */
  producer?: string;
  /** Where its peers are (multiaddrs or URLs), for joining it again. */
  bootstrap?: string[];
  /** When it was last made active (ms since the epoch). */
  lastUsed: number;
}

/** Told on NODE_CHANNEL: the active network is now `db` (the node and the service worker reopen on it). */
export type NetworkMessage =
  | { type: 'network'; db: string; chainId: string | null }
  /** Asks the node to create a network in this browser and make it active; answered by 'network' with the nonce, or 'network-failed'. */
  | { type: 'create-network'; nonce: string; label?: string }
  | { type: 'network-created'; nonce: string; db: string; chainId: string }
  | { type: 'network-failed'; nonce: string; error: string }
  /** Asks the node to make another network of the registry active. */
  | { type: 'switch-network'; db: string }
  /**
   * An invite was opened (invite.ts): the node makes the network it names active — the
   * Node peer's, one of the registry, or a new record joined over browser peers — and
   * answers with 'network' (its db and chain id).
   */
  | { type: 'join-network'; chainId: string; bootstrap: string[] }
  /**
   * Offer this browser as a producer of the active network (joined over browser peers):
   * a key and an account are made and registered as a candidate (producer-set.ts); the
   * node then runs as that producer, following until the set names it.
   */
  | { type: 'offer-produce'; nonce: string }
  /** Name the producer set of the active network (its creator only): this browser's producer and `producers` (default: every candidate). */
  | { type: 'set-producers'; nonce: string; mode: 'cft' | 'bft'; producers?: string[] }
  /** The answer to 'offer-produce' (the producer account) or 'set-producers' (the set named), or why it failed. */
  | { type: 'producer-answer'; nonce: string; producer?: string; producers?: string[]; error?: string };

export function isNetworkMessage(m: unknown): m is NetworkMessage {
  const t = (m as { type?: unknown } | null)?.type;
  return (
    t === 'network' ||
    t === 'create-network' ||
    t === 'network-created' ||
    t === 'network-failed' ||
    t === 'switch-network' ||
    t === 'join-network' ||
    t === 'offer-produce' ||
    t === 'set-producers' ||
    t === 'producer-answer'
  );
}

/** A registry request that cannot be met (an unknown network, a bad chain id). */
export class NetworkError extends PsiwebError {
  override name = 'NetworkError';
}

/** A network's database holds another chain than its record says: refused, never misread. */
export class NetworkMismatchError extends NetworkError {
  override name = 'NetworkMismatchError';
}

const CHAIN_ID = /^[0-9A-Fa-f]{64}$/;

/** The database of the network with chain id `chainId` (not the peer's network, which keeps CHAIN_DB). */
export function chainDbName(chainId: string): string {
  if (!CHAIN_ID.test(chainId)) throw new NetworkError(`not a chain id: ${JSON.stringify(chainId)}`);
  return `${CHAIN_DB}-${chainId.toLowerCase()}`;
}

/** The record of the network synced from the Node peer (CHAIN_DB), before it says more of itself. */
export function peerNetwork(now = Date.now()): NetworkRecord {
  return { db: CHAIN_DB, chainId: null, label: 'synced from this site', createdHere: false, lastUsed: now };
}

export class NetworkRegistry {
  private constructor(private readonly db: IDBPDatabase) {}

  static async open(name: string = NETWORKS_DB): Promise<NetworkRegistry> {
    let reg: NetworkRegistry | undefined;
    const db = await openDB(name, VERSION, {
      upgrade(db) {
        db.createObjectStore(NETWORKS, { keyPath: 'db' });
        db.createObjectStore(META);
        db.createObjectStore(KEYS);
      },
      blocking() {
        reg?.close();
      },
    });
    reg = new NetworkRegistry(db);
    return reg;
  }

  close(): void {
    this.db.close();
  }

  /** Every network, the peer's included (listed even before it has a record), most recently used first. */
  async list(): Promise<NetworkRecord[]> {
    const all = (await this.db.getAll(NETWORKS)) as NetworkRecord[];
    if (!all.some((n) => n.db === CHAIN_DB)) all.push(peerNetwork(0));
    return all.sort((a, b) => b.lastUsed - a.lastUsed);
  }

  async get(db: string): Promise<NetworkRecord | undefined> {
    const r = (await this.db.get(NETWORKS, db)) as NetworkRecord | undefined;
    return r ?? (db === CHAIN_DB ? peerNetwork(0) : undefined);
  }

  /** Adds or replaces a record; its db must match its chain id (CHAIN_DB aside). */
  async put(record: NetworkRecord): Promise<void> {
    if (record.db !== CHAIN_DB) {
      if (record.chainId === null || record.db !== chainDbName(record.chainId))
        throw new NetworkError(`network database ${record.db} is not named from its chain id ${record.chainId}`);
    }
    await this.db.put(NETWORKS, { ...record, ...(record.chainId && { chainId: record.chainId.toUpperCase() }) });
  }

  /** Notes the chain id of the peer's network once it is known (first sync). */
  async notePeerChain(chainId: string): Promise<void> {
    const r = await this.get(CHAIN_DB);
    if (r!.chainId === chainId.toUpperCase()) return;
    await this.put({ ...r!, chainId: chainId.toUpperCase() });
  }

  /** The active network: the one last made active, else the peer's. */
  async active(): Promise<NetworkRecord> {
    const db = (await this.db.get(META, ACTIVE_KEY)) as string | undefined;
    const r = db === undefined ? undefined : await this.get(db);
    return r ?? (await this.get(CHAIN_DB))!;
  }

  /** Makes `db` (a network of the registry) the active one. */
  async setActive(db: string, now = Date.now()): Promise<NetworkRecord> {
    const r = await this.get(db);
    if (!r) throw new NetworkError(`there is no network ${db} in this profile`);
    const used = { ...r, lastUsed: now };
    const tx = this.db.transaction([NETWORKS, META], 'readwrite');
    await Promise.all([tx.objectStore(NETWORKS).put(used), tx.objectStore(META).put(db, ACTIVE_KEY), tx.done]);
    return used;
  }

  /** Keeps the producer key of network `db` (its private key non-extractable: stored as the key object). */
  async saveProducerKey(db: string, key: KeyPair): Promise<void> {
    if (key.alg !== 'p256' || key.privateKey.extractable) throw new NetworkError('a producer key kept in the browser must be a non-extractable P-256 WebCrypto key');
    await this.db.put(KEYS, key, db);
  }

  async producerKey(db: string): Promise<KeyPair | undefined> {
    return (await this.db.get(KEYS, db)) as KeyPair | undefined;
  }

  /** Keeps a producing browser's consensus hard state for network `db` (term, votes: so a restart never votes twice in a term), durably. */
  async saveHardState(db: string, hard: HardState): Promise<void> {
    const tx = this.db.transaction(KEYS, 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.put(hard, hardStateKey(db)), tx.done]);
  }

  /** The hard state saveHardState kept for network `db`, if any. */
  async hardState(db: string): Promise<HardState | undefined> {
    return (await this.db.get(KEYS, hardStateKey(db))) as HardState | undefined;
  }
}

/** Where a network's consensus hard state is kept, beside its producer key. */
const hardStateKey = (db: string): string => `hard-state:${db}`;

/** The database of this profile's active network (opens the registry for the answer). */
export async function activeChainDb(name: string = NETWORKS_DB): Promise<string> {
  const reg = await NetworkRegistry.open(name);
  try {
    return (await reg.active()).db;
  } finally {
    reg.close();
  }
}

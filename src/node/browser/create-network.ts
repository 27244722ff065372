/**
 * Creates a network in this browser (issue 11 §2): a new chain booted here with
 * psiweb's devnet services (alice and bob with their devnet keys, the token supply split
 * between them), whose one producer is this browser. The producer's block key is a P-256
 * WebCrypto key made here as non-extractable and kept in the registry (networks.ts); its
 * public key is the producer's claim (verify-sig: DER SubjectPublicKeyInfo, r‖s over
 * sha256, which is what WebCrypto's ECDSA gives) and its account's auth-sig key.
 *
 * The genesis block is made on a scratch in-memory chain first, which gives the chain id
 * the network's database is named from; the database then applies that block as any
 * follower applies a genesis block (all its checks), so what is stored is a validated
 * chain. Nothing is registered until the database holds it.
 */
import { Chain } from '../../chain/executor.ts';
import type { NativeVerifier } from '../../chain/verify.ts';
import { generateKeyPair, type KeyPair } from '../../crypto/keys.ts';
import { toHex } from '../../state/bytes.ts';
import { MemoryStore } from '../../state/memory-store.ts';
import { StateDb } from '../../state/state-db.ts';
import type { KvStore } from '../../state/store.ts';
import type { ServiceHost } from '../../vm/index.ts';
import { DEVNET_PRODUCER } from '../constants.ts';
import { bootGenesis, devnetFromWasm, type DevnetWasm } from '../devnet-genesis.ts';
import { chainDbName, NetworkMismatchError, type NetworkRecord, type NetworkRegistry } from './networks.ts';

export interface CreateNetworkInit {
  registry: NetworkRegistry;
  /** The devnet services' wasm (fetchServiceWasm in the browser). */
  wasm: DevnetWasm;
  /** Opens (creating) the IndexedDB store of a network's database. */
  openStore: (db: string) => Promise<KvStore & { close(): Promise<void> | void }>;
  /** The service host both chains run on (the browser's BrowserServiceHost); default the chain's own. */
  host?: ServiceHost;
  nativeVerifiers?: NativeVerifier[];
  label?: string;
  /** The producer account (default `prod`). */
  producer?: string;
  /** The producer's key (default: a new non-extractable P-256 WebCrypto key). */
  key?: KeyPair;
  now?: () => number;
}

/** Boots a new network here, registers it with its producer key and makes it active. */
export async function createNetwork(init: CreateNetworkInit): Promise<NetworkRecord> {
  const now = init.now ?? (() => Date.now());
  const producer = init.producer ?? DEVNET_PRODUCER;
  const key = init.key ?? (await generateKeyPair('p256'));
  const devnet = await devnetFromWasm(init.wasm, producer, key);
  const nativeVerifiers = init.nativeVerifiers ?? devnet.nativeVerifiers;
  const chainInit = { ...(init.host && { host: init.host }), nativeVerifiers };
  const scratch = await Chain.open({ state: new StateDb(new MemoryStore()), ...chainInit });
  const genesis = await bootGenesis(scratch, devnet, BigInt(Math.floor(now() / 1000)) * 1_000_000n, { producersOwner: producer });
  const chainId = toHex(scratch.chainId!).toUpperCase();
  const db = chainDbName(chainId);
  const store = await init.openStore(db);
  try {
    const chain = await Chain.open({ state: new StateDb(store), ...chainInit });
    if (!chain.head) await chain.applyBlock(genesis.bytes);
    else if (toHex(chain.chainId!).toUpperCase() !== chainId) throw new NetworkMismatchError(`database ${db} holds chain ${toHex(chain.chainId!)}, not ${chainId}`);
  } finally {
    await store.close();
  }
  await init.registry.saveProducerKey(db, key);
  const record: NetworkRecord = { db, chainId, label: init.label ?? `created here ${new Date(now()).toISOString().slice(0, 16).replace('T', ' ')}`, createdHere: true, producer, lastUsed: now() };
  await init.registry.put(record);
  return init.registry.setActive(db, now());
}

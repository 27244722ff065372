/**
 * A development chain (platform-neutral: the services' wasm comes in, so a browser can
 * boot one too; devnet.ts loads it from services/build on the Node peer), booted the way psibase's `psibase boot` boots one
 * (rust/psibase/src/boot.rs) with psiweb's AssemblyScript services:
 *
 *  1. The genesis transaction installs every service with psibase's flags: db,
 *     transact, setcode, producers and http privileged (their packages say
 *     `FLAGS isPrivileged`), verify-sig a verify service, the rest plain. psibase puts
 *     only transact's dependencies in genesis and installs the others with
 *     setcode::setCode; a devnet needs every one of them in its first block, and the
 *     resulting code rows are the same.
 *  2. The genesis block's actions: the producer set (`prod`, signing blocks with its
 *     key through verify-sig).
 *  3. Each package's install, in dependency order: init actions (accounts, setcode),
 *     HTTP servers registered with http, the tokens UI uploaded to sites.
 *  4. Accounts: the producer's and the users' (alice, bob), each with auth-sig and its
 *     dev key; open registration's `registrar` (services/accounts: it may send only
 *     auth-sig newAccount, unsigned, so anyone can create an account with their own
 *     key); then the token supply, split between alice and bob.
 *  5. transact::finishBoot, after which transact enforces auth.
 *
 * Everything goes into the genesis block, so transact needs no startBoot (psibase
 * only requires it when boot spans blocks). Keys are psiweb's reproducible dev keys
 * (src/crypto devKeyPair): never use a devnet for anything of value.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { BlockProver, Chain, ProducedBlock } from '../chain/executor.ts';
import type { GenesisService } from '../chain/native-tables.ts';
import { sigVerifier } from '../chain/sig-verifier.ts';
import type { NativeVerifier } from '../chain/verify.ts';
import { devKeyPair, sign, type KeyPair } from '../crypto/keys.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { packTransaction, type Action, type SignedTransaction } from '../protocol/types.ts';
import { CodeFlags } from '../vm/index.ts';
import { PsiwebError } from '../errors.ts';
import { DEVNET_PRODUCER } from './constants.ts';
import { packActionArgs } from './schemas.ts';

export interface DevnetService {
  name: string;
  flags: bigint;
  /** Registered with http as its own HTTP server (psibase's package `SERVER`). */
  server?: boolean;
}

/** The services a devnet runs, in psibase's dependency order. */
export const DEVNET_SERVICES: readonly DevnetService[] = [
  { name: 'db', flags: CodeFlags.isPrivileged },
  { name: 'transact', flags: CodeFlags.isPrivileged },
  { name: 'accounts', flags: 0n },
  { name: 'auth-sig', flags: 0n },
  // accounts.init gives every genesis account auth-delegate (psibase's account auth-delg).
  { name: 'auth-delg', flags: 0n },
  { name: 'auth-any', flags: 0n },
  { name: 'verify-sig', flags: CodeFlags.isVerify },
  { name: 'setcode', flags: CodeFlags.isPrivileged },
  { name: 'producers', flags: CodeFlags.isPrivileged },
  { name: 'http', flags: CodeFlags.isPrivileged },
  { name: 'sites', flags: 0n },
  { name: 'common-api', flags: 0n, server: true },
  { name: 'tokens', flags: 0n, server: true },
];

/** Accounts a devnet creates for people, each with auth-sig and its dev key. */
export const DEVNET_USERS: readonly string[] = ['alice', 'bob'];

/**
 * Open registration's sender: accounts authorizes its auth-sig newAccount actions, and
 * only those, with no signature (services/accounts). A chain without it has no open
 * registration.
 */
export const DEVNET_REGISTRAR = 'registrar';

/** Tokens created at boot; alice and bob get half each. */
export const DEVNET_TOKEN_SUPPLY = 1_000_000n;

/** How long boot transactions stay valid: they all run in the genesis block. */
const BOOT_EXPIRATION_SEC = 60n;

const devnetKeys = new Map<string, Promise<KeyPair>>();

/** The dev key of a devnet account (P-256, so WebCrypto verifies it); derived once per account. */
export function devnetKey(account: string): Promise<KeyPair> {
  let key = devnetKeys.get(account);
  if (!key) {
    key = devKeyPair('p256', account);
    devnetKeys.set(account, key);
    key.catch(() => devnetKeys.delete(account));
  }
  return key;
}

export interface Devnet {
  services: GenesisService[];
  /** The native twin of verify-sig, matched to the built module by its code hash. */
  nativeVerifiers: NativeVerifier[];
  producer: bigint;
  /** The producer's account name (`prod` unless loadDevnet was given another). */
  producerName: string;
  producerKey: KeyPair;
  /** Signs blocks with the producer's key. */
  prover: BlockProver;
}

/** A devnet with several block producers (`psiweb start --producers a,b,c --mode bft`). */
export interface DevnetProducers {
  /** The producer accounts, each signing with its devnet key (devnetKey). */
  names: readonly string[];
  mode: 'cft' | 'bft';
}

/** The wasm of each devnet service by name (DEVNET_SERVICES). */
export type DevnetWasm = ReadonlyMap<string, Uint8Array> | ((name: string) => Uint8Array | Promise<Uint8Array>);

/** The services of a devnet from their wasm (read from services/build on Node, fetched in a browser). */
export async function devnetServices(wasm: DevnetWasm): Promise<GenesisService[]> {
  const services: GenesisService[] = [];
  for (const s of DEVNET_SERVICES) {
    const code = typeof wasm === 'function' ? await wasm(s.name) : wasm.get(s.name);
    if (!code) throw new PsiwebError(`no wasm for the devnet service ${s.name}`);
    services.push({ service: accountNumber(s.name), flags: s.flags, vmType: 0, vmVersion: 0, code });
  }
  return services;
}

/**
 * A devnet from its services' wasm, whose producer `producerName` signs blocks with
 * `producerKey` (default: its devnet key; a browser's own non-extractable WebCrypto key).
 */
export async function devnetFromWasm(wasm: DevnetWasm, producerName: string = DEVNET_PRODUCER, producerKey?: KeyPair): Promise<Devnet> {
  const services = await devnetServices(wasm);
  const verifySig = services.find((s) => s.service === accountNumber('verify-sig'))!;
  const key = producerKey ?? (await devnetKey(producerName));
  return {
    services,
    nativeVerifiers: [sigVerifier(sha256(verifySig.code))],
    producer: accountNumber(producerName),
    producerName,
    producerKey: key,
    prover: (data) => sign(key, data),
  };
}

/** An action from psibase's JSON form of its arguments (the built-in services' schemas). */
export function action(sender: string, service: string, method: string, args: unknown): Action {
  return { sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData: packActionArgs(service, method, args) };
}

export interface BootOptions {
  /**
   * Whether the producer signs blocks (default true). Without, its claim is empty, as
   * psibase boots a chain given no block signing key.
   */
  signBlocks?: boolean;
  /**
   * The producer set and consensus mode (psibase's setConsensus in the genesis block);
   * default: the one producer `prod`, CFT. Every producer gets an account with its
   * devnet key, before the users.
   */
  producers?: DevnetProducers;
  /**
   * An account made the owner of `producers` (auth-delg setOwner), whose key then
   * authorizes producer-set changes (producers::setConsensus): the producer of a network
   * created in a browser, so its creator can take other browsers into the set.
   */
  producersOwner?: string;
  /** Whether the chain gets open registration (DEVNET_REGISTRAR; default true). */
  openRegistration?: boolean;
  /**
   * The actions that upload the apps' UI files (the tokens UI and plugin); the Node
   * peer reads them from disk (devnet.ts), a browser boots without them (none).
   */
  uiActions?: () => Promise<Action[]>;
}

/** The boot transactions after the genesis transaction, in psibase's order. */
export async function genesisTransactions(devnet: Devnet, expiration: bigint, options: BootOptions = {}): Promise<SignedTransaction[]> {
  const groups: Action[][] = [];
  const producerNames = options.producers?.names ?? [devnet.producerName];
  const prods = [];
  for (const name of producerNames) {
    const key = await producerKeyOf(devnet, name);
    prods.push({ name, auth: options.signBlocks === false ? { service: '', rawData: '' } : { service: 'verify-sig', rawData: toHexString(key.publicKeyDer) } });
  }
  // Genesis block actions: the producer set (and, when given, the mode).
  if (options.producers) {
    const variant = options.producers.mode === 'bft' ? 'BftConsensus' : 'CftConsensus';
    groups.push([action('producers', 'producers', 'setConsensus', { consensus: { [variant]: { producers: prods } } })]);
  } else groups.push([action('producers', 'producers', 'setProducers', { prods })]);
  // Package installs: init actions, HTTP servers, UI files.
  groups.push([action('accounts', 'accounts', 'init', {}), action('setcode', 'setcode', 'init', {})]);
  groups.push(DEVNET_SERVICES.filter((s) => s.server).map((s) => action(s.name, 'http', 'registerServer', { server: s.name })));
  const ui = options.uiActions ? await options.uiActions() : [];
  if (ui.length > 0) groups.push(ui);
  // Accounts with keys: the producers first (as psibase does), then the users.
  for (const name of [...new Set([...producerNames, ...DEVNET_USERS])]) {
    const key = await producerKeyOf(devnet, name);
    groups.push([
      action('accounts', 'accounts', 'newAccount', { name, authService: 'auth-sig', requireMatch: true }),
      action(name, 'auth-sig', 'setKey', { key: toHexString(key.publicKeyDer) }),
    ]);
  }
  if (options.producersOwner !== undefined) groups.push([action('producers', 'auth-delg', 'setOwner', { owner: options.producersOwner })]);
  if (options.openRegistration !== false) {
    groups.push([action('accounts', 'accounts', 'newAccount', { name: DEVNET_REGISTRAR, authService: 'accounts', requireMatch: true })]);
  }
  const [first, second] = DEVNET_USERS as [string, string];
  groups.push([
    action('tokens', 'tokens', 'init', { supply: DEVNET_TOKEN_SUPPLY.toString(), owner: first }),
    action(first, 'tokens', 'transfer', { to: second, amount: (DEVNET_TOKEN_SUPPLY / 2n).toString(), memo: 'devnet boot' }),
  ]);
  groups.push([action('transact', 'transact', 'finishBoot', {})]);
  return groups.map((actions) => ({
    transaction: packTransaction({ tapos: { expiration, refBlockSuffix: 0, flags: 0, refBlockIndex: 0 }, actions, claims: [] }),
    proofs: [],
    subjectiveData: null,
  }));
}

/** Boots `chain` (empty) as a devnet (UI files only as options.uiActions gives them) whose genesis block is timed `time` (µs, whole seconds). */
export async function bootGenesis(chain: Chain, devnet: Devnet, time: bigint, options: BootOptions = {}): Promise<ProducedBlock> {
  const expiration = time / 1_000_000n + BOOT_EXPIRATION_SEC;
  return chain.boot({
    services: devnet.services,
    producer: devnet.producer,
    time,
    prover: devnet.prover,
    initTransactions: () => genesisTransactions(devnet, expiration, options),
  });
}

/** The key an account of the devnet gets: this node's producer's own key (it may not be the devnet key), else the devnet key. */
function producerKeyOf(devnet: Devnet, name: string): Promise<KeyPair> {
  return name === devnet.producerName ? Promise.resolve(devnet.producerKey) : devnetKey(name);
}

function toHexString(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

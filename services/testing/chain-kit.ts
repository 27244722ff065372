// Shared pieces of the end-to-end service tests: the core system services booted on
// psiweb's block executor (src/chain) the way psibase boots them, with a stand-in
// verify-sig that accepts a claim whose proof is sha256 of the packed transaction.
// Not a service (only services/<name>/<name>.ts files are compiled as services).
import { sha256 } from '@noble/hashes/sha2.js';
import { compileService } from '../../scripts/build-services.ts';
import { Chain, type GenesisService, type ProducedBlock } from '../../src/chain/index.ts';
import { VERIFIER_WAT, wat2wasm } from '../../src/chain/test-kit.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { packTransaction, protocolSchema, type Action, type ActionTrace, type Claim, type SignedTransaction } from '../../src/protocol/types.ts';
import { MemoryStore } from '../../src/state/memory-store.ts';
import { StateDb } from '../../src/state/state-db.ts';
import { CodeFlags } from '../../src/vm/index.ts';

// Compiling the core services takes a while, longer when other suites compile alongside.
export const COMPILE_TIMEOUT_MS = 300_000;

export const PROD = accountNumber('prod');
export const VERIFY_SIG = accountNumber('verify-sig');
export const T0 = 1_700_000_000_000_000n;
export const EMPTY_CLAIM: Claim = { service: 0n, rawData: new Uint8Array(0) };
/** Expiration (seconds) of the boot transactions. */
export const BOOT_EXPIRATION = T0 / 1_000_000n + 60n;

export type Act = (sender: string, service: string, method: string, type: string, value: unknown) => Action;

/** `act(sender, service, method, type, value)`: an action whose data is `value` packed as `schema`'s `type`. */
export function makeAct(schema: FracSchema): Act {
  return (sender, service, method, type, value) => ({
    sender: accountNumber(sender),
    service: accountNumber(service),
    method: methodNumber(method),
    rawData: schema.type(type).encode(value),
  });
}

export interface Tapos {
  refBlockIndex: number;
  refBlockSuffix: number;
}

/** A transaction; each claim gets the hash-lock proof the stand-in verify-sig accepts. */
export function trx(actions: Action[], expiration: bigint, claims: Claim[] = [], tapos: Tapos = { refBlockIndex: 0, refBlockSuffix: 0 }): SignedTransaction {
  const transaction = packTransaction({ tapos: { expiration, flags: 0, ...tapos }, actions, claims });
  return { transaction, proofs: claims.map(() => sha256(transaction)), subjectiveData: null };
}

/** A fresh P-256 public key, SPKI-encoded. */
export async function spki(): Promise<Uint8Array> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  return new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
}

/**
 * db, transact, accounts, auth-sig, then `extra` (unprivileged, e.g. auth-any), setcode,
 * producers and the stand-in verify-sig, compiled as genesis services.
 */
export async function compileCoreServices(extra: string[] = []): Promise<GenesisService[]> {
  const svc = async (name: string, flags: bigint): Promise<GenesisService> => ({
    service: accountNumber(name),
    flags,
    vmType: 0,
    vmVersion: 0,
    code: await compileService(`services/${name}/${name}.ts`),
  });
  const services = [
    await svc('db', CodeFlags.isPrivileged),
    await svc('transact', CodeFlags.isPrivileged),
    await svc('accounts', 0n),
    await svc('auth-sig', 0n),
  ];
  for (const name of extra) services.push(await svc(name, 0n));
  services.push(
    await svc('setcode', CodeFlags.isPrivileged),
    await svc('producers', CodeFlags.isPrivileged),
    { service: VERIFY_SIG, flags: CodeFlags.isVerify, vmType: 0, vmVersion: 0, code: await wat2wasm(VERIFIER_WAT) },
  );
  return services;
}

const bootAct = makeAct(
  new FracSchema(
    {
      ...protocolSchema,
      NewAccount: { Object: { name: 'AccountNumber', authService: 'AccountNumber', requireMatch: 'bool' } },
      SetKey: { Object: { key: 'hex' } },
      SetProducers: { Object: { producers: { List: 'Producer' } } },
      Empty: { Tuple: [] },
    },
    { mode: 'native' },
  ),
);

/** accounts::newAccount, as the accounts service sends it during boot. */
export function newAccount(name: string, authService: string, requireMatch = true): Action {
  return bootAct('accounts', 'accounts', 'newAccount', 'NewAccount', { name: accountNumber(name), authService: accountNumber(authService), requireMatch });
}

/** auth-sig::setKey sent by `account`. */
export function setKey(account: string, key: Uint8Array): Action {
  return bootAct(account, 'auth-sig', 'setKey', 'SetKey', { key });
}

/** A new account authorized by auth-sig with `key`. */
export function withKey(name: string, key: Uint8Array): Action[] {
  return [newAccount(name, 'auth-sig'), setKey(name, key)];
}

export interface BootOptions {
  services: GenesisService[];
  /** Transactions run after accounts/setcode init and before the producers are set. */
  setup?: Action[][];
  /** Replaces the default producers::setProducers([prod]). */
  consensus?: Action;
}

/** psibase's boot order: init, accounts and keys (`setup`), producers, then finishBoot. */
export function bootTransactions(o: Omit<BootOptions, 'services'>): SignedTransaction[] {
  const e = BOOT_EXPIRATION;
  return [
    trx([bootAct('accounts', 'accounts', 'init', 'Empty', []), bootAct('setcode', 'setcode', 'init', 'Empty', [])], e),
    ...(o.setup ?? []).map((actions) => trx(actions, e)),
    trx([o.consensus ?? bootAct('producers', 'producers', 'setProducers', 'SetProducers', { producers: [{ name: PROD, auth: EMPTY_CLAIM }] })], e),
    trx([bootAct('transact', 'transact', 'finishBoot', 'Empty', [])], e),
  ];
}

/** A fresh in-memory chain booted with `services` and the boot transactions. */
export async function bootCoreChain(o: BootOptions): Promise<{ chain: Chain; genesis: ProducedBlock }> {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  const genesis = await chain.boot({ services: o.services, producer: PROD, time: T0, initTransactions: bootTransactions(o) });
  return { chain, genesis };
}

/** TaPoS of the chain's head: index = blockNum & 0x7f, suffix = the id's last 4 bytes, little-endian. */
export function headTapos(chain: Chain): Tapos {
  const head = chain.head!;
  return { refBlockIndex: head.num & 0x7f, refBlockSuffix: new DataView(head.id.buffer, head.id.byteOffset).getUint32(28, true) };
}

/** A transaction against the head, expiring 600 s after it. */
export function headTrx(chain: Chain, actions: Action[], claims: Claim[] = []): SignedTransaction {
  return trx(actions, chain.head!.time / 1_000_000n + 600n, claims, headTapos(chain));
}

/** Return values of the calls to `service::method` anywhere in the block, in execution order. */
export function retvals(block: ProducedBlock, service: string, method: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const visit = (t: ActionTrace): void => {
    if (t.action.service === accountNumber(service) && t.action.method === methodNumber(method)) out.push(t.rawRetval);
    for (const inner of t.innerTraces) if ('ActionTrace' in inner.inner) visit(inner.inner.ActionTrace);
  };
  for (const trace of block.traces) for (const t of trace.actionTraces) visit(t);
  return out;
}

/** The return value of the (first) call to `service::method` anywhere in the block. */
export function retval(block: ProducedBlock, service: string, method: string): Uint8Array {
  const all = retvals(block, service, method);
  if (all.length === 0) throw new Error(`no call to ${service}::${method}`);
  return all[0]!;
}

/** A key of a service table keyed by account names: service, table, index 0, then the names. */
export function nameKey(service: bigint, table: number, ...names: bigint[]): Uint8Array {
  const key = new Uint8Array(11 + 8 * names.length);
  const view = new DataView(key.buffer);
  view.setBigUint64(0, service);
  view.setUint16(8, table);
  names.forEach((n, i) => view.setBigUint64(11 + 8 * i, n));
  return key;
}

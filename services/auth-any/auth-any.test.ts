// auth-any on psiweb's block executor (src/chain), booted with the core system
// services the way services/transact/transact.test.ts boots them: accounts using it
// send transactions without any claim.
import { sha256 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../scripts/build-services.ts';
import { Chain, type GenesisService, type ProducedBlock } from '../../src/chain/index.ts';
import { VERIFIER_WAT, wat2wasm } from '../../src/chain/test-kit.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { packTransaction, protocolSchema, type Action, type ActionTrace, type Claim, type SignedTransaction } from '../../src/protocol/types.ts';
import { MemoryStore } from '../../src/state/memory-store.ts';
import { StateDb } from '../../src/state/state-db.ts';
import { CodeFlags } from '../../src/vm/index.ts';

// Compiling seven services takes a while, longer when other suites compile alongside.
const COMPILE_TIMEOUT_MS = 300_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    ServiceMethod: { Object: { service: 'AccountNumber', method: 'MethodNumber' } },
    NewAccount: { Object: { name: 'AccountNumber', authService: 'AccountNumber', requireMatch: 'bool' } },
    SetKey: { Object: { key: 'hex' } },
    SetAuthServ: { Object: { authService: 'AccountNumber' } },
    SetProducers: { Object: { producers: { List: 'Producer' } } },
    Account: { Object: { account: 'AccountNumber' } },
    IsAuthSys: { Object: { sender: 'AccountNumber', authorizers: { List: 'AccountNumber' }, method: { Option: 'ServiceMethod' } } },
    RunAs: { Object: { action: 'Action', allowedActions: { List: 'ServiceMethod' } } },
    Accounts: { List: 'AccountNumber' },
    Empty: { Tuple: [] },
  },
  { mode: 'native' },
);

const PROD = accountNumber('prod');
const VERIFY_SIG = accountNumber('verify-sig');
const AUTH_ANY = accountNumber('auth-any');
const T0 = 1_700_000_000_000_000n;
const EMPTY_CLAIM = { service: 0n, rawData: new Uint8Array(0) };

function act(sender: string, service: string, method: string, type: string, value: unknown): Action {
  return { sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData: schema.type(type).encode(value) };
}

/** A transaction; each claim gets the hash-lock proof the stand-in verify-sig accepts. */
function trx(actions: Action[], expiration: bigint, claims: Claim[] = [], tapos = { refBlockIndex: 0, refBlockSuffix: 0 }): SignedTransaction {
  const transaction = packTransaction({ tapos: { expiration, flags: 0, ...tapos }, actions, claims });
  return { transaction, proofs: claims.map(() => sha256(transaction)), subjectiveData: null };
}

let chain: Chain;
let genesis: ProducedBlock;
let aliceKey: Uint8Array;

beforeAll(async () => {
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
    await svc('auth-any', 0n),
    await svc('setcode', CodeFlags.isPrivileged),
    await svc('producers', CodeFlags.isPrivileged),
    { service: VERIFY_SIG, flags: CodeFlags.isVerify, vmType: 0, vmVersion: 0, code: await wat2wasm(VERIFIER_WAT) },
  ];
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  aliceKey = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const e = T0 / 1_000_000n + 60n;
  const newAccount = (name: string, auth: string) =>
    act('accounts', 'accounts', 'newAccount', 'NewAccount', { name: accountNumber(name), authService: accountNumber(auth), requireMatch: true });
  chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  genesis = await chain.boot({
    services,
    producer: PROD,
    time: T0,
    initTransactions: [
      trx([act('accounts', 'accounts', 'init', 'Empty', []), act('setcode', 'setcode', 'init', 'Empty', [])], e),
      trx([newAccount('anyone', 'auth-any'), newAccount('alice', 'auth-sig'), act('alice', 'auth-sig', 'setKey', 'SetKey', { key: aliceKey })], e),
      trx([act('producers', 'producers', 'setProducers', 'SetProducers', { producers: [{ name: PROD, auth: EMPTY_CLAIM }] })], e),
      trx([act('transact', 'transact', 'finishBoot', 'Empty', [])], e),
    ],
  });
}, COMPILE_TIMEOUT_MS);

async function run(actions: Action[], claims: Claim[] = []): Promise<ProducedBlock> {
  const head = chain.head!;
  const tapos = { refBlockIndex: head.num & 0x7f, refBlockSuffix: new DataView(head.id.buffer, head.id.byteOffset).getUint32(28, true) };
  return chain.produceBlock({ producer: PROD, transactions: [trx(actions, head.time / 1_000_000n + 600n, claims, tapos)] });
}

async function accepted(actions: Action[], claims: Claim[] = []): Promise<ProducedBlock> {
  const block = await run(actions, claims);
  expect(block.rejected.map((r) => r.error.message)).toEqual([]);
  return block;
}

/** The return value of the (first) call to `service::method` anywhere in the block. */
function retval(block: ProducedBlock, service: string, method: string): Uint8Array {
  const find = (t: ActionTrace): ActionTrace | undefined => {
    if (t.action.service === accountNumber(service) && t.action.method === methodNumber(method)) return t;
    for (const inner of t.innerTraces) {
      if ('ActionTrace' in inner.inner) {
        const found = find(inner.inner.ActionTrace);
        if (found) return found;
      }
    }
    return undefined;
  };
  for (const trace of block.traces) {
    for (const t of trace.actionTraces) {
      const found = find(t);
      if (found) return found.rawRetval;
    }
  }
  throw new Error(`no call to ${service}::${method}`);
}

const exists = (sender: string) => act(sender, 'accounts', 'exists', 'Account', { account: PROD });

describe('auth-any on the block executor', () => {
  it('accepts an unsigned transaction from an account using it, and a signed one', async () => {
    expect(genesis.rejected).toEqual([]);
    const block = await accepted([exists('anyone')]);
    // It was asked, and said yes.
    expect(schema.type('bool').decode(retval(block, 'auth-any', 'checkAuthSys'))).toBe(true);
    await accepted([exists('anyone')], [{ service: VERIFY_SIG, rawData: aliceKey }]);
  });

  it('lets any account switch to it, after which that account needs no signature', async () => {
    const unsigned = await run([exists('alice')]);
    expect(unsigned.rejected[0]?.error.message).toContain('Authorization for alice -> accounts::exists failed');
    await accepted([act('alice', 'accounts', 'setAuthServ', 'SetAuthServ', { authService: AUTH_ANY })], [{ service: VERIFY_SIG, rawData: aliceKey }]);
    await accepted([exists('alice')]);
  });

  it('lets another account runAs an account using it', async () => {
    // alice asking for anyone is a runAsOther request, which auth-any grants too.
    await accepted([act('alice', 'transact', 'runAs', 'RunAs', { action: exists('anyone'), allowedActions: [] })]);
  });

  it('isAuthSys and isRejectSys: only the sender itself; getDlgsSys: nobody', async () => {
    const ask = (method: string, accounts: string[], withMethod = false) =>
      act('anyone', 'auth-any', method, 'IsAuthSys', {
        sender: accountNumber('anyone'),
        authorizers: accounts.map(accountNumber),
        method: withMethod ? { service: accountNumber('accounts'), method: methodNumber('exists') } : null,
      });
    const bool = async (method: string, accounts: string[], withMethod = false) =>
      schema.type('bool').decode(retval(await accepted([ask(method, accounts, withMethod)]), 'auth-any', method));
    expect(await bool('isAuthSys', ['alice', 'anyone'], true)).toBe(true);
    expect(await bool('isAuthSys', ['alice'])).toBe(false);
    expect(await bool('isRejectSys', ['anyone'])).toBe(true);
    expect(await bool('isRejectSys', [])).toBe(false);
    const dlgs = await accepted([act('anyone', 'auth-any', 'getDlgsSys', 'Account', { account: accountNumber('anyone') })]);
    expect(schema.type('Accounts').decode(retval(dlgs, 'auth-any', 'getDlgsSys'))).toEqual([]);
  });
});

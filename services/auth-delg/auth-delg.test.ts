// auth-delegate on psiweb's block executor (src/chain), booted with the core system
// services the way services/transact/transact.test.ts boots them: owned accounts are
// authorized by their owner's auth service, through real blocks. The service runs
// as psibase's account `auth-delg` ("auth-delegate" is too long for an account name).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Chain, ProducedBlock } from '../../src/chain/index.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { protocolSchema, type Action, type SignedTransaction } from '../../src/protocol/types.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import {
  bootCoreChain,
  COMPILE_TIMEOUT_MS,
  compileCoreServices,
  headTrx,
  makeAct,
  nameKey,
  newAccount,
  PROD,
  retval,
  spki,
  VERIFY_SIG,
  withKey,
} from '../testing/chain-kit.ts';

const schema = new FracSchema(
  {
    ...protocolSchema,
    ServiceMethod: { Object: { service: 'AccountNumber', method: 'MethodNumber' } },
    DelegateNewAccount: { Object: { name: 'AccountNumber', owner: 'AccountNumber', requireMatch: 'bool' } },
    SetOwner: { Object: { owner: 'AccountNumber' } },
    SetAuthServ: { Object: { authService: 'AccountNumber' } },
    Account: { Object: { account: 'AccountNumber' } },
    IsAuthSys: { Object: { sender: 'AccountNumber', authorizers: { List: 'AccountNumber' }, method: { Option: 'ServiceMethod' } } },
    RunAs: { Object: { action: 'Action', allowedActions: { List: 'ServiceMethod' } } },
    Owners: { List: 'AccountNumber' },
    Row: { Object: { account: 'AccountNumber', owner: 'AccountNumber' } },
    AccountRow: { Object: { accountNum: 'AccountNumber', authService: 'AccountNumber', authSequence: 'u64' } },
  },
  { mode: 'native' },
);

const DELG = 'auth-delg';
const AUTH_DELEGATE = accountNumber(DELG);
const act = makeAct(schema);

let chain: Chain;
let genesis: ProducedBlock;
const keys: Record<string, Uint8Array> = {};

beforeAll(async () => {
  const services = await compileCoreServices(['auth-delg']);
  for (const name of ['alice', 'bob']) keys[name] = await spki();
  ({ chain, genesis } = await bootCoreChain({
    services,
    setup: [
      [...withKey('alice', keys.alice!), ...withKey('bob', keys.bob!)],
      // An account given auth-delg directly, without an owner, as accounts.init does for services.
      [newAccount('orphan', DELG)],
    ],
  }));
}, COMPILE_TIMEOUT_MS);

/** A transaction against the head, carrying a claim for each account named in `signers`. */
function signed(actions: Action[], signers: string[]): SignedTransaction {
  return headTrx(chain, actions, signers.map((s) => ({ service: VERIFY_SIG, rawData: keys[s]! })));
}

async function run(actions: Action[], signers: string[]): Promise<ProducedBlock> {
  return chain.produceBlock({ producer: PROD, transactions: [signed(actions, signers)] });
}

async function accepted(actions: Action[], signers: string[]): Promise<ProducedBlock> {
  const block = await run(actions, signers);
  expect(block.rejected.map((r) => r.error.message)).toEqual([]);
  return block;
}

async function refused(actions: Action[], signers: string[]): Promise<string> {
  const block = await run(actions, signers);
  expect(block.rejected).toHaveLength(1);
  return block.rejected[0]!.error.message;
}

const exists = (sender: string) => act(sender, 'accounts', 'exists', 'Account', { account: PROD });
const newOwned = (sender: string, name: string, owner: string, requireMatch = true) =>
  act(sender, DELG, 'newAccount', 'DelegateNewAccount', { name: accountNumber(name), owner: accountNumber(owner), requireMatch });
const setOwner = (sender: string, owner: string) => act(sender, DELG, 'setOwner', 'SetOwner', { owner: accountNumber(owner) });

function ownerRow(account: string): unknown {
  const value = chain.state.reader.get(dbKey(DbId.service, nameKey(AUTH_DELEGATE, 0, accountNumber(account))));
  return value && schema.type('Row').decode(value);
}

function accountRow(account: string): { authService: bigint; authSequence: bigint } {
  const value = chain.state.reader.get(dbKey(DbId.service, nameKey(accountNumber('accounts'), 1, accountNumber(account))));
  return schema.type('AccountRow').decode(value!) as { authService: bigint; authSequence: bigint };
}

describe('auth-delegate on the block executor', () => {
  it('refuses every transaction from an account using it without an owner', async () => {
    expect(genesis.rejected).toEqual([]);
    expect(accountRow('orphan').authService).toBe(AUTH_DELEGATE);
    expect(await refused([exists('orphan')], ['alice'])).toContain('account does not have an owning account');
  });

  it('newAccount creates an account using it, owned by an existing account', async () => {
    expect(await refused([newOwned('alice', 'aliceteam', 'nobodyxx')], ['alice'])).toContain('owner account does not exist');
    const block = await accepted([newOwned('alice', 'aliceteam', 'alice')], ['alice']);
    expect(schema.type('bool').decode(retval(block, DELG, 'newAccount'))).toBe(true);
    expect(accountRow('aliceteam')).toMatchObject({ authService: AUTH_DELEGATE });
    expect(ownerRow('aliceteam')).toEqual({ account: accountNumber('aliceteam'), owner: accountNumber('alice') });
    // Index 1 is (owner, account) and points at the primary key.
    const secondary = new Uint8Array([...nameKey(AUTH_DELEGATE, 0, accountNumber('alice'), accountNumber('aliceteam'))]);
    secondary[10] = 1;
    const primaryKey = nameKey(0n, 0, accountNumber('aliceteam')).slice(10);
    expect(chain.state.reader.get(dbKey(DbId.service, secondary))).toEqual(primaryKey);
  });

  it('newAccount leaves an existing account alone, and with requireMatch refuses another owner', async () => {
    expect(await refused([newOwned('bob', 'aliceteam', 'bob')], ['bob'])).toContain('aliceteam is owned by alice');
    const again = await accepted([newOwned('bob', 'aliceteam', 'bob', false)], ['bob']);
    expect(schema.type('bool').decode(retval(again, DELG, 'newAccount'))).toBe(false);
    expect(ownerRow('aliceteam')).toMatchObject({ owner: accountNumber('alice') });
  });

  it('authorizes an owned account\'s transaction with the owner\'s signature, and only with it', async () => {
    await accepted([exists('aliceteam')], ['alice']);
    expect(await refused([exists('aliceteam')], [])).toContain('Authorization for aliceteam -> accounts::exists failed');
    expect(await refused([exists('aliceteam')], ['bob'])).toContain('Authorization for aliceteam -> accounts::exists failed');
  });

  it('answers getOwner, getDlgsSys, isAuthSys and isRejectSys from the owner', async () => {
    const ask = (method: string, authorizers: string[], withMethod = false) =>
      act('alice', DELG, method, 'IsAuthSys', {
        sender: accountNumber('aliceteam'),
        authorizers: authorizers.map(accountNumber),
        method: withMethod ? { service: accountNumber('accounts'), method: methodNumber('exists') } : null,
      });
    const block = await accepted(
      [act('alice', DELG, 'getOwner', 'Account', { account: accountNumber('aliceteam') }), act('alice', DELG, 'getDlgsSys', 'Account', { account: accountNumber('aliceteam') })],
      ['alice'],
    );
    expect(schema.type('AccountNumber').decode(retval(block, DELG, 'getOwner'))).toBe(accountNumber('alice'));
    expect(schema.type('Owners').decode(retval(block, DELG, 'getDlgsSys'))).toEqual([accountNumber('alice')]);
    const bool = (b: ProducedBlock, method: string) => schema.type('bool').decode(retval(b, DELG, method));
    expect(bool(await accepted([ask('isAuthSys', ['bob', 'alice'], true)], ['alice']), 'isAuthSys')).toBe(true);
    // The account itself is not its own authorizer: only the owner counts.
    expect(bool(await accepted([ask('isAuthSys', ['aliceteam', 'bob'])], ['alice']), 'isAuthSys')).toBe(false);
    expect(bool(await accepted([ask('isRejectSys', ['alice'])], ['alice']), 'isRejectSys')).toBe(true);
    expect(bool(await accepted([ask('isRejectSys', ['bob'])], ['alice']), 'isRejectSys')).toBe(false);
    expect(await refused([act('alice', DELG, 'getOwner', 'Account', { account: accountNumber('bob') })], ['alice'])).toContain(
      'account does not have an owning account',
    );
  });

  it('lets the owner runAs the owned account (a requester request to the owner\'s auth), and nobody else', async () => {
    const runAs = (requester: string) =>
      act(requester, 'transact', 'runAs', 'RunAs', { action: exists('aliceteam'), allowedActions: [] });
    await accepted([runAs('alice')], ['alice']);
    expect(await refused([runAs('bob')], ['bob'])).toContain('runAs: caller is not authorized');
  });

  it('setAuthServ to it needs an owner first', async () => {
    const switchAuth = act('bob', 'accounts', 'setAuthServ', 'SetAuthServ', { authService: AUTH_DELEGATE });
    expect(await refused([switchAuth], ['bob'])).toContain('account does not have an owning account');
    // An owner recorded while bob still uses auth-sig does not touch bob's auth sequence.
    const before = accountRow('bob').authSequence;
    await accepted([setOwner('bob', 'alice'), switchAuth], ['bob']);
    expect(accountRow('bob')).toEqual({ accountNum: accountNumber('bob'), authService: AUTH_DELEGATE, authSequence: before + 1n });
    await accepted([exists('bob')], ['alice']);
    expect(await refused([exists('bob')], ['bob'])).toContain('Authorization for bob -> accounts::exists failed');
  });

  it('setOwner refuses owning oneself and a two-account cycle, and moves authority to the new owner', async () => {
    expect(await refused([setOwner('aliceteam', 'aliceteam')], ['alice'])).toContain('circular ownership');
    // bob is owned by alice, so alice may not be owned by bob.
    expect(await refused([setOwner('alice', 'bob')], ['alice'])).toContain('circular ownership');
    const before = accountRow('aliceteam').authSequence;
    await accepted([setOwner('aliceteam', 'bob')], ['alice']);
    expect(accountRow('aliceteam').authSequence).toBe(before + 1n);
    expect(ownerRow('aliceteam')).toMatchObject({ owner: accountNumber('bob') });
    // bob is itself owned by alice: aliceteam → bob → alice, alice's key decides.
    await accepted([exists('aliceteam')], ['alice']);
    expect(await refused([exists('aliceteam')], ['bob'])).toContain('Authorization for aliceteam -> accounts::exists failed');
  });

  it('a longer ownership cycle is accepted by setOwner and then authorizes nothing', async () => {
    await accepted([newOwned('alice', 'loopaaaa', 'alice'), newOwned('alice', 'loopbbbb', 'loopaaaa'), newOwned('alice', 'loopcccc', 'loopbbbb')], ['alice']);
    await accepted([exists('loopcccc')], ['alice']);
    await accepted([setOwner('loopaaaa', 'loopcccc')], ['alice']);
    // loopaaaa → loopcccc → loopbbbb → loopaaaa → …: auth-delegate re-enters itself
    // until the call stack runs out, and every account in the cycle is locked.
    for (const account of ['loopaaaa', 'loopbbbb', 'loopcccc']) {
      expect(await refused([exists(account)], ['alice'])).toMatch(/stack overflow/);
    }
  });
});

// auth-any on psiweb's block executor (src/chain), booted with the core system
// services the way services/transact/transact.test.ts boots them: accounts using it
// send transactions without any claim. Every test boots its own chain, so none
// depends on what another did (the compiled services are shared).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Chain, GenesisService, ProducedBlock } from '../../src/chain/index.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { protocolSchema, type Action, type Claim } from '../../src/protocol/types.ts';
import { toHex } from '../../src/state/bytes.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import { bootCoreChain, COMPILE_TIMEOUT_MS, compileCoreServices, headTrx, makeAct, nameKey, newAccount, PROD, retval, setKey, spki, VERIFY_SIG } from '../testing/chain-kit.ts';

const schema = new FracSchema(
  {
    ...protocolSchema,
    ServiceMethod: { Object: { service: 'AccountNumber', method: 'MethodNumber' } },
    SetAuthServ: { Object: { authService: 'AccountNumber' } },
    SetKey: { Object: { key: 'hex' } },
    Account: { Object: { account: 'AccountNumber' } },
    IsAuthSys: { Object: { sender: 'AccountNumber', authorizers: { List: 'AccountNumber' }, method: { Option: 'ServiceMethod' } } },
    RunAs: { Object: { action: 'Action', allowedActions: { List: 'ServiceMethod' } } },
    Accounts: { List: 'AccountNumber' },
    AccountRow: { Object: { accountNum: 'AccountNumber', authService: 'AccountNumber', authSequence: 'u64' } },
    AuthRecord: { Object: { account: 'AccountNumber', pubkey: 'hex' } },
  },
  { mode: 'native' },
);

const AUTH_ANY = accountNumber('auth-any');
const AUTH_SIG = accountNumber('auth-sig');
const act = makeAct(schema);

let services: GenesisService[];

beforeAll(async () => {
  services = await compileCoreServices(['auth-any']);
}, COMPILE_TIMEOUT_MS);

interface TestChain {
  chain: Chain;
  genesis: ProducedBlock;
  aliceKey: Uint8Array;
  bobKey: Uint8Array;
}

/** A new chain: `anyone` on auth-any, `alice` and `bob` on auth-sig with their own keys. */
async function freshChain(): Promise<TestChain> {
  const aliceKey = await spki();
  const bobKey = await spki();
  const { chain, genesis } = await bootCoreChain({
    services,
    setup: [[newAccount('anyone', 'auth-any'), newAccount('alice', 'auth-sig'), setKey('alice', aliceKey), newAccount('bob', 'auth-sig'), setKey('bob', bobKey)]],
  });
  expect(genesis.rejected).toEqual([]);
  return { chain, genesis, aliceKey, bobKey };
}

function run(chain: Chain, actions: Action[], claims: Claim[] = []): Promise<ProducedBlock> {
  return chain.produceBlock({ producer: PROD, transactions: [headTrx(chain, actions, claims)] });
}

async function accepted(chain: Chain, actions: Action[], claims: Claim[] = []): Promise<ProducedBlock> {
  const block = await run(chain, actions, claims);
  expect(block.rejected.map((r) => r.error.message)).toEqual([]);
  return block;
}

async function rejected(chain: Chain, actions: Action[], claims: Claim[] = []): Promise<string> {
  const block = await run(chain, actions, claims);
  expect(block.rejected).toHaveLength(1);
  return block.rejected[0]!.error.message;
}

const exists = (sender: string) => act(sender, 'accounts', 'exists', 'Account', { account: PROD });
const signedBy = (key: Uint8Array): Claim[] => [{ service: VERIFY_SIG, rawData: key }];

/** The accounts table row (table 1) of `account`. */
function authServiceOf(chain: Chain, account: string): bigint {
  const value = chain.state.reader.get(dbKey(DbId.service, nameKey(accountNumber('accounts'), 1, accountNumber(account))));
  return (schema.type('AccountRow').decode(value!) as { authService: bigint }).authService;
}

/** The key auth-sig holds for `account` (its table 0), as hex, or undefined. */
function authSigKey(chain: Chain, account: string): string | undefined {
  const value = chain.state.reader.get(dbKey(DbId.service, nameKey(AUTH_SIG, 0, accountNumber(account))));
  if (value === undefined) return undefined;
  const row = schema.type('AuthRecord').decode(value) as { account: bigint; pubkey: Uint8Array };
  expect(row.account).toBe(accountNumber(account));
  return toHex(row.pubkey);
}

describe('auth-any on the block executor', () => {
  it('accepts an unsigned transaction from an account using it, and a signed one', async () => {
    const { chain, aliceKey } = await freshChain();
    const block = await accepted(chain, [exists('anyone')]);
    // It was asked, and said yes.
    expect(schema.type('bool').decode(retval(block, 'auth-any', 'checkAuthSys'))).toBe(true);
    await accepted(chain, [exists('anyone')], signedBy(aliceKey));
  });

  it('lets any account switch to it, after which that account needs no signature', async () => {
    const { chain, aliceKey } = await freshChain();
    expect(await rejected(chain, [exists('alice')])).toContain('Authorization for alice -> accounts::exists failed');
    await accepted(chain, [act('alice', 'accounts', 'setAuthServ', 'SetAuthServ', { authService: AUTH_ANY })], signedBy(aliceKey));
    expect(authServiceOf(chain, 'alice')).toBe(AUTH_ANY);
    await accepted(chain, [exists('alice')]);
  });

  it('lets another account runAs an account using it: the action runs as that account', async () => {
    const { chain, aliceKey } = await freshChain();
    const newKey = await spki();
    expect(authSigKey(chain, 'anyone')).toBeUndefined();
    // alice (signed for herself only) asks to run auth-sig::setKey as anyone: a
    // runAsOther request, which auth-any grants. setKey writes the row of its sender.
    const setKeyAsAnyone = act('anyone', 'auth-sig', 'setKey', 'SetKey', { key: newKey });
    await accepted(chain, [act('alice', 'transact', 'runAs', 'RunAs', { action: setKeyAsAnyone, allowedActions: [] })], signedBy(aliceKey));
    expect(authSigKey(chain, 'anyone')).toBe(toHex(newKey));
    expect(authSigKey(chain, 'alice')).toBe(toHex(aliceKey));
    // anyone can now move to auth-sig (auth-sig only takes users it holds a key for).
    await accepted(chain, [act('anyone', 'accounts', 'setAuthServ', 'SetAuthServ', { authService: AUTH_SIG })]);
    expect(authServiceOf(chain, 'anyone')).toBe(AUTH_SIG);
  });

  it('grants nothing for an account on another auth service: runAs bob is refused and changes nothing', async () => {
    const { chain, aliceKey, bobKey } = await freshChain();
    const newKey = await spki();
    const setKeyAsBob = act('bob', 'auth-sig', 'setKey', 'SetKey', { key: newKey });
    expect(await rejected(chain, [act('alice', 'transact', 'runAs', 'RunAs', { action: setKeyAsBob, allowedActions: [] })], signedBy(aliceKey))).toMatch(/not authorized/i);
    expect(authSigKey(chain, 'bob')).toBe(toHex(bobKey));
  });

  it('isAuthSys and isRejectSys: only the sender itself; getDlgsSys: nobody', async () => {
    const { chain } = await freshChain();
    const ask = (method: string, accounts: string[], withMethod = false) =>
      act('anyone', 'auth-any', method, 'IsAuthSys', {
        sender: accountNumber('anyone'),
        authorizers: accounts.map(accountNumber),
        method: withMethod ? { service: accountNumber('accounts'), method: methodNumber('exists') } : null,
      });
    const bool = async (method: string, accounts: string[], withMethod = false) =>
      schema.type('bool').decode(retval(await accepted(chain, [ask(method, accounts, withMethod)]), 'auth-any', method));
    expect(await bool('isAuthSys', ['alice', 'anyone'], true)).toBe(true);
    expect(await bool('isAuthSys', ['alice'])).toBe(false);
    expect(await bool('isRejectSys', ['anyone'])).toBe(true);
    expect(await bool('isRejectSys', [])).toBe(false);
    const dlgs = await accepted(chain, [act('anyone', 'auth-any', 'getDlgsSys', 'Account', { account: accountNumber('anyone') })]);
    expect(schema.type('Accounts').decode(retval(dlgs, 'auth-any', 'getDlgsSys'))).toEqual([]);
  });
});

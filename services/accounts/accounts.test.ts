// Open registration (services/accounts/accounts.ts): accounts authorizes `registrar`'s
// top-level auth-sig::newAccount, unsigned, and nothing else; on the block executor
// with the core services, as the other service tests boot them.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Chain, GenesisService, ProducedBlock } from '../../src/chain/index.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { protocolSchema, type Action, type Claim } from '../../src/protocol/types.ts';
import { toHex } from '../../src/state/bytes.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import { bootCoreChain, COMPILE_TIMEOUT_MS, compileCoreServices, headTrx, makeAct, nameKey, newAccount, PROD, setKey, spki, VERIFY_SIG } from '../testing/chain-kit.ts';

const schema = new FracSchema(
  {
    ...protocolSchema,
    ServiceMethod: { Object: { service: 'AccountNumber', method: 'MethodNumber' } },
    NewAccount: { Object: { name: 'AccountNumber', key: 'hex' } },
    SetKey: { Object: { key: 'hex' } },
    SetAuthServ: { Object: { authService: 'AccountNumber' } },
    Account: { Object: { account: 'AccountNumber' } },
    RunAs: { Object: { action: 'Action', allowedActions: { List: 'ServiceMethod' } } },
    AccountRow: { Object: { accountNum: 'AccountNumber', authService: 'AccountNumber', authSequence: 'u64' } },
    AuthRecord: { Object: { account: 'AccountNumber', pubkey: 'hex' } },
    Status: { Object: { totalAccounts: 'u32' } },
  },
  { mode: 'native' },
);
const act = makeAct(schema);
const ACCOUNTS = accountNumber('accounts');
const AUTH_SIG = accountNumber('auth-sig');

let services: GenesisService[];

beforeAll(async () => {
  services = await compileCoreServices();
}, COMPILE_TIMEOUT_MS);

/** A chain with alice on auth-sig and, unless `open` is false, registrar on accounts (as a devnet boots it). */
async function freshChain(open = true): Promise<{ chain: Chain; aliceKey: Uint8Array }> {
  const aliceKey = await spki();
  const setup: Action[][] = [[newAccount('alice', 'auth-sig'), setKey('alice', aliceKey)]];
  if (open) setup.push([newAccount('registrar', 'accounts')]);
  const { chain, genesis } = await bootCoreChain({ services, setup });
  expect(genesis.rejected).toEqual([]);
  return { chain, aliceKey };
}

const register = (name: string, key: Uint8Array, sender = 'registrar') => act(sender, 'auth-sig', 'newAccount', 'NewAccount', { name: accountNumber(name), key });

function run(chain: Chain, actions: Action[], claims: Claim[] = []): Promise<ProducedBlock> {
  return chain.produceBlock({ producer: PROD, transactions: [headTrx(chain, actions, claims)] });
}

async function accepted(chain: Chain, actions: Action[], claims: Claim[] = []): Promise<void> {
  expect((await run(chain, actions, claims)).rejected.map((r) => r.error.message)).toEqual([]);
}

async function rejected(chain: Chain, actions: Action[], claims: Claim[] = []): Promise<string> {
  const block = await run(chain, actions, claims);
  expect(block.rejected).toHaveLength(1);
  return block.rejected[0]!.error.message;
}

function accountRow(chain: Chain, name: string): { authService: bigint } | undefined {
  const v = chain.state.reader.get(dbKey(DbId.service, nameKey(ACCOUNTS, 1, accountNumber(name))));
  return v === undefined ? undefined : (schema.type('AccountRow').decode(v) as { authService: bigint });
}

function authSigKey(chain: Chain, name: string): string | undefined {
  const v = chain.state.reader.get(dbKey(DbId.service, nameKey(AUTH_SIG, 0, accountNumber(name))));
  return v === undefined ? undefined : toHex((schema.type('AuthRecord').decode(v) as { pubkey: Uint8Array }).pubkey);
}

function totalAccounts(chain: Chain): number {
  const v = chain.state.reader.get(dbKey(DbId.service, nameKey(ACCOUNTS, 0)));
  return (schema.type('Status').decode(v!) as { totalAccounts: number }).totalAccounts;
}

describe('open registration: accounts authorizes registrar', () => {
  it('lets anyone create an account with their own key through registrar, unsigned; the new account then signs for itself', async () => {
    const { chain } = await freshChain();
    const key = await spki();
    const before = totalAccounts(chain);
    await accepted(chain, [register('carol-dev', key)]);
    expect(accountRow(chain, 'carol-dev')?.authService).toBe(AUTH_SIG);
    expect(authSigKey(chain, 'carol-dev')).toBe(toHex(key));
    expect(totalAccounts(chain)).toBe(before + 1);
    // carol-dev is an ordinary auth-sig account: unsigned it is refused, signed it runs.
    const exists = act('carol-dev', 'accounts', 'exists', 'Account', { account: PROD });
    expect(await rejected(chain, [exists])).toMatch(/carol-dev/);
    await accepted(chain, [exists], [{ service: VERIFY_SIG, rawData: key }]);
  });

  it('refuses a taken name and a bad name with a clear error and changes nothing', async () => {
    const { chain, aliceKey } = await freshChain();
    const key = await spki();
    // Taken: an account of 8 or more characters that exists (its key stays), and alice (shorter: the length rule speaks first).
    const carolKey = await spki();
    await accepted(chain, [register('carol-dev', carolKey)]);
    const before = totalAccounts(chain);
    expect(await rejected(chain, [register('carol-dev', key)])).toMatch(/account already exists/);
    expect(authSigKey(chain, 'carol-dev')).toBe(toHex(carolKey));
    expect(await rejected(chain, [register('registrar', key)])).toMatch(/account already exists/);
    expect(authSigKey(chain, 'registrar')).toBeUndefined();
    expect(await rejected(chain, [register('alice', key)])).toMatch(/at least 8 characters: alice/);
    expect(authSigKey(chain, 'alice')).toBe(toHex(aliceKey));
    expect(await rejected(chain, [register('carol', key)])).toMatch(/account name must be at least 8 characters: carol/);
    expect(await rejected(chain, [register('x-carolyn', key)])).toMatch(/'x-' account prefix is reserved/);
    expect(accountRow(chain, 'carol')).toBeUndefined();
    expect(accountRow(chain, 'x-carolyn')).toBeUndefined();
    expect(totalAccounts(chain)).toBe(before);
  });

  it('registrar may send nothing but auth-sig::newAccount, and only itself: no other action, no runAs, no new key or auth service', async () => {
    const { chain, aliceKey } = await freshChain();
    const key = await spki();
    expect(await rejected(chain, [act('registrar', 'auth-sig', 'setKey', 'SetKey', { key })])).toMatch(/registrar may send only auth-sig::newAccount, not auth-sig::setkey/i);
    expect(await rejected(chain, [act('registrar', 'accounts', 'setAuthServ', 'SetAuthServ', { authService: AUTH_SIG })])).toMatch(/not accounts::setauthserv/i);
    // A newAccount beside another action: the whole transaction is refused.
    expect(await rejected(chain, [register('carol-dev', key), act('registrar', 'accounts', 'exists', 'Account', { account: PROD })])).toMatch(/not accounts::exists/);
    expect(accountRow(chain, 'carol-dev')).toBeUndefined();
    // alice (signed) asks to run newAccount as registrar: runAs is refused.
    const runAs = act('alice', 'transact', 'runAs', 'RunAs', { action: register('carol-dev', key), allowedActions: [] });
    expect(await rejected(chain, [runAs], [{ service: VERIFY_SIG, rawData: aliceKey }])).toMatch(/cannot be run as another account's|not authorized/i);
    expect(accountRow(chain, 'carol-dev')).toBeUndefined();
    expect(authSigKey(chain, 'registrar')).toBeUndefined();
    expect(accountRow(chain, 'registrar')?.authService).toBe(ACCOUNTS);
  });

  it('no other account can move to accounts as its auth service', async () => {
    const { chain, aliceKey } = await freshChain();
    expect(await rejected(chain, [act('alice', 'accounts', 'setAuthServ', 'SetAuthServ', { authService: ACCOUNTS })], [{ service: VERIFY_SIG, rawData: aliceKey }])).toMatch(
      /auth service of registrar \(open registration\) only, not of alice/,
    );
    expect(accountRow(chain, 'alice')?.authService).toBe(AUTH_SIG);
  });

  it('a chain without registrar (a production chain) has no open registration', async () => {
    const { chain } = await freshChain(false);
    expect(await rejected(chain, [register('carol-dev', await spki())])).toMatch(/registrar/);
    expect(accountRow(chain, 'carol-dev')).toBeUndefined();
  });
});

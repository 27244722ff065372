// auth-any on psiweb's block executor (src/chain), booted with the core system
// services the way services/transact/transact.test.ts boots them: accounts using it
// send transactions without any claim.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Chain, ProducedBlock } from '../../src/chain/index.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { protocolSchema, type Action, type Claim } from '../../src/protocol/types.ts';
import { bootCoreChain, COMPILE_TIMEOUT_MS, compileCoreServices, headTrx, makeAct, newAccount, PROD, retval, setKey, spki, VERIFY_SIG } from '../testing/chain-kit.ts';

const schema = new FracSchema(
  {
    ...protocolSchema,
    ServiceMethod: { Object: { service: 'AccountNumber', method: 'MethodNumber' } },
    SetAuthServ: { Object: { authService: 'AccountNumber' } },
    Account: { Object: { account: 'AccountNumber' } },
    IsAuthSys: { Object: { sender: 'AccountNumber', authorizers: { List: 'AccountNumber' }, method: { Option: 'ServiceMethod' } } },
    RunAs: { Object: { action: 'Action', allowedActions: { List: 'ServiceMethod' } } },
    Accounts: { List: 'AccountNumber' },
  },
  { mode: 'native' },
);

const AUTH_ANY = accountNumber('auth-any');
const act = makeAct(schema);

let chain: Chain;
let genesis: ProducedBlock;
let aliceKey: Uint8Array;

beforeAll(async () => {
  const services = await compileCoreServices(['auth-any']);
  aliceKey = await spki();
  ({ chain, genesis } = await bootCoreChain({
    services,
    setup: [[newAccount('anyone', 'auth-any'), newAccount('alice', 'auth-sig'), setKey('alice', aliceKey)]],
  }));
}, COMPILE_TIMEOUT_MS);

async function run(actions: Action[], claims: Claim[] = []): Promise<ProducedBlock> {
  return chain.produceBlock({ producer: PROD, transactions: [headTrx(chain, actions, claims)] });
}

async function accepted(actions: Action[], claims: Claim[] = []): Promise<ProducedBlock> {
  const block = await run(actions, claims);
  expect(block.rejected.map((r) => r.error.message)).toEqual([]);
  return block;
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

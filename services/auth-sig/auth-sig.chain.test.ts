// auth-sig's newAccount on psiweb's block executor with the core services: it may
// create an account, never take over one that exists. (psibase's AuthSig::newAccount
// writes the key first and Accounts::newAccount returns false for an existing account
// with the same auth service, so there anyone could replace an auth-sig account's key;
// psiweb's auth-sig refuses instead.)
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
    NewAccount: { Object: { name: 'AccountNumber', key: 'hex' } },
    AuthRecord: { Object: { account: 'AccountNumber', pubkey: 'hex' } },
  },
  { mode: 'native' },
);
const act = makeAct(schema);
const AUTH_SIG = accountNumber('auth-sig');

let services: GenesisService[];
beforeAll(async () => {
  services = await compileCoreServices();
}, COMPILE_TIMEOUT_MS);

async function freshChain() {
  const aliceKey = await spki();
  const bobKey = await spki();
  const { chain, genesis } = await bootCoreChain({
    services,
    // An existing account whose name is long enough for anyone to create (≥ 8 letters).
    setup: [[newAccount('alicealice', 'auth-sig'), setKey('alicealice', aliceKey), newAccount('bob', 'auth-sig'), setKey('bob', bobKey)]],
  });
  expect(genesis.rejected).toEqual([]);
  return { chain, aliceKey, bobKey };
}

function run(chain: Chain, actions: Action[], claims: Claim[]): Promise<ProducedBlock> {
  return chain.produceBlock({ producer: PROD, transactions: [headTrx(chain, actions, claims)] });
}

function keyOf(chain: Chain, account: string): string | undefined {
  const raw = chain.state.reader.get(dbKey(DbId.service, nameKey(AUTH_SIG, 0, accountNumber(account))));
  return raw && toHex((schema.type('AuthRecord').decode(raw) as { pubkey: Uint8Array }).pubkey);
}

const signedBy = (key: Uint8Array): Claim[] => [{ service: VERIFY_SIG, rawData: key }];

describe('auth-sig newAccount', () => {
  it('creates a new account with its key', async () => {
    const { chain, bobKey } = await freshChain();
    const newKey = await spki();
    const block = await run(chain, [act('bob', 'auth-sig', 'newAccount', 'NewAccount', { name: accountNumber('carolinea'), key: toHex(newKey) })], signedBy(bobKey));
    expect(block.rejected.map((r) => r.error.message)).toEqual([]);
    expect(keyOf(chain, 'carolinea')).toBe(toHex(newKey));
  });

  it('refuses to re-create an existing account, and its key stays', async () => {
    const { chain, aliceKey, bobKey } = await freshChain();
    const before = keyOf(chain, 'alicealice');
    expect(before).toBe(toHex(aliceKey));
    const block = await run(chain, [act('bob', 'auth-sig', 'newAccount', 'NewAccount', { name: accountNumber('alicealice'), key: toHex(bobKey) })], signedBy(bobKey));
    expect(block.rejected).toHaveLength(1);
    expect(block.rejected[0]!.error.message).toMatch(/account already exists/);
    expect(keyOf(chain, 'alicealice')).toBe(before);
  });
});

// The core system services booted on psiweb's block executor (src/chain) the way
// psibase boots them, then exercised through real blocks: TaPoS, expiry, duplicate
// and auth checks in transact, accounts, auth-sig, setcode and producers.
import { sha256 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Chain, codeByHashKey, codeKey, NativeTables, type GenesisService, type ProducedBlock } from '../../src/chain/index.ts';
import { VERIFIER_WAT, wat2wasm } from '../../src/chain/test-kit.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { protocolSchema, type Action, type Claim, type SignedTransaction } from '../../src/protocol/types.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import {
  bootCoreChain,
  COMPILE_TIMEOUT_MS,
  compileCoreServices,
  EMPTY_CLAIM,
  headTapos,
  makeAct,
  PROD,
  spki,
  trx,
  VERIFY_SIG,
  withKey,
} from '../testing/chain-kit.ts';

const schema = new FracSchema(
  {
    ...protocolSchema,
    NewAccount: { Object: { name: 'AccountNumber', authService: 'AccountNumber', requireMatch: 'bool' } },
    SetKey: { Object: { key: 'hex' } },
    SetProducers: { Object: { producers: { List: 'Producer' } } },
    SetConsensus: { Object: { consensus: 'ConsensusData' } },
    SetCode: { Object: { service: 'AccountNumber', vmType: 'u8', vmVersion: 'u8', code: 'hex' } },
    SetFlags: { Object: { service: 'AccountNumber', flags: 'u64' } },
    Account: { Object: { name: 'AccountNumber' } },
    CodeRow: { Object: { codeNum: 'AccountNumber', flags: 'u64', codeHash: 'Checksum256', vmType: 'u8', vmVersion: 'u8' } },
  },
  { mode: 'native' },
);

const act = makeAct(schema);

let services: GenesisService[];
let aliceKey: Uint8Array;
let otherKey: Uint8Array;

beforeAll(async () => {
  services = await compileCoreServices();
  aliceKey = await spki();
  otherKey = await spki();
}, COMPILE_TIMEOUT_MS);

/** psibase's boot order: init, accounts and keys, producers (or `consensus`), then finishBoot. */
async function bootedChain(consensus?: Action): Promise<{ chain: Chain; genesis: ProducedBlock }> {
  return bootCoreChain({ services, setup: [withKey('alice', aliceKey)], consensus });
}

function nowSec(chain: Chain): bigint {
  return chain.head!.time / 1_000_000n + 1n;
}

interface TrxOptions {
  expiration: bigint;
  claims: Claim[];
  refBlockIndex: number;
  refBlockSuffix: number;
}

/** A transaction signed by alice against the head; `o` overrides its expiration, claims or TaPoS. */
function aliceTrx(chain: Chain, actions: Action[], o: Partial<TrxOptions> = {}): SignedTransaction {
  const tapos = headTapos(chain);
  return trx(actions, o.expiration ?? nowSec(chain) + 600n, o.claims ?? [{ service: VERIFY_SIG, rawData: aliceKey }], {
    refBlockIndex: o.refBlockIndex ?? tapos.refBlockIndex,
    refBlockSuffix: o.refBlockSuffix ?? tapos.refBlockSuffix,
  });
}

function rejection(block: ProducedBlock): string {
  expect(block.rejected).toHaveLength(1);
  return block.rejected[0]!.error.message;
}

describe('core system services booted on the block executor', () => {
  let chain: Chain;
  let genesis: ProducedBlock;

  beforeAll(async () => {
    ({ chain, genesis } = await bootedChain());
  });

  it('boots: init transactions run, the genesis header carries the new producer set', () => {
    expect(genesis.rejected).toEqual([]);
    expect(genesis.traces).toHaveLength(5);
    expect(genesis.block.block.header.newConsensus?.data).toEqual({ CftConsensus: { producers: [{ name: PROD, auth: EMPTY_CLAIM }] } });
    const config = new NativeTables(chain.state.reader).config();
    expect(config).toEqual({ maxKeySize: 128, maxValueSize: 8 << 20 });
  });

  it('accepts a transaction signed with the sender\'s key and correct TaPoS', async () => {
    const block = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [act('alice', 'auth-sig', 'setKey', 'SetKey', { key: aliceKey })])] });
    expect(block.rejected).toEqual([]);
    expect(block.traces).toHaveLength(2);
  });

  it('rejects an expired transaction and one expiring too far ahead', async () => {
    const action = act('alice', 'accounts', 'exists', 'Account', { name: PROD });
    const expired = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [action], { expiration: chain.head!.time / 1_000_000n })] });
    expect(rejection(expired)).toContain('transaction has expired');
    const early = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [action], { expiration: nowSec(chain) + 3700n })] });
    expect(rejection(early)).toContain('transaction was submitted too early');
  });

  it('rejects bad TaPoS: a wrong suffix, and a block index that does not exist yet', async () => {
    const action = act('alice', 'accounts', 'exists', 'Account', { name: PROD });
    const tapos = headTapos(chain);
    const suffix = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [action], { refBlockSuffix: (tapos.refBlockSuffix + 1) >>> 0 })] });
    expect(rejection(suffix)).toContain('transaction references non-existing block');
    const future = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [action], { refBlockIndex: (tapos.refBlockIndex + 5) & 0x7f })] });
    expect(rejection(future)).toContain('transaction references non-existing block');
  });

  it('rejects a transaction it has already included, even when the node forgot it', async () => {
    const t = aliceTrx(chain, [act('alice', 'accounts', 'exists', 'Account', { name: PROD })]);
    expect((await chain.produceBlock({ producer: PROD, transactions: [t] })).rejected).toEqual([]);
    // A node restarted on the same state has no memory of recent ids: transact's table decides.
    const reopened = await Chain.open({ state: chain.state });
    const again = await reopened.produceBlock({ producer: PROD, transactions: [t] });
    expect(rejection(again)).toContain('duplicate transaction');
    chain = reopened;
  });

  it('rejects an unknown sender and a claim with the wrong key', async () => {
    const unknown = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [act('nobody', 'accounts', 'exists', 'Account', { name: PROD })])] });
    expect(rejection(unknown)).toContain('account nobody does not exist');
    const wrongKey = aliceTrx(chain, [act('alice', 'accounts', 'exists', 'Account', { name: PROD })], { claims: [{ service: VERIFY_SIG, rawData: otherKey }] });
    const refused = await chain.produceBlock({ producer: PROD, transactions: [wrongKey] });
    expect(rejection(refused)).toContain('Authorization for alice -> accounts::exists failed');
    const noClaim = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [act('alice', 'accounts', 'exists', 'Account', { name: PROD })], { claims: [] })] });
    expect(rejection(noClaim)).toContain('Authorization for alice -> accounts::exists failed');
  });

  it('enforces account name rules and requires a known auth service', async () => {
    const create = (name: string, auth = 'auth-sig') =>
      act('alice', 'accounts', 'newAccount', 'NewAccount', { name: accountNumber(name), authService: accountNumber(auth), requireMatch: true });
    const short = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [create('bob')])] });
    expect(rejection(short)).toContain('account name must be at least 8 characters: bob');
    const infra = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [create('x-prov')])] });
    expect(rejection(infra)).toContain("The 'x-' account prefix is reserved");
    const noAuth = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [create('carolinex', 'auth-nope')])] });
    expect(rejection(noAuth)).toContain('unknown auth service');
    const ok = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [create('carolinex')])] });
    expect(ok.rejected).toEqual([]);
    const dup = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [act('alice', 'accounts', 'newAccount', 'NewAccount', { name: accountNumber('carolinex'), authService: accountNumber('alice'), requireMatch: true })])] });
    expect(rejection(dup)).toContain('account already exists');
  });

  it('setcode installs the sender\'s own code and refuses anyone else\'s', async () => {
    const code = await wat2wasm(VERIFIER_WAT);
    const setCode = (service: string) => act('alice', 'setcode', 'setCode', 'SetCode', { service: accountNumber(service), vmType: 0, vmVersion: 0, code });
    const refused = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [setCode('carolinex')])] });
    expect(rejection(refused)).toContain('sender must match service account');
    const flags = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [act('alice', 'setcode', 'setFlags', 'SetFlags', { service: accountNumber('alice'), flags: 1n })])] });
    expect(rejection(flags)).toContain('incorrect sender');
    const ok = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [setCode('alice')])] });
    expect(ok.rejected).toEqual([]);
    const tables = new NativeTables(chain.state.reader);
    const row = tables.code(accountNumber('alice'));
    expect(row).toMatchObject({ codeNum: accountNumber('alice'), flags: 0n, vmType: 0, vmVersion: 0 });
    expect(row!.codeHash).toEqual(sha256(code));
    expect(tables.codeByHash(sha256(code), 0, 0)?.code).toEqual(code);
    expect(chain.state.reader.get(dbKey(DbId.native, codeKey(accountNumber('alice'))))).toBeDefined();
    expect(chain.state.reader.get(dbKey(DbId.native, codeByHashKey(sha256(code), 0, 0)))).toBeDefined();
  });

  it('producers refuses producer changes from anyone but itself', async () => {
    const setProducers = act('alice', 'producers', 'setProducers', 'SetProducers', { producers: [{ name: accountNumber('alice'), auth: EMPTY_CLAIM }] });
    const refused = await chain.produceBlock({ producer: PROD, transactions: [aliceTrx(chain, [setProducers])] });
    expect(rejection(refused)).toContain('sender must match service account');
  });
});

describe('producers during boot', () => {
  it('switches to BFT with setConsensus; the next header carries it', async () => {
    const bft = act('producers', 'producers', 'setConsensus', 'SetConsensus', { consensus: { BftConsensus: { producers: [{ name: PROD, auth: EMPTY_CLAIM }] } } });
    const { genesis } = await bootedChain(bft);
    expect(genesis.rejected).toEqual([]);
    expect(genesis.block.block.header.newConsensus?.data).toEqual({ BftConsensus: { producers: [{ name: PROD, auth: EMPTY_CLAIM }] } });
  });

  it('refuses an empty producer set and a claim whose service is not a verify service', async () => {
    const empty = act('producers', 'producers', 'setProducers', 'SetProducers', { producers: [] });
    await expect(bootedChain(empty)).rejects.toThrow('There must be at least one producer');
    const notVerify = act('producers', 'producers', 'setProducers', 'SetProducers', { producers: [{ name: PROD, auth: { service: accountNumber('accounts'), rawData: new Uint8Array(1) } }] });
    await expect(bootedChain(notVerify)).rejects.toThrow('Service account accounts cannot be used for block production');
  });
});

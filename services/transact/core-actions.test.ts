// Actions of the core services that other suites do not reach, on psiweb's block
// executor (src/chain) with the real services booted as services/auth-delg/auth-delg.test.ts
// does: transact's getters, setcode's staged code, and accounts' preapproveAcc,
// incAuthSeq, getAccount and exists. One boot serves all three (compiling the
// services is the slow part).
import { sha256 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Chain, ProducedBlock } from '../../src/chain/index.ts';
import { NativeTables } from '../../src/chain/native-tables.ts';
import { wat2wasm } from '../../src/chain/test-kit.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { packBlockHeader, protocolSchema, type Action, type SignedTransaction } from '../../src/protocol/types.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import {
  bootCoreChain,
  COMPILE_TIMEOUT_MS,
  compileCoreServices,
  headTrx,
  makeAct,
  nameKey,
  PROD,
  retval,
  retvals,
  spki,
  VERIFY_SIG,
  withKey,
} from '../testing/chain-kit.ts';

const schema = new FracSchema(
  {
    ...protocolSchema,
    AccountsNewAccount: { Object: { name: 'AccountNumber', authService: 'AccountNumber', requireMatch: 'bool' } },
    Account: { Object: { account: 'AccountNumber' } },
    AccountRow: { Object: { accountNum: 'AccountNumber', authService: 'AccountNumber', authSequence: 'u64' } },
    OptAccountRow: { Option: 'AccountRow' },
    HeadTapos: { Tuple: ['u8', 'u32'] },
    StageCode: { Object: { service: 'AccountNumber', id: 'u64', vmType: 'u8', vmVersion: 'u8', code: 'hex' } },
    UnstageCode: { Object: { service: 'AccountNumber', id: 'u64' } },
    SetCodeStaged: { Object: { from: 'AccountNumber', id: 'u64', vmType: 'u8', vmVersion: 'u8', codeHash: 'Checksum256' } },
    Empty: { Tuple: [] },
  },
  { mode: 'native' },
);

const act = makeAct(schema);

let chain: Chain;
let genesis: ProducedBlock;
const keys: Record<string, Uint8Array> = {};
const USERS = ['alice', 'bob', 'carolxyz', 'namemarket'];

beforeAll(async () => {
  const services = await compileCoreServices();
  for (const name of USERS) keys[name] = await spki();
  ({ chain, genesis } = await bootCoreChain({ services, setup: [USERS.flatMap((name) => withKey(name, keys[name]!))] }));
}, COMPILE_TIMEOUT_MS);

function signed(actions: Action[], signers: string[]): SignedTransaction {
  return headTrx(chain, actions, signers.map((s) => ({ service: VERIFY_SIG, rawData: keys[s]! })));
}

async function accepted(actions: Action[], signers: string[]): Promise<ProducedBlock> {
  const block = await chain.produceBlock({ producer: PROD, transactions: [signed(actions, signers)] });
  expect(block.rejected.map((r) => r.error.message)).toEqual([]);
  return block;
}

async function refused(actions: Action[], signers: string[]): Promise<string> {
  const block = await chain.produceBlock({ producer: PROD, transactions: [signed(actions, signers)] });
  expect(block.rejected).toHaveLength(1);
  return block.rejected[0]!.error.message;
}

function accountRow(account: string): { accountNum: bigint; authService: bigint; authSequence: bigint } | undefined {
  const value = chain.state.reader.get(dbKey(DbId.service, nameKey(accountNumber('accounts'), 1, accountNumber(account))));
  return value ? (schema.type('AccountRow').decode(value) as { accountNum: bigint; authService: bigint; authSequence: bigint }) : undefined;
}

const getter = (method: string) => act('alice', 'transact', method, 'Empty', []);

describe('transact getters', () => {
  it('booted cleanly', () => {
    expect(genesis.rejected).toEqual([]);
  });

  it('currentBlock is the header of the block being produced, headBlock and headBlockTime the previous one', async () => {
    const prev = await accepted([act('alice', 'accounts', 'exists', 'Account', { account: PROD })], ['alice']);
    const prevHeader = prev.block.block.header;
    const block = await accepted([getter('currentBlock'), getter('headBlock'), getter('headBlockTime')], ['alice']);
    const header = block.block.block.header;
    const current = schema.type('BlockHeader').decode(retval(block, 'transact', 'currentBlock')) as typeof header;
    expect(current.blockNum).toBe(prevHeader.blockNum + 1);
    expect(current.blockNum).toBe(header.blockNum);
    expect(current.time).toBe(header.time);
    expect(current.producer).toBe(PROD);
    expect(current.previous).toEqual(prev.id);
    // While the block runs, a single producer's commitNum is blockNum - 1; finishing
    // the block commits it (BlockContext: commitNum = blockNum).
    expect(current.commitNum).toBe(header.blockNum - 1);
    expect(header.commitNum).toBe(header.blockNum);
    expect(current.term).toBe(header.term);
    // headBlock is the whole committed header of the previous block.
    expect(retval(block, 'transact', 'headBlock')).toEqual(packBlockHeader(prevHeader));
    expect(schema.type('i64').decode(retval(block, 'transact', 'headBlockTime'))).toBe(prevHeader.time);
    expect(header.time - prevHeader.time).toBe(1_000_000n);
  });

  it('headTapos is the TaPoS of the head block, which a transaction can use', async () => {
    const head = chain.head!;
    const block = await accepted([getter('headTapos')], ['alice']);
    const [index, suffix] = schema.type('HeadTapos').decode(retval(block, 'transact', 'headTapos')) as [number, number];
    expect(index).toBe(head.num & 0x7f);
    expect(suffix).toBe(new DataView(head.id.buffer, head.id.byteOffset).getUint32(28, true));
  });

  it('getTransaction is the packed transaction being run, and isTransaction is true', async () => {
    const t = signed([getter('getTransaction'), getter('isTransaction')], ['alice']);
    const block = await chain.produceBlock({ producer: PROD, transactions: [t] });
    expect(block.rejected).toEqual([]);
    expect(retval(block, 'transact', 'getTransaction')).toEqual(t.transaction);
    expect(schema.type('bool').decode(retval(block, 'transact', 'isTransaction'))).toBe(true);
  });
});

describe('setcode staged code', () => {
  let code: Uint8Array;
  let hash: Uint8Array;
  const stage = (sender: string, service: string, id: bigint, bytes: Uint8Array) =>
    act(sender, 'setcode', 'stageCode', 'StageCode', { service: accountNumber(service), id, vmType: 0, vmVersion: 0, code: bytes });
  const unstage = (sender: string, service: string, id: bigint) => act(sender, 'setcode', 'unstageCode', 'UnstageCode', { service: accountNumber(service), id });
  const install = (sender: string, from: string, id: bigint, codeHash: Uint8Array) =>
    act(sender, 'setcode', 'setCodeStaged', 'SetCodeStaged', { from: accountNumber(from), id, vmType: 0, vmVersion: 0, codeHash });
  const byHash = (h: Uint8Array) => new NativeTables(chain.state.reader).codeByHash(h, 0, 0);
  const stagedKey = (from: string, id: bigint, service: string): Uint8Array => {
    const key = new Uint8Array(11 + 24);
    const view = new DataView(key.buffer);
    view.setBigUint64(0, accountNumber('setcode'));
    view.setUint16(8, 1);
    view.setBigUint64(11, accountNumber(from));
    view.setBigUint64(19, id);
    view.setBigUint64(27, accountNumber(service));
    return key;
  };
  const staged = (from: string, id: bigint, service: string) => chain.state.reader.get(dbKey(DbId.service, stagedKey(from, id, service)));

  beforeAll(async () => {
    code = await wat2wasm('(module (func (export "core_actions_staged")))');
    hash = sha256(code);
  });

  it('stageCode refuses empty code and a reused id', async () => {
    expect(await refused([stage('alice', 'bob', 1n, new Uint8Array(0))], ['alice'])).toContain('Cannot stage empty code');
    await accepted([stage('alice', 'bob', 1n, code)], ['alice']);
    expect(staged('alice', 1n, 'bob')).toBeDefined();
    expect(byHash(hash)?.code).toEqual(code);
    expect(await refused([stage('alice', 'bob', 1n, code)], ['alice'])).toContain('staged code id must be unique');
  });

  it('setCodeStaged only installs for the staged service, with the staged hash', async () => {
    // carolxyz is not the service the code was staged for: the row is keyed by the sender.
    expect(await refused([install('carolxyz', 'alice', 1n, hash)], ['carolxyz'])).toContain('staged code does not exist');
    expect(await refused([install('bob', 'alice', 2n, hash)], ['bob'])).toContain('staged code does not exist');
    expect(await refused([install('bob', 'bob', 1n, hash)], ['bob'])).toContain('staged code does not exist');
    expect(await refused([install('bob', 'alice', 1n, new Uint8Array(32).fill(7))], ['bob'])).toContain('staged code does not match');
    expect(chain.codeFor(chain.state.reader, accountNumber('bob'))).toBeUndefined();
    await accepted([install('bob', 'alice', 1n, hash)], ['bob']);
    expect(staged('alice', 1n, 'bob')).toBeUndefined();
    const installed = chain.codeFor(chain.state.reader, accountNumber('bob'))!;
    expect(installed.codeHash).toEqual(hash);
    expect(installed.code).toEqual(code);
    // The stage is consumed.
    expect(await refused([install('bob', 'alice', 1n, hash)], ['bob'])).toContain('staged code does not exist');
  });

  // Dropping the code-by-hash row once nothing references it is not asserted: setcode's
  // CodeRefCountRow.pack leaves out numRefs, so the count never reaches zero (see report).
  it('unstageCode removes only the sender\'s own stage', async () => {
    const other = await wat2wasm('(module (func (export "core_actions_unstaged")))');
    const otherHash = sha256(other);
    await accepted([stage('alice', 'carolxyz', 5n, other)], ['alice']);
    expect(byHash(otherHash)?.code).toEqual(other);
    expect(await refused([unstage('bob', 'carolxyz', 5n)], ['bob'])).toContain('staged code does not exist');
    expect(await refused([unstage('alice', 'carolxyz', 6n)], ['alice'])).toContain('staged code does not exist');
    expect(await refused([unstage('alice', 'bob', 5n)], ['alice'])).toContain('staged code does not exist');
    await accepted([unstage('alice', 'carolxyz', 5n)], ['alice']);
    expect(staged('alice', 5n, 'carolxyz')).toBeUndefined();
    expect(await refused([install('carolxyz', 'alice', 5n, otherHash)], ['carolxyz'])).toContain('staged code does not exist');
    expect(await refused([unstage('alice', 'carolxyz', 5n)], ['alice'])).toContain('staged code does not exist');
  });
});

describe('accounts', () => {
  const preapprove = (sender: string, name: string) => act(sender, 'accounts', 'preapproveAcc', 'Account', { account: accountNumber(name) });
  const newAccount = (sender: string, name: string, auth = 'auth-sig') =>
    act(sender, 'accounts', 'newAccount', 'AccountsNewAccount', { name: accountNumber(name), authService: accountNumber(auth), requireMatch: true });
  const incAuthSeq = (sender: string, name: string) => act(sender, 'accounts', 'incAuthSeq', 'Account', { account: accountNumber(name) });

  it('getAccount and exists answer from the account table', async () => {
    const block = await accepted(
      [
        act('alice', 'accounts', 'getAccount', 'Account', { account: accountNumber('bob') }),
        act('alice', 'accounts', 'getAccount', 'Account', { account: accountNumber('nobodyxx') }),
        act('alice', 'accounts', 'exists', 'Account', { account: accountNumber('bob') }),
        act('alice', 'accounts', 'exists', 'Account', { account: accountNumber('nobodyxx') }),
      ],
      ['alice'],
    );
    const [bob, nobody] = retvals(block, 'accounts', 'getAccount').map((r) => schema.type('OptAccountRow').decode(r));
    expect(bob).toEqual({ accountNum: accountNumber('bob'), authService: accountNumber('auth-sig'), authSequence: accountRow('bob')!.authSequence });
    expect(nobody).toBeNull();
    expect(retvals(block, 'accounts', 'exists').map((r) => schema.type('bool').decode(r))).toEqual([true, false]);
  });

  it('preapproveAcc is refused to ordinary accounts, and reserves x- names to accounts itself', async () => {
    expect(await refused([preapprove('alice', 'abc')], ['alice'])).toContain('unauthorized');
    expect(await refused([preapprove('namemarket', 'x-abc')], ['namemarket'])).toContain("The 'x-' account prefix is reserved for infrastructure providers");
  });

  it('a name preapproved by namemarket may be created short in the same transaction, and only there', async () => {
    expect(await refused([newAccount('namemarket', 'abc')], ['namemarket'])).toContain('account name must be at least 8 characters: abc');
    const block = await accepted([preapprove('namemarket', 'abc'), newAccount('namemarket', 'abc')], ['namemarket']);
    expect(schema.type('bool').decode(retval(block, 'accounts', 'newAccount'))).toBe(true);
    expect(accountRow('abc')).toEqual({ accountNum: accountNumber('abc'), authService: accountNumber('auth-sig'), authSequence: 0n });
    // A preapproval lasts only for its transaction.
    await accepted([preapprove('namemarket', 'abd')], ['namemarket']);
    expect(await refused([newAccount('namemarket', 'abd')], ['namemarket'])).toContain('account name must be at least 8 characters: abd');
    expect(accountRow('abd')).toBeUndefined();
  });

  it('incAuthSeq bumps the sequence only when the sender is the account\'s auth service', async () => {
    // An account whose auth service is alice (any existing account may be named).
    await accepted([newAccount('alice', 'delegated', 'alice')], ['alice']);
    expect(accountRow('delegated')).toEqual({ accountNum: accountNumber('delegated'), authService: accountNumber('alice'), authSequence: 0n });
    await accepted([incAuthSeq('bob', 'delegated')], ['bob']);
    expect(accountRow('delegated')!.authSequence).toBe(0n);
    await accepted([incAuthSeq('alice', 'delegated'), incAuthSeq('alice', 'delegated')], ['alice']);
    expect(accountRow('delegated')!.authSequence).toBe(2n);
    // Unknown accounts and accounts using another auth service are left alone, without error.
    const bobBefore = accountRow('bob')!.authSequence;
    await accepted([incAuthSeq('alice', 'nobodyxx'), incAuthSeq('alice', 'bob')], ['alice']);
    expect(accountRow('nobodyxx')).toBeUndefined();
    expect(accountRow('bob')!.authSequence).toBe(bobBefore);
  });
});

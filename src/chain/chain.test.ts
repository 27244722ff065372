import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blockId } from '../protocol/ids.ts';
import { accountNumber } from '../protocol/names.ts';
import { packSignedBlock, unpackSignedBlock, type SignedTransaction } from '../protocol/types.ts';
import { toHex } from '../state/bytes.ts';
import { IdbStore } from '../state/idb-store.ts';
import { LmdbStore } from '../state/lmdb-store.ts';
import { MemoryStore, undoOf } from '../state/memory-store.ts';
import { layeredReader } from '../state/layers.ts';
import { StateDb } from '../state/state-db.ts';
import type { KvStore } from '../state/store.ts';
import { DbId, dbKey } from '../vm/dbs.ts';
import { BlockContext, blockSignatureData, producersOf, transactionMerkleRoot } from './block-context.ts';
import { WriteOverlay } from '../state/overlay.ts';
import { ONE_SECOND_US, TRANSACT } from './constants.ts';
import { BlockValidationError, ChainHaltError, TransactionRejectedError } from './errors.ts';
import { Chain, bootChain, openTransaction, traceJson } from './executor.ts';
import { sigVerifier } from './sig-verifier.ts';
import { generateKeyPair, sign } from '../crypto/keys.ts';
import { NativeTables, blockLogKey, checkNativeWrite, codeByHashKey, codeKey, pack, statusKey, type GenesisService } from './native-tables.ts';
import { CodeFlags } from '../vm/execution.ts';
import { KvMode } from '../vm/dbs.ts';
import { SCRIPT_SERVICE_WAT, Script, scriptAction, wat2wasm } from '../vm/test-kit.ts';
import {
  BANK,
  INITIAL_BALANCE,
  VERIFIER,
  VERIFIER_WAT,
  balanceKey,
  hashLockVerifier,
  signedTransaction,
  testServices,
  transferAction,
} from './test-kit.ts';

const ALICE = accountNumber('alice');
const BOB = accountNumber('bob');
const PRODUCER = accountNumber('prod');
const T0 = 1_700_000_000_000_000n;
const EXPIRES = T0 / ONE_SECOND_US + 600n;

let services: GenesisService[];
beforeAll(async () => {
  services = await testServices();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function memoryChain(init: Partial<Parameters<typeof Chain.open>[0]> = {}): Promise<Chain> {
  return Chain.open({ state: new StateDb(new MemoryStore()), ...init });
}

function lmdbStore(): KvStore {
  const dir = mkdtempSync(join(tmpdir(), 'psiweb-chain-'));
  const store = LmdbStore.open(dir);
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

async function bootedChain(store: KvStore = new MemoryStore()): Promise<Chain> {
  const chain = await Chain.open({ state: new StateDb(store) });
  await chain.boot({ services, producer: PRODUCER, time: T0 });
  return chain;
}

function balance(chain: Chain, account: bigint): bigint {
  const raw = chain.state.reader.get(balanceKey(account));
  return raw ? new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0, true) : INITIAL_BALANCE;
}

const transfer = (amount: bigint, options: { expiration?: bigint; from?: bigint } = {}) =>
  signedTransaction([transferAction(options.from ?? ALICE, BOB, amount)], { expiration: options.expiration ?? EXPIRES });

describe('genesis', () => {
  it('boots with the genesis transaction: code rows, status row, chain id', async () => {
    const chain = await memoryChain();
    const produced = await chain.boot({ services, producer: PRODUCER, time: T0 });
    expect(produced.block.block.header.blockNum).toBe(2);
    expect(chain.head?.num).toBe(2);
    expect(chain.chainId).toEqual(produced.id);
    expect(produced.block.block.header.previous).toEqual(new Uint8Array(32));
    const tables = new NativeTables(chain.state.reader);
    const transact = tables.code(TRANSACT);
    expect(transact?.codeHash).toEqual(sha256(services[0]!.code));
    expect(tables.codeByHash(transact!.codeHash, 0, 0)?.code).toEqual(services[0]!.code);
    // The verify service becomes part of the next consensus, and its code rides in the header.
    const header = produced.block.block.header;
    expect(header.newConsensus?.services.map((s) => s.codeNum)).toEqual([VERIFIER]);
    expect(header.authCode?.map((c) => c.code)).toEqual([services[1]!.code]);
    expect(header.newConsensus && 'CftConsensus' in header.newConsensus.data && header.newConsensus.data.CftConsensus.producers[0]?.name).toBe(PRODUCER);
    expect(blockId(header)).toEqual(produced.id);
    const status = tables.status()!;
    expect(status.head?.blockId).toEqual(produced.id);
    expect(status.current.blockNum).toBe(3);
    expect(status.current.time).toBe(T0 + ONE_SECOND_US);
  });

  it('refuses a genesis action that reuses an account, and commits nothing', async () => {
    const chain = await memoryChain();
    await expect(chain.boot({ services: [services[0]!, services[0]!], producer: PRODUCER, time: T0 })).rejects.toThrow(
      /account already created/,
    );
    expect(chain.head).toBeUndefined();
    expect(await chain.state.store.head()).toBeUndefined();
  });

  it('cannot verify claims in the genesis block: no verify service exists before it', async () => {
    const chain = await memoryChain();
    const claimed = signedTransaction([transferAction(ALICE, BOB, 5n)], { expiration: EXPIRES });
    const e = await chain.boot({ services, producer: PRODUCER, time: T0, initTransactions: [claimed] }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect((e as TransactionRejectedError).message).toMatch(/unknown service account: verifier/);
    expect(chain.head).toBeUndefined();
  });

  it('runs init transactions after the genesis transaction in the genesis block', async () => {
    const init = signedTransaction([transferAction(ALICE, BOB, 5n)], { expiration: EXPIRES, claims: [] });
    const { chain, genesis: produced } = await bootChain({
      state: new StateDb(new MemoryStore()),
      services,
      producer: PRODUCER,
      time: T0,
      initTransactions: async () => [init],
    });
    expect(produced.block.block.transactions).toHaveLength(2);
    expect(balance(chain, BOB)).toBe(INITIAL_BALANCE + 5n);
  });
});

describe('transactions', () => {
  it('applies a transfer through transact.processTransaction; trace in psibase JSON', async () => {
    const chain = await bootedChain();
    const produced = await chain.produceBlock({ producer: PRODUCER, transactions: [transfer(100n)] });
    expect(produced.rejected).toEqual([]);
    expect(balance(chain, ALICE)).toBe(INITIAL_BALANCE - 100n);
    expect(balance(chain, BOB)).toBe(INITIAL_BALANCE + 100n);
    // startBlock transaction first, then the transfer.
    expect(produced.block.block.transactions).toHaveLength(2);
    const json = traceJson(produced.traces[1]!) as { actionTraces: { action: { service: string; method: string }; innerTraces: { inner: unknown }[] }[] };
    expect(json.actionTraces[0]!.action.service).toBe('transact');
    expect(JSON.stringify(json.actionTraces[0]!.innerTraces)).toContain('"method":"transfer"');
  });

  it('rolls back a failing transaction and leaves it out of the block', async () => {
    const chain = await bootedChain();
    const ok = transfer(10n);
    const bad = transfer(INITIAL_BALANCE * 10n);
    const produced = await chain.produceBlock({ producer: PRODUCER, transactions: [bad, ok] });
    expect(produced.rejected).toHaveLength(1);
    expect(produced.rejected[0]!.error.reason).toBe('failed');
    expect(produced.rejected[0]!.error.trace?.error).toMatch(/insufficient balance/);
    expect(produced.block.block.transactions).toHaveLength(2);
    expect(balance(chain, ALICE)).toBe(INITIAL_BALANCE - 10n);
  });

  it('rolls back every action of a transaction when a later one fails', async () => {
    const chain = await bootedChain();
    const trx = signedTransaction([transferAction(ALICE, BOB, 7n), transferAction(BOB, ALICE, INITIAL_BALANCE * 5n)], {
      expiration: EXPIRES,
    });
    const produced = await chain.produceBlock({ producer: PRODUCER, transactions: [trx] });
    expect(produced.rejected).toHaveLength(1);
    expect(chain.state.reader.get(balanceKey(ALICE))).toBeUndefined();
  });

  it('rejects a transaction whose proof does not verify (wasm verifier)', async () => {
    const chain = await bootedChain();
    const forged = signedTransaction([transferAction(ALICE, BOB, 1n)], { expiration: EXPIRES, proofs: () => [new Uint8Array(32)] });
    const produced = await chain.produceBlock({ producer: PRODUCER, transactions: [forged] });
    expect(produced.rejected[0]?.error.reason).toBe('signature');
    expect(produced.rejected[0]?.error.message).toMatch(/signature invalid/);
  });

  it('gives the same verdicts through a native verifier as through the wasm', async () => {
    const wasm = await bootedChain();
    const native = await Chain.open({
      state: new StateDb(new MemoryStore()),
      nativeVerifiers: [hashLockVerifier(services[1]!.code)],
    });
    await native.boot({ services, producer: PRODUCER, time: T0 });
    const cases: SignedTransaction[] = [
      transfer(1n),
      signedTransaction([transferAction(ALICE, BOB, 2n)], { expiration: EXPIRES, proofs: () => [new Uint8Array(32)] }),
      signedTransaction([transferAction(ALICE, BOB, 3n)], { expiration: EXPIRES, proofs: (p) => [sha256(p).subarray(0, 31)] }),
      signedTransaction([transferAction(ALICE, BOB, 4n)], { expiration: EXPIRES, proofs: () => [] }),
    ];
    const opened = cases.map((c) => openTransaction(c));
    const a = await wasm.verifyTransactions(opened);
    const b = await native.verifyTransactions(opened);
    expect(a.map((r) => r === undefined)).toEqual([true, false, false, false]);
    expect(b.map((r) => r === undefined)).toEqual(a.map((r) => r === undefined));
  });
});

describe('verify-sig native twin', () => {
  it('accepts P-256 proofs over the packed transaction and refuses forged ones and bad keys', async () => {
    const standIn = { ...services[1]!, service: accountNumber('verify-sig'), code: await wat2wasm(VERIFIER_WAT.replace('(memory (export "memory") 1)', '(memory (export "memory") 2)')) };
    const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: [sigVerifier(sha256(standIn.code))] });
    await chain.boot({ services: [...services, standIn], producer: PRODUCER, time: T0 });
    const key = await generateKeyPair('p256');
    const other = await generateKeyPair('p256');
    const make = async (signer: typeof key, claimKey: Uint8Array, amount = 1n) => {
      const claims = [{ service: standIn.service, rawData: claimKey }];
      const unsigned = signedTransaction([transferAction(ALICE, BOB, amount)], { expiration: EXPIRES, claims, proofs: () => [] });
      return { ...unsigned, proofs: [await sign(signer, unsigned.transaction)] };
    };
    const cases = [await make(key, key.publicKeyDer), await make(other, key.publicKeyDer, 2n), await make(key, new Uint8Array([1, 2, 3]))];
    const results = await chain.verifyTransactions(cases.map((c) => openTransaction(c)));
    expect(results[0]).toBeUndefined();
    expect(results[1]).toMatch(/signature invalid/);
    expect(results[2]).toMatch(/aborted/);
    const produced = await chain.produceBlock({ producer: PRODUCER, transactions: cases });
    expect(produced.block.block.transactions).toHaveLength(2);
    expect(produced.rejected.map((r) => r.error.reason)).toEqual(['signature', 'signature']);
  });
});

describe('blocks', () => {
  it('a second executor applies the produced blocks to identical state and ids', async () => {
    const producerStore = new MemoryStore();
    const producer = await Chain.open({ state: new StateDb(producerStore) });
    const validator = await memoryChain();
    const genesis = await producer.boot({ services, producer: PRODUCER, time: T0 });
    await validator.applyBlock(genesis.bytes);
    for (let i = 0; i < 3; i++) {
      const b = await producer.produceBlock({ producer: PRODUCER, transactions: [transfer(BigInt(i + 1)), transfer(BigInt(i + 10))] });
      const applied = await validator.applyBlock(b.bytes);
      expect(applied.id).toEqual(b.id);
    }
    expect(validator.head).toEqual(producer.head);
    const dump = async (s: KvStore) => (await s.getRange(new Uint8Array(0), undefined)).map((e) => [toHex(e.key), toHex(e.value)]);
    const validatorStore = validator.state.store;
    expect(await dump(validatorStore)).toEqual(await dump(producerStore));
    // startBlock ran once per block after genesis.
    expect(balance(validator, BOB)).toBe(INITIAL_BALANCE + 1n + 2n + 3n + 10n + 11n + 12n);
  });

  it('a reversible chain switches forks: revertTo takes blocks back to identical state, and the other fork applies on top', async () => {
    for (const open of [async () => new MemoryStore() as KvStore, async () => lmdbStore()]) {
      // Two producers' views of one chain: A builds fork a (genesis + 1, + 2), B builds fork b (another genesis + 1).
      const a = await Chain.open({ state: new StateDb(await open()) });
      const b = await Chain.open({ state: new StateDb(await open()) });
      const node = await Chain.open({ state: new StateDb(await open()), reversible: true });
      const genesis = await a.boot({ services, producer: PRODUCER, time: T0 });
      await b.applyBlock(genesis.bytes);
      await node.applyBlock(genesis.bytes);
      const g = node.head!.num;
      await node.markIrreversible(g);
      const dump = async (c: Chain) => (await c.state.store.getRange(new Uint8Array(0), undefined)).map((e) => `${toHex(e.key)}=${toHex(e.value)}`);
      const atGenesis = await dump(node);
      const a2 = await a.produceBlock({ producer: PRODUCER, transactions: [transfer(5n)] });
      const a3 = await a.produceBlock({ producer: PRODUCER, transactions: [transfer(6n)] });
      const b2 = await b.produceBlock({ producer: PRODUCER, time: T0 + 2n * ONE_SECOND_US, transactions: [transfer(7n), transfer(8n)] });
      await node.applyBlock(a2.bytes);
      await node.applyBlock(a3.bytes);
      expect(balance(node, BOB)).toBe(INITIAL_BALANCE + 11n);
      const a2Transfer = openTransaction(a2.block.block.transactions.at(-1)!).id;
      expect(node.isRecentlyIncluded(a2Transfer)).toBe(true);
      await node.revertTo(g);
      expect(node.head?.num).toBe(g);
      expect(await dump(node)).toEqual(atGenesis);
      expect(await node.blockByNum(g + 1)).toBeUndefined();
      expect(node.isRecentlyIncluded(a2Transfer)).toBe(false);
      await node.applyBlock(b2.bytes);
      expect(node.head?.id).toEqual(b2.id);
      expect(await dump(node)).toEqual(await dump(b));
      // Irreversible blocks cannot be taken back; the refusal changes nothing.
      await node.markIrreversible(g + 1);
      await expect(node.revertTo(g)).rejects.toThrow(/irreversible/);
      expect(node.head?.id).toEqual(b2.id);
      expect(await dump(node)).toEqual(await dump(b));
    }
  });

  it('validates and builds blocks on a fork (the head with its undo and the fork laid over), then commits them after a revert, as applying them would', async () => {
    const a = await Chain.open({ state: new StateDb(new MemoryStore()) });
    const b = await Chain.open({ state: new StateDb(new MemoryStore()) });
    const node = await Chain.open({ state: new StateDb(lmdbStore()), reversible: true });
    const genesis = await a.boot({ services, producer: PRODUCER, time: T0 });
    await b.applyBlock(genesis.bytes);
    await node.applyBlock(genesis.bytes);
    const g = node.head!.num;
    const a2 = await a.produceBlock({ producer: PRODUCER, transactions: [transfer(5n)] });
    const b2 = await b.produceBlock({ producer: PRODUCER, time: T0 + 2n * ONE_SECOND_US, transactions: [transfer(7n)] });
    // The node follows fork a, keeping in memory what a2 overwrote.
    const v2 = await node.validateOn(a2.bytes, node.state.reader);
    const undo2 = undoOf(v2.bc.state.writes(), node.state.reader);
    await node.commitValidated(v2);
    // b2 (parent: genesis) validates on the head's state with a2's undo laid over it.
    const forkAtG = layeredReader(node.state.reader, [undo2]);
    const vb2 = await node.validateOn(b2.bytes, forkAtG);
    expect(vb2.id).toEqual(b2.id);
    await expect(node.validateOn(b2.bytes, node.state.reader)).rejects.toThrow(BlockValidationError);
    // b3 is built synchronously on fork b; chain b applies the same block.
    const built = node.buildOn(layeredReader(node.state.reader, [undo2, [...vb2.bc.state.writes()]]), { time: T0 + 3n * ONE_SECOND_US, producer: PRODUCER, term: 0, irreversible: 0 }, [openTransaction(transfer(9n)), openTransaction(transfer(9n))]);
    expect(built.included.length).toBe(1);
    expect(built.rejected.map((r) => r.error.reason)).toEqual(['duplicate']);
    const b3 = node.sealBuilt(built, new Uint8Array(0));
    await b.applyBlock(b3.bytes);
    expect(b.head!.id).toEqual(b3.id);
    // Switch: back to genesis, then commit fork b's blocks without executing them again.
    await node.revertTo(g);
    await node.commitValidated(vb2);
    await node.commitValidated(b3);
    await expect(node.commitValidated(v2)).rejects.toThrow(/does not follow the head/);
    const dump = async (c: Chain) => (await c.state.store.getRange(new Uint8Array(0), undefined)).map((e) => `${toHex(e.key)}=${toHex(e.value)}`);
    expect(node.head!.id).toEqual(b3.id);
    expect(await dump(node)).toEqual(await dump(b));
  });

  it('tryTransaction says whether a transaction would run in the next block, and keeps nothing of it', async () => {
    const chain = await bootedChain();
    const dump = async () => (await chain.state.store.getRange(new Uint8Array(0), undefined)).map((e) => `${toHex(e.key)}=${toHex(e.value)}`);
    const before = await dump();
    expect(chain.tryTransaction(openTransaction(transfer(5n)), PRODUCER).error).toBeNull();
    expect(chain.tryTransaction(openTransaction(transfer(INITIAL_BALANCE + 1n)), PRODUCER).error).toMatch(/./);
    // Alice's whole balance, then one more: the first was not kept, so the second still runs.
    expect(chain.tryTransaction(openTransaction(transfer(INITIAL_BALANCE)), PRODUCER).error).toBeNull();
    expect(chain.tryTransaction(openTransaction(transfer(1n)), PRODUCER).error).toBeNull();
    expect(await dump()).toEqual(before);
    expect(balance(chain, BOB)).toBe(INITIAL_BALANCE);
    // After a block, it is tried on the new head.
    await chain.produceBlock({ producer: PRODUCER, transactions: [transfer(5n)] });
    expect(chain.tryTransaction(openTransaction(transfer(INITIAL_BALANCE - 5n)), PRODUCER).error).toBeNull();
    expect(chain.tryTransaction(openTransaction(transfer(INITIAL_BALANCE - 4n)), PRODUCER).error).toMatch(/./);
  });

  it('applyBlocks validates consecutive blocks over each other and commits them together, as one by one would', async () => {
    const producerStore = new MemoryStore();
    const producer = await Chain.open({ state: new StateDb(producerStore) });
    const genesis = await producer.boot({ services, producer: PRODUCER, time: T0 });
    const blocks = [genesis.bytes];
    for (let i = 0; i < 4; i++) blocks.push((await producer.produceBlock({ producer: PRODUCER, transactions: [transfer(BigInt(i + 1))] })).bytes);
    const dump = async (s: KvStore) => (await s.getRange(new Uint8Array(0), undefined)).map((e) => [toHex(e.key), toHex(e.value)]);
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-apply-blocks-'));
    const lmdb = LmdbStore.open(dir);
    cleanups.push(async () => {
      await lmdb.close();
      rmSync(dir, { recursive: true, force: true });
    });
    for (const store of [new MemoryStore(), lmdb]) {
      const validator = await Chain.open({ state: new StateDb(store) });
      expect(validator.state.commitsBlocksTogether).toBe(true);
      const commits: number[] = [];
      const commitBlocks = store.commitBlocks!.bind(store);
      store.commitBlocks = (c) => (commits.push(c.blocks.length), commitBlocks(c));
      const r = await validator.applyBlocks(blocks);
      expect(r.error).toBeUndefined();
      expect(r.applied.map((a) => toHex(a.id))).toEqual(blocks.map((b) => toHex(blockId(unpackSignedBlock(b).block.header))));
      expect(commits).toEqual([5]);
      expect(validator.head).toEqual(producer.head);
      expect(await dump(store)).toEqual(await dump(producerStore));
      for (let n = 2; n <= 6; n++) expect((await store.block(n))?.bytes).toEqual(blocks[n - 2]);
      expect(validator.isRecentlyIncluded(openTransaction(unpackSignedBlock(blocks[4]!).block.transactions[1]!).id)).toBe(true);
    }
  });

  it('applyBlocks commits the valid blocks before one that fails, and none of the failing one', async () => {
    const producer = await bootedChain();
    const blocks = [(await producer.blockByNum(2))!];
    for (const a of [1n, 2n, 3n]) blocks.push((await producer.produceBlock({ producer: PRODUCER, transactions: [transfer(a)] })).block);
    const bad = unpackSignedBlock(packSignedBlock(blocks[2]!));
    bad.block.transactions[1] = { ...transfer(INITIAL_BALANCE * 9n), subjectiveData: [] };
    const validator = await memoryChain();
    const r = await validator.applyBlocks([blocks[0]!, blocks[1]!, bad, blocks[3]!]);
    expect(r.error).toBeInstanceOf(BlockValidationError);
    expect((r.error as Error).message).toMatch(/failed on replay: .*insufficient balance/);
    expect(r.applied).toHaveLength(2);
    expect(validator.head?.num).toBe(3);
    expect(await validator.state.store.block(4)).toBeUndefined();
    expect(balance(validator, BOB)).toBe(INITIAL_BALANCE + 1n);
    // The good block 4 still applies on top.
    expect((await validator.applyBlocks([blocks[2]!, blocks[3]!])).applied).toHaveLength(2);
    expect(validator.head).toEqual(producer.head);
  });

  it('the merkle root covers TransactionInfo of every transaction in the block', async () => {
    const chain = await bootedChain();
    const b = await chain.produceBlock({ producer: PRODUCER, transactions: [transfer(1n), transfer(2n)] });
    expect(b.block.block.header.trxMerkleRoot).toEqual(transactionMerkleRoot(b.block.block.transactions));
    expect(b.block.block.header.trxMerkleRoot).not.toEqual(new Uint8Array(32));
  });

  it('rejects blocks that do not follow the head or do not re-execute the same', async () => {
    const producer = await bootedChain();
    const validator = await memoryChain();
    await validator.applyBlock((await producer.blockByNum(2))!);
    const good = await producer.produceBlock({ producer: PRODUCER, transactions: [transfer(1n)] });
    const tamper = (f: (b: ReturnType<typeof unpackSignedBlock>) => void) => {
      const copy = unpackSignedBlock(good.bytes);
      f(copy);
      return packSignedBlock(copy);
    };
    const cases: [RegExp, Uint8Array][] = [
      [/malformed/, good.bytes.subarray(0, 20)],
      [/previous does not match/, tamper((b) => (b.block.header.previous = new Uint8Array(32).fill(1)))],
      [/block num does not match/, tamper((b) => (b.block.header.blockNum += 1))],
      [/in the past/, tamper((b) => (b.block.header.time = T0 - 1n))],
      [/trxMerkleRoot/, tamper((b) => (b.block.header.trxMerkleRoot = new Uint8Array(32).fill(2)))],
      [/Invalid producer/, tamper((b) => (b.block.header.producer = accountNumber('mallory')))],
      [/trxMerkleRoot/, tamper((b) => b.block.transactions.push({ ...transfer(2n), subjectiveData: [] }))],
      [/failed on replay: .*insufficient balance/, tamper((b) => (b.block.transactions[1] = { ...transfer(INITIAL_BALANCE * 9n), subjectiveData: [] }))],
      [/Missing subjective data/, tamper((b) => (b.block.transactions[1] = transfer(1n)))],
      [/transaction 1: .*signature invalid/, tamper((b) => (b.block.transactions[1] = { ...b.block.transactions[1]!, proofs: [new Uint8Array(32)] }))],
      [/blockId does not match/, tamper((b) => (b.block.header.consensusState = new Uint8Array(32)))],
    ];
    for (const [message, bytes] of cases) {
      const name = message.source;
      const error = await validator.applyBlock(bytes).then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(BlockValidationError);
      expect((error as Error).message, name).toMatch(message);
      expect(validator.head?.num, name).toBe(2);
    }
    expect((await validator.applyBlock(good.bytes)).id).toEqual(good.id);
  });

  it('keeps the block log in the store and in DbId.blockLog', async () => {
    const chain = await bootedChain();
    const b = await chain.produceBlock({ producer: PRODUCER, transactions: [transfer(1n)] });
    expect(packSignedBlock((await chain.blockByNum(3))!)).toEqual(b.bytes);
    expect(packSignedBlock((await chain.blockById(b.id))!)).toEqual(b.bytes);
    const wrongId = b.id.slice();
    wrongId[31]! ^= 1;
    expect(await chain.blockById(wrongId)).toBeUndefined();
    expect(chain.state.reader.get(dbKey(DbId.blockLog, blockLogKey(3)))).toBeDefined();
  });

  it('refuses to boot twice and to produce before boot', async () => {
    const chain = await bootedChain();
    await expect(chain.boot({ services, producer: PRODUCER, time: T0 })).rejects.toBeInstanceOf(ChainHaltError);
    const fresh = await memoryChain();
    await expect(fresh.produceBlock({ producer: PRODUCER })).rejects.toBeInstanceOf(TransactionRejectedError);
  });

  it('halts block production when transact cannot run startBlock', async () => {
    const broken = services.map((s) => (s.service === TRANSACT ? { ...s, service: accountNumber('other') } : s));
    const chain = await memoryChain();
    await chain.boot({ services: broken, producer: PRODUCER, time: T0 });
    await expect(chain.produceBlock({ producer: PRODUCER })).rejects.toBeInstanceOf(ChainHaltError);
    expect(chain.head?.num).toBe(2);
  });

  it('checks service writes to the native db: malformed rows fail the transaction, good ones land', async () => {
    const script: GenesisService = { service: accountNumber('script'), flags: CodeFlags.isPrivileged, vmType: 0, vmVersion: 0, code: await wat2wasm(SCRIPT_SERVICE_WAT) };
    const chain = await memoryChain();
    await chain.boot({ services: [...services, script], producer: PRODUCER, time: T0 });
    const write = (key: Uint8Array, value: Uint8Array) =>
      signedTransaction([scriptAction(ALICE, 'script', new Script().open(DbId.native, new Uint8Array(0), KvMode.readWrite).put(0, key, value))], {
        expiration: EXPIRES,
      });
    const goodRow = pack.codeRow({ codeNum: ALICE, flags: 0n, codeHash: new Uint8Array(32), vmType: 0, vmVersion: 0 });
    const produced = await chain.produceBlock({
      producer: PRODUCER,
      transactions: [
        write(codeKey(ALICE), new Uint8Array([1, 2, 3])),
        write(codeKey(BOB), goodRow),
        write(Uint8Array.of(0, 99, 0), new Uint8Array(4)),
        write(codeKey(ALICE), goodRow),
      ],
    });
    expect(produced.rejected.map((r) => r.error.trace?.error)).toEqual([
      expect.stringMatching(/CodeRow has invalid format/),
      expect.stringMatching(/CodeRow has incorrect key/),
      expect.stringMatching(/Unrecognized key in nativeConstrained/),
    ]);
    expect(new NativeTables(chain.state.reader).code(ALICE)?.codeNum).toBe(ALICE);
  });

  it('tracks verify services a service installs into the next consensus', () => {
    const effects = { modifiedAuthAccounts: new Set<bigint>(), removedCode: new Set<string>() };
    const row = { codeNum: BOB, flags: CodeFlags.isVerify, codeHash: sha256(services[1]!.code), vmType: 0, vmVersion: 0 };
    checkNativeWrite(effects, codeKey(BOB), pack.codeRow(row), undefined);
    expect([...effects.modifiedAuthAccounts]).toEqual([BOB]);
    const code = { codeHash: new Uint8Array(32), vmType: 0, vmVersion: 0, code: services[1]!.code };
    expect(() => checkNativeWrite(effects, codeByHashKey(code.codeHash, 0, 0), pack.codeByHashRow(code), undefined)).toThrow(/incorrect codeHash/);
  });
});

describe('producer schedule and block signatures', () => {
  it('switches to a signed producer through joint consensus; validators check the signature', async () => {
    const script: GenesisService = { service: accountNumber('script'), flags: CodeFlags.isPrivileged, vmType: 0, vmVersion: 0, code: await wat2wasm(SCRIPT_SERVICE_WAT) };
    const producer = await memoryChain();
    const validator = await memoryChain();
    await validator.applyBlock((await producer.boot({ services: [...services, script], producer: PRODUCER, time: T0 })).bytes);

    // The status row block 3 starts with, plus a pending schedule whose producer signs
    // with the hash-lock verifier (what the producers service would write).
    const probe = new BlockContext({ host: producer.host, codeFor: producer.codeFor }, new WriteOverlay(producer.state.reader), true);
    const status = probe.start(undefined, PRODUCER, 0, 0);
    const signedBy = { name: PRODUCER, auth: { service: VERIFIER, rawData: new Uint8Array(0) } };
    status.consensus.next = { consensus: { ...status.consensus.current, data: { CftConsensus: { producers: [signedBy] } } }, blockNum: 3 };
    const setProducers = signedTransaction(
      [scriptAction(ALICE, 'script', new Script().open(DbId.native, new Uint8Array(0), KvMode.readWrite).put(0, statusKey(), pack.statusRow(status)))],
      { expiration: EXPIRES },
    );
    const b3 = await producer.produceBlock({ producer: PRODUCER, transactions: [setProducers] });
    expect(b3.rejected).toEqual([]);
    expect(b3.block.block.header.newConsensus && producersOf(b3.block.block.header.newConsensus)).toEqual([signedBy]);
    await validator.applyBlock(b3.bytes);
    // Block 4 makes block 3 irreversible, so block 5 is under the new schedule.
    await validator.applyBlock((await producer.produceBlock({ producer: PRODUCER, irreversible: 3 })).bytes);

    const prover = async (data: Uint8Array) => sha256(data);
    await expect(producer.produceBlock({ producer: PRODUCER })).resolves.toBeDefined();
    const unsigned = (await producer.blockByNum(5))!;
    expect(unsigned.signature).toHaveLength(0);
    await expect(validator.applyBlock(unsigned)).rejects.toThrow(/block signature/);
    // The signature is checked while the transactions re-execute, but its verdict comes
    // first: a block that is also wrong in its body is refused for its signature.
    const alsoBadBody = unpackSignedBlock(packSignedBlock(unsigned));
    alsoBadBody.block.transactions.push({ ...transfer(INITIAL_BALANCE * 9n), subjectiveData: [] });
    await expect(validator.applyBlock(alsoBadBody)).rejects.toThrow(/block signature/);

    const signer = await memoryChain();
    for (let n = 2; n <= 4; n++) await signer.applyBlock((await producer.blockByNum(n))!);
    const b5 = await signer.produceBlock({ producer: PRODUCER, prover });
    expect(b5.block.signature).toEqual(sha256(blockSignatureData(b5.id)));
    expect((await validator.applyBlock(b5.bytes)).id).toEqual(b5.id);

    // A check begun when a block arrives (beginSignatureCheck, the verifier's native
    // twin) is the block's only if it was of the same signature: a forged copy of block
    // 5 (same header, so the same id) neither borrows the honest copy's verdict nor
    // lends it its own.
    const twin = hashLockVerifier(services[1]!.code);
    let checks = 0;
    const counted = { codeHash: twin.codeHash, verify: (p: Parameters<typeof twin.verify>[0]) => (checks++, twin.verify(p)) };
    const early = async () => {
      const v = await memoryChain({ nativeVerifiers: [counted] });
      for (let n = 2; n <= 4; n++) await v.applyBlock((await producer.blockByNum(n))!);
      return v;
    };
    const forged = { ...b5.block, signature: new Uint8Array(32).fill(1) };
    const honestFirst = await early();
    honestFirst.beginSignatureCheck(b5.block, b5.id);
    await expect(honestFirst.applyBlock(forged)).rejects.toThrow(/block signature/);
    const forgedFirst = await early();
    forgedFirst.beginSignatureCheck(forged, b5.id);
    expect((await forgedFirst.applyBlock(b5.bytes)).id).toEqual(b5.id);
    // The honest copy's check, begun early, is the one its validation takes (one check, not two).
    const ahead = await early();
    checks = 0;
    ahead.beginSignatureCheck(b5.block, b5.id);
    expect(checks).toBe(1);
    expect((await ahead.applyBlock(b5.bytes)).id).toEqual(b5.id);
    expect(checks).toBe(1);
  });
});

describe('persistence', () => {
  const lmdb = () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-chain-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return { dir, open: () => LmdbStore.open(dir) };
  };

  it('commits and reopens with the memory store and with lmdb', async () => {
    const mem = new MemoryStore();
    const a = await bootedChain(mem);
    await a.produceBlock({ producer: PRODUCER, transactions: [transfer(3n)] });
    const reopened = await Chain.open({ state: new StateDb(mem) });
    expect(reopened.head).toEqual(a.head);
    expect(balance(reopened, BOB)).toBe(INITIAL_BALANCE + 3n);

    const { open } = lmdb();
    const store = open();
    const b = await bootedChain(store);
    const produced = await b.produceBlock({ producer: PRODUCER, transactions: [transfer(4n)] });
    await store.close();
    const store2 = open();
    cleanups.unshift(() => store2.close());
    const c = await Chain.open({ state: new StateDb(store2) });
    expect(c.head?.id).toEqual(produced.id);
    expect(balance(c, BOB)).toBe(INITIAL_BALANCE + 4n);
    const next = await c.produceBlock({ producer: PRODUCER, transactions: [transfer(5n)] });
    expect(next.block.block.header.blockNum).toBe(4);
    expect(balance(c, BOB)).toBe(INITIAL_BALANCE + 9n);
  });

  it('re-runs transactions after cache misses over IndexedDB and ends in the same state', async () => {
    let n = 0;
    const idb = await IdbStore.open(`psiweb-chain-${n++}-${Date.now()}`);
    cleanups.push(() => idb.close());
    const state = new StateDb(idb);
    expect(state.cache).toBeDefined();
    const chain = await Chain.open({ state });
    await chain.boot({ services, producer: PRODUCER, time: T0 });
    const reference = await bootedChain();
    state.invalidate();
    const missesBefore = state.cache!.stats.misses;
    const txs = [transfer(1n), transfer(2n, { from: BOB })];
    const a = await chain.produceBlock({ producer: PRODUCER, transactions: txs });
    const b = await reference.produceBlock({ producer: PRODUCER, transactions: txs });
    expect(state.cache!.stats.misses).toBeGreaterThan(missesBefore);
    expect(a.id).toEqual(b.id);
    expect(balance(chain, BOB)).toBe(balance(reference, BOB));
  });
});

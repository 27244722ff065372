import { sha256 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { accountNumber } from '../protocol/names.ts';
import { packSignedTransaction } from '../protocol/types.ts';
import { MemoryStore } from '../state/memory-store.ts';
import { StateDb } from '../state/state-db.ts';
import { MAX_TRX_LIFETIME_SEC, ONE_SECOND_US } from './constants.ts';
import { TransactionRejectedError, type RejectReason } from './errors.ts';
import { Chain, openTransaction } from './executor.ts';
import { Mempool } from './mempool.ts';
import type { GenesisService } from './native-tables.ts';
import { INITIAL_BALANCE, balanceKey, signedTransaction, testServices, transferAction } from './test-kit.ts';

const ALICE = accountNumber('alice');
const BOB = accountNumber('bob');
const PRODUCER = accountNumber('prod');
const T0 = 1_700_000_000_000_000n;
const NOW = T0 / ONE_SECOND_US;

let services: GenesisService[];
beforeAll(async () => {
  services = await testServices();
});

async function setup(maxSize?: number) {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await chain.boot({ services, producer: PRODUCER, time: T0 });
  return { chain, pool: new Mempool(chain, maxSize === undefined ? {} : { maxSize }) };
}

const transfer = (amount: bigint, expiration = NOW + 600n) => signedTransaction([transferAction(ALICE, BOB, amount)], { expiration });

async function rejection(p: Promise<unknown>): Promise<RejectReason> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TransactionRejectedError);
  return (e as TransactionRejectedError).reason;
}

describe('Mempool', () => {
  it('admits a valid transaction after a speculative run that changes no state', async () => {
    const { chain, pool } = await setup();
    const admitted = await pool.add(packSignedTransaction(transfer(5n)));
    expect(admitted.trace.error ?? undefined).toBeUndefined();
    expect(pool.size).toBe(1);
    expect(chain.state.reader.get(balanceKey(ALICE))).toBeUndefined();
    expect(chain.head?.num).toBe(2);
  });

  it('rejects malformed bytes, expired, too early, duplicates and bad signatures', async () => {
    const { pool } = await setup();
    expect(await rejection(pool.add(new Uint8Array([1, 2, 3])))).toBe('malformed');
    const good = packSignedTransaction(transfer(5n));
    expect(await rejection(pool.add(good.subarray(0, good.length - 3)))).toBe('malformed');
    expect(await rejection(pool.add({ ...transfer(5n), subjectiveData: [] }))).toBe('malformed');
    expect(await rejection(pool.add(transfer(5n, NOW + 1n)))).toBe('expired');
    expect(await rejection(pool.add(transfer(5n, NOW - 100n)))).toBe('expired');
    expect(await rejection(pool.add(transfer(5n, NOW + 1n + MAX_TRX_LIFETIME_SEC)))).toBe('tapos');
    expect(await rejection(pool.add(signedTransaction([transferAction(ALICE, BOB, 1n)], { expiration: NOW + 60n, flags: 2 })))).toBe('tapos');
    await pool.add(good);
    expect(await rejection(pool.add(good))).toBe('duplicate');
    const forged = signedTransaction([transferAction(ALICE, BOB, 1n)], { expiration: NOW + 60n, proofs: (p) => [sha256(p).reverse()] });
    expect(await rejection(pool.add(forged))).toBe('signature');
    const missingProof = signedTransaction([transferAction(ALICE, BOB, 1n)], { expiration: NOW + 60n, proofs: () => [] });
    expect(await rejection(pool.add(missingProof))).toBe('signature');
    expect(pool.size).toBe(1);
  });

  it('rejects a transaction whose speculative run fails, with its trace', async () => {
    const { pool } = await setup();
    const e = await pool.add(transfer(INITIAL_BALANCE + 1n)).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TransactionRejectedError);
    expect((e as TransactionRejectedError).reason).toBe('failed');
    expect((e as TransactionRejectedError).trace?.error).toMatch(/insufficient balance/);
    expect(await rejection(pool.add(signedTransaction([], { expiration: NOW + 60n })))).toBe('failed');
  });

  it('feeds block production and forgets what the block included', async () => {
    const { chain, pool } = await setup();
    const a = await pool.add(transfer(1n));
    await pool.add(transfer(2n));
    const produced = await pool.produceBlock({ producer: PRODUCER });
    expect(produced.block.block.transactions.map((t) => sha256(t.transaction)).slice(1)).toEqual([a.id, expect.any(Uint8Array)]);
    expect(pool.size).toBe(0);
    expect(await rejection(pool.add(transfer(1n)))).toBe('duplicate');
    expect(chain.head?.num).toBe(3);
  });

  it('takes opened transactions and hands back every block transaction’s id without hashing them again', async () => {
    const { pool } = await setup();
    const opened = openTransaction(transfer(3n));
    expect((await pool.add(opened)).id).toBe(opened.id);
    await pool.add(packSignedTransaction(transfer(4n)));
    const produced = await pool.produceBlock({ producer: PRODUCER });
    const { transactions } = produced.block.block;
    expect(transactions).toHaveLength(3); // startBlock, then the two transfers
    expect(produced.ids).toEqual(transactions.map((t) => sha256(t.transaction)));
    // The pending transaction's own id, not a new hash of the same bytes.
    expect(produced.ids[1]).toBe(opened.id);
  });

  it('gives a bad proof as the verdict even when the run fails too', async () => {
    const { pool } = await setup();
    const both = signedTransaction([transferAction(ALICE, BOB, INITIAL_BALANCE + 1n)], { expiration: NOW + 60n, proofs: () => [] });
    expect(await rejection(pool.add(both))).toBe('signature');
    expect(pool.size).toBe(0);
  });

  it('refuses more than maxSize pending transactions', async () => {
    const { pool } = await setup(1);
    await pool.add(transfer(1n));
    expect(await rejection(pool.add(transfer(2n)))).toBe('full');
  });

  it('drops pending transactions that expire as the head moves', async () => {
    const { chain, pool } = await setup();
    await pool.add(transfer(1n, NOW + 3n));
    await chain.produceBlock({ producer: PRODUCER, time: T0 + 5n * ONE_SECOND_US });
    pool.update([]);
    expect(pool.size).toBe(0);
  });
});

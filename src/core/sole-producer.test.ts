import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { GENESIS_BLOCK_NUM, MAX_TRX_LIFETIME_SEC } from '../chain/constants.ts';
import { ChainHaltError, TransactionRejectedError, type RejectReason } from '../chain/errors.ts';
import { StoreDamagedError } from '../errors.ts';
import { Chain, openTransaction } from '../chain/executor.ts';
import { INITIAL_BALANCE, balanceKey, signedTransaction, testServices, transferAction } from '../chain/test-kit.ts';
import { accountNumber } from '../protocol/names.ts';
import { packSignedTransaction } from '../protocol/types.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { decodeMessage, encodeMessage } from '../net/wire/index.ts';
import { unpackSignedBlock } from '../protocol/types.ts';
import type { BlockRecord } from '../state/store.ts';
import { CoreNode, LOG_READ_RUN, type Clock } from './node.ts';

const PROD = accountNumber('prod');
const ALICE = accountNumber('alice');
const BOB = accountNumber('bob');
const T0_MS = 1_700_000_000_000;

/** A clock that moves only when told, and runs due timers when it does. */
class FakeClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.ms + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    this.ms += ms;
    for (const [id, t] of [...this.timers]) {
      if (t.at > this.ms) continue;
      this.timers.delete(id);
      t.fn();
    }
  }
}

/** A chain whose producer set is prod alone, and prod's node core on it (no peers). */
async function bootNode(clock = new FakeClock(T0_MS), maxHeld?: number) {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await chain.boot({ services: await testServices(), producer: PROD, time: BigInt(T0_MS - 5000) * 1000n });
  const lines: string[] = [];
  const node = await CoreNode.open({
    platform: { clock, chain, transport: { sendToProducer: () => false, sendToPeer: () => false, broadcast: () => undefined }, log: (l) => lines.push(l) },
    name: 'prod',
    // prod's claim names no verify service here: its blocks carry no checked signature.
    sign: () => new Uint8Array(64),
    verify: () => true,
    ...(maxHeld !== undefined && { maxHeld }),
  });
  return { chain, node, clock, lines };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

const expiration = BigInt(T0_MS / 1000 + 600);
const transfer = (amount: bigint, exp = expiration) => packSignedTransaction(signedTransaction([transferAction(ALICE, BOB, amount)], { expiration: exp }));

describe('a sole producer on the node core (CFT, one producer)', () => {
  it('resolves a submitted transaction with its trace once a block applied it', async () => {
    const { node, lines } = await bootNode();
    const pending = node.submit(transfer(5n));
    await new Promise((r) => setTimeout(r, 20));
    expect(node.pendingTransactions).toBe(1);
    const produced = await node.produceBlock();
    const trace = await pending;
    expect(trace.error ?? null).toBeNull();
    expect(trace.actionTraces[0]!.action.service).toBe(accountNumber('transact'));
    expect(produced.block.block.transactions).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^block 3 [0-9a-f]{16} 1 transaction$/);
    // One producer: the block is irreversible as soon as it is committed.
    expect(node.consensus.irreversible.num).toBe(3);
    expect(node.consensus.role).toBe('leader');
  });

  it('waits for finality as well (immediate with one producer)', async () => {
    const { node } = await bootNode();
    const pending = node.submit(transfer(6n), { waitFor: 'final' });
    await new Promise((r) => setTimeout(r, 20));
    await node.produceBlock();
    expect((await pending).error ?? null).toBeNull();
  });

  it('rejects what it refuses, without keeping a waiter', async () => {
    const { node } = await bootNode();
    await expect(node.submit(transfer(INITIAL_BALANCE + 1n))).rejects.toMatchObject({ name: 'TransactionRejectedError', reason: 'failed' });
    await expect(node.submit(transfer(1n, BigInt(T0_MS / 1000 - 100)))).rejects.toMatchObject({ reason: 'expired' });
    await expect(node.submit(new Uint8Array([1, 2]))).rejects.toMatchObject({ reason: 'malformed' });
    const produced = await node.produceBlock();
    expect(produced.block.block.transactions).toHaveLength(1);
  });

  it('settles a duplicate submission with the duplicate error and the first with the trace', async () => {
    const { node } = await bootNode();
    const bytes = transfer(7n);
    const first = node.submit(bytes);
    await new Promise((r) => setTimeout(r, 20));
    await expect(node.submit(bytes)).rejects.toBeInstanceOf(TransactionRejectedError);
    await node.produceBlock();
    expect((await first).error ?? null).toBeNull();
  });

  it('times blocks on interval boundaries, never before head + interval', async () => {
    const { node, chain } = await bootNode(new FakeClock(T0_MS + 250));
    await node.produceBlock();
    expect(chain.head!.time).toBe(BigInt(T0_MS) * 1000n);
    await node.produceBlock();
    expect(chain.head!.time).toBe(BigInt(T0_MS + 1000) * 1000n);
  });

  it('produces on the timer, every interval, until stopped', async () => {
    const clock = new FakeClock(T0_MS + 100);
    const { node, chain, lines } = await bootNode(clock);
    node.start();
    await settle(); // elected at once (the only producer), it makes its first block
    expect(clock.pending).toBe(1);
    expect(chain.head!.num).toBe(3);
    clock.advance(500);
    await settle();
    expect(chain.head!.num).toBe(3);
    clock.advance(500);
    await settle();
    expect(chain.head!.num).toBe(4);
    clock.advance(1000);
    await settle();
    await node.stop();
    expect(chain.head!.num).toBe(5);
    expect(clock.pending).toBe(0);
    expect(lines.filter((l) => l.startsWith('block '))).toHaveLength(3);
  });

  it('halts production once on a damaged store, says why in its status, and does not restart', async () => {
    const clock = new FakeClock(T0_MS + 100);
    const { node, chain, lines } = await bootNode(clock);
    let attempts = 0;
    chain.openOn = () => {
      attempts++;
      throw new StoreDamagedError('the store is damaged: a state record fails its checksum (run psiweb check)');
    };
    node.start();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(attempts).toBe(1);
    expect((await node.status()).producing).toBe(false);
    expect(lines.filter((l) => l.startsWith('producer prod halted: StoreDamagedError: the store is damaged'))).toHaveLength(1);
    expect((await node.status()).halted).toMatch(/store is damaged/);
    await expect(node.submit(transfer(1n))).rejects.toBeInstanceOf(ChainHaltError);
    await node.stop();
    node.start();
    expect(clock.pending).toBe(0);
    expect(chain.head!.num).toBe(2);
  });

  it('reports status: chain id, head, irreversible, consensus, producers', async () => {
    const { node, chain } = await bootNode();
    await node.produceBlock();
    const s = await node.status();
    expect(s.chainId).toMatch(/^[0-9A-F]{64}$/);
    expect(s.head).toEqual({ num: 3, id: expect.stringMatching(/^00000003/), time: new Date(T0_MS).toISOString() });
    expect(s.irreversible).toEqual({ num: 3, id: s.head!.id });
    expect(s.consensus).toBe('cft');
    expect(s.producers).toEqual(['prod']);
    expect(s.nextProducers).toBeNull();
    expect(s).toMatchObject({ producer: 'prod', producing: false, pendingTransactions: 0 });
    expect(chain.chainId).toBeDefined();
  });
});

describe('a sole producer when blocks cannot be committed', () => {
  it('keeps a block that failed to commit, commits it with the next, and its clients waiting for final get it then', async () => {
    const clock = new FakeClock(T0_MS + 100);
    const { node, chain, lines } = await bootNode(clock);
    let final = false;
    const pending = node.submit(transfer(9n)).then((t) => ((final = true), t));
    await settle();
    const realCommit = chain.state.commitBlock.bind(chain.state);
    chain.state.commitBlock = async () => {
      throw new Error('disk on fire');
    };
    await expect(node.produceBlock()).rejects.toThrow('disk on fire');
    expect(lines.at(-1)).toMatch(/^block production failed: block 3 did not commit .*disk on fire/);
    expect(chain.head!.num).toBe(2);
    // Consensus made it (irreversible: one producer); it stays applied, its client waits.
    expect(node.consensus.head.num).toBe(3);
    await settle();
    expect(final).toBe(false);
    // The next block is made on it; both commit once the store takes them.
    chain.state.commitBlock = realCommit;
    const produced = await node.produceBlock();
    expect(produced.num).toBe(4);
    expect((await pending).error ?? null).toBeNull();
    expect((await chain.blockByNum(3))!.block.transactions).toHaveLength(2);
    expect(chain.state.reader.get(balanceKey(BOB))).toBeDefined();
    expect(lines).toContain('blocks from 3 committed after all');
  });

  it('a client waiting on a block that never commits is told when the node stops (the last commit failing halts it)', async () => {
    const { node, chain } = await bootNode(new FakeClock(T0_MS + 100));
    const pending = node.submit(transfer(9n)).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await settle();
    chain.state.commitBlock = async () => {
      throw new Error('disk on fire');
    };
    await expect(node.produceBlock()).rejects.toThrow('disk on fire');
    await node.stop();
    expect(await pending).toBe('the node halted: disk on fire');
  });
});

async function rejection(p: Promise<unknown>): Promise<RejectReason> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TransactionRejectedError);
  return (e as TransactionRejectedError).reason;
}

/** The block the node opens at T0_MS is at T0 (a boundary); its seconds are NOW. */
const NOW = BigInt(T0_MS / 1000);
const tx = (amount: bigint, exp = NOW + 600n, extra: Omit<Parameters<typeof signedTransaction>[1], 'expiration'> = {}) =>
  signedTransaction([transferAction(ALICE, BOB, amount)], { ...extra, expiration: exp });
const applied = { waitFor: 'applied' } as const;

describe('a sole producer taking transactions (psibase Transact checks, each run once)', () => {
  it('answers applied from the open block, before it commits; final once it commits', async () => {
    const { node, chain } = await bootNode();
    const trace = await node.submit(packSignedTransaction(tx(5n)), applied);
    expect(trace.error ?? null).toBeNull();
    expect(chain.head!.num).toBe(2); // not committed yet, and the state shows nothing
    expect(chain.state.reader.get(balanceKey(BOB))).toBeUndefined();
    let final = false;
    const waiting = node.submit(packSignedTransaction(tx(6n))).then((t) => ((final = true), t));
    await new Promise((r) => setTimeout(r, 20));
    expect(final).toBe(false);
    expect(node.pendingTransactions).toBe(2);
    const produced = await node.produceBlock();
    expect((await waiting).error ?? null).toBeNull();
    expect(produced.block.block.transactions).toHaveLength(3);
    expect(chain.state.reader.get(balanceKey(BOB))).toBeDefined();
    expect(node.pendingTransactions).toBe(0);
  });

  it('runs each transaction once and checks its proofs once', async () => {
    const { node, chain } = await bootNode();
    let verified = 0;
    const verify = chain.verifyTransactions.bind(chain);
    chain.verifyTransactions = (trxs) => ((verified += trxs.length), verify(trxs));
    let runs = 0;
    const hostTransaction = chain.host.transaction.bind(chain.host);
    chain.host.transaction = (init) => (init.mode === 'verify' || runs++, hostTransaction(init));
    const opened = openTransaction(tx(3n));
    await node.submit(opened, applied);
    await node.submit(packSignedTransaction(tx(4n)), applied);
    const runsBeforeFinish = runs;
    const produced = await node.produceBlock();
    expect(runs).toBe(runsBeforeFinish); // finishing runs nothing again
    expect(verified).toBe(2);
    // startBlock and the two transfers, each run once (verify service runs are not counted).
    expect(runs).toBe(3);
    expect(produced.block.block.transactions.map((t) => sha256(t.transaction)).slice(1)).toEqual([opened.id, expect.any(Uint8Array)]);
  });

  it('refuses malformed bytes, bad TaPoS, duplicates, bad proofs and failing actions, and changes nothing', async () => {
    const { node, chain } = await bootNode();
    expect(await rejection(node.submit(new Uint8Array([1, 2, 3])))).toBe('malformed');
    const good = packSignedTransaction(tx(5n));
    expect(await rejection(node.submit(good.subarray(0, good.length - 3)))).toBe('malformed');
    expect(await rejection(node.submit(packSignedTransaction({ ...tx(5n), subjectiveData: [] })))).toBe('malformed');
    expect(await rejection(node.submit(packSignedTransaction(tx(5n, NOW))))).toBe('expired');
    expect(await rejection(node.submit(packSignedTransaction(tx(5n, NOW - 100n))))).toBe('expired');
    expect(await rejection(node.submit(packSignedTransaction(tx(5n, NOW + MAX_TRX_LIFETIME_SEC))))).toBe('tapos');
    expect(await rejection(node.submit(packSignedTransaction(tx(1n, NOW + 60n, { flags: 2 }))))).toBe('tapos');
    await node.submit(good, applied);
    expect(await rejection(node.submit(good))).toBe('duplicate');
    expect(await rejection(node.submit(packSignedTransaction(tx(1n, NOW + 60n, { proofs: (p) => [sha256(p).reverse()] }))))).toBe('signature');
    expect(await rejection(node.submit(packSignedTransaction(tx(1n, NOW + 60n, { proofs: () => [] }))))).toBe('signature');
    // A bad proof is the verdict even when the action would fail too.
    expect(await rejection(node.submit(packSignedTransaction(tx(INITIAL_BALANCE + 1n, NOW + 60n, { proofs: () => [] }))))).toBe('signature');
    const failed = await node.submit(packSignedTransaction(tx(INITIAL_BALANCE + 1n))).catch((e: unknown) => e);
    expect(failed).toMatchObject({ reason: 'failed', trace: { error: expect.stringMatching(/insufficient balance/) } });
    expect(await rejection(node.submit(packSignedTransaction(signedTransaction([], { expiration: NOW + 60n }))))).toBe('failed');
    expect(node.pendingTransactions).toBe(1);
    const produced = await node.produceBlock();
    expect(produced.block.block.transactions).toHaveLength(2);
    // Once in a block, the same transaction is a duplicate until it expires.
    expect(await rejection(node.submit(good))).toBe('duplicate');
    expect(chain.head!.num).toBe(3);
  });

  it('holds a push the open block could not take (a dry run instead) and puts it in the next block', async () => {
    const { node, chain, lines } = await bootNode();
    await node.submit(packSignedTransaction(tx(4n)), applied);
    await node.produceBlock();
    const openOn = chain.openOn.bind(chain);
    chain.openOn = () => {
      throw new Error('no block today');
    };
    const final = node.submit(packSignedTransaction(tx(5n)));
    await new Promise((r) => setTimeout(r, 20));
    expect(lines.at(-1)).toMatch(/cannot open block 4: no block today/);
    expect(node.pendingTransactions).toBe(1);
    chain.openOn = openOn;
    const produced = await node.produceBlock();
    expect(produced.block.block.transactions).toHaveLength(2);
    expect((await final).error ?? null).toBeNull();
    expect(chain.state.reader.get(balanceKey(BOB))).toBeDefined();
  });

  it('refuses more than maxHeld held transactions', async () => {
    const { node } = await bootNode(new FakeClock(T0_MS), 1);
    await node.submit(packSignedTransaction(tx(1n)), applied);
    expect(await rejection(node.submit(packSignedTransaction(tx(2n))))).toBe('full');
    await node.produceBlock();
    await node.submit(packSignedTransaction(tx(2n)), applied);
  });

  it('finishes an open block with transactions on stop, so what was answered applied is committed', async () => {
    const { node, chain } = await bootNode();
    await node.submit(packSignedTransaction(tx(9n)), applied);
    await node.stop();
    expect(chain.head!.num).toBe(3);
    expect(chain.state.reader.get(balanceKey(BOB))).toBeDefined();
    // An empty open block is dropped instead.
    const again = await bootNode();
    await again.node.produceBlock();
    await again.node.stop();
    expect(again.chain.head!.num).toBe(3);
  });
});

/** A MemoryStore that reads runs of blocks (as IdbStore does), counting its reads. */
class RunReadingStore extends MemoryStore {
  singleReads = 0;
  runReads = 0;
  override async block(num: number): Promise<BlockRecord | undefined> {
    this.singleReads++;
    return super.block(num);
  }
  override async blocks(from: number, to: number): Promise<BlockRecord[]> {
    this.runReads++;
    const out: BlockRecord[] = [];
    for (let n = from; n <= to; n++) {
      const r = await super.block(n);
      if (!r) break;
      out.push(r);
    }
    return out;
  }
}

describe('a sole producer serving a peer far behind from its block log', () => {
  it('sends every block after the one the hello names, in order, reading them in runs where the store can', async () => {
    const clock = new FakeClock(T0_MS);
    const store = new RunReadingStore();
    const chain = await Chain.open({ state: new StateDb(store) });
    await chain.boot({ services: await testServices(), producer: PROD, time: BigInt(T0_MS - 5000) * 1000n });
    const sent: Uint8Array[] = [];
    const node = await CoreNode.open({
      platform: { clock, chain, transport: { sendToProducer: () => false, sendToPeer: (_peer, bytes) => (sent.push(bytes), true), broadcast: () => undefined } },
      name: 'prod',
      sign: () => new Uint8Array(64),
      verify: () => true,
    });
    const blocks = 2 * LOG_READ_RUN + 10;
    for (let i = 0; i < blocks; i++) await node.produceBlock();
    const head = chain.head!.num;
    const genesis = (await store.block(GENESIS_BLOCK_NUM))!;
    store.singleReads = 0;
    node.receive('joiner', encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: genesis.id, _num: GENESIS_BLOCK_NUM }, committed: true } }));
    await settle();
    const nums = sent.map((b) => decodeMessage(b)).flatMap((m) => (m.kind === 'BlockMessage' ? [unpackSignedBlock(m.value.block).block.header.blockNum] : []));
    expect(nums).toEqual(Array.from({ length: head - GENESIS_BLOCK_NUM }, (_, i) => i + GENESIS_BLOCK_NUM + 1));
    // The hello's own block (for the chain check and the link), then a read per run, not per block.
    expect(store.runReads).toBe(Math.ceil((head - GENESIS_BLOCK_NUM) / LOG_READ_RUN));
    expect(store.singleReads).toBe(2);
    node.stop();
  });
});

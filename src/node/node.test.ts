import { describe, expect, it } from 'vitest';
import { TransactionRejectedError } from '../chain/errors.ts';
import { StoreDamagedError } from '../errors.ts';
import { Chain } from '../chain/executor.ts';
import { INITIAL_BALANCE, signedTransaction, testServices, transferAction } from '../chain/test-kit.ts';
import { accountNumber } from '../protocol/names.ts';
import { packSignedTransaction } from '../protocol/types.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { PsiwebNode, type Clock } from './node.ts';

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

async function bootNode(clock = new FakeClock(T0_MS)) {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await chain.boot({ services: await testServices(), producer: PROD, time: BigInt(T0_MS - 5000) * 1000n });
  const lines: string[] = [];
  const node = new PsiwebNode({ chain, producer: PROD, clock, log: (l) => lines.push(l) });
  return { chain, node, clock, lines };
}

const expiration = BigInt(T0_MS / 1000 + 600);
const transfer = (amount: bigint, exp = expiration) => packSignedTransaction(signedTransaction([transferAction(ALICE, BOB, amount)], { expiration: exp }));

describe('PsiwebNode', () => {
  it('resolves a submitted transaction with its trace once a block applied it', async () => {
    const { node, lines } = await bootNode();
    const pending = node.submit(transfer(5n));
    await new Promise((r) => setTimeout(r, 20));
    expect(node.mempool.size).toBe(1);
    const produced = await node.produceBlock();
    const trace = await pending;
    expect(trace.error ?? null).toBeNull();
    expect(trace.actionTraces[0]!.action.service).toBe(accountNumber('transact'));
    expect(produced.block.block.transactions).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^block 3 [0-9a-f]{16} 1 transaction$/);
  });

  it('waits for finality as well (immediate with one producer)', async () => {
    const { node } = await bootNode();
    const pending = node.submit(transfer(6n), { waitFor: 'final' });
    await new Promise((r) => setTimeout(r, 20));
    await node.produceBlock();
    expect((await pending).error ?? null).toBeNull();
  });

  it('rejects what the mempool refuses, without keeping a waiter', async () => {
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
    expect(clock.pending).toBe(1);
    clock.advance(900);
    await node.produceBlock(); // waits behind the timer's block
    expect(chain.head!.num).toBe(4);
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    await node.stop();
    expect(chain.head!.num).toBe(5);
    expect(clock.pending).toBe(0);
    expect(lines.filter((l) => l.startsWith('block '))).toHaveLength(3);
  });

  it('halts production once on a damaged store, says why in its status, and does not restart', async () => {
    const clock = new FakeClock(T0_MS + 100);
    const { node, chain, lines } = await bootNode(clock);
    let attempts = 0;
    node.mempool.produceBlock = async () => {
      attempts++;
      throw new StoreDamagedError('the store is damaged: a state record fails its checksum (run psiweb check)');
    };
    node.start();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(attempts).toBe(1);
    expect(node.producing).toBe(false);
    expect(clock.pending).toBe(0);
    expect(lines.filter((l) => l.startsWith('block production halted: the store is damaged'))).toHaveLength(1);
    expect((await node.status()).halted).toMatch(/store is damaged/);
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
    expect(s).toMatchObject({ producer: 'prod', producing: false, pendingTransactions: 0, peers: [] });
    expect(chain.chainId).toBeDefined();
  });
});

describe('PsiwebNode when blocks cannot be produced', () => {
  it('rejects waiting clients once their transactions expire', async () => {
    const clock = new FakeClock(T0_MS + 100);
    const { node, chain, lines } = await bootNode(clock);
    const exp = BigInt(T0_MS / 1000 + 3);
    const pending = node.submit(transfer(9n, exp));
    const settled = pending.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 20));
    // From here on every block fails.
    const realProduce = chain.produceBlock.bind(chain);
    chain.produceBlock = async () => {
      throw new Error('disk on fire');
    };
    node.start();
    clock.advance(900);
    await new Promise((r) => setTimeout(r, 20));
    expect(lines.at(-1)).toBe('block production failed: disk on fire');
    clock.advance(3000);
    await new Promise((r) => setTimeout(r, 20));
    await node.stop();
    chain.produceBlock = realProduce;
    expect(await settled).toBe('transaction has expired');
  });
});

/**
 * A producing node: the chain executor, its mempool and the block timer, plus the
 * clients waiting for their transactions. One producer until consensus lands, so it
 * produces on psibase's schedule for a leader (blocknet.hpp start_leader): a block on
 * every block-interval boundary, empty or not, timed max(head + interval, the boundary),
 * and with a single producer every block is irreversible as soon as it is committed.
 *
 * Chain, clock and logger come in through the constructor, so tests drive production
 * block by block with `produceBlock()` and a start/stop that owns the only timer.
 */
import { ChainHaltError, TransactionRejectedError } from '../chain/errors.ts';
import { StoreDamagedError } from '../errors.ts';
import { GENESIS_BLOCK_NUM, ONE_SECOND_US } from '../chain/constants.ts';
import { openTransaction, type BlockProver, type Chain, type ProducedBlock } from '../chain/executor.ts';
import { Mempool, type MempoolBlock } from '../chain/mempool.ts';
import { producersOf } from '../chain/block-context.ts';
import { accountName } from '../protocol/names.ts';
import type { TransactionTrace } from '../protocol/types.ts';
import { toHex } from '../state/bytes.ts';
import { BLOCK_INTERVAL_MS } from './constants.ts';

export interface Clock {
  /** Milliseconds since the UNIX epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type WaitFor = 'applied' | 'final';

export interface NodeInit {
  chain: Chain;
  /** This node's producer account. */
  producer: bigint;
  /** Signs blocks with the producer's key (when its claim names a verify service). */
  prover?: BlockProver;
  mempool?: Mempool;
  clock?: Clock;
  blockIntervalMs?: number;
  /** One line per block and per problem. */
  log?: (line: string) => void;
}

/** What `/native/status` reports. */
/** Checksums as psibase's JSON writes them (psio: upper-case hex), like /common/chainid. */
function hexId(bytes: Uint8Array): string {
  return toHex(bytes).toUpperCase();
}

export interface NodeStatus {
  chainId: string | null;
  head: { num: number; id: string; time: string } | null;
  irreversible: { num: number; id: string } | null;
  consensus: 'cft' | 'bft' | null;
  producers: string[];
  /** The producer set taking over once the pending consensus change commits; null when none is pending. */
  nextProducers: string[] | null;
  producer: string;
  producing: boolean;
  /** Why production stopped for good (a damaged store), else null. */
  halted: string | null;
  pendingTransactions: number;
  peers: string[];
}

interface Waiter {
  waitFor: WaitFor;
  /** Set once the mempool took the transaction; before that it cannot have expired. */
  admitted: boolean;
  /** TaPoS expiration, seconds: past it, no block can take the transaction. */
  expiration: bigint;
  resolve(trace: TransactionTrace): void;
  reject(error: Error): void;
}

/** A transaction a block applied whose clients wait for it to become final. */
interface Applied {
  blockNum: number;
  trace: TransactionTrace;
  waiters: Waiter[];
}

export class PsiwebNode {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly producer: bigint;
  private readonly prover: BlockProver | undefined;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly log: (line: string) => void;
  /** Clients by transaction id (hex), with the id's bytes. */
  private readonly waiting = new Map<string, { id: Uint8Array; waiters: Waiter[] }>();
  private readonly applied = new Map<string, Applied>();
  private timer: unknown;
  private running = false;
  /** The boundary the last timer was set for: the next one is always a later one. */
  private lastBoundary = 0;
  /** The block being produced, so production never overlaps and stop() can wait for it. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(init: NodeInit) {
    this.chain = init.chain;
    this.mempool = init.mempool ?? new Mempool(init.chain);
    this.producer = init.producer;
    this.prover = init.prover;
    this.clock = init.clock ?? systemClock;
    this.intervalMs = init.blockIntervalMs ?? BLOCK_INTERVAL_MS;
    this.log = init.log ?? (() => undefined);
  }

  /** Set when production stopped for good (a damaged store); start() does not resume it. */
  private halted: string | null = null;

  get producing(): boolean {
    return this.running;
  }

  /** Starts producing a block on every interval boundary. */
  start(): void {
    if (this.running || this.halted !== null) return;
    this.running = true;
    this.schedule();
  }

  /** Stops the timer and waits for a block in production to commit. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight.catch(() => undefined);
  }

  private schedule(): void {
    if (!this.running) return;
    const now = this.clock.now();
    // Timers and the wall clock drift apart; never aim at a boundary already used.
    const next = Math.max((Math.floor(now / this.intervalMs) + 1) * this.intervalMs, this.lastBoundary + this.intervalMs);
    this.lastBoundary = next;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.produceBlock()
        .catch((e: unknown) => {
          // Without blocks the mempool never drops anything: settle who waits in vain.
          this.expireWaiters(BigInt(Math.floor(this.clock.now() / 1000)));
          if (e instanceof StoreDamagedError) {
            // Nothing built on a damaged store can be trusted: stop, once, and say why.
            this.running = false;
            this.halted = e.message;
            this.log(`block production halted: ${e.message}`);
            return;
          }
          this.log(`block production failed: ${(e as Error).message}`);
        })
        .finally(() => this.schedule());
    }, Math.max(0, next - now));
  }

  /**
   * Produces, commits and announces the next block from the pending transactions:
   * block time max(head + interval, now floored to the interval).
   */
  produceBlock(): Promise<ProducedBlock> {
    const run = this.inFlight.catch(() => undefined).then(() => this.produceNow());
    this.inFlight = run;
    return run;
  }

  private async produceNow(): Promise<ProducedBlock> {
    const head = this.chain.head;
    if (!head) throw new ChainHaltError('the chain has not been booted');
    const intervalUs = BigInt(this.intervalMs) * 1000n;
    const boundary = (BigInt(this.clock.now()) * 1000n / intervalUs) * intervalUs;
    const earliest = head.time + (intervalUs > 0n ? intervalUs : ONE_SECOND_US);
    const time = boundary > earliest ? boundary : earliest;
    const produced = await this.mempool.produceBlock({ producer: this.producer, time, ...(this.prover && { prover: this.prover }) });
    this.announce(produced);
    return produced;
  }

  /** Rejects the clients of admitted transactions that expired by `nowSec`. */
  private expireWaiters(nowSec: bigint): void {
    for (const [key, entry] of this.waiting) {
      const expired = entry.waiters.filter((w) => w.admitted && w.expiration <= nowSec);
      if (expired.length === 0) continue;
      entry.waiters = entry.waiters.filter((w) => !expired.includes(w));
      if (entry.waiters.length === 0) this.waiting.delete(key);
      for (const w of expired) w.reject(new TransactionRejectedError('expired', 'transaction has expired'));
    }
  }

  /** Settles the clients of what the block applied or refused, and logs one line. */
  private announce(produced: MempoolBlock): void {
    const { header, transactions } = produced.block.block;
    produced.ids.forEach((id, i) => {
      const key = toHex(id);
      const waiters = this.waiting.get(key)?.waiters;
      if (!waiters) return;
      this.waiting.delete(key);
      const trace = produced.traces[i]!;
      const final = waiters.filter((w) => w.waitFor === 'final');
      for (const w of waiters) if (w.waitFor === 'applied') w.resolve(trace);
      if (final.length > 0) this.applied.set(key, { blockNum: header.blockNum, trace, waiters: final });
    });
    for (const r of produced.rejected) {
      const key = toHex(r.id);
      const waiters = this.waiting.get(key)?.waiters;
      if (!waiters) continue;
      this.waiting.delete(key);
      for (const w of waiters) w.reject(r.error);
    }
    // Whatever the mempool dropped without a block taking it has expired.
    for (const [key, { id, waiters }] of this.waiting) {
      if (this.mempool.has(key)) continue;
      const expired = waiters.filter((w) => w.admitted);
      if (expired.length === waiters.length) this.waiting.delete(key);
      else this.waiting.set(key, { id, waiters: waiters.filter((w) => !w.admitted) });
      for (const w of expired) w.reject(new TransactionRejectedError('expired', 'transaction has expired'));
    }
    const irreversible = this.chain.status?.head?.header.commitNum ?? 0;
    for (const [key, a] of this.applied) {
      if (a.blockNum > irreversible) continue;
      this.applied.delete(key);
      for (const w of a.waiters) w.resolve(a.trace);
    }
    // The genesis block has no startBlock transaction; every later block starts with one.
    const count = transactions.length - (header.blockNum === GENESIS_BLOCK_NUM ? 0 : 1);
    const rejected = produced.rejected.length > 0 ? `, ${produced.rejected.length} rejected` : '';
    this.log(`block ${header.blockNum} ${toHex(produced.id).slice(0, 16)} ${count} transaction${count === 1 ? '' : 's'}${rejected}`);
  }

  /**
   * Admits a packed SignedTransaction and resolves with its trace once a block has
   * applied it (`applied`) or it is irreversible (`final`). Rejects with
   * TransactionRejectedError when it is refused or expires first.
   */
  async submit(packed: Uint8Array, options: { waitFor: WaitFor } = { waitFor: 'final' }): Promise<TransactionTrace> {
    const opened = openTransaction(packed);
    const { id, transaction } = opened;
    const key = toHex(id);
    let waiter!: Waiter;
    const settled = new Promise<TransactionTrace>((resolve, reject) => {
      waiter = { waitFor: options.waitFor, admitted: false, expiration: transaction.tapos.expiration, resolve, reject };
    });
    // Registered before admission, so no block can take it before anyone listens.
    const entry = this.waiting.get(key) ?? { id, waiters: [] };
    entry.waiters.push(waiter);
    this.waiting.set(key, entry);
    try {
      await this.mempool.add(opened);
    } catch (e) {
      const current = this.waiting.get(key);
      if (current) {
        current.waiters = current.waiters.filter((w) => w !== waiter);
        if (current.waiters.length === 0) this.waiting.delete(key);
      }
      throw e;
    }
    waiter.admitted = true;
    return settled;
  }

  /** The node's view for `/native/status`. */
  async status(): Promise<NodeStatus> {
    const status = this.chain.status;
    const head = status?.head;
    const current = status?.consensus.current;
    let irreversible: NodeStatus['irreversible'] = null;
    if (head) {
      const num = head.header.commitNum;
      const rec = num === head.header.blockNum ? { id: head.blockId } : await this.chain.state.store.block(num);
      if (rec) irreversible = { num, id: hexId(rec.id) };
    }
    return {
      chainId: head ? hexId(status.chainId) : null,
      head: head ? { num: head.header.blockNum, id: hexId(head.blockId), time: new Date(Number(head.header.time / 1000n)).toISOString() } : null,
      irreversible,
      consensus: current ? ('CftConsensus' in current.data ? 'cft' : 'bft') : null,
      producers: current ? producersOf(current).map((p) => accountName(p.name)) : [],
      nextProducers: status?.consensus.next ? producersOf(status.consensus.next.consensus).map((p) => accountName(p.name)) : null,
      producer: accountName(this.producer),
      producing: this.running,
      halted: this.halted,
      pendingTransactions: this.mempool.size,
      // No network yet: this node has no peers to report.
      peers: [],
    };
  }
}

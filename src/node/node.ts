/**
 * A producing node: the chain executor, the block being built and the block timer,
 * plus the clients waiting for their transactions. One producer until consensus lands,
 * so it produces as a psibase leader does (blocknet.hpp start_leader): a block is
 * opened at max(head + interval, the interval boundary before now), transactions run
 * into it as they arrive, and it is finished, signed and committed one interval after
 * its time — empty or not. With a single producer every block is irreversible as soon
 * as it is committed.
 *
 * A transaction runs once: its proofs are checked against the head state as it
 * arrives, then it runs into the open block, and its trace is the block's. A client
 * waiting for `applied` has it then; one waiting for `final` (psibase's default) when
 * the block is irreversible. A block that fails to commit takes nothing with it: its
 * transactions go into the next block, their clients still waiting.
 *
 * Chain, clock and logger come in through the constructor, so tests drive production
 * block by block with `produceBlock()` and a start/stop that owns the only timer.
 */
import { ChainHaltError, TransactionRejectedError } from '../chain/errors.ts';
import { StoreDamagedError } from '../errors.ts';
import { MAX_PENDING_TRANSACTIONS, GENESIS_BLOCK_NUM, MAX_TRX_LIFETIME_SEC, ONE_SECOND_US, TAPOS_VALID_FLAGS } from '../chain/constants.ts';
import { openTransaction, type BlockBuilder, type BlockProver, type Chain, type OpenedTransaction, type ProducedBlock } from '../chain/executor.ts';
import { producersOf } from '../chain/block-context.ts';
import { accountName } from '../protocol/names.ts';
import type { TransactionTrace } from '../protocol/types.ts';
import { toHex } from '../state/bytes.ts';
// Checksums as psibase's JSON writes them (psio: upper-case hex), like /common/chainid.
import { toHex as hexId } from '../protocol/fracpack/index.ts';
import { BLOCK_INTERVAL_MS } from './constants.ts';
import type { Clock, NodeStatus, WaitFor } from '../core/platform.ts';

export type { Clock, NodeStatus, WaitFor } from '../core/platform.ts';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface NodeInit {
  chain: Chain;
  /** This node's producer account. */
  producer: bigint;
  /** Signs blocks with the producer's key (when its claim names a verify service). */
  prover?: BlockProver;
  /** Most transactions held at once, checking or in the open block (default MAX_PENDING_TRANSACTIONS). */
  maxPending?: number;
  clock?: Clock;
  blockIntervalMs?: number;
  /** One line per block and per problem. */
  log?: (line: string) => void;
  /** Called with each block this node commits (after its clients are settled), e.g. to announce it to peers. */
  onBlock?: (produced: ProducedBlock) => void;
}

/** A client waiting for its transaction to become final. */
interface Waiter {
  resolve(trace: TransactionTrace): void;
  reject(error: Error): void;
}

/** A committed block's transactions whose clients wait for it to become irreversible. */
interface AwaitingFinal {
  blockNum: number;
  waiting: { trace: TransactionTrace; waiter: Waiter }[];
}

export class PsiwebNode {
  readonly chain: Chain;
  readonly producer: bigint;
  private readonly prover: BlockProver | undefined;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  private readonly log: (line: string) => void;
  private readonly onBlock: ((produced: ProducedBlock) => void) | undefined;
  /** The open block. */
  private builder: BlockBuilder | undefined;
  /** Clients waiting for their transactions to become final, by hex id, from before they go in. */
  private readonly finalWaiters = new Map<string, Waiter>();
  /** The open block being started (its startBlock transaction running). */
  private opening: Promise<BlockBuilder> | undefined;
  /** Transactions whose proofs are being checked, by hex id. */
  private readonly arriving = new Set<string>();
  /** Transactions of a block that failed to commit, for the next block. */
  private carried: OpenedTransaction[] = [];
  /** Committed blocks not yet irreversible that clients wait on. */
  private readonly awaitingFinal: AwaitingFinal[] = [];
  private timer: unknown;
  private running = false;
  /** The block being finished, so production never overlaps and stop() can wait for it. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(init: NodeInit) {
    this.chain = init.chain;
    this.producer = init.producer;
    this.prover = init.prover;
    this.clock = init.clock ?? systemClock;
    this.intervalMs = init.blockIntervalMs ?? BLOCK_INTERVAL_MS;
    this.maxPending = init.maxPending ?? MAX_PENDING_TRANSACTIONS;
    this.log = init.log ?? (() => undefined);
    this.onBlock = init.onBlock;
  }

  /** Set when production stopped for good (a damaged store); start() does not resume it. */
  private halted: string | null = null;

  get producing(): boolean {
    return this.running;
  }

  /** Transactions held: being checked, in the open block, or carried to the next. */
  get pendingTransactions(): number {
    return this.arriving.size + (this.builder?.transactions.length ?? 0) + this.carried.length;
  }

  /** Opens a block now and finishes one every interval after its time. */
  start(): void {
    if (this.running || this.halted !== null) return;
    this.running = true;
    this.schedule();
  }

  /**
   * Stops the timer and waits for a block being finished to commit. An open block that
   * holds transactions is finished too (its clients were told they applied); an empty
   * one is dropped.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight.catch(() => undefined);
    await this.opening?.catch(() => undefined);
    if (this.builder && this.builder.transactions.length > 0 && this.halted === null) {
      await this.produceBlock().catch((e: unknown) => this.log(`block production failed: ${(e as Error).message}`));
    }
    if (this.builder && this.builder.transactions.length === 0) {
      this.builder.abandon();
      this.builder = undefined;
    }
  }

  private fail(e: unknown): void {
    if (e instanceof StoreDamagedError) {
      // Nothing built on a damaged store can be trusted: stop, once, and say why.
      if (this.halted === null) this.log(`block production halted: ${e.message}`);
      this.running = false;
      this.halted = e.message;
      return;
    }
    this.log(`block production failed: ${(e as Error).message}`);
  }

  /** Opens the next block (if none is open) and sets the timer for one interval after its time. */
  private schedule(): void {
    if (!this.running) return;
    this.currentBuilder().then(
      (b) => this.arm(Number(b.time / 1000n) + this.intervalMs),
      (e: unknown) => {
        this.fail(e);
        // Without blocks nothing moves on: settle who waits in vain, and try again later.
        this.expireCarried(BigInt(Math.floor(this.clock.now() / 1000)));
        this.arm(this.clock.now() + this.intervalMs);
      },
    );
  }

  private arm(atMs: number): void {
    if (!this.running || this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.produceBlock()
        .catch((e: unknown) => this.fail(e))
        .finally(() => this.schedule());
    }, Math.max(0, atMs - this.clock.now()));
  }

  /** The time of a block opened now: max(head + interval, now floored to the interval), microseconds. */
  private nextBlockTime(headTime: bigint): bigint {
    const intervalUs = BigInt(this.intervalMs) * 1000n;
    const boundary = intervalUs > 0n ? (BigInt(this.clock.now()) * 1000n / intervalUs) * intervalUs : BigInt(this.clock.now()) * 1000n;
    const earliest = headTime + (intervalUs > 0n ? intervalUs : ONE_SECOND_US);
    return boundary > earliest ? boundary : earliest;
  }

  /** The open block, opened now if there is none; waits out a block being finished. */
  private async currentBuilder(): Promise<BlockBuilder> {
    for (;;) {
      if (this.halted !== null) throw new StoreDamagedError(this.halted);
      if (this.builder?.open) return this.builder;
      if (this.builder) {
        await this.inFlight.catch(() => undefined);
        continue;
      }
      this.opening ??= this.openBuilder().finally(() => (this.opening = undefined));
      await this.opening;
    }
  }

  private async openBuilder(): Promise<BlockBuilder> {
    const head = this.chain.head;
    if (!head) throw new ChainHaltError('the chain has not been booted');
    const b = await this.chain.startBlock({ producer: this.producer, time: this.nextBlockTime(head.time), ...(this.prover && { prover: this.prover }) });
    this.builder = b;
    // What a failed block held goes in first, in its order.
    const carried = this.carried;
    this.carried = [];
    const seconds = b.time / ONE_SECOND_US;
    for (const [i, t] of carried.entries()) {
      try {
        this.checkTapos(t, seconds);
        await b.push(t);
      } catch (e) {
        if (!(e instanceof TransactionRejectedError)) {
          this.carried.push(...carried.slice(i));
          throw e;
        }
        this.settleFinal(t, (w) => w.reject(e));
      }
    }
    return b;
  }

  /** Hands a transaction's final waiter (if any) to `settle`, and forgets it. */
  private settleFinal(t: OpenedTransaction, settle: (w: Waiter) => void): void {
    const key = toHex(t.id);
    const w = this.finalWaiters.get(key);
    if (!w) return;
    this.finalWaiters.delete(key);
    settle(w);
  }

  /** Rejects the clients of carried transactions that expired by `nowSec`. */
  private expireCarried(nowSec: bigint): void {
    this.carried = this.carried.filter((t) => {
      if (t.transaction.tapos.expiration > nowSec) return true;
      this.settleFinal(t, (w) => w.reject(new TransactionRejectedError('expired', 'transaction has expired')));
      return false;
    });
  }

  /**
   * Finishes, signs and commits the open block (opening an empty one if none is open),
   * after every transaction that went in before this call.
   */
  produceBlock(): Promise<ProducedBlock> {
    const run = this.inFlight.catch(() => undefined).then(() => this.finishNow());
    this.inFlight = run;
    return run;
  }

  private async finishNow(): Promise<ProducedBlock> {
    const b = await this.currentBuilder();
    let produced: ProducedBlock;
    try {
      produced = await b.finish();
    } catch (e) {
      // Nothing of the block was committed: its transactions go into the next one.
      this.carried.push(...b.transactions.map((e) => e.t));
      throw e;
    } finally {
      if (this.builder === b) this.builder = undefined;
    }
    this.announce(produced, b);
    this.onBlock?.(produced);
    return produced;
  }

  /** Settles the clients now final, and logs one line. */
  private announce(produced: ProducedBlock, b: BlockBuilder): void {
    const { header, transactions } = produced.block.block;
    const waiting: AwaitingFinal['waiting'] = [];
    for (const { t, trace } of b.transactions) this.settleFinal(t, (waiter) => waiting.push({ trace, waiter }));
    if (waiting.length > 0) this.awaitingFinal.push({ blockNum: header.blockNum, waiting });
    const irreversible = this.chain.status?.head?.header.commitNum ?? 0;
    while (this.awaitingFinal.length > 0 && this.awaitingFinal[0]!.blockNum <= irreversible) {
      for (const { trace, waiter } of this.awaitingFinal.shift()!.waiting) waiter.resolve(trace);
    }
    // The genesis block has no startBlock transaction; every later block starts with one.
    const count = transactions.length - (header.blockNum === GENESIS_BLOCK_NUM ? 0 : 1);
    this.log(`block ${header.blockNum} ${toHex(produced.id).slice(0, 16)} ${count} transaction${count === 1 ? '' : 's'}`);
  }

  /** The checks psibase's Transact makes of a transaction's TaPoS, against a block time (seconds). */
  private checkTapos(t: OpenedTransaction, blockSeconds: bigint): void {
    const { tapos } = t.transaction;
    if (tapos.flags & ~TAPOS_VALID_FLAGS) throw new TransactionRejectedError('tapos', 'unsupported flags on transaction');
    if (tapos.expiration <= blockSeconds) throw new TransactionRejectedError('expired', 'transaction has expired');
    if (tapos.expiration >= blockSeconds + MAX_TRX_LIFETIME_SEC) throw new TransactionRejectedError('tapos', 'transaction was submitted too early');
  }

  /**
   * Takes a SignedTransaction (packed, or opened by the caller) and resolves with its
   * trace once it ran into the open block (`applied`) or that block is irreversible
   * (`final`). Rejects with TransactionRejectedError when it is refused: malformed,
   * a duplicate, bad TaPoS, a proof that fails, an action that fails, or too many held.
   */
  async submit(input: Uint8Array | OpenedTransaction, options: { waitFor: WaitFor } = { waitFor: 'final' }): Promise<TransactionTrace> {
    const t = input instanceof Uint8Array ? openTransaction(input) : input;
    if (t.signed.subjectiveData != null) throw new TransactionRejectedError('malformed', 'Subjective data should be set by the block producer');
    const head = this.chain.head;
    if (!head) throw new TransactionRejectedError('notBooted', 'the chain has not been booted');
    const key = toHex(t.id);
    if (this.arriving.has(key) || this.builder?.has(key) || this.chain.isRecentlyIncluded(t.id) || this.carried.some((c) => toHex(c.id) === key))
      throw new TransactionRejectedError('duplicate', 'duplicate transaction', undefined, { details: { id: key } });
    // Any block it can go in is at least one second after the head.
    this.checkTapos(t, (head.time + ONE_SECOND_US) / ONE_SECOND_US);
    if (this.pendingTransactions >= this.maxPending) throw new TransactionRejectedError('full', 'too many pending transactions');
    this.arriving.add(key);
    let trace: TransactionTrace;
    let builder: BlockBuilder;
    // Registered before it goes in, so the block's finish finds it however soon it comes.
    let settled: Promise<TransactionTrace> | undefined;
    if (options.waitFor === 'final') {
      settled = new Promise<TransactionTrace>((resolve, reject) => this.finalWaiters.set(key, { resolve, reject }));
    }
    try {
      const [proofError] = await this.chain.verifyTransactions([t]);
      if (proofError !== undefined) throw new TransactionRejectedError('signature', proofError);
      for (;;) {
        // The open block as it is, when there is one (no await of currentBuilder's promise).
        builder = this.builder?.open && this.halted === null ? this.builder : await this.currentBuilder();
        this.checkTapos(t, builder.time / ONE_SECOND_US);
        try {
          trace = await builder.push(t);
          break;
        } catch (e) {
          // The block was finished while this one waited its turn: the next block takes it.
          if (e instanceof ChainHaltError && !builder.open) continue;
          throw e;
        }
      }
    } catch (e) {
      this.finalWaiters.delete(key);
      throw e;
    } finally {
      this.arriving.delete(key);
    }
    return settled ?? trace;
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
      pendingTransactions: this.pendingTransactions,
    };
  }
}

/**
 * Pending transactions. A transaction is admitted only if it decodes, is not a
 * duplicate, is within its expiration window for the next block, its proofs verify and
 * a speculative run against head state succeeds (what psibase's Transact checks then
 * decides: TaPoS, auth, the actions themselves). Refusals are TransactionRejectedErrors
 * and change nothing. Block production takes the pending transactions in arrival order.
 *
 * A transaction is decoded and its id hashed once, when it arrives (or by the caller,
 * who may hand in an OpenedTransaction): block production and the node's bookkeeping
 * reuse that id instead of hashing the block's transactions again.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../state/bytes.ts';
import type { SignedTransaction, TransactionTrace } from '../protocol/types.ts';
import { DEFAULT_MEMPOOL_SIZE, MAX_TRX_LIFETIME_SEC, ONE_SECOND_US, TAPOS_VALID_FLAGS } from './constants.ts';
import { TransactionRejectedError } from './errors.ts';
import { openTransaction, type Chain, type OpenedTransaction, type ProduceOptions, type ProducedBlock } from './executor.ts';

export interface MempoolInit {
  /** Most transactions held (see DEFAULT_MEMPOOL_SIZE). */
  maxSize?: number;
}

export interface Admitted {
  id: Uint8Array;
  /** The speculative run's trace. */
  trace: TransactionTrace;
}

/** A block the mempool produced, with the id of each of its transactions (in block order). */
export interface MempoolBlock extends ProducedBlock {
  ids: Uint8Array[];
}

function isOpened(input: Uint8Array | SignedTransaction | OpenedTransaction): input is OpenedTransaction {
  return !(input instanceof Uint8Array) && 'id' in input && 'signed' in input;
}

export class Mempool {
  private readonly pending = new Map<string, OpenedTransaction>();
  private readonly maxSize: number;

  constructor(
    private readonly chain: Chain,
    init: MempoolInit = {},
  ) {
    this.maxSize = init.maxSize ?? DEFAULT_MEMPOOL_SIZE;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Whether a transaction is pending, by id or by its id in hex. */
  has(id: Uint8Array | string): boolean {
    return this.pending.has(typeof id === 'string' ? id : toHex(id));
  }

  /** Seconds of the next block's time: what Transact compares expirations with. */
  private nextBlockSeconds(): bigint {
    const head = this.chain.head;
    if (!head) throw new TransactionRejectedError('notBooted', 'the chain has not been booted');
    return (head.time + ONE_SECOND_US) / ONE_SECOND_US;
  }

  /** Validates and admits a transaction (packed SignedTransaction bytes, decoded, or opened). */
  async add(input: Uint8Array | SignedTransaction | OpenedTransaction): Promise<Admitted> {
    const t = isOpened(input) ? input : openTransaction(input);
    if (t.signed.subjectiveData != null)
      throw new TransactionRejectedError('malformed', 'Subjective data should be set by the block producer');
    const key = toHex(t.id);
    if (this.pending.has(key) || this.chain.isRecentlyIncluded(t.id))
      throw new TransactionRejectedError('duplicate', 'duplicate transaction', undefined, { details: { id: key } });
    const { tapos } = t.transaction;
    const now = this.nextBlockSeconds();
    if (tapos.flags & ~TAPOS_VALID_FLAGS) throw new TransactionRejectedError('tapos', 'unsupported flags on transaction');
    if (tapos.expiration <= now) throw new TransactionRejectedError('expired', 'transaction has expired');
    if (tapos.expiration >= now + MAX_TRX_LIFETIME_SEC) throw new TransactionRejectedError('tapos', 'transaction was submitted too early');
    if (this.pending.size >= this.maxSize) throw new TransactionRejectedError('full', 'too many pending transactions');
    // The proof checks start first: where WebCrypto works off the main thread (browsers)
    // they overlap the speculative run. (Node's WebCrypto verifies ECDSA on the calling
    // thread, about 0.15 ms a signature here, so in Node they simply run first.)
    const proofs = this.chain.verifyTransactions([t]);
    proofs.catch(() => undefined);
    const run = this.chain.speculate(t).then(
      (trace) => ({ trace }),
      (error: unknown) => ({ error }),
    );
    // A bad proof is the verdict even when the run failed too, as when proofs went first.
    const [proofError] = await proofs;
    if (proofError !== undefined) throw new TransactionRejectedError('signature', proofError);
    const result = await run;
    if ('error' in result) throw result.error;
    const { trace } = result;
    if (trace.error != null) throw new TransactionRejectedError('failed', trace.error, trace);
    // Another add of the same transaction may have finished while this one awaited.
    if (this.pending.has(key)) throw new TransactionRejectedError('duplicate', 'duplicate transaction');
    this.pending.set(key, t);
    return { id: t.id, trace };
  }

  /** Pending transactions in arrival order, at most `max`. */
  take(max = Infinity): OpenedTransaction[] {
    const out: OpenedTransaction[] = [];
    for (const t of this.pending.values()) {
      if (out.length >= max) break;
      out.push(t);
    }
    return out;
  }

  /** Drops what a new head included, rejected or let expire. */
  update(included: Iterable<Uint8Array>): void {
    for (const id of included) this.pending.delete(toHex(id));
    if (!this.chain.head) return;
    const now = this.nextBlockSeconds();
    for (const [k, t] of this.pending) if (t.transaction.tapos.expiration <= now) this.pending.delete(k);
  }

  /**
   * Produces a block from the pending transactions and forgets those it consumed: every
   * one it took is either in the block or rejected.
   */
  async produceBlock(options: Omit<ProduceOptions, 'transactions'> & { maxTransactions?: number }): Promise<MempoolBlock> {
    const taken = this.take(options.maxTransactions);
    const produced = await this.chain.produceBlock({ ...options, transactions: taken });
    this.update(taken.map((t) => t.id));
    // The block holds the very transaction bytes it was handed (only subjective data is added).
    const known = new Map(taken.map((t) => [t.signed.transaction, t.id]));
    const ids = produced.block.block.transactions.map((t) => known.get(t.transaction) ?? sha256(t.transaction));
    return { ...produced, ids };
  }
}

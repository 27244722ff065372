/**
 * The chain executor's errors. A rejected transaction or block is bad input from
 * outside (a peer, a client): it gets one of these and changes no state.
 */
import { PsiwebError } from '../errors.ts';
import type { TransactionTrace } from '../protocol/types.ts';

export type RejectReason =
  /** The bytes are not a SignedTransaction. */
  | 'malformed'
  /** tapos.expiration is not after the next block's time. */
  | 'expired'
  /** TaPoS the chain cannot accept yet: unsupported flags, or an expiration too far ahead. */
  | 'tapos'
  /** The same transaction id is already pending or in a recent block. */
  | 'duplicate'
  /** A proof did not verify, or proofs and claims do not pair up. */
  | 'signature'
  /** Its run into the block failed (see `trace`). */
  | 'failed'
  /** The node holds as many transactions as it may. */
  | 'full'
  /** The chain has not been booted yet. */
  | 'notBooted';

/** A transaction refused by the producing node or by block production. */
export class TransactionRejectedError extends PsiwebError {
  override name = 'TransactionRejectedError';
  constructor(
    readonly reason: RejectReason,
    message: string,
    readonly trace?: TransactionTrace,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, details: { reason, ...options.details } });
  }
}

/** A block that does not follow the chain or does not re-execute to the same result. */
export class BlockValidationError extends PsiwebError {
  override name = 'BlockValidationError';
}

/**
 * Native code cannot continue: the genesis action failed, transact's startBlock failed,
 * or the chain state lacks rows native code needs. psibase stops the chain in these
 * cases; here the block is abandoned and nothing is committed.
 */
export class ChainHaltError extends PsiwebError {
  override name = 'ChainHaltError';
}

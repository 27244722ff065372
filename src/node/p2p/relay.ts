/**
 * The body of psiweb's `x-peers.<root>/relay` (POST): transactions pushed to one
 * producer under multi-producer consensus, handed to the others so whichever leads
 * next can put them in its block. psibase has no such message (its producers take
 * pushes from clients directly); this endpoint is psiweb's own. The framing is the
 * one `/native/blocks` uses (src/http/blocks.ts): each item a u32 length
 * (little-endian) and its bytes, here a packed SignedTransaction.
 */
import { DecodeError, PsiwebError } from '../../errors.ts';
import { decodeBlockFrames, encodeBlockFrames } from '../../http/blocks.ts';

/** Most transactions in one relay request. */
const MAX_RELAY_BATCH = 10_000;

/** Transactions for /relay. */
export function encodeRelayBatch(trxs: readonly Uint8Array[]): Uint8Array {
  return encodeBlockFrames(trxs);
}

/** The transactions of a /relay body; RelayBatchError when it is not one. */
export function decodeRelayBatch(body: Uint8Array): Uint8Array[] {
  let trxs: Uint8Array[];
  try {
    trxs = decodeBlockFrames(body);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    throw new RelayBatchError(`a relay batch runs past the end of its body: ${e.message}`, { cause: e });
  }
  if (trxs.length > MAX_RELAY_BATCH) throw new RelayBatchError(`a relay batch holds more than ${MAX_RELAY_BATCH} transactions`);
  return trxs;
}

/** A /relay body that is not a batch of transactions. */
export class RelayBatchError extends PsiwebError {
  override name = 'RelayBatchError';
}

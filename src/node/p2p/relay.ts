/**
 * The body of psiweb's `x-peers.<root>/relay` (POST): transactions pushed to one
 * producer under multi-producer consensus, handed to the others so whichever leads
 * next can put them in its block. psibase has no such message (its producers take
 * pushes from clients directly); this endpoint is psiweb's own.
 */
import { PsiwebError } from '../../errors.ts';

/** Most transactions in one relay request. */
const MAX_RELAY_BATCH = 10_000;

/** Transactions for /relay: each a u32 length (little-endian) and the packed SignedTransaction. */
export function encodeRelayBatch(trxs: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(trxs.reduce((n, t) => n + 4 + t.length, 0));
  const view = new DataView(out.buffer);
  let o = 0;
  for (const t of trxs) {
    view.setUint32(o, t.length, true);
    out.set(t, o + 4);
    o += 4 + t.length;
  }
  return out;
}

/** The transactions of a /relay body; RelayBatchError when it is not one. */
export function decodeRelayBatch(body: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let o = 0;
  while (o < body.length) {
    if (o + 4 > body.length) throw new RelayBatchError(`a relay batch ends inside a length at byte ${o}`);
    const n = view.getUint32(o, true);
    if (o + 4 + n > body.length) throw new RelayBatchError(`a relay batch's transaction at byte ${o} runs past the end`);
    out.push(body.subarray(o + 4, o + 4 + n));
    o += 4 + n;
    if (out.length > MAX_RELAY_BATCH) throw new RelayBatchError(`a relay batch holds more than ${MAX_RELAY_BATCH} transactions`);
  }
  return out;
}

/** A /relay body that is not a batch of transactions. */
export class RelayBatchError extends PsiwebError {
  override name = 'RelayBatchError';
}


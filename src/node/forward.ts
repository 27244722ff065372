/**
 * How a follower takes a pushed transaction: it has no block to run it into, so it hands
 * it on to a peer it dialed (`--peer URL`), whose node produces or hands it on again, and
 * answers with that peer's trace. A transaction can pass through at most
 * MAX_FORWARD_HOPS followers (the count travels in FORWARD_HOPS_HEADER), so two followers
 * that dialed each other cannot bounce one between them forever.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { packSignedTransaction, unpackTransactionTrace, type TransactionTrace } from '../protocol/types.ts';
import type { OpenedTransaction } from '../chain/executor.ts';
import { HttpError } from '../http/errors.ts';
import type { TransactionSubmitter, WaitFor } from '../http/push.ts';
import { corsHeaders } from '../http/responses.ts';
import { fetchNode, serviceUrl } from './client.ts';

export const FORWARD_HOPS_HEADER = 'x-psiweb-forward-hops';
export const MAX_FORWARD_HOPS = 4;
/** How long a forwarded push may take: a final answer waits for a block. */
const FORWARD_TIMEOUT_MS = 60_000;

/** The hops a request being answered has already made (set by the peer around each request). */
export const forwardHops = new AsyncLocalStorage<number>();

/** The hop count a request carries (0 when it came from a client). */
export function hopsOf(request: Request): number {
  const n = Number(request.headers.get(FORWARD_HOPS_HEADER) ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

export function forwardingSubmitter(peerUrls: () => readonly string[]): TransactionSubmitter {
  return {
    async submit(input: Uint8Array | OpenedTransaction, options: { waitFor: WaitFor }): Promise<TransactionTrace> {
      const hops = forwardHops.getStore() ?? 0;
      if (hops >= MAX_FORWARD_HOPS)
        throw new HttpError(508, `the transaction passed through ${hops} following nodes without reaching a producer`, { headers: corsHeaders() });
      const [peer] = peerUrls();
      if (peer === undefined) throw new HttpError(503, 'this node follows and has no peer to hand transactions to (start it with --peer URL)', { headers: corsHeaders() });
      const body = input instanceof Uint8Array ? input : packSignedTransaction(input.signed);
      let res;
      try {
        res = await fetchNode(serviceUrl(peer, 'transact', `/push_transaction?wait_for=${options.waitFor}`), {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream', [FORWARD_HOPS_HEADER]: String(hops + 1) },
          body,
          timeoutMs: FORWARD_TIMEOUT_MS,
        });
      } catch (e) {
        throw new HttpError(502, `could not hand the transaction to ${peer}: ${(e as Error).message}`, { cause: e, headers: corsHeaders() });
      }
      if (res.status !== 200) throw new HttpError(res.status >= 500 ? 502 : res.status, `${peer} refused the transaction: ${res.text().slice(0, 500)}`, { headers: corsHeaders() });
      try {
        return unpackTransactionTrace(res.body);
      } catch (e) {
        throw new HttpError(502, `${peer} answered something that is not a transaction trace`, { cause: e, headers: corsHeaders() });
      }
    },
  };
}

/**
 * `POST transact.<root>/push_transaction` (psibase RTransact::serveSys): the body is a
 * fracpacked SignedTransaction; the reply is its TransactionTrace once a block has
 * applied it (`?wait_for=applied`) or made it final (`?wait_for=final`, the default),
 * as JSON or fracpack depending on the Accept header.
 *
 * Shapes follow psibase: the wrong method is 405 with `Allow`, the wrong content type
 * 415; a transaction the chain refuses (bad signature, expired, failing action, …)
 * still answers 200 with a trace whose `error` says why, which is what psibase's
 * clients check. Bytes that are not a SignedTransaction are 400 with the decoder's
 * message (psinode answers 500 there because its service aborts; a bad request is
 * the client's fault, so psiweb says so).
 */
import { TransactionRejectedError } from '../chain/errors.ts';
import { openTransaction, type OpenedTransaction } from '../chain/executor.ts';
import { packTransactionTrace, type TransactionTrace } from '../protocol/types.ts';
import { HttpError } from './errors.ts';
import { bytesResponse, corsHeaders, textResponse } from './responses.ts';
import { traceJsonText } from './trace-json.ts';

export type WaitFor = 'applied' | 'final';

export interface TransactionSubmitter {
  /**
   * Takes a SignedTransaction (packed, or already opened) and resolves with its trace
   * once a block has applied it (or made it final). Rejects with
   * TransactionRejectedError when the transaction cannot get into a block.
   */
  submit(input: Uint8Array | OpenedTransaction, options: { waitFor: WaitFor }): Promise<TransactionTrace>;
}

export const PUSH_TRANSACTION_PATH = '/push_transaction';

function waitForOf(url: URL): WaitFor {
  const v = url.searchParams.get('wait_for');
  if (v === null || v === '' || v === 'final') return 'final';
  if (v === 'applied') return 'applied';
  throw new HttpError(400, `invalid wait_for parameter "${v}" (expected applied or final)`);
}

/** psibase's acceptJson: JSON unless the client prefers application/octet-stream. */
export function acceptsJson(accept: string | null): boolean {
  if (!accept) return true;
  // What clients send most: a single media range, no parameters.
  if (accept === 'application/json' || accept === '*/*') return true;
  if (accept === 'application/octet-stream') return false;
  let json = 0;
  let bin = 0;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined && Number.isFinite(Number(v))) q = Number(v);
    }
    if (range === 'application/json' || range === 'application/*' || range === '*/*') json = Math.max(json, q);
    if (range === 'application/octet-stream' || range === 'application/*' || range === '*/*') bin = Math.max(bin, q);
  }
  return json >= bin;
}

/** The trace a refused transaction answers with: what ran (if anything) and why it failed. */
export function rejectionTrace(e: TransactionRejectedError): TransactionTrace {
  return { actionTraces: e.trace?.actionTraces ?? [], error: e.message };
}

export async function pushTransaction(request: Request, url: URL, submitter: TransactionSubmitter, body: Uint8Array): Promise<Response> {
  const cors = corsHeaders();
  if (request.method === 'OPTIONS') return new Response(null, { status: 200, headers: cors });
  if (request.method !== 'POST') {
    throw new HttpError(405, `${PUSH_TRANSACTION_PATH} does not accept the method ${request.method}`, {
      headers: { ...cors, Allow: 'POST, OPTIONS' },
    });
  }
  const contentType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/octet-stream') {
    throw new HttpError(415, 'expected a fracpack encoded SignedTransaction (Content-Type: application/octet-stream)', { headers: cors });
  }
  const waitFor = waitForOf(url);
  let opened: OpenedTransaction;
  try {
    opened = openTransaction(body);
  } catch (e) {
    if (e instanceof TransactionRejectedError) throw new HttpError(400, e.message, { cause: e, headers: cors });
    throw e;
  }
  let trace: TransactionTrace;
  try {
    trace = await submitter.submit(opened, { waitFor });
  } catch (e) {
    if (!(e instanceof TransactionRejectedError)) throw e;
    if (e.reason === 'malformed') throw new HttpError(400, e.message, { cause: e, headers: cors });
    trace = rejectionTrace(e);
  }
  if (acceptsJson(request.headers.get('accept'))) return textResponse(traceJsonText(trace), 200, cors, 'application/json');
  return bytesResponse(packTransactionTrace(trace), 'application/octet-stream', 200, cors);
}

/**
 * Writes through the root service worker: `POST /push_transaction` on transact (via
 * `/_svc/transact/push_transaction` or transact.<root> directly). The transaction is
 * stored in the outbox first (src/node/browser/outbox.ts), so it is never lost; then:
 *
 *  - a node runs (some tab holds the node lock), online, reaching its peer: the node is
 *    told, and the reply waits up to PUSH_WAIT_MS for the transaction's trace: the
 *    producer's as soon as it ran the transaction (psibase's `wait_for=applied`:
 *    executed, not yet final; `x-psiweb-tx-status: submitted`), or a verdict (applied,
 *    failed). It answers 200 with that trace JSON, as psibase's push_transaction does
 *    (a failed one's trace has `error`); nothing in time answers 202 with the status.
 *    The record stays in the outbox until the block holding it is synced (applied) or
 *    it expired (failed): `/push_status/<id>` follows it.
 *  - otherwise (no node, offline, or the peer is down): 202 `{"status":"queued","id":…}` at once; the first node that runs
 *    online submits it.
 *
 * `GET /push_status/<id>` on transact answers the status JSON (404 for an unknown id).
 */
import { TransactionRejectedError } from '../src/chain/errors.ts';
import { openTransaction } from '../src/chain/executor.ts';
import { HttpError } from '../src/http/errors.ts';
import { corsHeaders, errorResponse, jsonResponse } from '../src/http/responses.ts';
import { NODE_LOCK, PUSH_WAIT_MS } from '../src/node/browser/constants.ts';
import type { NodeMessage } from '../src/node/browser/messages.ts';
import { hasAnswer, pushStatusJson, type Outbox, type OutboxRecord } from '../src/node/browser/outbox.ts';
import { toHex } from '../src/state/bytes.ts';

export const PUSH_STATUS_PREFIX = '/push_status/';

type Verdict = Omit<OutboxRecord, 'packed'>;

export class PushService {
  private readonly waiters = new Map<string, ((r: Verdict) => void)[]>();

  constructor(
    private readonly outbox: () => Promise<Outbox>,
    private readonly post: (m: NodeMessage) => void,
    /** Whether the node can reach its peer now, as its latest status says (undefined: not heard). */
    private readonly peerReachable: () => Promise<boolean | undefined>,
  ) {}

  /** A record changed (told by the node on the channel). */
  onTx(record: Verdict): void {
    if (!hasAnswer(record)) return;
    const ws = this.waiters.get(record.id);
    if (!ws) return;
    this.waiters.delete(record.id);
    for (const w of ws) w(record);
  }

  async status(id: string): Promise<Response> {
    const cors = corsHeaders();
    if (!/^[0-9a-f]{64}$/i.test(id)) return jsonResponse({ error: `"${id}" is not a transaction id (64 hex digits)` }, 400, cors);
    const rec = await (await this.outbox()).get(id.toLowerCase());
    if (!rec) return jsonResponse({ id, status: 'unknown', error: 'no transaction with this id was pushed through this browser' }, 404, cors);
    return jsonResponse(pushStatusJson(rec), 200, cors);
  }

  async push(request: Request): Promise<Response> {
    try {
      return await this.pushOrThrow(request);
    } catch (e) {
      if (e instanceof HttpError) return errorResponse(e);
      throw e;
    }
  }

  private async pushOrThrow(request: Request): Promise<Response> {
    const cors = corsHeaders();
    if (request.method === 'OPTIONS') return new Response(null, { status: 200, headers: cors });
    if (request.method !== 'POST') throw new HttpError(405, `/push_transaction does not accept the method ${request.method}`, { headers: { ...cors, Allow: 'POST, OPTIONS' } });
    const contentType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/octet-stream') {
      throw new HttpError(415, 'expected a fracpack encoded SignedTransaction (Content-Type: application/octet-stream)', { headers: cors });
    }
    const body = new Uint8Array(await request.arrayBuffer());
    let opened;
    try {
      opened = openTransaction(body);
    } catch (e) {
      if (e instanceof TransactionRejectedError) throw new HttpError(400, e.message, { cause: e, headers: cors });
      throw e;
    }
    const id = toHex(opened.id);
    const outbox = await this.outbox();
    let rec: Verdict = await outbox.enqueue(id, body, Number(opened.transaction.tapos.expiration));
    // Whatever happens next, a running node learns of the record (and keeps it in mind
    // until its peer is reachable).
    this.post({ type: 'outbox' });
    if (!hasAnswer(rec) && (await nodeRunning()) && navigator.onLine && (await this.peerReachable()) !== false) {
      const verdict = new Promise<Verdict>((resolve) => {
        const ws = this.waiters.get(id) ?? [];
        ws.push(resolve);
        this.waiters.set(id, ws);
      });
      // The verdict may have landed between enqueue and listening.
      const again = await outbox.get(id);
      if (again && hasAnswer(again)) rec = again;
      else rec = await Promise.race([verdict, sleep(PUSH_WAIT_MS).then(async () => (await outbox.get(id)) ?? rec)]);
    }
    if (hasAnswer(rec)) {
      const trace = rec.trace ?? { actionTraces: [], error: rec.error ?? 'failed' };
      return jsonResponse(trace, 200, { ...cors, 'x-psiweb-tx-status': rec.status, 'x-psiweb-tx-id': id });
    }
    return jsonResponse(pushStatusJson({ ...rec, packed: new Uint8Array(0) }), 202, { ...cors, 'x-psiweb-tx-status': rec.status, 'x-psiweb-tx-id': id });
  }
}

async function nodeRunning(): Promise<boolean> {
  try {
    const { held } = await navigator.locks.query();
    return held?.some((l) => l.name === NODE_LOCK) ?? false;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

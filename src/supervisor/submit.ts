/**
 * The end of a top-level call (issue 10 §3): the call's action FIFO becomes one
 * transaction — TaPoS from `/common/tapos/head`, an expiry, the sender's verify-sig
 * claim and proof (keystore.ts) — signed and pushed to transact's `push_transaction`,
 * both through the root origin's service worker (root-bridge.ts: the browser node).
 * A 200 answer is the trace (an `error` in it rejects the call); a 202 is a queued
 * push (the browser node's outbox), which the call reports as its result.
 *
 * The status a call reports is the one the node answered with, never assumed: the
 * browser node says it in `x-psiweb-tx-status` (`submitted`: the producer executed it,
 * not yet in a synced block; `applied`: in a block this browser synced; sw/root-push.ts);
 * a Node peer answers `push_transaction` without `wait_for` once the block holding it is
 * irreversible (src/http/push.ts), so its 200 without that header is `final`.
 */
import { sign } from '../crypto/keys.ts';
import { PsiwebError } from '../errors.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { packSignedTransaction, packTransaction } from '../protocol/types.ts';
import type { HostEnv, QueuedAction } from './host.ts';
import type { KeyStore } from './keystore.ts';
import { lastRoute, serviceFetch } from './root-bridge.ts';

/** Seconds a transaction stays valid. */
export const EXPIRATION_SEC = 60;

export class SubmitError extends PsiwebError {
  override name = 'SubmitError';
}

/**
 * How far a pushed transaction got when the node answered: `queued` (in the browser
 * node's outbox, not yet handed on), `submitted` (the producer executed it; no block
 * holding it synced yet), `applied` (in a block), `final` (in an irreversible block).
 */
export type SubmitStatus = 'queued' | 'submitted' | 'applied' | 'final';

const ANSWERED: readonly string[] = ['submitted', 'applied', 'final'];

export interface SubmitResult {
  /** The node's answer: a trace with `submitted`, `applied` or `final`; `queued` or `submitted` (no trace yet) on a 202. */
  status: SubmitStatus;
  id: string | undefined;
  trace: unknown;
  /** How the push went: through the root origin's bridge (the browser node) or the network. */
  route: 'bridge' | 'network' | undefined;
  /** Milliseconds: TaPoS fetch, signing, push. */
  timing: { taposMs: number; signMs: number; pushMs: number };
}

export interface SubmitOptions {
  /**
   * No claim and no proof: for a sender whose auth service needs no signature (open
   * registration's registrar, src/supervisor/accounts.ts). No key is looked up or bound.
   */
  unsigned?: boolean;
}

export interface Submitter {
  submit(sender: string, actions: QueuedAction[], options?: SubmitOptions): Promise<SubmitResult>;
}

export function rootUrl(env: HostEnv): string {
  return `${env.protocol}//${env.rootHost}${env.port ? `:${env.port}` : ''}`;
}

export class HttpSubmitter implements Submitter {
  constructor(
    private readonly env: HostEnv,
    private readonly keys: KeyStore,
  ) {}

  async submit(sender: string, actions: QueuedAction[], options: SubmitOptions = {}): Promise<SubmitResult> {
    // Before any network: no key, nothing is submitted.
    const { key, bound } = options.unsigned ? { key: undefined, bound: true } : await this.keys.keyFor(sender);
    const t0 = performance.now();
    const taposRes = await serviceFetch(this.env, 'transact', '/common/tapos/head');
    if (!taposRes.ok) throw new SubmitError(`cannot get TaPoS: /common/tapos/head answered ${taposRes.status}`);
    const tapos = (await taposRes.json()) as { refBlockIndex: number; refBlockSuffix: number };
    const t1 = performance.now();
    const transaction = packTransaction({
      tapos: { expiration: BigInt(Math.floor(Date.now() / 1000) + EXPIRATION_SEC), refBlockIndex: tapos.refBlockIndex, refBlockSuffix: tapos.refBlockSuffix, flags: 0 },
      actions: actions.map((a) => ({ sender: accountNumber(a.sender), service: accountNumber(a.service), method: methodNumber(a.method), rawData: a.rawData })),
      claims: key ? [{ service: accountNumber('verify-sig'), rawData: key.publicKeyDer }] : [],
    });
    const signed = packSignedTransaction({ transaction, proofs: key ? [await sign(key, transaction)] : [], subjectiveData: null });
    const t2 = performance.now();
    const res = await serviceFetch(this.env, 'transact', '/push_transaction', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
      body: signed,
    });
    const t3 = performance.now();
    const timing = { taposMs: t1 - t0, signMs: t2 - t1, pushMs: t3 - t2 };
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const id = res.headers.get('x-psiweb-tx-id') ?? undefined;
    const header = res.headers.get('x-psiweb-tx-status');
    if (res.status === 202) {
      const queued = (body as { status?: string } | undefined)?.status ?? header ?? 'queued';
      if (queued !== 'queued' && queued !== 'submitted') throw new SubmitError(`push_transaction answered 202 with the status ${JSON.stringify(queued)}: ${text.slice(0, 300)}`);
      return { status: queued, id, trace: undefined, timing, route: lastRoute };
    }
    if (res.status !== 200 || !body || typeof body !== 'object') throw new SubmitError(`push_transaction answered ${res.status}: ${text.slice(0, 300)}`);
    const error = (body as { error?: unknown }).error;
    if (error) throw new SubmitError(`the transaction failed: ${String(error)}`);
    // No header: a Node peer's answer, given once the transaction is final (no wait_for).
    const status = header ?? 'final';
    if (!ANSWERED.includes(status)) throw new SubmitError(`push_transaction answered 200 with the status ${JSON.stringify(status)}, which a trace does not come with`);
    if (!bound && key) await this.keys.bind(sender, key.publicKeyDer);
    return { status: status as SubmitStatus, id, trace: body, timing, route: lastRoute };
  }
}

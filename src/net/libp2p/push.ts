/**
 * psiweb's transaction push between browser peers, `/psiweb/push/1.0.0`: psibase's peer
 * protocol carries blocks and consensus, not transactions (a psinode takes them over
 * HTTP), so a browser that joined a network over browser peers, with no HTTP producer to
 * reach, hands its transactions to a peer this way. One push per stream:
 *
 *   request:  a packed SignedTransaction (at most MAX_PUSH_BYTES), then the writer closes
 *   answer:   JSON, one of
 *             { "status": "applied", "trace": <trace JSON> }   ran into the producer's block
 *             { "status": "failed", "error": "…", "trace"?: … } refused, or its action failed
 *             { "status": "unavailable", "error": "…" }        this peer cannot take it (not a producer)
 *
 * A request over the limit or that does not come is aborted; an answer that is not one of
 * these is a PushError ('bad-answer').
 *
 * Between producers, what one holds goes to the others over `/psiweb/relay/2.0.0`
 * (relay.ts): one stream per peer, unanswered.
 */
import type { Connection, Libp2p, PeerId, Stream, AbortOptions } from '@libp2p/interface';
import { PsiwebError } from '../../errors.ts';
import { readAnswer, type ReadFailure } from './discovery.ts';

export const PUSH_PROTOCOL = '/psiweb/push/1.0.0';
/** The largest packed transaction taken (psibase's default maximum transaction size is far smaller). */
export const MAX_PUSH_BYTES = 1024 * 1024;
/** The largest answer read (a trace with its console output and events). */
export const MAX_PUSH_ANSWER_BYTES = 4 * 1024 * 1024;
/** Push streams open at once on one connection, each way. */
export const MAX_PUSH_STREAMS = 256;
/** How long the request may take to arrive. */
export const PUSH_REQUEST_TIMEOUT_MS = 10_000;
/** How long an answer may take: the transaction must run into a block. */
export const PUSH_ANSWER_TIMEOUT_MS = 30_000;

export type PushFault = 'oversize' | 'timeout' | 'stream' | 'bad-answer';

export class PushError extends PsiwebError {
  override name = 'PushError';
  constructor(
    readonly fault: PushFault,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, { ...options, details: { fault } });
  }
}

export type PushAnswer = { status: 'applied'; trace: unknown } | { status: 'failed'; error: string; trace?: unknown } | { status: 'unavailable'; error: string };

const pushFailure: ReadFailure = (fault, message, cause) => new PushError(fault, message, cause && { cause });

/** Checks an answer's shape; a PushError ('bad-answer') naming what is wrong. */
export function parsePushAnswer(bytes: Uint8Array): PushAnswer {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new PushError('bad-answer', 'a push answer that is not JSON text', { cause: e });
  }
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new PushError('bad-answer', 'a push answer that is not a JSON object');
  if (o.status === 'applied' && o.trace !== undefined) return { status: 'applied', trace: o.trace };
  if ((o.status === 'failed' || o.status === 'unavailable') && typeof o.error === 'string') {
    const error = o.error.slice(0, 2_000);
    return o.status === 'failed' ? { status: 'failed', error, ...(o.trace !== undefined && { trace: o.trace }) } : { status: 'unavailable', error };
  }
  throw new PushError('bad-answer', `a push answer with status ${JSON.stringify(o.status)?.slice(0, 40)} and no ${o.status === 'applied' ? 'trace' : 'error'}`);
}

export function encodePushAnswer(a: PushAnswer): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(a));
}

/**
 * Answers PUSH_PROTOCOL (or another protocol of its shape) on `node` with `take(transaction, from)`
 * (direct connections only). Returns a function that stops answering.
 */
export async function servePush(node: Libp2p, take: (tx: Uint8Array, from: string) => Promise<PushAnswer>, protocol: string = PUSH_PROTOCOL): Promise<() => Promise<void>> {
  await node.handle(
    protocol,
    async (stream: Stream, connection: Connection) => {
      try {
        const tx = await readAnswer(stream, MAX_PUSH_BYTES, PUSH_REQUEST_TIMEOUT_MS, 'pushed transaction', pushFailure);
        const answer = tx.length === 0 ? ({ status: 'failed', error: 'an empty push' } as const) : await take(tx, connection.remotePeer.toString());
        stream.send(encodePushAnswer(answer));
        await stream.close();
      } catch (e) {
        // readAnswer aborted the stream already when the request was bad.
        if (stream.status !== 'aborted') stream.abort(e as Error);
      }
    },
    // A burst of pushes opens a stream each: more at once than libp2p's defaults (32 in, 64 out).
    { runOnLimitedConnection: false, maxInboundStreams: MAX_PUSH_STREAMS, maxOutboundStreams: MAX_PUSH_STREAMS },
  );
  return () => node.unhandle(protocol).catch(() => undefined);
}

/** Pushes a packed transaction to `peer` (connected directly) and reads its answer; a PushError when none comes or it is bad. */
export async function pushTo(node: Libp2p, peer: PeerId, tx: Uint8Array, options: AbortOptions & { timeoutMs?: number; protocol?: string } = {}): Promise<PushAnswer> {
  if (tx.length > MAX_PUSH_BYTES) throw new PushError('oversize', `a transaction of ${tx.length} bytes (at most ${MAX_PUSH_BYTES} are pushed)`);
  let stream: Stream;
  try {
    stream = await node.dialProtocol(peer, options.protocol ?? PUSH_PROTOCOL, { ...options, runOnLimitedConnection: false });
  } catch (e) {
    throw new PushError('stream', `cannot push to ${peer.toString()}: ${(e as Error).message}`, { cause: e });
  }
  stream.send(tx);
  // Closes our writing side only: the answer is read after it.
  await stream.close();
  const bytes = await readAnswer(stream, MAX_PUSH_ANSWER_BYTES, options.timeoutMs ?? PUSH_ANSWER_TIMEOUT_MS, 'push answer', pushFailure);
  try {
    return parsePushAnswer(bytes);
  } catch (e) {
    stream.abort(e as Error);
    throw e;
  }
}

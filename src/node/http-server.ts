/**
 * The Node adapter for the router: node:http requests become fetch Requests, fetch
 * Responses go back on the socket. The body limit is enforced here too, while the
 * body streams in, so an oversized upload is refused without being buffered.
 *
 * The URL a request is routed by is built only from its checked parts (one Host
 * header holding a plain authority, an origin-form or absolute-form target:
 * src/http/target.ts), so no header can move it to another path.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PsiwebError } from '../errors.ts';
import { HttpError } from '../http/errors.ts';
import { knownBody, useLazyBodies, withKnownBody } from '../http/known-body.ts';
import { parseRequestTarget, type RequestTarget } from '../http/target.ts';

export type FetchHandler = (request: Request) => Promise<Response>;

/** Takes an HTTP upgrade request whose target passed the same checks as every request. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, target: Extract<RequestTarget, { url: string }>) => void;

export interface NodeHttpOptions {
  maxBodyBytes: number;
  /**
   * Failures of the adapter itself (a broken response). Clients that go away are not
   * reported one by one: each interval, one ClientAbortSummary per kind of abort.
   */
  onError?: (error: unknown) => void;
  /** The interval client aborts are summarised over (ABORT_SUMMARY_MS unless set). */
  abortSummaryMs?: number;
  /** Upgrade requests (WebSockets); without it every upgrade is answered 404. */
  onUpgrade?: UpgradeHandler;
}

/** Answers an upgrade request on its raw socket with a plain-text error, and closes it. */
export function refuseUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const body = Buffer.from(`${message}\n`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n${extra}\r\n${body}`);
}

/**
 * How often client aborts are reported: a client (or a crowd of them) dropping
 * uploads would otherwise write one log line per request; a summary every 10 s keeps
 * the log readable and still says promptly that it happens.
 */
export const ABORT_SUMMARY_MS = 10_000;

/** Error codes Node gives a request or response whose client went away. */
const CLIENT_ABORT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/** The methods answered for `OPTIONS *` (the router's, as psinode passes to services). */
const SERVER_METHODS = 'GET, POST, HEAD, PUT, DELETE, OPTIONS';

/** How many requests clients aborted, of one kind, over the last interval. */
export class ClientAbortSummary extends PsiwebError {
  override name = 'ClientAbortSummary';

  constructor(
    readonly kind: string,
    readonly count: number,
    readonly intervalMs: number,
  ) {
    super(`${count} ${count === 1 ? 'request' : 'requests'} aborted by clients (${kind}) in the last ${intervalMs / 1000} s`, {
      details: { kind, count, intervalMs },
    });
  }
}

/** The kind of client abort `e` is (its error code), or undefined when it is not one. */
function clientAbortKind(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CLIENT_ABORT_CODES.has(code) ? code : undefined;
}

/** Counts client aborts per kind; reports each kind once per interval, and on flush. */
class AbortCounter {
  private readonly counts = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly report: (summary: ClientAbortSummary) => void,
  ) {}

  add(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
    this.timer.unref?.();
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const counts = [...this.counts];
    this.counts.clear();
    for (const [kind, count] of counts) this.report(new ClientAbortSummary(kind, count, this.intervalMs));
  }
}

/** How long a refused upload may go on being discarded before the socket is cut. */
const LINGER_MS = 5_000;
/** How much of a refused upload is discarded before the socket is cut. */
const LINGER_MAX_BYTES = 64 * 1024 * 1024;

function plainError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
  res.end(message);
}

/** Every Host header value as received (IncomingMessage.headers keeps only the first). */
function hostHeaders(req: IncomingMessage): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') values.push(req.rawHeaders[i + 1]!);
  return values;
}

/** Reads the body, at most `max` bytes; undefined when it was too large (the reply is sent). */
async function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | undefined> {
  const declared = req.headers['content-length'];
  const tooLarge = () => {
    plainError(res, 413, `request body is larger than the ${max}-byte limit`);
    // A lingering close, as web servers do: discard the rest of the upload (memory stays
    // flat) so the client can finish writing and read the 413. Closing the socket at once
    // (or with `Connection: close`, which Node honours as soon as the reply ends) makes
    // the client fail its write with ECONNRESET/EPIPE before it sees the reply.
    // An upload that goes on too long, or too far, is cut off.
    let discarded = 0;
    const cutOff = () => req.socket.destroy();
    const timer = setTimeout(cutOff, LINGER_MS);
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_MAX_BYTES) cutOff();
    });
    req.on('end', () => clearTimeout(timer));
    req.on('close', () => clearTimeout(timer));
    req.resume();
  };
  if (declared !== undefined && Number(declared) > max) {
    tooLarge();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      tooLarge();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function toRequest(req: IncomingMessage, body: Buffer, target: Extract<RequestTarget, { url: string }>): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== 'host') headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  // The checked authority: the Host header's, or an absolute-form target's (which wins, RFC 9112 §3.2.2).
  headers.set('host', target.authority.host);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // The body is already in memory: the router takes it from beside the Request rather
  // than through a stream (known-body.ts). A Request of these methods carries none itself.
  const request = new Request(target.url, { method, headers });
  return hasBody ? withKnownBody(request, new Uint8Array(body.buffer, body.byteOffset, body.length)) : request;
}

async function send(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const known = knownBody(response);
  if (typeof known === 'string') {
    // Sent as it is: the socket encodes it, without a Buffer copy first.
    headers['content-length'] = String(Buffer.byteLength(known));
    res.writeHead(response.status, headers);
    res.end(head ? undefined : known);
    return;
  }
  const body =
    known === undefined
      ? response.body
        ? Buffer.from(await response.arrayBuffer())
        : undefined
      : Buffer.from(known.buffer, known.byteOffset, known.byteLength);
  if (body) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(head ? undefined : body);
}

/** An http.Server answering every request through `handler`. */
export function createHttpServer(handler: FetchHandler, options: NodeHttpOptions): Server {
  // This process's Responses go to sockets (send above) and to in-process readers, never
  // to a service worker: their known bodies need no stream.
  useLazyBodies();
  const aborts = new AbortCounter(options.abortSummaryMs ?? ABORT_SUMMARY_MS, (summary) => options.onError?.(summary));
  const server = createServer((req, res) => {
    void (async () => {
      let target: RequestTarget;
      try {
        target = parseRequestTarget(req.method ?? 'GET', req.url ?? '', hostHeaders(req));
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        // Any body is left for Node to discard, as for every reply sent before it is read.
        plainError(res, e.status, `bad request: ${e.message}`, e.headers);
        return;
      }
      if (target.form === 'asterisk') {
        res.writeHead(204, { Allow: SERVER_METHODS });
        res.end();
        return;
      }
      const body = await readBody(req, res, options.maxBodyBytes);
      if (body === undefined) return;
      let request: Request;
      try {
        request = toRequest(req, body, target);
      } catch (e) {
        plainError(res, 400, `bad request: ${(e as Error).message}`);
        return;
      }
      await send(res, await handler(request), req.method === 'HEAD');
    })().catch((e: unknown) => {
      const kind = clientAbortKind(e);
      if (kind !== undefined) aborts.add(kind);
      else options.onError?.(e);
      plainError(res, 500, 'internal error');
      if (!res.writableEnded) res.end();
    });
  });
  server.on('close', () => aborts.flush());
  // Upgrades: the target and Host are checked exactly as for a request before anything routes them.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    let target: RequestTarget;
    try {
      target = parseRequestTarget(req.method ?? 'GET', req.url ?? '', hostHeaders(req));
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      refuseUpgrade(socket, e.status, `bad request: ${e.message}`);
      return;
    }
    if (target.form === 'asterisk' || !options.onUpgrade) {
      refuseUpgrade(socket, 404, 'nothing to upgrade to here');
      return;
    }
    try {
      options.onUpgrade(req, socket, head, target);
    } catch (e) {
      options.onError?.(e);
      refuseUpgrade(socket, 500, 'internal error');
    }
  });
  // `Expect: 100-continue` (RFC 9110 §10.1.1): refuse a declared oversized body before
  // the client sends it, so the client reads the 413 instead of failing mid-upload.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > options.maxBodyBytes) {
      res.shouldKeepAlive = false;
      plainError(res, 413, `request body is larger than the ${options.maxBodyBytes}-byte limit`);
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  return server;
}

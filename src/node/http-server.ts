/**
 * The Node adapter for the router: node:http requests become fetch Requests, fetch
 * Responses go back on the socket. The body limit is enforced here too, while the
 * body streams in, so an oversized upload is refused without being buffered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type FetchHandler = (request: Request) => Promise<Response>;

export interface NodeHttpOptions {
  maxBodyBytes: number;
  /** Failures of the adapter itself (a client that went away, a broken response). */
  onError?: (error: unknown) => void;
}

/** How long a refused upload may go on being discarded before the socket is cut. */
const LINGER_MS = 5_000;
/** How much of a refused upload is discarded before the socket is cut. */
const LINGER_MAX_BYTES = 64 * 1024 * 1024;

function plainError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(message);
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

function toRequest(req: IncomingMessage, body: Buffer): Request {
  const host = req.headers.host;
  if (!host) throw new TypeError('the request has no Host header');
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(`http://${host}${req.url ?? '/'}`, { method, headers, ...(hasBody && { body: body as Uint8Array<ArrayBuffer> }) });
}

async function send(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  if (body) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(head ? undefined : body);
}

/** An http.Server answering every request through `handler`. */
export function createHttpServer(handler: FetchHandler, options: NodeHttpOptions): Server {
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req, res, options.maxBodyBytes);
      if (body === undefined) return;
      let request: Request;
      try {
        request = toRequest(req, body);
      } catch (e) {
        plainError(res, 400, `bad request: ${(e as Error).message}`);
        return;
      }
      await send(res, await handler(request), req.method === 'HEAD');
    })().catch((e: unknown) => {
      options.onError?.(e);
      plainError(res, 500, 'internal error');
      if (!res.writableEnded) res.end();
    });
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

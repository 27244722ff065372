/**
 * HTTP for Node clients of a psiweb (or psinode) node on this machine: the CLI and the
 * tests. Node's resolver does not resolve `*.localhost` (ENOTFOUND), so those names
 * are dialled on 127.0.0.1 with the name kept in the Host header, which is what
 * browsers and curl do. Nothing else is dialled.
 */
import { request as httpRequest, type Agent } from 'node:http';
import { PsiwebError } from '../errors.ts';
import { LOOPBACK } from './constants.ts';

/** Bodies larger than this ask the server first (`Expect: 100-continue`). */
const EXPECT_CONTINUE_BYTES = 1024 * 1024;

export class ClientError extends PsiwebError {
  override name = 'ClientError';
}

export interface ClientResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
  text(): string;
  json(): unknown;
}

export interface ClientRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  timeoutMs?: number;
  /** Connection reuse across requests (benchmarks); by default each request has its own. */
  agent?: Agent;
}

/** Whether `hostname` is a loopback name this client dials on 127.0.0.1. */
export function isLocalhostName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost');
}

/** The URL of `service`'s subdomain of a node's root URL (`http://root:port`). */
export function serviceUrl(rootUrl: string, service: string, path: string): string {
  const u = new URL(rootUrl);
  u.hostname = `${service}.${u.hostname}`;
  u.pathname = path.split('?')[0]!;
  u.search = path.includes('?') ? path.slice(path.indexOf('?')) : '';
  return u.toString();
}

/** One request; only http: URLs (a node on loopback serves plain HTTP). */
export function fetchNode(url: string, init: ClientRequest = {}): Promise<ClientResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    return Promise.reject(new ClientError(`invalid URL ${url}`, { cause: e }));
  }
  if (u.protocol !== 'http:') return Promise.reject(new ClientError(`only http: URLs are supported, got ${u.protocol}`));
  // This client only talks to nodes on this machine, and dials nothing else.
  if (!isLocalhostName(u.hostname) && u.hostname !== LOOPBACK) {
    return Promise.reject(new ClientError(`only nodes on this machine (localhost names or ${LOOPBACK}) can be reached, not ${u.hostname}`));
  }
  const body = typeof init.body === 'string' ? new TextEncoder().encode(init.body) : init.body;
  const headers: Record<string, string> = { host: u.host, ...init.headers };
  if (body) headers['content-length'] = String(body.length);
  // A large body waits for the server's go-ahead, so a refusal (413) is read, not lost
  // in a connection closed mid-upload.
  const expectContinue = body !== undefined && body.length > EXPECT_CONTINUE_BYTES;
  if (expectContinue) headers['expect'] = '100-continue';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: LOOPBACK,
        port: u.port || 80,
        path: u.pathname + u.search,
        method: init.method ?? 'GET',
        headers,
        timeout: init.timeoutMs ?? 30_000,
        agent: init.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = new Uint8Array(Buffer.concat(chunks));
          const text = () => new TextDecoder().decode(bytes);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes,
            text,
            json: () => {
              try {
                return JSON.parse(text());
              } catch (e) {
                throw new ClientError(`${url} did not answer JSON (status ${res.statusCode}): ${text().slice(0, 200)}`, { cause: e });
              }
            },
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new ClientError(`no answer from ${url} within ${init.timeoutMs ?? 30_000} ms`)));
    req.on('error', (e) => reject(e instanceof ClientError ? e : new ClientError(`cannot reach ${url}: ${e.message}`, { cause: e })));
    if (expectContinue) req.on('continue', () => req.end(body));
    else req.end(body);
  });
}

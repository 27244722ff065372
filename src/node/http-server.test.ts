/**
 * The Node adapter on a real socket (127.0.0.1), driven with raw bytes so each test
 * controls the exact request line and headers: duplicate Host headers, a Host header
 * carrying a path, absolute-form targets, and clients that drop their uploads.
 */
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Chain } from '../chain/executor.ts';
import type { TransactionSubmitter } from '../http/push.ts';
import { Router } from '../http/router.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import type { TransactionTrace } from '../protocol/types.ts';
import { ClientAbortSummary, createHttpServer, type FetchHandler, type NodeHttpOptions } from './http-server.ts';
import { fetchNode } from './client.ts';
import { knownBody } from '../http/known-body.ts';
import { bytesResponse, textResponse } from '../http/responses.ts';

const ROOT = 'psiweb.localhost';
const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** What the echo handler saw: the URL it was given and its Host header. */
interface Seen {
  url: string;
  host: string | null;
  method: string;
}

async function serve(handler: FetchHandler, options: Partial<NodeHttpOptions> = {}): Promise<{ server: Server; port: number }> {
  const server = createHttpServer(handler, { maxBodyBytes: 1 << 20, ...options });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function echoServer(options: Partial<NodeHttpOptions> = {}) {
  const seen: Seen[] = [];
  const handler: FetchHandler = async (request) => {
    const s = { url: request.url, host: request.headers.get('host'), method: request.method };
    seen.push(s);
    return new Response(JSON.stringify(s), { headers: { 'Content-Type': 'application/json' } });
  };
  return serve(handler, options).then((s) => ({ ...s, seen }));
}

interface RawReply {
  status: number;
  head: string;
  body: string;
}

/** Sends `text` as is and reads until the server closes the connection. */
function raw(port: number, text: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const split = all.indexOf('\r\n\r\n');
      const head = split < 0 ? all : all.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
      resolve({ status, head, body: split < 0 ? '' : all.slice(split + 4) });
    });
    socket.write(text, 'latin1');
  });
}

/** A GET with the given request target and header lines (Connection: close added). */
const get = (target: string, ...headers: string[]) => `GET ${target} HTTP/1.1\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`;

describe('http server: Host header and request target', () => {
  it('routes origin-form targets by the Host header, unchanged', async () => {
    const { port, seen } = await echoServer();
    const r = await raw(port, get('/a/b?c=1', `Host: tokens.${ROOT}:8080`));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ url: `http://tokens.${ROOT}:8080/a/b?c=1`, host: `tokens.${ROOT}:8080`, method: 'GET' });
    for (const host of ['127.0.0.1:1', '[::1]:8080', 'LOCALHOST', 'under_score.x', `${ROOT}:0`]) {
      expect((await raw(port, get('/', `Host: ${host}`))).status, host).toBe(200);
    }
    expect(seen.map((s) => s.host)).toEqual([`tokens.${ROOT}:8080`, '127.0.0.1:1', '[::1]:8080', 'localhost', 'under_score.x', `${ROOT}:0`]);
  });

  it('refuses a Host header that carries a path, query, user info or a bad port, without calling the handler', async () => {
    const { port, seen } = await echoServer();
    const bad = [
      `transact.${ROOT}:${port}/push_transaction?`,
      `transact.${ROOT}/push_transaction`,
      `${ROOT}?x=1`,
      `${ROOT}#frag`,
      `evil@${ROOT}`,
      `${ROOT}:8080:9090`,
      `${ROOT}:99999`,
      `${ROOT}:http`,
      `${ROOT}:`,
      `a%2fb.${ROOT}`,
      `a b.${ROOT}`,
      '[::1',
      '[::1]x',
      '[nope]',
      '0x7f.1',
      '2130706433',
      '1.2.3.999',
      `${ROOT}.`,
      `a..${ROOT}`,
      `x.${'y'.repeat(300)}`,
    ];
    for (const host of bad) {
      const r = await raw(port, get('/anything', `Host: ${host}`));
      expect(r.status, host).toBe(400);
      expect(r.body, host).toMatch(/must be a host name with an optional port/);
    }
    expect(seen).toEqual([]);
  });

  it('cannot be steered to push_transaction by the Host header', async () => {
    const calls: unknown[] = [];
    const submitter: TransactionSubmitter = {
      async submit(input): Promise<TransactionTrace> {
        calls.push(input);
        return { actionTraces: [], error: null };
      },
    };
    const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
    const router = new Router({ rootHost: ROOT, chain, submitter });
    const { port } = await serve((r) => router.handle(r));
    const body = 'abc';
    const r = await raw(
      port,
      `POST /anything HTTP/1.1\r\nHost: transact.${ROOT}:${port}/push_transaction?\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(r.status).toBe(400);
    expect(r.body).toContain('the Host header must be a host name');
    expect(calls).toEqual([]);
  });

  it('refuses two Host headers, even when they agree', async () => {
    const { port, seen } = await echoServer();
    for (const [a, b] of [
      [ROOT, `transact.${ROOT}`],
      [ROOT, ROOT],
    ]) {
      const r = await raw(port, get('/', `Host: ${a}`, `host: ${b}`));
      expect(r.status).toBe(400);
      expect(r.body).toContain('2 Host headers; exactly one is allowed');
    }
    expect(seen).toEqual([]);
  });

  it('refuses a request without a Host header, or with an empty one', async () => {
    const { port } = await echoServer();
    const http10 = await raw(port, 'GET / HTTP/1.0\r\n\r\n');
    expect(http10.status).toBe(400);
    expect(http10.body).toContain('no Host header');
    expect((await raw(port, get('/', 'Host: '))).status).toBe(400);
  });

  it('takes absolute-form targets as psinode does: their authority wins over Host', async () => {
    const { port, seen } = await echoServer();
    const r = await raw(port, get(`http://tokens.${ROOT}:8080/a?b=1`, `Host: ${ROOT}`));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ url: `http://tokens.${ROOT}:8080/a?b=1`, host: `tokens.${ROOT}:8080` });
    expect((await raw(port, get(`HTTP://${ROOT}?q`, `Host: ${ROOT}`))).status).toBe(200);
    expect(seen[1]!.url).toBe(`http://${ROOT}/?q`);
    for (const target of [`http://user@${ROOT}/`, `http://${ROOT}:x/`, 'http:///path', `ftp://${ROOT}/`, `${ROOT}:80`, 'nothing']) {
      const bad = await raw(port, get(target, `Host: ${ROOT}`));
      expect(bad.status, target).toBe(400);
    }
    for (const target of ['/a#b', '/a?x#']) {
      const frag = await raw(port, get(target, `Host: ${ROOT}`));
      expect(frag.status).toBe(400);
      expect(frag.body).toContain("has a fragment ('#')");
    }
    // The Host header is still checked (RFC 9112 §3.2).
    expect((await raw(port, get(`http://${ROOT}/`, `Host: ${ROOT}/x`))).status).toBe(400);
    expect(seen).toHaveLength(2);
  });

  it('answers OPTIONS * itself and refuses * for other methods', async () => {
    const { port, seen } = await echoServer();
    const r = await raw(port, `OPTIONS * HTTP/1.1\r\nHost: ${ROOT}\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(204);
    expect(r.head).toMatch(/\r\nallow: GET, POST, HEAD, PUT, DELETE, OPTIONS/i);
    expect((await raw(port, get('*', `Host: ${ROOT}`))).status).toBe(400);
    expect(seen).toEqual([]);
  });
});

describe('http server: clients that abort', () => {
  /** Starts `n` uploads that promise 1000 bytes, sends 10, then drops the connection. */
  async function abortUploads(port: number, n: number): Promise<void> {
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<void>((resolve) => {
            const s = connect(port, '127.0.0.1', () => {
              s.write(`POST /up HTTP/1.1\r\nHost: ${ROOT}\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(10)}`, () => {
                setTimeout(() => {
                  s.destroy();
                  resolve();
                }, 20);
              });
            });
            s.on('error', () => resolve());
          }),
      ),
    );
  }

  async function until(check: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('reports aborted uploads once per kind per interval, not once per upload', async () => {
    const errors: unknown[] = [];
    const { port } = await echoServer({ abortSummaryMs: 300, onError: (e) => errors.push(e) });
    await abortUploads(port, 7);
    await until(() => errors.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toHaveLength(1);
    const summary = errors[0] as ClientAbortSummary;
    expect(summary).toBeInstanceOf(ClientAbortSummary);
    expect(summary.message).toBe('7 requests aborted by clients (ECONNRESET) in the last 0.3 s');
    expect(summary).toMatchObject({ kind: 'ECONNRESET', count: 7 });
    // A later burst is the next interval's line.
    await abortUploads(port, 1);
    await until(() => errors.length > 1);
    expect((errors[1] as Error).message).toBe('1 request aborted by clients (ECONNRESET) in the last 0.3 s');
  });

  it('flushes the summary when the server closes', async () => {
    const errors: unknown[] = [];
    const { server, port } = await echoServer({ abortSummaryMs: 60_000, onError: (e) => errors.push(e) });
    const counted = new Promise<void>((resolve) => server.on('connection', (s) => s.on('close', () => setTimeout(resolve, 50))));
    await abortUploads(port, 2);
    await counted;
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toEqual([]);
    servers.splice(servers.indexOf(server), 1);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('2 requests aborted by clients (ECONNRESET) in the last 60 s');
  });

  it('still reports other failures at once', async () => {
    const errors: unknown[] = [];
    const { port } = await serve(
      async () => {
        throw new Error('handler broke');
      },
      { onError: (e) => errors.push(e) },
    );
    const r = await raw(port, get('/', `Host: ${ROOT}`));
    expect(r.status).toBe(500);
    expect(errors.map((e) => (e as Error).message)).toEqual(['handler broke']);
  });
});

describe('bodies the adapter already holds (known-body.ts)', () => {
  it('sends text, bytes and streamed bodies exactly, with their lengths, and hands POST bodies to the handler', async () => {
    const posted: (Uint8Array | string | undefined)[] = [];
    const { port } = await serve(async (request) => {
      const path = new URL(request.url).pathname;
      if (request.method === 'POST') {
        posted.push(knownBody(request));
        return bytesResponse(Uint8Array.of(0xde, 0xad, 0xbe, 0xef), 'application/octet-stream');
      }
      if (path === '/text') return textResponse('héllo ✓', 200);
      return new Response(new Blob(['streamed ', 'body']).stream(), { headers: { 'Content-Type': 'text/plain' } });
    });
    const base = `http://${ROOT}:${port}`;
    const text = await fetchNode(`${base}/text`);
    expect(text.text()).toBe('héllo ✓');
    expect(text.headers['content-length']).toBe(String(new TextEncoder().encode('héllo ✓').length));
    expect((await fetchNode(`${base}/stream`)).text()).toBe('streamed body');
    const bin = await fetchNode(`${base}/bin`, { method: 'POST', body: Uint8Array.of(1, 2, 3), headers: { 'content-type': 'application/octet-stream' } });
    expect(Array.from(bin.body)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(posted.map((b) => Array.from(b as Uint8Array))).toEqual([[1, 2, 3]]);
  });
});

/** The peer transport's RFC 6455 framing, against hand-built frames and its own client. */
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptKey, acceptWebSocket, dialWebSocket, WebSocket } from './websocket.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server-side WebSocket on a raw TCP socket, and a raw client socket to write frames with. */
async function rawPair(maxMessageBytes?: number): Promise<{ server: Promise<WebSocket>; client: Socket; received: Buffer[] }> {
  let resolve!: (ws: WebSocket) => void;
  const server = new Promise<WebSocket>((r) => (resolve = r));
  const srv = createServer((socket) => resolve(new WebSocket(socket, 'server', Buffer.alloc(0), maxMessageBytes)));
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = connect((srv.address() as { port: number }).port, '127.0.0.1');
  const received: Buffer[] = [];
  client.on('data', (d: Buffer) => received.push(d));
  await new Promise<void>((r) => client.once('connect', () => r()));
  return { server, client, received };
}

function frame(opcode: number, payload: Uint8Array, { fin = true, mask = true } = {}): Buffer {
  const key = Buffer.from([1, 2, 3, 4]);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 0xff]);
  const body = Buffer.from(payload.map((b, i) => (mask ? b ^ key[i & 3]! : b)));
  return Buffer.concat([head, mask ? key : Buffer.alloc(0), body]);
}

function closeOf(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.on('close', (code) => resolve(code)));
}

describe('WebSocket framing', () => {
  it('reassembles a fragmented binary message, answering a ping in between', async () => {
    const { server, client, received } = await rawPair();
    const ws = await server;
    const messages: Uint8Array[] = [];
    ws.on('message', (m) => messages.push(m));
    client.write(Buffer.concat([frame(2, Buffer.from([34, 1]), { fin: false }), frame(9, Buffer.from('hi')), frame(0, Buffer.from([2, 3]), { fin: false })]));
    client.write(frame(0, Buffer.from([4]).subarray(0, 1)));
    await new Promise((r) => setTimeout(r, 100));
    expect(messages.map((m) => [...m])).toEqual([[34, 1, 2, 3, 4]]);
    // The pong: unmasked, opcode 10, the ping's payload.
    expect([...Buffer.concat(received)]).toEqual([0x8a, 2, ...Buffer.from('hi')]);
    client.destroy();
  });

  for (const [name, bytes, code] of [
    ['a text frame', frame(1, Buffer.from('{}')), 1003],
    ['an unmasked client frame', frame(2, Buffer.from([1]), { mask: false }), 1002],
    ['reserved bits', Buffer.from([0xc2, 0x80, 0, 0, 0, 0]), 1002],
    ['a continuation with nothing to continue', frame(0, Buffer.from([1])), 1002],
    ['a message over the limit', frame(2, new Uint8Array(200)), 1009],
  ] as const) {
    it(`closes on ${name} (status ${code})`, async () => {
      const { server, client, received } = await rawPair(100);
      const ws = await server;
      const closed = closeOf(ws);
      const messages: Uint8Array[] = [];
      ws.on('message', (m) => messages.push(m));
      client.write(bytes);
      expect(await closed).toBe(code);
      await new Promise((r) => setTimeout(r, 50));
      expect(messages).toEqual([]);
      // The close frame it sent says why.
      const out = Buffer.concat(received);
      expect(out[0]).toBe(0x88);
      expect(out.readUInt16BE(2)).toBe(code);
      client.destroy();
    });
  }

  it('its own client and server carry messages of every length encoding both ways', async () => {
    const http = createHttpServer();
    let serverSide!: WebSocket;
    http.on('upgrade', (req, socket, head) => {
      serverSide = acceptWebSocket(req, socket, head);
      serverSide.on('message', (m) => serverSide.send(m));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const ws = await dialWebSocket(`http://psiweb.localhost:${port}`);
    const echoes: Uint8Array[] = [];
    ws.on('message', (m) => echoes.push(m));
    const sizes = [0, 125, 126, 65535, 65536, 300_000];
    for (const size of sizes) ws.send(new Uint8Array(size).map((_, i) => i % 251));
    const end = Date.now() + 10_000;
    while (echoes.length < sizes.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(echoes.map((m) => m.length)).toEqual(sizes);
    expect(echoes[5]!.every((b, i) => b === i % 251)).toBe(true);
    ws.close();
    http.close();
  });

  it('measures a round trip by ping and pong, on both sides', async () => {
    const http = createHttpServer();
    let serverSide!: WebSocket;
    http.on('upgrade', (req, socket, head) => {
      serverSide = acceptWebSocket(req, socket, head);
      serverSide.on('message', () => undefined);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const ws = await dialWebSocket(`http://psiweb.localhost:${port}`);
    ws.on('message', () => undefined);
    expect(ws.rttMs).toBeUndefined();
    ws.ping();
    const end = Date.now() + 5_000;
    while (ws.rttMs === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(ws.rttMs).toBeGreaterThanOrEqual(0);
    expect(ws.rttMs).toBeLessThan(1_000);
    serverSide.ping();
    while (serverSide.rttMs === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(serverSide.rttMs).toBeGreaterThanOrEqual(0);
    ws.close();
    http.close();
  });

  it('a dial to something that does not upgrade fails with the status it got', async () => {
    const http = createHttpServer((_, res) => res.writeHead(404).end());
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    await expect(dialWebSocket(`http://127.0.0.1:${port}`)).rejects.toThrow(/answered 404 instead of switching/);
    http.close();
  });

  it('computes the accept key of RFC 6455 §1.3', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

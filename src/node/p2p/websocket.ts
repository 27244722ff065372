/**
 * A small RFC 6455 WebSocket for the peer transport (psinode's `x-peers.<root>/p2p`):
 * the server side of an HTTP upgrade and a client that dials one, over node:http and
 * node:net. Only what the peer protocol needs: binary messages (fragmented or not),
 * ping/pong and the closing handshake; no extensions, no subprotocols. Text frames,
 * unmasked client frames, masked server frames, reserved bits and oversized messages
 * are protocol errors that close the connection with the matching status code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { LOOPBACK } from '../constants.ts';
import { WebSocketHandshakeError } from './errors.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The largest message accepted (a block of psibase's default maximum size fits with room to spare). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Close status codes (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
  /** RFC 6455 §7.4.1 (IANA registry): the server is overloaded, try again later. */
  tryAgainLater: 1013,
} as const;

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface WebSocketEvents {
  message(data: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** One open WebSocket over a socket that finished its HTTP upgrade. */
export class WebSocket {
  private buffer: Buffer;
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private closed = false;
  private closeSent = false;
  private corked = false;
  private listening = false;
  private onMessage: (data: Uint8Array) => void = () => undefined;
  private onClose: (code: number, reason: string) => void = () => undefined;
  private readonly drainWaiters: (() => void)[] = [];
  /** Pings sent and not yet answered, by payload (hex), with when they were sent. */
  private readonly pings = new Map<string, number>();
  private nextPing = 0;
  /** The round trip of the last ping answered, ms (undefined until one is). */
  rttMs: number | undefined;

  constructor(
    private readonly socket: Duplex,
    /** A client masks what it sends and expects unmasked frames; a server the reverse. */
    readonly side: 'client' | 'server',
    head: Buffer = Buffer.alloc(0),
    readonly maxMessageBytes = MAX_MESSAGE_BYTES,
  ) {
    this.buffer = head;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    socket.on('drain', () => {
      for (const w of this.drainWaiters.splice(0)) w();
    });
    socket.on('close', () => this.finish(CloseCode.goingAway, 'the connection was lost'));
    socket.on('error', () => undefined);
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') (socket as { setNoDelay(v: boolean): void }).setNoDelay(true);
  }

  /** Messages are held until a message handler is set (the first frames may come with the handshake). */
  on<E extends keyof WebSocketEvents>(event: E, fn: WebSocketEvents[E]): void {
    if (event === 'message') {
      this.onMessage = fn as WebSocketEvents['message'];
      this.listening = true;
      queueMicrotask(() => this.parse());
    } else this.onClose = fn as WebSocketEvents['close'];
  }

  get isOpen(): boolean {
    return !this.closed && !this.closeSent;
  }

  /** Stops reading from the socket (the receiver is behind); `resume` starts again. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Bytes queued on the socket, not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Resolves once the socket's write queue drained (at once if it is short, or closed). */
  drained(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Sends one binary message; false if the connection is closing or closed. */
  /** Sends a ping; its pong sets `rttMs`. Pings still unanswered are forgotten when one is answered. */
  ping(): void {
    if (!this.isOpen) return;
    const payload = Buffer.alloc(8);
    payload.writeDoubleBE(this.nextPing++);
    this.pings.set(payload.toString('hex'), performance.now());
    if (this.pings.size > 16) this.pings.delete(this.pings.keys().next().value!);
    this.writeFrame(0x9, payload);
  }

  send(data: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.writeFrame(0x2, data);
    return true;
  }

  /** Starts the closing handshake; the socket ends once the peer answers (or after a second). */
  close(code: number = CloseCode.normal, reason = ''): void {
    if (this.closed || this.closeSent) return;
    const text = Buffer.from(reason.slice(0, 120));
    const payload = Buffer.alloc(2 + text.length);
    payload.writeUInt16BE(code, 0);
    text.copy(payload, 2);
    this.writeFrame(0x8, payload);
    this.closeSent = true;
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    timer.unref();
    this.finish(code, reason);
    this.socket.end();
  }

  /** Drops the connection without a closing handshake. */
  destroy(): void {
    this.socket.destroy();
    this.finish(CloseCode.goingAway, 'destroyed');
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.drainWaiters.splice(0)) w();
    this.onClose(code, reason);
  }

  /**
   * Frames written in one turn of the event loop leave together: the socket is corked at
   * the first and uncorked on the next tick, so a burst (a batch of blocks served from
   * the log, a header and its payload) is one writev, not a syscall per write.
   */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private writeFrame(opcode: number, payload: Uint8Array): void {
    this.cork();
    const mask = this.side === 'client';
    const len = payload.length;
    const extra = len < 126 ? 0 : len < 65536 ? 2 : 8;
    const header = Buffer.alloc(2 + extra + (mask ? 4 : 0));
    header[0] = 0x80 | opcode;
    header[1] = (mask ? 0x80 : 0) | (extra === 0 ? len : extra === 2 ? 126 : 127);
    if (extra === 2) header.writeUInt16BE(len, 2);
    else if (extra === 8) header.writeBigUInt64BE(BigInt(len), 2);
    if (!mask) {
      this.socket.write(header);
      this.socket.write(payload);
      return;
    }
    const key = randomBytes(4);
    key.copy(header, 2 + extra);
    const body = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) body[i] = payload[i]! ^ key[i & 3]!;
    this.socket.write(Buffer.concat([header, body]));
  }

  private fail(code: number, reason: string): void {
    this.buffer = Buffer.alloc(0);
    this.close(code, reason);
  }

  private parse(): void {
    while (!this.closed && this.listening) {
      const b = this.buffer;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const rsv = b[0]! & 0x70;
      const opcode = b[0]! & 0x0f;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxMessageBytes)) return this.fail(CloseCode.tooBig, `a frame of ${big} bytes is over the ${this.maxMessageBytes}-byte limit`);
        len = Number(big);
        offset = 10;
      }
      if (rsv !== 0) return this.fail(CloseCode.protocolError, 'reserved bits set (no extension was negotiated)');
      if (masked !== (this.side === 'server')) return this.fail(CloseCode.protocolError, this.side === 'server' ? 'a client frame must be masked' : 'a server frame must not be masked');
      if (len > this.maxMessageBytes || this.fragmentBytes + len > this.maxMessageBytes)
        return this.fail(CloseCode.tooBig, `a message over the ${this.maxMessageBytes}-byte limit`);
      const keyAt = offset;
      if (masked) offset += 4;
      if (b.length < offset + len) return;
      const payload = Buffer.from(b.subarray(offset, offset + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= b[keyAt + (i & 3)]!;
      this.buffer = b.subarray(offset + len);
      if (opcode >= 0x8) {
        if (!fin || len > 125) return this.fail(CloseCode.protocolError, 'a control frame must be whole and at most 125 bytes');
        if (opcode === 0x8) {
          const code = len >= 2 ? payload.readUInt16BE(0) : CloseCode.normal;
          const reason = len > 2 ? payload.subarray(2).toString('utf8') : '';
          if (!this.closeSent) {
            this.writeFrame(0x8, payload.subarray(0, Math.min(len, 2)));
            this.closeSent = true;
          }
          this.finish(code, reason);
          this.socket.end();
          return;
        }
        if (opcode === 0x9) {
          if (this.isOpen) this.writeFrame(0xa, payload);
          continue;
        }
        if (opcode === 0xa) {
          // A pong answers the ping with the same payload (RFC 6455 §5.5.3); others are unsolicited.
          const sent = this.pings.get(payload.toString('hex'));
          if (sent !== undefined) {
            this.pings.clear();
            this.rttMs = performance.now() - sent;
          }
          continue;
        }
        return this.fail(CloseCode.protocolError, `unknown control opcode ${opcode}`);
      }
      if (opcode === 0x1) return this.fail(CloseCode.unsupportedData, 'text frames are not part of the peer protocol (binary messages only)');
      if (opcode === 0x2) {
        if (this.fragments.length > 0) return this.fail(CloseCode.protocolError, 'a new message began before the fragmented one ended');
      } else if (opcode === 0x0) {
        if (this.fragments.length === 0) return this.fail(CloseCode.protocolError, 'a continuation frame with no message to continue');
      } else {
        return this.fail(CloseCode.protocolError, `unknown opcode ${opcode}`);
      }
      if (!fin) {
        this.fragments.push(payload);
        this.fragmentBytes += len;
        continue;
      }
      let message: Uint8Array = payload;
      if (this.fragments.length > 0) {
        this.fragments.push(payload);
        message = Buffer.concat(this.fragments);
        this.fragments = [];
        this.fragmentBytes = 0;
      }
      this.onMessage(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    }
  }
}

/** Whether an upgrade request asks for a WebSocket (RFC 6455 §4.2.1). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/**
 * Completes the server side of the handshake on an upgrade request already routed here:
 * checks the method, version and key, writes 101 and returns the WebSocket. Throws
 * WebSocketHandshakeError (after answering 400/426) when the request is not a valid
 * WebSocket handshake.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): WebSocket {
  const refuse = (status: number, text: string, why: string, extra = '') => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\n${extra}\r\n${why}\n`);
    return new WebSocketHandshakeError(why, { details: { status } });
  };
  if (req.method !== 'GET') throw refuse(400, 'Bad Request', 'a WebSocket handshake is a GET request');
  if (req.headers['sec-websocket-version'] !== '13') throw refuse(426, 'Upgrade Required', 'only WebSocket version 13 is supported', 'Sec-WebSocket-Version: 13\r\n');
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) throw refuse(400, 'Bad Request', 'Sec-WebSocket-Key must be 16 bytes in base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
  return new WebSocket(socket, 'server', head);
}

/**
 * Dials `url`'s peer endpoint as psinode's x-peers does: GET /p2p with Host
 * `x-peers.<host>` (the URL's host and port). `*.localhost` names (RFC 6761) and
 * `localhost` are dialed on loopback without asking DNS.
 */
export function dialWebSocket(url: string, options: { timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<WebSocket> {
  let u: URL;
  try {
    u = new URL(url.includes('://') ? url : `http://${url}`);
  } catch {
    return Promise.reject(new WebSocketHandshakeError(`not a peer URL: ${JSON.stringify(url)}`));
  }
  if (!['http:', 'ws:'].includes(u.protocol))
    return Promise.reject(new WebSocketHandshakeError(`peer URL ${url}: only http:// and ws:// are supported (no TLS here)`));
  const host = u.hostname === 'localhost' || u.hostname.endsWith('.localhost') ? LOOPBACK : u.hostname;
  const port = u.port === '' ? 80 : Number(u.port);
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host,
      port,
      path: '/p2p',
      method: 'GET',
      headers: {
        Host: `x-peers.${u.host}`,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        ...options.headers,
      },
      timeout: options.timeoutMs ?? 10_000,
    });
    req.on('upgrade', (res, socket, head) => {
      if (res.headers['sec-websocket-accept'] !== acceptKey(key)) {
        socket.destroy();
        reject(new WebSocketHandshakeError(`${url}: the server's Sec-WebSocket-Accept does not match the key`));
        return;
      }
      resolve(new WebSocket(socket, 'client', head));
    });
    req.on('response', (res) => {
      res.resume();
      reject(new WebSocketHandshakeError(`${url}: the peer answered ${res.statusCode} instead of switching to a WebSocket`, { details: { status: res.statusCode } }));
    });
    req.on('timeout', () => req.destroy(new WebSocketHandshakeError(`${url}: no answer to the WebSocket handshake`)));
    req.on('error', (e) => reject(e instanceof WebSocketHandshakeError ? e : new WebSocketHandshakeError(`${url}: ${e.message}`, { cause: e })));
    req.end();
  });
}

/**
 * A lean HTTP/1.1 client for load generation: one keep-alive socket per connection,
 * requests written as pre-built bytes, answers parsed just enough (status line,
 * Content-Length, body). On this 2-core machine the load generator shares the cores
 * with the node it measures; Node's http client cost about as much CPU per push as the
 * node itself, so a benchmark that used it measured the client as much as the node.
 * Only for benches against a psiweb node on loopback; anything unexpected throws.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** The bytes of one request. `host` is the Host header (the service's name and port). */
export function rawRequest(method: string, host: string, path: string, headers: Record<string, string>, body?: Uint8Array): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** One keep-alive connection; requests on it are answered in order (one at a time here). */
export class RawConnection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | undefined;
  #failed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    const fail = (e: Error) => {
      this.#failed ??= e;
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the connection closed')));
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `request` (from rawRequest) and resolves with the answer. */
  send(request: Buffer): Promise<RawResponse> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#waiting) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #parse(): void {
    if (!this.#waiting) return;
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) {
      this.#fail(new Error(`an answer without Content-Length: ${head.slice(0, 200)}`));
      return;
    }
    const length = Number(m[1]);
    const total = end + 4 + length;
    if (this.#buffer.length < total) return;
    const body = this.#buffer.subarray(end + 4, total);
    this.#buffer = this.#buffer.subarray(total);
    const w = this.#waiting;
    this.#waiting = undefined;
    w.resolve({ status, body });
  }

  #fail(e: Error): void {
    this.#failed = e;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.reject(e);
    this.#socket.destroy();
  }
}

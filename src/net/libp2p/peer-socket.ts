/**
 * One psibase peer over a libp2p stream, with the surface of the Node peer's WebSocket
 * (src/node/p2p/websocket.ts) that PeerNetwork drives: `on('message' | 'close')`,
 * `send`, `close(code, reason)`, `destroy`, `ping` / `rttMs`, `pause` / `resume`,
 * `bufferedAmount` / `drained`. Each message is one frame (frames.ts). A frame that is
 * not a psibase peer message (bad length, oversize, unknown type byte, fracpack that
 * does not decode) aborts this stream with a PeerFrameError, reported to the `close`
 * handler with the WebSocket status code a psinode would close with; the connection
 * and its other streams go on.
 */
import type { Connection, Stream } from '@libp2p/interface';
import { Circuit, WebRTC, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { PeerFrameError, PeerStreamClosedError } from './errors.ts';
import { checkPeerMessage, encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from './frames.ts';

/** WebSocket close status codes (RFC 6455 §7.4.1), the same numbers as src/node/p2p/websocket.ts. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  invalidPayload: 1007,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

export interface PeerSocketEvents {
  message(data: Uint8Array): void;
  close(code: number, reason: string): void;
}

/**
 * What a peer network needs of one peer connection, whatever carries it: the Node
 * peer's WebSocket has this shape, and so does Libp2pPeerSocket.
 */
export interface PeerSocket {
  on<E extends keyof PeerSocketEvents>(event: E, fn: PeerSocketEvents[E]): void;
  readonly isOpen: boolean;
  /** Sends one message (type byte + fracpack); false if the connection is closing or closed. */
  send(data: Uint8Array): boolean;
  close(code?: number, reason?: string): void;
  destroy(): void;
  ping(): void;
  /** The last ping's round trip, ms. */
  readonly rttMs: number | undefined;
  pause(): void;
  resume(): void;
  readonly bufferedAmount: number;
  drained(): Promise<void>;
}

/** How a libp2p connection reaches the peer: directly over WebRTC or a WebSocket, or through a relay. */
export type PeerTransport = 'webrtc' | 'websocket' | 'relayed' | 'other';

export function transportOf(connection: Pick<Connection, 'remoteAddr' | 'limits'>): PeerTransport {
  const addr = connection.remoteAddr;
  if (connection.limits != null || Circuit.matches(addr)) return 'relayed';
  if (WebRTC.matches(addr)) return 'webrtc';
  if (WebSockets.matches(addr) || WebSocketsSecure.matches(addr)) return 'websocket';
  return 'other';
}

/** The close code a psinode WebSocket would use for each kind of bad frame. */
function closeCodeOf(e: PeerFrameError): number {
  switch (e.fault) {
    case 'oversize':
      return CloseCode.tooBig;
    case 'bad-length':
      return CloseCode.protocolError;
    default:
      return CloseCode.invalidPayload;
  }
}

export interface Libp2pPeerSocketInit {
  /** Largest frame taken or sent (default MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
  /** Check each frame is a psibase peer message before handing it on (default true). */
  validate?: boolean;
  /** Measures a round trip to the peer (libp2p's ping over this connection), ms. */
  ping?: () => Promise<number>;
  log?: (line: string) => void;
  /** How long a graceful close waits for queued frames to flush before the stream is aborted, ms (default 1000). */
  closeTimeoutMs?: number;
}

/**
 * Frames sent in one turn of the event loop go to the stream as one write, up to this
 * many bytes (a larger frame goes alone). Each write is a muxer frame, an encrypted
 * noise message and a WebSocket or data-channel message, whose fixed costs dwarf a
 * small block's: a sync that sent ~300-byte blocks one write each spent most of a
 * browser's main thread on them.
 */
export const COALESCE_BYTES = 256 * 1024;

export class Libp2pPeerSocket implements PeerSocket {
  private readonly decoder: FrameDecoder;
  private readonly validate: boolean;
  private onMessage: (data: Uint8Array) => void = () => undefined;
  private onClose: (code: number, reason: string) => void = () => undefined;
  private listening = false;
  private closed = false;
  private closeSent = false;
  private pinging = false;
  /** Frames that arrived before a message handler was set. */
  private held: Uint8Array[] = [];
  /** Frames sent this turn, written together at its end (COALESCE_BYTES). */
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  rttMs: number | undefined;
  /** Why this side closed the stream for the peer's fault, if it did. */
  error: PeerFrameError | undefined;
  /** The status code and reason the stream closed with, once it did. */
  closedWith: { code: number; reason: string } | undefined;
  readonly transport: PeerTransport;

  constructor(
    readonly stream: Stream,
    readonly connection: Connection,
    private readonly init: Libp2pPeerSocketInit = {},
  ) {
    this.decoder = new FrameDecoder(init.maxFrameBytes ?? MAX_FRAME_BYTES);
    this.validate = init.validate ?? true;
    this.transport = transportOf(connection);
    stream.addEventListener('message', (evt) => this.receive(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()));
    stream.addEventListener('close', (evt) => {
      if (evt.error && !evt.local) this.finish(CloseCode.goingAway, `the stream was reset: ${evt.error.message}`);
      else this.finish(CloseCode.normal, evt.local ? '' : 'closed by the peer');
    });
    // The peer is done sending: psibase peers talk both ways, so this side closes too.
    stream.addEventListener('remoteCloseWrite', () => this.close(CloseCode.normal, 'the peer closed the stream'));
    // A stream the peer reset (or closed) before it was handed over, e.g. one a node that
    // bans this one refused at once: its close event has gone by.
    if (stream.status === 'reset' || stream.status === 'aborted') this.finish(CloseCode.goingAway, 'the stream was reset');
    else if (stream.status === 'closed') this.finish(CloseCode.normal, 'closed by the peer');
  }

  /** The peer's libp2p id. */
  get peerId(): string {
    return this.connection.remotePeer.toString();
  }

  get remoteAddr(): string {
    return this.connection.remoteAddr.toString();
  }

  get direction(): 'in' | 'out' {
    return this.stream.direction === 'inbound' ? 'in' : 'out';
  }

  /**
   * Frames are held until a message handler is set (the first may come with the stream);
   * a close handler set once the stream has closed hears that close (in a microtask).
   */
  on<E extends keyof PeerSocketEvents>(event: E, fn: PeerSocketEvents[E]): void {
    if (event === 'message') {
      this.onMessage = fn as PeerSocketEvents['message'];
      this.listening = true;
      const held = this.held;
      this.held = [];
      queueMicrotask(() => {
        for (const f of held) if (!this.closed) this.onMessage(f);
      });
    } else {
      this.onClose = fn as PeerSocketEvents['close'];
      const was = this.closedWith;
      if (was) queueMicrotask(() => this.onClose(was.code, was.reason));
    }
  }

  get isOpen(): boolean {
    return !this.closed && !this.closeSent && this.stream.writeStatus === 'writable';
  }

  send(data: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const frame = encodeFrame(data, this.init.maxFrameBytes ?? MAX_FRAME_BYTES);
    if (this.queuedBytes + frame.length > COALESCE_BYTES && !this.flush()) return false;
    this.queued.push(frame);
    this.queuedBytes += frame.length;
    if (this.queued.length === 1) queueMicrotask(() => this.flush());
    return true;
  }

  /** Writes the frames queued this turn as one chunk; false if the stream would not take it. */
  private flush(): boolean {
    const frames = this.queued;
    if (frames.length === 0) return true;
    const bytes = this.queuedBytes;
    this.queued = [];
    this.queuedBytes = 0;
    if (this.stream.writeStatus !== 'writable') return false;
    let chunk = frames[0]!;
    if (frames.length > 1) {
      chunk = new Uint8Array(bytes);
      let at = 0;
      for (const f of frames) {
        chunk.set(f, at);
        at += f.length;
      }
    }
    try {
      this.stream.send(chunk);
      return true;
    } catch {
      // The stream closed meanwhile, or its write buffer overflowed (it is reset, and
      // its close event tells the peer network).
      return false;
    }
  }

  ping(): void {
    if (!this.init.ping || this.pinging || !this.isOpen) return;
    this.pinging = true;
    this.init.ping().then(
      (ms) => {
        this.rttMs = ms;
        this.pinging = false;
      },
      () => {
        this.pinging = false;
      },
    );
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  get bufferedAmount(): number {
    return this.stream.writeBufferLength + this.queuedBytes;
  }

  drained(): Promise<void> {
    this.flush();
    if (this.closed || !this.stream.writableNeedsDrain) return Promise.resolve();
    return this.stream.onDrain().catch(() => undefined);
  }

  /**
   * Closes the stream: a normal close (1000, 1001) flushes what is queued first; any
   * other code (a fault) aborts it at once with a PeerStreamClosedError.
   */
  close(code: number = CloseCode.normal, reason = ''): void {
    if (this.closed || this.closeSent) return;
    // What was sent before the close goes first (a fault's abort drops it anyway).
    if (code === CloseCode.normal || code === CloseCode.goingAway) this.flush();
    this.closeSent = true;
    // The close handler hears this side's code and reason, not the stream's own close event.
    this.finish(code, reason);
    if (code === CloseCode.normal || code === CloseCode.goingAway) {
      const timer = setTimeout(() => this.stream.abort(new PeerStreamClosedError(code, reason)), this.init.closeTimeoutMs ?? 1000);
      (timer as { unref?: () => void }).unref?.();
      this.stream.close().then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
    } else this.stream.abort(new PeerStreamClosedError(code, reason));
  }

  destroy(): void {
    this.finish(CloseCode.goingAway, 'destroyed');
    this.stream.abort(new PeerStreamClosedError(CloseCode.goingAway, 'destroyed'));
  }

  private receive(chunk: Uint8Array): void {
    if (this.closed || this.error) return;
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      if (!(e instanceof PeerFrameError)) throw e;
      this.refuse(e);
      return;
    }
    for (const f of frames) {
      if (this.validate) {
        try {
          checkPeerMessage(f);
        } catch (e) {
          if (!(e instanceof PeerFrameError)) throw e;
          this.refuse(e);
          return;
        }
      }
      this.deliver(f);
    }
  }

  private deliver(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.listening) this.onMessage(frame);
    else this.held.push(frame);
  }

  /** A bad frame: the stream is aborted with the error, and the peer network hears why. */
  private refuse(e: PeerFrameError): void {
    this.error = e;
    this.init.log?.(`libp2p: closing the psibase peer stream of ${this.peerId}: ${e.message}`);
    this.closeSent = true;
    this.finish(closeCodeOf(e), e.message.slice(0, 120));
    this.stream.abort(e);
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.closedWith = { code, reason };
    this.onClose(code, reason);
  }
}

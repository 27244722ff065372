/**
 * psibase's peer protocol as a libp2p stream protocol: a node handles PSIBASE_PEER_PROTOCOL
 * and each stream, whichever side opened it, becomes one Libp2pPeerSocket (one psibase
 * peer). Streams only run over connections without limits: a relayed connection (circuit
 * relay v2, for WebRTC signalling) carries no psibase messages.
 */
import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Ping } from '@libp2p/ping';
import type { Multiaddr } from '@multiformats/multiaddr';
import { PeerDialError } from './errors.ts';
import { Libp2pPeerSocket, transportOf, type Libp2pPeerSocketInit, type PeerTransport } from './peer-socket.ts';

/** The protocol id of psibase's peer messages over libp2p. */
export const PSIBASE_PEER_PROTOCOL = '/psibase/peer/1.0.0';
/** Streams of this protocol one connection may hold at once, each way. */
export const MAX_PEER_STREAMS = 4;

export interface PeerProtocolInit extends Libp2pPeerSocketInit {
  /** Called with each stream a peer opened to this node. */
  onPeer?: (socket: Libp2pPeerSocket) => void;
}

/** One psibase peer as `/native/status` lists it. */
export interface Libp2pPeerInfo {
  peerId: string;
  transport: PeerTransport;
  direction: 'in' | 'out';
  remoteAddr: string;
  rttMs?: number;
}

export type PingingLibp2p = Libp2p<{ ping: Ping }>;

export class PsibasePeerProtocol {
  /** The open psibase peer streams. */
  readonly sockets = new Set<Libp2pPeerSocket>();
  private started = false;

  constructor(
    readonly node: PingingLibp2p,
    private readonly init: PeerProtocolInit = {},
  ) {}

  async start(): Promise<void> {
    if (this.started) return;
    await this.node.handle(PSIBASE_PEER_PROTOCOL, (stream, connection) => {
      const socket = this.adopt(stream, connection);
      this.init.onPeer?.(socket);
    }, { maxInboundStreams: MAX_PEER_STREAMS, maxOutboundStreams: MAX_PEER_STREAMS, runOnLimitedConnection: false });
    this.started = true;
  }

  /**
   * Opens a psibase peer stream to `target` (a multiaddr, e.g. a relay's
   * `/…/p2p-circuit/webrtc/p2p/<id>` for a direct WebRTC connection to a browser, or a
   * peer id already connected). A PeerDialError when it cannot.
   */
  async dial(target: Multiaddr | PeerId, options: AbortOptions = {}): Promise<Libp2pPeerSocket> {
    let connection: Connection;
    let stream: Stream;
    try {
      connection = await this.node.dial(target, options);
      try {
        stream = await connection.newStream(PSIBASE_PEER_PROTOCOL, { ...options, runOnLimitedConnection: false });
      } catch (e) {
        // libp2p keeps a connection whose muxer closed while its socket stays open, and
        // hands it to every dial until the socket closes (a joiner's connection to its
        // relay stayed so ~9 s): it is aborted, and one new connection tried.
        if ((e as Error).name !== 'ConnectionClosedError' || connection.status !== 'open') throw e;
        this.init.log?.(`libp2p: the connection to ${connection.remotePeer.toString()} cannot open streams (${(e as Error).message}): aborted, dialing again`);
        connection.abort(e as Error);
        connection = await this.node.dial(target, options);
        stream = await connection.newStream(PSIBASE_PEER_PROTOCOL, { ...options, runOnLimitedConnection: false });
      }
    } catch (e) {
      throw new PeerDialError(`cannot open a psibase peer stream to ${target.toString()}: ${(e as Error).message}`, { cause: e, details: { target: target.toString() } });
    }
    return this.adopt(stream, connection);
  }

  peers(): Libp2pPeerInfo[] {
    return [...this.sockets].map((s) => ({
      peerId: s.peerId,
      transport: s.transport,
      direction: s.direction,
      remoteAddr: s.remoteAddr,
      ...(s.rttMs !== undefined && { rttMs: Math.round(s.rttMs * 100) / 100 }),
    }));
  }

  /** Stops taking streams and closes the open ones. */
  async stop(): Promise<void> {
    if (this.started) await this.node.unhandle(PSIBASE_PEER_PROTOCOL).catch(() => undefined);
    this.started = false;
    for (const s of this.sockets) s.close(1001, 'the node is stopping');
    this.sockets.clear();
  }

  private adopt(stream: Stream, connection: Connection): Libp2pPeerSocket {
    const ping = this.node.services.ping;
    const socket = new Libp2pPeerSocket(stream, connection, {
      ...this.init,
      ping: this.init.ping ?? (() => ping.ping(connection.remotePeer)),
    });
    this.sockets.add(socket);
    stream.addEventListener('close', () => this.sockets.delete(socket));
    return socket;
  }
}

export { transportOf };

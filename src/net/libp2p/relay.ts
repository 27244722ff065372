/**
 * `/psiweb/relay/2.0.0`: the transactions a producer holds, relayed to the other producers
 * so whichever leads puts them in a block (psinode relays them over HTTP between
 * producers; browsers have no HTTP server). One long-lived stream each way between two
 * peers, carrying packed SignedTransactions as frames (frames.ts: a varint length, then
 * the bytes; at most MAX_PUSH_BYTES each), unanswered.
 *
 * Version 1 opened a stream per transaction and waited for an answer. Over WebRTC every
 * libp2p stream is its own data channel: a burst of a few hundred transactions opened
 * and closed hundreds of channels, the connections carrying the producers' votes broke
 * under it, and a browser BFT set fell into view changes. A relay lost on the way costs
 * little: the core relays again what waits in no block (CoreNode RELAY_AGAIN_INTERVALS).
 *
 * Bad input: a frame over the limit, or one that does not decode as a frame, aborts the
 * stream (PeerFrameError) and nothing of it after that is taken; a stream from a peer
 * the taker does not accept is closed.
 */
import type { Connection, Libp2p } from '@libp2p/interface';
import { Libp2pPeerSocket } from './peer-socket.ts';
import { MAX_PUSH_BYTES, MAX_PUSH_STREAMS } from './push.ts';

export const RELAY_PROTOCOL = '/psiweb/relay/2.0.0';
/** Bytes queued on a relay stream beyond which more transactions are passed over (relayed again later). */
export const RELAY_BUFFER_MAX = 8 * 1024 * 1024;
/** Transactions kept for a peer while its stream opens. */
export const RELAY_OPENING_MAX = 4096;

export interface TxRelayInit {
  /** Whether transactions from `from` (a peer id) are taken. */
  accept(from: string): boolean;
  /** A transaction a peer relayed. */
  onTx(tx: Uint8Array, from: string): void;
  log?: (line: string) => void;
}

interface Outbound {
  socket?: Libp2pPeerSocket;
  /** Transactions waiting for the stream to open. */
  opening?: Uint8Array[];
}

export class TxRelay {
  private readonly out = new Map<string, Outbound>();
  private readonly inbound = new Set<Libp2pPeerSocket>();
  private stopped = false;
  /** Transactions passed over (a stream's buffer full, or one that could not open). */
  dropped = 0;

  constructor(
    private readonly node: Libp2p,
    private readonly init: TxRelayInit,
  ) {}

  /** Takes relays from peers. */
  async start(): Promise<void> {
    await this.node.handle(
      RELAY_PROTOCOL,
      (stream, connection) => {
        const from = connection.remotePeer.toString();
        const socket = new Libp2pPeerSocket(stream, connection, { validate: false, maxFrameBytes: MAX_PUSH_BYTES });
        if (this.stopped || !this.init.accept(from)) return void socket.close(1008, 'not a peer of this network');
        this.inbound.add(socket);
        socket.on('close', (code, reason) => {
          this.inbound.delete(socket);
          if (code !== 1000 && code !== 1001) this.init.log?.(`relay from ${from.slice(-8)} closed: ${code} ${reason}`);
        });
        socket.on('message', (tx) => {
          if (tx.length === 0) return;
          this.init.onTx(tx, from);
        });
      },
      // One stream each way per peer; a few more while one closes and another opens.
      { runOnLimitedConnection: false, maxInboundStreams: 8, maxOutboundStreams: MAX_PUSH_STREAMS },
    );
  }

  /** Relays `tx` to the peer on `connection` (opening its stream the first time). */
  send(connection: Connection, tx: Uint8Array): void {
    if (this.stopped || tx.length > MAX_PUSH_BYTES) return;
    const id = connection.remotePeer.toString();
    let o = this.out.get(id);
    if (!o) this.out.set(id, (o = {}));
    if (o.socket?.isOpen) {
      if (o.socket.bufferedAmount > RELAY_BUFFER_MAX || !o.socket.send(tx)) this.dropped++;
      return;
    }
    if (o.opening) {
      if (o.opening.length < RELAY_OPENING_MAX) o.opening.push(tx);
      else this.dropped++;
      return;
    }
    o.socket = undefined;
    o.opening = [tx];
    void this.open(id, connection, o);
  }

  private async open(id: string, connection: Connection, o: Outbound): Promise<void> {
    try {
      const stream = await connection.newStream(RELAY_PROTOCOL, { runOnLimitedConnection: false });
      const socket = new Libp2pPeerSocket(stream, connection, { validate: false, maxFrameBytes: MAX_PUSH_BYTES });
      // Nothing comes back on it; a close (the peer went, or refused it) opens a new one next time.
      socket.on('message', () => undefined);
      socket.on('close', () => {
        if (this.out.get(id)?.socket === socket) this.out.delete(id);
      });
      const waiting = o.opening ?? [];
      o.opening = undefined;
      if (this.stopped || this.out.get(id) !== o) return void socket.close(1000, 'stopped');
      o.socket = socket;
      for (const tx of waiting) if (!socket.send(tx)) this.dropped++;
    } catch (e) {
      this.dropped += o.opening?.length ?? 0;
      if (this.out.get(id) === o) this.out.delete(id);
      this.init.log?.(`relay to ${id.slice(-8)}: cannot open a stream: ${(e as Error).message}`);
    }
  }

  /** Closes the streams and stops taking relays. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const o of this.out.values()) o.socket?.close(1001, 'stopping');
    this.out.clear();
    for (const s of this.inbound) s.close(1001, 'stopping');
    this.inbound.clear();
    await this.node.unhandle(RELAY_PROTOCOL).catch(() => undefined);
  }
}

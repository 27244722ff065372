/**
 * psibase's peer protocol over a set of peer sockets (libp2p streams, or anything of the
 * PeerSocket shape), as the node core's Transport (src/core/platform.ts) wants it:
 * `sendToPeer`, `broadcast`, `sendToProducer` (psibase's shortest-path routing,
 * src/net/routing, as the Node peer's PeerNetwork does) and `misbehaved`. This is what a
 * browser, which has no PeerNetwork, runs between itself and its libp2p peers.
 *
 * On each new peer: InitMessage{version 0}, then the routing connect (every route this
 * node has). Routing messages go to the router; an envelope for this node's producer and
 * every other message go to the `onMessage` handlers with the peer's label. A message
 * that is not psibase's (the socket refuses it first), a wrong protocol version, or a
 * peer reported as misbehaving closes that peer's stream and refuses its libp2p peer id
 * for `banMs`.
 */
import { ShortestPathRouting, type RoutingAction, type RoutingMessage } from '../routing/index.ts';
import { decodeMessage, decodesAsMessage, encodeMessage, isRoutingKind, MessageDecodeError, ROUTED_TYPES, type AnyMessage, type WireMessage } from '../wire/index.ts';
import { accountNumber } from '../../protocol/names.ts';
import { PsiwebError } from '../../errors.ts';
import { CloseCode, type PeerSocket } from './peer-socket.ts';

/** psibase's routing_base protocol_version. */
export const PROTOCOL_VERSION = 0;
/** How long a misbehaving peer id is refused (default of `banMs`). */
export const BAN_MS = 10 * 60_000;

/** A peer refused: its id is banned for misbehaving. */
export class PeerRefusedError extends PsiwebError {
  override name = 'PeerRefusedError';
}

/** A socket with the libp2p peer id it belongs to (Libp2pPeerSocket has both). */
export type IdentifiedSocket = PeerSocket & { readonly peerId: string };

export interface TransportMessage {
  /** The neighbour's label (for sendToPeer, misbehaved). */
  peer: string;
  message: WireMessage;
  bytes: Uint8Array;
  /** It came in a RoutingEnvelope addressed to this node's producer. */
  routed: boolean;
}

export interface Libp2pTransportInit {
  /** This node's producer, if it is one (envelopes addressed to it are delivered here). */
  producer?: string;
  /** The active producers routes are kept to; undefined: any name. */
  producers?: Iterable<string>;
  /** psibase draws a random RouterId per start (default: from crypto.getRandomValues). */
  routerId?: bigint;
  banMs?: number;
  now?: () => number;
  log?: (line: string) => void;
  /** Whether an envelope for another producer may be passed on (default: a consensus message that decodes). */
  validateRouted?: (bytes: Uint8Array) => boolean;
}

/** A neighbour came or went (the label is the one messages carry). */
export interface TransportPeerEvent {
  type: 'connected' | 'closed';
  peer: string;
  peerId: string;
  /** Why this side dropped it (misbehaving), when it did. */
  reason?: string;
}

interface Neighbour {
  id: number;
  label: string;
  socket: IdentifiedSocket;
  closed: boolean;
  /** Why this side dropped it, once it did. */
  dropped?: string;
}

export class Libp2pTransport {
  readonly routing: ShortestPathRouting;
  private readonly neighbours = new Map<number, Neighbour>();
  private readonly byLabel = new Map<string, Neighbour>();
  private readonly handlers = new Set<(m: TransportMessage) => void>();
  private readonly peerHandlers = new Set<(e: TransportPeerEvent) => void>();
  private readonly bans = new Map<string, { until: number; reason: string }>();
  private readonly now: () => number;
  private nextId = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closing = false;

  constructor(private readonly init: Libp2pTransportInit = {}) {
    this.now = init.now ?? Date.now;
    this.routing = new ShortestPathRouting({
      now: this.now,
      routerId: init.routerId ?? randomRouterId(),
      ...(init.producer !== undefined && { self: accountNumber(init.producer) }),
      ...(init.producers !== undefined && { producers: [...init.producers].map(accountNumber) }),
      validate: init.validateRouted ?? ((data) => ROUTED_TYPES.has(data[0]!) && decodesAsMessage(data)),
      ...(init.log && { log: init.log }),
    });
  }

  /** Takes a peer's socket; its label is returned. A PeerRefusedError (and the socket closed) when its peer id is banned. */
  add(socket: IdentifiedSocket): string {
    const ban = this.banned(socket.peerId);
    if (ban || this.closing) {
      const why = ban ? `${socket.peerId} is banned until ${new Date(ban.until).toISOString()}: ${ban.reason}` : 'the transport is closing';
      socket.close(CloseCode.policyViolation, why.slice(0, 120));
      throw new PeerRefusedError(why, { details: { peerId: socket.peerId } });
    }
    const n: Neighbour = { id: this.nextId++, label: '', socket, closed: false };
    n.label = `#${n.id}`;
    this.neighbours.set(n.id, n);
    this.byLabel.set(n.label, n);
    socket.on('close', () => this.gone(n));
    socket.on('message', (data) => this.receive(n, data));
    socket.send(encodeMessage({ kind: 'InitMessage', value: { version: PROTOCOL_VERSION } }));
    this.act(this.routing.connect(n.id));
    for (const h of this.peerHandlers) h({ type: 'connected', peer: n.label, peerId: socket.peerId });
    return n.label;
  }

  /** Calls `handler` when a neighbour is added and when it is gone. Returns a function that removes it. */
  onPeer(handler: (e: TransportPeerEvent) => void): () => void {
    this.peerHandlers.add(handler);
    return () => this.peerHandlers.delete(handler);
  }

  /** Calls `handler` with every message that is not routing's own. Returns a function that removes it. */
  onMessage(handler: (m: TransportMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  // The node core's Transport

  sendToProducer(producer: string, bytes: Uint8Array): boolean {
    decodeMessage(bytes);
    const { sent, actions } = this.routing.sendTo(accountNumber(producer), bytes);
    this.act(actions);
    return sent;
  }

  sendToPeer(peer: string, bytes: Uint8Array): boolean {
    decodeMessage(bytes);
    const n = this.byLabel.get(peer);
    return !!n && !n.closed && n.socket.send(bytes);
  }

  broadcast(bytes: Uint8Array): void {
    decodeMessage(bytes);
    for (const n of this.neighbours.values()) if (!n.closed) n.socket.send(bytes);
  }

  misbehaved(peer: string, reason: string): void {
    const n = this.byLabel.get(peer);
    if (!n || n.closed) return;
    this.drop(n, reason);
  }

  /** The neighbours now: label and libp2p peer id. */
  peers(): { label: string; peerId: string; rttMs?: number }[] {
    return [...this.neighbours.values()].map((n) => ({ label: n.label, peerId: n.socket.peerId, ...(n.socket.rttMs !== undefined && { rttMs: n.socket.rttMs }) }));
  }

  setProducers(producers: Iterable<string> | undefined, self?: string): void {
    this.act(this.routing.setProducers(producers ? [...producers].map(accountNumber) : undefined, self === undefined ? undefined : accountNumber(self)));
  }

  close(): void {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    for (const n of [...this.neighbours.values()]) n.socket.close(CloseCode.goingAway, 'the node is stopping');
  }

  private banned(peerId: string): { until: number; reason: string } | undefined {
    const b = this.bans.get(peerId);
    if (b && b.until <= this.now()) {
      this.bans.delete(peerId);
      return undefined;
    }
    return b;
  }

  private drop(n: Neighbour, reason: string): void {
    this.init.log?.(`libp2p: dropping peer ${n.label} (${n.socket.peerId}): ${reason}`);
    this.bans.set(n.socket.peerId, { until: this.now() + (this.init.banMs ?? BAN_MS), reason });
    n.dropped = reason;
    n.socket.close(CloseCode.policyViolation, reason.slice(0, 120));
    this.gone(n);
  }

  /** Whether `peerId` is refused now (dropped for misbehaving, within banMs). */
  isBanned(peerId: string): boolean {
    return this.banned(peerId) !== undefined;
  }

  private gone(n: Neighbour): void {
    const reason = n.dropped;
    if (n.closed) return;
    n.closed = true;
    this.neighbours.delete(n.id);
    this.byLabel.delete(n.label);
    this.act(this.routing.disconnect(n.id));
    for (const h of this.peerHandlers) h({ type: 'closed', peer: n.label, peerId: n.socket.peerId, ...(reason !== undefined && { reason }) });
  }

  private receive(n: Neighbour, data: Uint8Array): void {
    if (n.closed) return;
    const type = data[0]!;
    // psibase messages psiweb does not speak yet, and x-peers' own: the socket let them through unchecked.
    if (type >= 64 || type === 42 || type === 43 || type === 45) return;
    let msg: WireMessage;
    try {
      msg = decodeMessage(data);
    } catch (e) {
      if (!(e instanceof MessageDecodeError)) throw e;
      return this.drop(n, `a message that does not decode: ${e.message}`);
    }
    if (msg.kind === 'InitMessage') {
      if (msg.value.version !== PROTOCOL_VERSION) this.drop(n, `the peer speaks protocol version ${msg.value.version}; psiweb speaks ${PROTOCOL_VERSION}`);
      return;
    }
    if (isRoutingKind(msg.kind)) return this.act(this.routing.receive(n.id, msg as RoutingMessage));
    this.emit(n, msg, data, false);
  }

  private emit(n: Neighbour, message: WireMessage, bytes: Uint8Array, routed: boolean): void {
    for (const h of this.handlers) h({ peer: n.label, message, bytes, routed });
  }

  private act(actions: RoutingAction[]): void {
    for (const a of actions) {
      if (a.kind === 'send') {
        const n = this.neighbours.get(a.peer);
        if (n && !n.closed) n.socket.send(encodeMessage(a.message as AnyMessage));
      } else {
        const n = this.neighbours.get(a.from);
        if (!n || n.closed) continue;
        let msg: WireMessage;
        try {
          msg = decodeMessage(a.data);
        } catch (e) {
          if (!(e instanceof MessageDecodeError)) throw e;
          this.drop(n, `an envelope for this node holding a message that does not decode: ${e.message}`);
          continue;
        }
        if (isRoutingKind(msg.kind)) this.act(this.routing.receive(n.id, msg as RoutingMessage));
        else if (msg.kind !== 'InitMessage') this.emit(n, msg, a.data, true);
      }
    }
    const at = this.routing.wakeAt;
    if (at !== undefined && !this.timer && !this.closing) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.act(this.routing.wake());
      }, Math.max(0, at - this.now()));
      (this.timer as { unref?: () => void }).unref?.();
    }
  }
}

function randomRouterId(): bigint {
  const b = new BigUint64Array(1);
  crypto.getRandomValues(b);
  return b[0]!;
}



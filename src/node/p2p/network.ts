/**
 * The Node peer's connections to other peers over psibase's peer protocol
 * (libraries/net): every WebSocket message is one type byte + fracpack (src/net/wire),
 * and blocks move by blocknet.hpp's hello/block flow:
 *
 *  - On connect each side sends InitMessage{version 0} (routing_base.hpp connect) and a
 *    HelloRequest naming its head ({0, 1} when it holds no chain yet), marked
 *    `committed` when the head is irreversible; a head that is not is followed by a hello
 *    for the irreversible block.
 *  - A side that knows the block a hello names (or is told "no blocks": id 0) has found
 *    the common block and sends every later block, one BlockMessage each, then each new
 *    block as its head moves. A hello naming a committed block that contradicts ours
 *    means another chain: the peer is disconnected. One naming a block we do not have
 *    means the peer is ahead: we wait for its blocks.
 *  - A received block is acknowledged as the peer's (so it is never echoed back,
 *    blocknet's update_last_received); a follower applies the next block with
 *    Chain.applyBlock (signature, proofs, re-execution, merkle root, id) and passes it
 *    on to its other peers. Blocks wait in one queue (whichever peer sent them) while
 *    the one before is applied; a run of consecutive ones that queued up meanwhile (a
 *    follower catching up) goes to Chain.applyBlocks together: each is validated in
 *    turn as applyBlock would, and the valid ones commit in one store transaction. A block that fails validation, or contradicts a block we
 *    hold, disconnects the peer that sent it.
 *
 * Routing (psinode's shortest_path_routing.hpp, src/net/routing): each connected peer is
 * a neighbour of a ShortestPathRouting; RouteUpdateMessage, RouteSeqnoRequest,
 * RequestRoutesMessage and RoutingEnvelope go to it, and what it answers goes out, so
 * this node learns routes to producers and forwards envelopes addressed to others.
 * `sendToProducer` sends a message to a producer in an envelope along its route.
 * Consensus messages (and envelopes addressed to this node's producer) go to the
 * `onMessage` handlers.
 *
 * The mesh (discovery.ts): a node dialing says its own URL in the handshake; each node
 * lists its peers' URLs at `GET x-peers.<root>/peers` and asks its peers for theirs every
 * `discoveryIntervalMs`; addresses it has no connection to are dialed, up to
 * `maxOutbound` (the --peer URLs are always dialed), within `maxConnections` in all. A
 * dial that fails or a connection that is lost is tried again after an exponential
 * backoff with jitter (capped at RECONNECT_MAX_MS); a learned address that fails
 * MAX_DISCOVERED_ATTEMPTS times in a row is forgotten. Two connections between the same
 * two nodes (both dialed at once): the one dialed by the node with the smaller URL stays.
 *
 * Bans: a peer that sends a frame that does not decode, a type byte psibase does not
 * define, a wrong version, an invalid block, another chain, or that a caller reports
 * (`misbehaved`) is disconnected and refused for `banMs` (default BAN_MS), with a log
 * line; `bans()` lists the bans. What is refused depends on what is known of the peer:
 * a peer this node dialed is banned by its URL (dials to it wait, and handshakes that
 * claim it are answered 403); a peer that dialed in only claims its URL (anyone could
 * claim another's), so handshakes claiming it are refused (`claimed:URL`) and it is not
 * dialed as a learned address, but a --peer URL is still dialed; a peer not on loopback
 * is banned by its IP address too (`ip:ADDRESS`).
 *
 * libp2p (src/net/libp2p): the same messages, one frame each, on a `/psibase/peer/1.0.0`
 * stream (a Libp2pPeerSocket, the same PeerSocket shape as the WebSocket): `acceptLibp2p`
 * takes the streams other nodes open to this node's libp2p host, and `connect` with a
 * multiaddr (`/ip4/…/tcp/…/ws/p2p/<id>`) dials one through `libp2p.dial`. Such a peer's
 * id is proven by the connection's handshake, so it is banned by it (`libp2p:PEER_ID`)
 * whichever side dialed, never by URL or IP; a frame its stream refuses (bad length
 * prefix, oversize) bans it as an undecodable message does. Its `transport` in
 * `peers()` is the connection's (websocket, webrtc, relayed); it has no URL, so it takes
 * no part in URL discovery.
 *
 * Messages of types 64 and up are x-peers' own connection messages (IdMessage,
 * HostnamesMessage …), which psinode hands to the x-peers service, not to the network:
 * they are ignored here, as are psibase's snapshot and state-checksum messages (42, 43,
 * 45), which psiweb does not serve. Any other frame that does not decode closes the
 * connection and bans its sender.
 */
import { GENESIS_BLOCK_NUM } from '../../chain/constants.ts';
import { BlockValidationError } from '../../chain/errors.ts';
import type { Chain } from '../../chain/executor.ts';
import { decodeMessage, decodesAsMessage, encodeMessage, isRoutingKind, MessageDecodeError, ROUTED_TYPES, UnknownMessageTypeError, type AnyMessage, type WireMessage } from '../../net/wire/index.ts';
import { ShortestPathRouting, type RoutingAction, type RoutingMessage } from '../../net/routing/index.ts';
import { accountNumber } from '../../protocol/names.ts';
import { blockId } from '../../protocol/ids.ts';
import { unpackSignedBlock } from '../../protocol/types.ts';
import { bytesEqual } from '../../state/bytes.ts';
import { readBlocks } from '../../state/store.ts';
// Block ids as psibase's JSON writes them (upper-case hex), as /native/status does.
import { toHex as hexId } from '../../protocol/fracpack/index.ts';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import { PsiwebError } from '../../errors.ts';
import { fetchPeerList, PEER_URL_HEADER, peerUrlKey } from './discovery.ts';
import { PeerBannedError, PeerListError, PeerMisbehaviourError, WebSocketHandshakeError, type PeerFaultReason } from './errors.ts';
import { CloseCode, dialWebSocket } from './websocket.ts';
import { PeerFrameError } from '../../net/libp2p/errors.ts';
import { PeerHead } from '../../net/peer-head.ts';
import type { Libp2pPeerSocket, PeerSocket, PeerTransport } from '../../net/libp2p/peer-socket.ts';

/** psibase's routing_base protocol_version. */
export const PROTOCOL_VERSION = 0;
/** Type bytes psibase defines that psiweb does not speak yet: ignored, not a fault. */
const IGNORED_TYPES: ReadonlySet<number> = new Set([42, 43, 45]);
/** Type bytes from here up belong to x-peers, not to the network (psibase WebSocket::handleP2P). */
const FIRST_XPEERS_TYPE = 64;
/** Bytes queued on a socket before the block pump waits for it to drain. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;
/** Blocks a catching-up peer is sent in one turn (read together first). */
const PUMP_BATCH = 32;
/** Received messages waiting to be handled before the socket stops reading. */
const INBOX_HIGH = 512;
const INBOX_LOW = 64;
/** At most this many queued blocks are validated and committed together. */
export const MAX_BLOCKS_PER_COMMIT = 64;
/** Reconnect backoff for --peer URLs: first wait, and the most it grows to. */
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 5_000;
/** After a peer refused this node for a fault, its URL is not dialed again for this long. */
export const MISBEHAVIOUR_BACKOFF_MS = 30_000;
/** A misbehaving peer's URL and address are refused for this long (default of `banMs`). */
export const BAN_MS = 10 * 60_000;
/** Most connections dialed to addresses learned from peers (default of `maxOutbound`). */
export const MAX_OUTBOUND_PEERS = 8;
/** Most connections in all, both directions (default of `maxConnections`). */
export const MAX_CONNECTIONS = 96;
/** How often each peer is asked for the URLs it knows (default of `discoveryIntervalMs`). */
export const DISCOVERY_INTERVAL_MS = 10_000;
/** A learned address whose dials fail this many times in a row is forgotten. */
export const MAX_DISCOVERED_ATTEMPTS = 4;
/** A learned address given up on is not learned again for this long. */
export const UNREACHABLE_MS = 5 * 60_000;
/** A connection that lasted this long resets its dialer's backoff. */
const STABLE_CONNECTION_MS = 10_000;

export type Role = 'producer' | 'follower';

/** How often each peer is pinged for its round trip. */
export const RTT_PING_MS = 5_000;

export interface PeerInfo {
  id: number;
  /** How the peer is reached: psibase's peer WebSocket, or a libp2p connection (a WebSocket, WebRTC, or through a relay). */
  transport: PeerTransport;
  direction: 'in' | 'out';
  url?: string;
  /** A libp2p peer's id (libp2p peers are banned by it). */
  peerId?: string;
  /** A libp2p peer's remote multiaddr. */
  addr?: string;
  /** The newest block the peer is known to hold (from its hello or the blocks it sent or was sent). */
  head?: { num: number; id: string };
  /** The last WebSocket ping's round trip, ms (pinged on connect and every RTT_PING_MS). */
  rttMs?: number;
}

/** A URL, address or libp2p peer refused for misbehaving, until `until` (ISO time). */
export interface BanInfo {
  /** `http://host:port` (a peer URL), `ip:ADDRESS`, or `libp2p:PEER_ID`. */
  key: string;
  until: string;
  reason: PeerFaultReason;
  message: string;
}

/** What takes the block flow from the network under multi-producer consensus (attachConsensus). */
export interface ConsensusLayer {
  receive(peer: number, bytes: Uint8Array): void;
  connected(peer: number): void;
}

/** A message from a peer for the consensus layer. */
export interface ReceivedMessage {
  /** The neighbour it came from (for `misbehaved`, `sendToPeer`). */
  peer: number;
  message: WireMessage;
  /** The message's bytes (type byte + fracpack), e.g. to verify a signature or pass it on. */
  bytes: Uint8Array;
  /** It came in a RoutingEnvelope addressed to this node's producer. */
  routed: boolean;
}

export interface PeerNetworkInit {
  chain: Chain;
  role: Role;
  log: (line: string) => void;
  /** Called once a block is applied from a peer (the genesis block gives an empty node its chain id). */
  onApplied?: (num: number, id: Uint8Array) => void;
  /** Most peers that dialed this node, connected at once (default MAX_INBOUND_PEERS). */
  maxInbound?: number;
  /** The root URL this node is reachable at: told to the peers it dials, listed at x-peers.<root>/peers. */
  selfUrl?: string;
  /** Most connections dialed to learned addresses (default MAX_OUTBOUND_PEERS); `connect` URLs are always dialed. */
  maxOutbound?: number;
  /** Most connections in all (default MAX_CONNECTIONS). */
  maxConnections?: number;
  /** How often peers are asked for their URLs (default DISCOVERY_INTERVAL_MS); 0: never. */
  discoveryIntervalMs?: number;
  /** How long a misbehaving peer is refused, ms (default BAN_MS). */
  banMs?: number;
  /** Clock, ms (default Date.now): bans and routing's seqno timing. */
  now?: () => number;
  /** Uniform in [0, 1) (default Math.random): backoff jitter. */
  random?: () => number;
  /** This node's producer name (routing delivers envelopes addressed to it and advertises a route to it). */
  producer?: string | bigint;
  /** The active producers routes are kept to; undefined: any name. */
  producers?: Iterable<string | bigint>;
  /**
   * Whether an envelope for another producer may be passed on, given the message it
   * carries (psibase forwards only consensus messages whose signature checks out).
   * Default: a consensus message (types 35–41) that decodes; signatures are not checked.
   */
  validateRouted?: (bytes: Uint8Array) => boolean;
  /**
   * This node's libp2p host, for `connect` with a multiaddr (`/ip4/…/tcp/…/ws/p2p/<id>`):
   * its peer id (two libp2p connections between the same nodes: the one dialed by the
   * smaller peer id stays) and a dial that opens psibase's peer protocol stream.
   */
  libp2p?: Libp2pDialer;
}

export interface Libp2pDialer {
  peerId: string;
  dial(addr: string): Promise<Libp2pPeerSocket>;
}

/** How long a libp2p dial (connection and stream) may take. */
export const LIBP2P_DIAL_TIMEOUT_MS = 10_000;

/**
 * Peers that dialed in, connected at once: each costs a socket, buffers and a share of
 * every block sent, so a crowd (or one peer dialing in a loop) cannot take the node down.
 * Peers this node dials are few (its --peer list) and not counted.
 */
export const MAX_INBOUND_PEERS = 64;

interface Connection {
  id: number;
  ws: PeerSocket;
  transport: PeerTransport;
  direction: 'in' | 'out';
  url: string | undefined;
  /** A libp2p peer's id (proven by the connection's noise handshake): what it is banned by. */
  peerId: string | undefined;
  /** Where the peer connected from (a libp2p peer's multiaddr). */
  remote: string | undefined;
  /** The common block is known: blocks after `lastSent` go out as the head moves. */
  ready: boolean;
  /** The newest block the peer has (sent to it, or received from it). */
  lastSent: number;
  /** The newest block the peer is known to hold (from its hellos, the blocks it sent and those sent to it). */
  peerHead: PeerHead;
  pumping: boolean;
  inbox: Promise<void>;
  queued: number;
  paused: boolean;
  closed: boolean;
  /** Set when this side closed the connection for the peer's fault. */
  fault: PeerMisbehaviourError | undefined;
  /** peerUrlKey(url), for comparing addresses. */
  key: string | undefined;
  /** The remote IP address (inbound), for bans. */
  address: string | undefined;
  openedAt: number;
  /** The peer serves no list of peers (a psinode, or an older psiweb): not asked again. */
  noPeerList: boolean;
}

interface Dialer {
  /** An http(s)/ws URL, or a libp2p multiaddr. */
  url: string;
  /** peerUrlKey(url), or `libp2p:PEER_ID` for a multiaddr. */
  key: string;
  libp2p: boolean;
  /** A `connect` URL (dialed for ever), or one learned from a peer. */
  persistent: boolean;
  /** Failed dials (or short-lived connections) in a row: the backoff's exponent. */
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  connection: Connection | undefined;
  removed: boolean;
}

/** A block a peer sent, waiting to be applied. */
interface IncomingBlock {
  /** Arrival order. */
  seq: number;
  c: Connection;
  bytes: Uint8Array;
  num: number;
  id: Uint8Array;
}

const ZERO_ID = new Uint8Array(32);

export class PeerNetwork {
  readonly role: Role;
  private readonly chain: Chain;
  private readonly log: (line: string) => void;
  private readonly connections = new Map<number, Connection>();
  /** Pings every peer now and then, for `rttMs`. */
  private pinger: ReturnType<typeof setInterval> | undefined;
  private readonly dialers: Dialer[] = [];
  private nextId = 1;
  private closing = false;
  /** Blocks received and not yet applied (or skipped), in arrival order, whichever peer sent them. */
  private readonly incoming: IncomingBlock[] = [];
  /** The loop applying `incoming` (the last one run). */
  private applying: Promise<void> = Promise.resolve();
  private draining = false;
  private nextSeq = 0;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly selfKey: string | undefined;
  readonly routing: ShortestPathRouting;
  private routingTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly handlers = new Set<(m: ReceivedMessage) => void>();
  /** Set by attachConsensus: blocks and consensus messages go there. */
  private consensus: ConsensusLayer | undefined;
  private readonly bansByKey = new Map<string, { until: number; fault: PeerMisbehaviourError }>();
  /** Addresses learned from peers (key → URL). */
  private readonly known = new Map<string, string>();
  /** Learned addresses given up on (key → until when they are not learned again). */
  private readonly unreachable = new Map<string, number>();
  private discoverer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly init: PeerNetworkInit) {
    this.chain = init.chain;
    this.role = init.role;
    this.log = init.log;
    this.now = init.now ?? Date.now;
    this.random = init.random ?? Math.random;
    this.selfKey = init.selfUrl !== undefined ? peerUrlKey(init.selfUrl) : undefined;
    this.routing = new ShortestPathRouting({
      now: this.now,
      // psibase draws a random RouterId per start (its seqno is not kept across restarts).
      routerId: randomBytes(8).readBigUInt64LE(),
      ...(init.producer !== undefined && { self: toProducer(init.producer) }),
      ...(init.producers !== undefined && { producers: [...init.producers].map(toProducer) }),
      validate: init.validateRouted ?? ((data) => ROUTED_TYPES.has(data[0]!) && decodesAsMessage(data)),
      log: init.log,
    });
  }

  // -------------------------------------------------------------------------------------
  // For the consensus layer

  /**
   * Sends `bytes` (one whole message: type byte + fracpack, e.g. a signed PrepareMessage)
   * to `producer` in a RoutingEnvelope along the shortest feasible route. false: no route
   * to it now (the message is dropped, as psibase does). A MessageDecodeError for bytes
   * that are not a message.
   */
  sendToProducer(producer: string | bigint, bytes: Uint8Array): boolean {
    decodeMessage(bytes);
    const { sent, actions } = this.routing.sendTo(toProducer(producer), bytes);
    this.act(actions);
    return sent;
  }

  /** Sends `bytes` to every producer a route is known to (psibase multicast_producers). */
  sendToProducers(bytes: Uint8Array): void {
    decodeMessage(bytes);
    this.act(this.routing.sendToProducers(bytes));
  }

  /** Sends `bytes` (a whole message) to every connected peer (psibase multicast). */
  broadcast(bytes: Uint8Array): void {
    decodeMessage(bytes);
    for (const c of this.connections.values()) if (!c.closed && !c.fault) c.ws.send(bytes);
  }

  /** Sends `bytes` (a whole message) to one connected peer; false when it is not connected. */
  sendToPeer(peer: number, bytes: Uint8Array): boolean {
    decodeMessage(bytes);
    const c = this.connections.get(peer);
    if (!c || c.closed || c.fault) return false;
    c.ws.send(bytes);
    return true;
  }

  /**
   * Calls `handler` with each consensus message (types 35 and up that are not blocks)
   * a peer sends, and each message in an envelope addressed to this node's producer.
   * A PeerMisbehaviourError thrown by the handler disconnects and bans the peer.
   * Returns a function that removes the handler.
   */
  onMessage(handler: (m: ReceivedMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * Hands the block flow to a consensus layer (a producer under multi-producer
   * consensus, the node core src/core/node.ts): from now on every HelloRequest, block and
   * consensus message goes to `layer.receive` (type byte + fracpack, with the
   * neighbour's id), this network sends no hellos or blocks of its own, and
   * `layer.connected` hears of each neighbour (those already connected at once).
   */
  attachConsensus(layer: ConsensusLayer): void {
    this.consensus = layer;
    for (const c of this.connections.values()) if (!c.closed && !c.fault) layer.connected(c.id);
  }

  /**
   * A peer sent something invalid (a block, a badly signed message …): it is disconnected
   * and refused for `banMs`, with `reason` in the log and in `bans()`. false when it is
   * not connected (any more).
   */
  misbehaved(peer: number, reason: string): boolean {
    const c = this.connections.get(peer);
    if (!c || c.closed) return false;
    this.drop(c, new PeerMisbehaviourError('reported', reason));
    return true;
  }

  /** This node's producer name and the active producers changed (psibase on_producer_change). */
  setProducers(producers: Iterable<string | bigint> | undefined, self?: string | bigint): void {
    this.act(this.routing.setProducers(producers ? [...producers].map(toProducer) : undefined, self === undefined ? undefined : toProducer(self)));
  }

  /** The URLs refused now for misbehaving. */
  bans(): BanInfo[] {
    this.expireBans();
    return [...this.bansByKey].map(([key, b]) => ({ key, until: new Date(b.until).toISOString(), reason: b.fault.reason, message: b.fault.message }));
  }

  /** What x-peers.<root>/peers lists: this node's URL first (when it knows it), then its peers'. */
  peerUrls(): string[] {
    const out: string[] = this.selfKey ? [this.selfKey] : [];
    for (const c of this.connections.values()) if (c.key && !c.closed && !c.fault && !out.includes(c.key)) out.push(c.key);
    return out;
  }

  /**
   * Why a handshake from `url` (what it said in X-Psiweb-Peer-Url) or `address` is
   * refused: a PeerBannedError, or undefined when it is not banned.
   */
  refusal(url: string | undefined, address: string | undefined): PeerBannedError | undefined {
    const said = url !== undefined ? peerUrlKey(url) : undefined;
    for (const key of banKeys(said && claimed(said), address)) {
      const b = this.banned(key);
      if (b) return new PeerBannedError(key, b.until, b.fault.reason, `${key} is banned until ${new Date(b.until).toISOString()}: ${b.fault.message}`);
    }
    return undefined;
  }

  /** Why a libp2p peer is refused: a PeerBannedError, or undefined when it is not banned. */
  refusalOfPeerId(peerId: string): PeerBannedError | undefined {
    const key = libp2pKey(peerId);
    const b = this.banned(key);
    return b && new PeerBannedError(key, b.until, b.fault.reason, `${key} is banned until ${new Date(b.until).toISOString()}: ${b.fault.message}`);
  }

  /** The peers connected now, for `/native/status`. */
  peers(): PeerInfo[] {
    return [...this.connections.values()].map((c) => {
      const head = c.peerHead.get();
      return {
        id: c.id,
        transport: c.transport,
        direction: c.direction,
        ...(c.url !== undefined && { url: c.url }),
        ...(c.peerId !== undefined && { peerId: c.peerId }),
        ...(c.peerId !== undefined && c.remote !== undefined && { addr: c.remote }),
        ...(head && { head }),
        ...(c.ws.rttMs !== undefined && { rttMs: Math.round(c.ws.rttMs * 100) / 100 }),
      };
    });
  }

  private banned(key: string): { until: number; fault: PeerMisbehaviourError } | undefined {
    const b = this.bansByKey.get(key);
    if (b && b.until <= this.now()) {
      this.bansByKey.delete(key);
      this.log(`p2p: the ban of ${key} ended`);
      return undefined;
    }
    return b;
  }

  private expireBans(): void {
    for (const key of [...this.bansByKey.keys()]) this.banned(key);
  }

  private ban(c: Connection, fault: PeerMisbehaviourError): void {
    // A URL this node dialed is that node's; one a peer that dialed in claims may be
    // anyone's: only its claims are refused (and it is not dialed as a learned address).
    // A libp2p peer proved its peer id (noise): that is what it is banned by, whichever side dialed.
    const keys = c.peerId !== undefined ? [libp2pKey(c.peerId)] : banKeys(c.key && (c.direction === 'out' ? c.key : claimed(c.key)), c.address);
    if (c.peerId === undefined && c.direction === 'out' && c.key) keys.push(claimed(c.key));
    const ms = this.init.banMs ?? BAN_MS;
    if (keys.length === 0) {
      this.log(`p2p: peer ${c.id} is not banned: it has no URL and dialed in from loopback (nothing to tell it from other local peers)`);
      return;
    }
    for (const key of keys) this.bansByKey.set(key, { until: this.now() + ms, fault });
    this.log(`p2p: banned ${keys.join(' and ')} for ${Math.round(ms / 1000)} s (${fault.reason})`);
  }

  /**
   * Takes an accepted WebSocket (x-peers.<root>/p2p) as an incoming peer; `url` is the
   * address it said it is reachable at, `address` its IP address.
   */
  accept(ws: PeerSocket, remote?: string, url?: string, address?: string): void {
    this.acceptPeer(ws, { remote, url, address });
  }

  /**
   * Takes a psibase peer stream another libp2p node opened to this node's host as an
   * incoming peer: the same messages as over the peer WebSocket; banned by its peer id.
   */
  acceptLibp2p(socket: Libp2pPeerSocket): void {
    this.acceptPeer(socket, { remote: socket.remoteAddr, peerId: socket.peerId, transport: socket.transport });
  }

  private acceptPeer(ws: PeerSocket, from: { remote?: string | undefined; url?: string | undefined; address?: string | undefined; peerId?: string; transport?: PeerTransport }): void {
    const { remote, url, address } = from;
    if (this.closing) {
      ws.close(CloseCode.goingAway, 'the node is stopping');
      return;
    }
    const refused = from.peerId !== undefined ? this.refusalOfPeerId(from.peerId) : this.refusal(url, address);
    if (refused) {
      this.log(`p2p: refusing a peer${remote ? ` from ${remote}` : ''}: ${refused.message}`);
      ws.close(CloseCode.policyViolation, refused.message.slice(0, 120));
      return;
    }
    const total = this.connections.size;
    const maxTotal = this.init.maxConnections ?? MAX_CONNECTIONS;
    if (total >= maxTotal) {
      this.log(`p2p: refusing a peer${remote ? ` from ${remote}` : ''}: ${total} peers are connected already (at most ${maxTotal})`);
      ws.close(CloseCode.tryAgainLater, `this node takes at most ${maxTotal} peers`);
      return;
    }
    const inbound = [...this.connections.values()].filter((c) => c.direction === 'in').length;
    const max = this.init.maxInbound ?? MAX_INBOUND_PEERS;
    if (inbound >= max) {
      this.log(`p2p: refusing a peer${remote ? ` from ${remote}` : ''}: ${inbound} peers are connected in already (at most ${max})`);
      ws.close(CloseCode.tryAgainLater, `this node takes at most ${max} incoming peers`);
      return;
    }
    this.open(ws, 'in', { url, remote, address, peerId: from.peerId, transport: from.transport });
  }

  /**
   * Dials `url` and keeps dialing it (with backoff) whenever the connection is lost:
   * a peer's root URL (psibase's peer WebSocket), or a libp2p multiaddr ending in
   * `/p2p/<peer id>` (psibase's peer protocol over libp2p; needs `libp2p` in the init).
   */
  connect(url: string): void {
    this.addDialer(url, true);
  }

  private addDialer(url: string, persistent: boolean): Dialer {
    const libp2p = isMultiaddr(url);
    let key: string;
    if (libp2p) {
      const peerId = multiaddrPeerId(url);
      if (!this.init.libp2p) throw new PsiwebError(`cannot dial ${url}: this node runs no libp2p host`);
      if (peerId === undefined) throw new PsiwebError(`cannot dial ${url}: a multiaddr to dial must end in /p2p/<peer id>`);
      key = libp2pKey(peerId);
    } else key = peerUrlKey(url) ?? url;
    const d: Dialer = { url, key, libp2p, persistent, attempts: 0, timer: undefined, connection: undefined, removed: false };
    this.dialers.push(d);
    this.dial(d);
    return d;
  }

  private removeDialer(d: Dialer, why: string, giveUp = false): void {
    if (d.removed) return;
    d.removed = true;
    if (d.timer) clearTimeout(d.timer);
    this.dialers.splice(this.dialers.indexOf(d), 1);
    this.known.delete(d.key);
    if (giveUp) this.unreachable.set(d.key, this.now() + UNREACHABLE_MS);
    this.log(`p2p: no longer dialing ${d.url}: ${why}`);
  }

  /** The next wait of a dialer: exponential in its failures, capped, with jitter (half to all of it). */
  private backoff(d: Dialer): number {
    const full = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(d.attempts, 16));
    return Math.round(full / 2 + (this.random() * full) / 2);
  }

  private retry(d: Dialer, delayMs: number): void {
    if (this.closing || d.removed) return;
    if (d.timer) clearTimeout(d.timer);
    d.timer = setTimeout(() => this.dial(d), Math.max(0, delayMs));
    d.timer.unref();
  }

  private connectedTo(key: string): Connection | undefined {
    for (const c of this.connections.values()) if (identityOf(c) === key && !c.closed) return c;
    return undefined;
  }

  /** Asks every peer with a URL for the URLs it knows now (as every discoveryIntervalMs), then dials the new ones. */
  discoverPeers(): Promise<void> {
    return this.discover();
  }

  /** Asks every peer with a URL for the URLs it knows, then dials the new ones. */
  private async discover(only?: Connection): Promise<void> {
    const targets = only ? [only] : [...this.connections.values()];
    const seen = new Set<string>();
    await Promise.all(
      targets.map(async (c) => {
        if (!c.key || seen.has(c.key) || c.closed || c.noPeerList) return;
        seen.add(c.key);
        let urls: string[];
        try {
          urls = await fetchPeerList(c.key);
        } catch (e) {
          if (e instanceof PeerListError && (e.details?.status === 404 || e.details?.status === 405)) {
            c.noPeerList = true;
            this.log(`p2p: peer ${c.id} serves no list of peers (a psinode?): it is not asked again`);
          } else this.log(`p2p: peer ${c.id}: cannot read its peer list: ${(e as Error).message}`);
          return;
        }
        for (const u of urls) {
          const until = this.unreachable.get(u);
          if (until !== undefined && until > this.now()) continue;
          this.unreachable.delete(u);
          if (u !== this.selfKey && !this.known.has(u)) this.known.set(u, u);
        }
      }),
    );
    this.fillOutbound();
  }

  /** Dials learned addresses this node has no connection to, within the caps. */
  private fillOutbound(): void {
    if (this.closing) return;
    const maxOut = this.init.maxOutbound ?? MAX_OUTBOUND_PEERS;
    const maxTotal = this.init.maxConnections ?? MAX_CONNECTIONS;
    for (const [key, url] of this.known) {
      if (this.dialers.filter((d) => !d.persistent).length >= maxOut || this.connections.size >= maxTotal) return;
      if (key === this.selfKey || this.connectedTo(key) || this.dialers.some((d) => d.key === key) || this.banned(key) || this.banned(claimed(key))) continue;
      this.log(`p2p: dialing ${url}, learned from a peer`);
      this.addDialer(url, false);
    }
  }

  /** Tells every ready peer that the head moved (the producer committed a block). */
  headChanged(): void {
    if (this.consensus) return;
    for (const c of this.connections.values()) void this.pump(c);
  }

  /** Closes every connection and stops dialing. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pinger) clearInterval(this.pinger);
    if (this.discoverer) clearInterval(this.discoverer);
    if (this.routingTimer) clearTimeout(this.routingTimer);
    for (const d of this.dialers) if (d.timer) clearTimeout(d.timer);
    for (const c of this.connections.values()) c.ws.close(CloseCode.goingAway, 'the node is stopping');
    await this.applying;
  }

  private dial(d: Dialer): void {
    d.timer = undefined;
    if (this.closing || d.removed) return;
    const ban = this.banned(d.key) ?? (d.persistent ? undefined : this.banned(claimed(d.key)));
    if (ban) {
      if (!d.persistent) return this.removeDialer(d, `banned until ${new Date(ban.until).toISOString()}`);
      return this.retry(d, ban.until - this.now());
    }
    // Already connected to it the other way round (it dialed in): nothing to dial.
    if (this.connectedTo(d.key)) {
      if (!d.persistent) return this.removeDialer(d, 'already connected');
      return this.retry(d, RECONNECT_MAX_MS);
    }
    if (this.connections.size >= (this.init.maxConnections ?? MAX_CONNECTIONS)) return this.retry(d, this.backoff(d));
    const headers: Record<string, string> = this.selfKey ? { [PEER_URL_HEADER]: this.selfKey } : {};
    const dialed: Promise<PeerSocket> = d.libp2p ? this.init.libp2p!.dial(d.url) : dialWebSocket(d.url, { headers });
    dialed.then(
      (ws) => {
        if (this.closing || d.removed) {
          ws.close(CloseCode.goingAway, this.closing ? 'the node is stopping' : 'no longer dialing');
          return;
        }
        const s = ws as Libp2pPeerSocket;
        const c = d.libp2p ? this.open(ws, 'out', { remote: d.url, peerId: s.peerId, transport: s.transport }) : this.open(ws, 'out', { url: d.url });
        d.connection = c;
        ws.on('close', (code, reason) => {
          d.connection = undefined;
          this.onClosed(c, code, reason);
          if (this.closing || d.removed) return;
          // A connection that lasted resets the backoff; one closed for a fault (either
          // side's verdict: another chain, a bad block) waits long before trying again.
          const refused = code === CloseCode.policyViolation || code === CloseCode.invalidPayload;
          if (c.fault || refused) {
            if (!d.persistent) return this.removeDialer(d, c.fault ? c.fault.message : `refused (${code}: ${reason})`);
            const ban = this.banned(d.key);
            return this.retry(d, ban ? ban.until - this.now() : MISBEHAVIOUR_BACKOFF_MS);
          }
          d.attempts = this.now() - c.openedAt >= STABLE_CONNECTION_MS ? 0 : d.attempts + 1;
          if (!d.persistent && d.attempts >= MAX_DISCOVERED_ATTEMPTS) return this.removeDialer(d, `lost ${d.attempts} times in a row`, true);
          this.retry(d, this.backoff(d));
        });
      },
      (e: unknown) => {
        if (this.closing || d.removed) return;
        d.attempts++;
        // Refused for a fault (the peer banned this node): as for a connection closed for one.
        const banned = e instanceof WebSocketHandshakeError && e.details?.status === 403;
        if (!d.persistent && (banned || d.attempts >= MAX_DISCOVERED_ATTEMPTS)) return this.removeDialer(d, `${d.attempts} dials failed: ${(e as Error).message}`, true);
        const wait = banned ? MISBEHAVIOUR_BACKOFF_MS : this.backoff(d);
        this.log(`p2p: cannot connect to ${d.url}: ${(e as Error).message}; retrying in ${wait} ms`);
        this.retry(d, wait);
      },
    );
  }

  private open(ws: PeerSocket, direction: 'in' | 'out', from: { url?: string | undefined; remote?: string | undefined; address?: string | undefined; peerId?: string | undefined; transport?: PeerTransport | undefined }): Connection {
    const { url, remote, address } = from;
    const c: Connection = {
      id: this.nextId++,
      ws,
      transport: from.transport ?? 'websocket',
      direction,
      url,
      peerId: from.peerId,
      remote,
      ready: false,
      lastSent: 0,
      peerHead: new PeerHead(),
      pumping: false,
      inbox: Promise.resolve(),
      queued: 0,
      paused: false,
      closed: false,
      fault: undefined,
      key: url !== undefined ? peerUrlKey(url) : undefined,
      address,
      openedAt: this.now(),
      noPeerList: false,
    };
    this.connections.set(c.id, c);
    this.log(`p2p: peer ${c.id} connected (${direction}${url ? ` ${url}` : remote ? ` ${direction === 'in' ? 'from' : 'to'} ${remote}` : ''}${c.peerId ? `, libp2p ${c.transport}` : ''})`);
    ws.on('message', (data) => this.receive(c, data));
    if (direction === 'in') ws.on('close', (code, reason) => this.onClosed(c, code, reason));
    this.send(c, { kind: 'InitMessage', value: { version: PROTOCOL_VERSION } });
    if (this.consensus) this.consensus.connected(c.id);
    else this.sendHello(c);
    // psibase shortest_path_routing connect: the neighbour gets every route this node has.
    this.act(this.routing.connect(c.id));
    this.dedupe(c);
    if (!c.closed && c.key) {
      void this.discover(c);
      const every = this.init.discoveryIntervalMs ?? DISCOVERY_INTERVAL_MS;
      if (every > 0 && !this.discoverer) {
        this.discoverer = setInterval(() => void this.discover(), every);
        this.discoverer.unref();
      }
    }
    ws.ping();
    this.pinger ??= setInterval(() => {
      for (const peer of this.connections.values()) peer.ws.ping();
    }, RTT_PING_MS);
    this.pinger.unref();
    return c;
  }

  /**
   * Two connections between the same two nodes (each dialed the other at once): the
   * one dialed by the node with the smaller URL stays, on both sides alike.
   */
  private dedupe(c: Connection): void {
    const key = identityOf(c);
    if (!key) return;
    const other = [...this.connections.values()].find((o) => o !== c && identityOf(o) === key && !o.closed && !o.fault);
    if (!other) return;
    // Libp2p peers compare peer ids, WebSocket peers URLs.
    const self = c.peerId !== undefined ? this.init.libp2p?.peerId : this.selfKey;
    const theirs = c.peerId ?? c.key!;
    let loser: Connection;
    if (other.direction === c.direction || !self) loser = other; // the newer one replaces a stale one
    else {
      const keepOut = self < theirs;
      loser = (c.direction === 'out') === keepOut ? other : c;
    }
    this.log(`p2p: peer ${loser.id}: a second connection with ${key}; closing it`);
    loser.ws.close(CloseCode.normal, 'duplicate connection');
    this.onClosed(loser, CloseCode.normal, '');
  }

  private onClosed(c: Connection, code: number, reason: string): void {
    if (c.closed) return;
    // A libp2p stream closes itself on a frame that is not a psibase message (bad length
    // prefix, oversize …): the peer's fault, as an undecodable WebSocket message is.
    const frameError = (c.ws as Partial<Libp2pPeerSocket>).error;
    if (!c.fault && frameError instanceof PeerFrameError) {
      c.fault = new PeerMisbehaviourError(frameError.fault === 'unknown-type' ? 'unknown-type' : 'undecodable', `a bad frame: ${frameError.message}`, { cause: frameError });
      this.log(`p2p: disconnecting peer ${c.id}${c.peerId ? ` (libp2p ${c.peerId})` : ''}: ${c.fault.message}`);
      this.ban(c, c.fault);
    }
    c.closed = true;
    this.connections.delete(c.id);
    this.act(this.routing.disconnect(c.id));
    if (!c.fault) this.log(`p2p: peer ${c.id} disconnected${reason && !this.closing ? ` (${code}: ${reason})` : ''}`);
  }

  private send(c: Connection, msg: AnyMessage): void {
    c.ws.send(encodeMessage(msg));
  }

  /** Carries out what routing decided: messages to neighbours, envelopes for this node. */
  private act(actions: RoutingAction[]): void {
    for (const a of actions) {
      if (a.kind === 'send') {
        const c = this.connections.get(a.peer);
        if (c && !c.closed && !c.fault) this.send(c, a.message);
      } else {
        const c = this.connections.get(a.from);
        if (c && !c.closed && !c.fault) this.deliver(c, a.data);
      }
    }
    const at = this.routing.wakeAt;
    if (at !== undefined && !this.routingTimer && !this.closing) {
      this.routingTimer = setTimeout(() => {
        this.routingTimer = undefined;
        this.act(this.routing.wake());
      }, Math.max(0, at - this.now()));
      this.routingTimer.unref();
    }
  }

  /** A message in an envelope addressed to this node, handled as if `c` sent it (psibase recv(peer, data)). */
  private deliver(c: Connection, data: Uint8Array): void {
    let msg: WireMessage;
    try {
      msg = decodeMessage(data);
    } catch (e) {
      if (!(e instanceof MessageDecodeError)) throw e;
      this.drop(c, new PeerMisbehaviourError(e instanceof UnknownMessageTypeError ? 'unknown-type' : 'undecodable', `an envelope for this node holding a message that does not decode: ${e.message}`, { cause: e }));
      return;
    }
    if (isRoutingKind(msg.kind)) this.act(this.routing.receive(c.id, msg as RoutingMessage));
    else if (msg.kind !== 'InitMessage') {
      if (this.consensus) this.consensus.receive(c.id, data);
      this.emit(c, msg, data, true);
    }
  }

  private emit(c: Connection, message: WireMessage, bytes: Uint8Array, routed: boolean): void {
    for (const h of this.handlers) {
      try {
        h({ peer: c.id, message, bytes, routed });
      } catch (e) {
        if (e instanceof PeerMisbehaviourError) this.drop(c, e);
        else this.log(`p2p: a message handler failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
  }

  private sendHello(c: Connection): void {
    const status = this.chain.status;
    const head = status?.head;
    if (!head) {
      // No chain yet: "send me everything from genesis" (blocknet recv(HelloRequest): id 0).
      this.send(c, { kind: 'HelloRequest', value: { xid: { _id: ZERO_ID, _num: GENESIS_BLOCK_NUM - 1 }, committed: true } });
      return;
    }
    const num = head.header.blockNum;
    const irreversible = head.header.commitNum;
    this.send(c, { kind: 'HelloRequest', value: { xid: { _id: head.blockId, _num: num }, committed: num <= irreversible } });
    if (num > irreversible) {
      void this.chain.state.store.block(irreversible).then((rec) => {
        if (rec && !c.closed) this.send(c, { kind: 'HelloRequest', value: { xid: { _id: rec.id, _num: irreversible }, committed: true } });
      });
    }
  }

  /** Ends the connection for something the peer sent, and says why in the log. */
  private drop(c: Connection, fault: PeerMisbehaviourError): void {
    if (c.closed || c.fault) return;
    c.fault = fault;
    this.log(`p2p: disconnecting peer ${c.id}${c.url ? ` (${c.url})` : c.peerId ? ` (libp2p ${c.peerId})` : ''}: ${fault.message}`);
    this.ban(c, fault);
    c.ws.close(fault.reason === 'undecodable' || fault.reason === 'unknown-type' ? CloseCode.invalidPayload : CloseCode.policyViolation, fault.message.slice(0, 120));
    // Its routes go now, not when the close handshake ends.
    this.act(this.routing.disconnect(c.id));
  }

  private receive(c: Connection, data: Uint8Array): void {
    if (c.closed || c.fault) return;
    const type = data[0];
    if (type !== undefined && (type >= FIRST_XPEERS_TYPE || IGNORED_TYPES.has(type))) return;
    let msg: WireMessage;
    try {
      msg = decodeMessage(data);
    } catch (e) {
      if (!(e instanceof MessageDecodeError)) throw e;
      const reason = e instanceof UnknownMessageTypeError ? 'unknown-type' : 'undecodable';
      this.drop(c, new PeerMisbehaviourError(reason, `a frame that does not decode (${data.length} bytes): ${e.message}`, { cause: e }));
      return;
    }
    // One message at a time per peer, in order; a long queue stops reading from the socket.
    c.queued++;
    if (c.queued > INBOX_HIGH && !c.paused) {
      c.paused = true;
      c.ws.pause();
    }
    c.inbox = c.inbox
      .then(() => (c.closed || c.fault ? undefined : this.handle(c, msg, data)))
      .catch((e: unknown) => this.fail(c, e))
      .finally(() => this.unqueue(c));
  }

  /** What the peer sent failed: a fault of the peer's drops it, anything else is ours. */
  private fail(c: Connection, e: unknown): void {
    if (e instanceof PeerMisbehaviourError) this.drop(c, e);
    else {
      this.log(`p2p: peer ${c.id}: ${(e as Error).stack ?? String(e)}`);
      c.ws.close(CloseCode.internalError, 'internal error');
    }
  }

  /** A message (or a block, once applied) of the peer's is done with: read on when the queue is short again. */
  private unqueue(c: Connection): void {
    c.queued--;
    if (c.paused && c.queued < INBOX_LOW) {
      c.paused = false;
      c.ws.resume();
    }
  }

  private async handle(c: Connection, msg: WireMessage, bytes: Uint8Array): Promise<void> {
    switch (msg.kind) {
      case 'InitMessage':
        if (msg.value.version !== PROTOCOL_VERSION)
          throw new PeerMisbehaviourError('version', `the peer speaks protocol version ${msg.value.version}; psiweb speaks ${PROTOCOL_VERSION}`);
        return;
      case 'HelloRequest':
        if (this.consensus) {
          c.peerHead.noteHello(msg.value.xid._num, msg.value.xid._id);
          return this.consensus.receive(c.id, bytes);
        }
        return this.onHello(c, msg.value.xid._id, msg.value.xid._num, msg.value.committed);
      case 'BlockMessage':
        if (this.consensus) {
          c.peerHead.noteBlock(msg.value.block);
          return this.consensus.receive(c.id, bytes);
        }
        return this.onBlock(c, msg.value.block);
      case 'RouteUpdateMessage':
      case 'RouteSeqnoRequest':
      case 'RequestRoutesMessage':
      case 'RoutingEnvelope':
        if (!c.closed && !c.fault) this.act(this.routing.receive(c.id, msg as RoutingMessage));
        return;
      default:
        // Consensus messages: to the consensus layer, if one listens.
        if (!c.closed && !c.fault) {
          this.consensus?.receive(c.id, bytes);
          this.emit(c, msg, bytes, false);
        }
        return;
    }
  }

  private async onHello(c: Connection, id: Uint8Array, num: number, committed: boolean): Promise<void> {
    if (c.ready) return;
    if (bytesEqual(id, ZERO_ID)) {
      this.ready(c, GENESIS_BLOCK_NUM - 1);
      return;
    }
    c.peerHead.raise(num, id);
    const head = this.chain.status?.head;
    const ours = head && num <= head.header.blockNum ? await this.chain.state.store.block(num) : undefined;
    if (ours && bytesEqual(ours.id, id)) {
      this.ready(c, num);
      return;
    }
    if (ours && committed && num <= head!.header.commitNum)
      throw new PeerMisbehaviourError('wrong-chain', `no common block: the peer's irreversible block ${num} is ${hexId(id).slice(0, 16)}…, this node's is ${hexId(ours.id).slice(0, 16)}… (another chain)`);
    // The peer is ahead of us (or on a block we do not know yet): its blocks will come.
  }

  private ready(c: Connection, common: number): void {
    c.ready = true;
    c.lastSent = Math.max(c.lastSent, common);
    void this.pump(c);
  }

  /** Sends a ready peer every block after the last it has, up to the head; one loop per peer. */
  private async pump(c: Connection): Promise<void> {
    if (c.pumping || !c.ready) return;
    c.pumping = true;
    try {
      for (;;) {
        const head = this.chain.head;
        if (c.closed || c.fault || !head || c.lastSent >= head.num) return;
        // Read a batch, then send it in one turn: the socket writes what is sent in a
        // turn together (one libp2p write, not one per block).
        const from = c.lastSent + 1;
        const to = Math.min(head.num, from + PUMP_BATCH - 1);
        const recs = await readBlocks(this.chain.state.store, from, to);
        if (recs.length === 0) return;
        for (const rec of recs) {
          if (c.closed) return;
          const num = rec.num;
          // Acknowledged from the peer meanwhile: skip it.
          if (c.lastSent >= num) continue;
          c.lastSent = num;
          this.send(c, { kind: 'BlockMessage', value: { block: rec.bytes } });
          c.peerHead.raise(num, rec.id);
        }
        if (c.ws.bufferedAmount > SEND_HIGH_WATER) await c.ws.drained();
      }
    } finally {
      c.pumping = false;
    }
  }

  private async onBlock(c: Connection, bytes: Uint8Array): Promise<void> {
    let header;
    try {
      header = unpackSignedBlock(bytes).block.header;
    } catch (e) {
      throw new PeerMisbehaviourError('undecodable', `a block that does not decode: ${(e as Error).message}`, { cause: e });
    }
    const num = header.blockNum;
    const id = blockId(header);
    // The peer has this block: never send it back (blocknet update_last_received), and
    // send what follows it (a peer that shows its head on connect, as the node core does,
    // marks the connection ready before its hello, which is then not answered again).
    c.ready = true;
    if (num > c.lastSent) c.lastSent = num;
    c.peerHead.raise(num, id);
    void this.pump(c);
    // The block waits in the queue, counted in the peer's inbox until it is applied, and
    // the peer's next messages are read meanwhile: blocks that queue up while one is
    // applied are applied together.
    c.queued++;
    this.incoming.push({ seq: this.nextSeq++, c, bytes, num, id });
    if (!this.draining) {
      this.draining = true;
      this.applying = this.applyIncoming();
    }
  }

  /** Applies the queued blocks in order until none is left. */
  private async applyIncoming(): Promise<void> {
    try {
      await this.applyQueued();
    } catch (e) {
      this.log(`p2p: applying blocks: ${(e as Error).stack ?? String(e)}`);
    } finally {
      // In the same step as the queue was found empty, so a block queued after it starts a new loop.
      this.draining = false;
    }
  }

  private async applyQueued(): Promise<void> {
    while (this.incoming.length > 0) {
      const head = this.chain.head;
      let next = head ? head.num + 1 : GENESIS_BLOCK_NUM;
      const run: IncomingBlock[] = [];
      // Blocks at or below one already in the run (the same block from another peer, most
      // likely): checked against the committed chain once the run is in.
      const deferred: IncomingBlock[] = [];
      if (this.role === 'follower') {
        while (run.length < MAX_BLOCKS_PER_COMMIT && this.incoming.length > 0) {
          const b = this.incoming[0]!;
          if (b.num === next) {
            run.push(this.incoming.shift()!);
            next++;
          } else if (b.num < next && run.length > 0) deferred.push(this.incoming.shift()!);
          else break;
        }
      }
      // What was taken is a prefix of the queue: what goes back goes first, in arrival order.
      const requeue = (blocks: IncomingBlock[]) => this.incoming.unshift(...blocks.sort((a, b) => a.seq - b.seq));
      if (run.length <= 1) requeue(deferred);
      if (run.length <= 1) {
        const b = run[0] ?? this.incoming.shift()!;
        if (!b.c.closed && !b.c.fault) await this.applyFromPeer(b.c, b.bytes, b.num, b.id).catch((e: unknown) => this.fail(b.c, e));
        this.unqueue(b.c);
        continue;
      }
      // Blocks of a peer dropped meanwhile are not applied.
      const from = run.findIndex((b) => b.c.closed || b.c.fault);
      if (from >= 0) {
        requeue([...run.splice(from), ...deferred.splice(0)]);
        if (run.length === 0) {
          this.unqueue(this.incoming.shift()!.c);
          continue;
        }
      }
      let result: Awaited<ReturnType<Chain['applyBlocks']>>;
      try {
        result = await this.chain.applyBlocks(run.map((b) => b.bytes));
      } catch (e) {
        result = { applied: [], error: e };
      }
      for (const [i, a] of result.applied.entries()) {
        this.init.onApplied?.(run[i]!.num, a.id);
        this.unqueue(run[i]!.c);
      }
      if (result.applied.length > 0) this.headChanged();
      if (result.error !== undefined) {
        const bad = run[result.applied.length]!;
        const e = result.error;
        this.fail(bad.c, e instanceof BlockValidationError ? new PeerMisbehaviourError('invalid-block', `invalid block ${bad.num}: ${e.message}`, { cause: e }) : e);
        this.unqueue(bad.c);
        // The blocks after it go round again (another peer's may still apply).
        requeue([...run.slice(result.applied.length + 1), ...deferred.splice(0)]);
      }
      requeue(deferred);
    }
  }

  private async applyFromPeer(c: Connection, bytes: Uint8Array, num: number, id: Uint8Array): Promise<void> {
    const head = this.chain.head;
    if (head && num <= head.num) {
      const ours = await this.chain.state.store.block(num);
      if (ours && bytesEqual(ours.id, id)) return;
      throw new PeerMisbehaviourError('wrong-chain', `block ${num} ${hexId(id).slice(0, 16)}… contradicts this node's block ${num}${ours ? ` ${hexId(ours.id).slice(0, 16)}…` : ''}`);
    }
    if (this.role === 'producer') throw new PeerMisbehaviourError('wrong-chain', `block ${num} is ahead of this producer's own head ${head?.num ?? 'none'}: not this chain`);
    const expected = head ? head.num + 1 : GENESIS_BLOCK_NUM;
    if (num !== expected) return; // a gap: the blocks before it come first (they are sent in order)
    let applied;
    try {
      applied = await this.chain.applyBlock(bytes);
    } catch (e) {
      if (e instanceof BlockValidationError) throw new PeerMisbehaviourError('invalid-block', `invalid block ${num}: ${e.message}`, { cause: e });
      throw e;
    }
    this.init.onApplied?.(num, applied.id);
    this.headChanged();
  }
}

function toProducer(name: string | bigint): bigint {
  return typeof name === 'bigint' ? name : accountNumber(name);
}



/** The ban (and identity) key of a libp2p peer. */
function libp2pKey(peerId: string): string {
  return `libp2p:${peerId}`;
}

/** Who is at the other end, as far as this node can tell: a libp2p peer id, or the peer's URL. */
function identityOf(c: Connection): string | undefined {
  return c.peerId !== undefined ? libp2pKey(c.peerId) : c.key;
}

/** `--peer` values that are libp2p multiaddrs rather than URLs. */
export function isMultiaddr(target: string): boolean {
  return target.startsWith('/');
}

/** The peer id a multiaddr ends with (`…/p2p/<id>`), or undefined. */
export function multiaddrPeerId(addr: string): string | undefined {
  try {
    return multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value;
  } catch {
    return undefined;
  }
}

/** The ban key of a URL a peer that dialed in said is its own (unproven). */
function claimed(key: string): string {
  return `claimed:${key}`;
}

/** What a misbehaving peer is banned by: its URL, and its IP address unless it is on loopback (shared by every local peer). */
function banKeys(key: string | undefined, address: string | undefined): string[] {
  const keys: string[] = [];
  if (key) keys.push(key);
  if (address && !isLoopback(address)) keys.push(`ip:${address}`);
  return keys;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

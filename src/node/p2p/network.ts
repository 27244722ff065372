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
 * Messages of types 64 and up are x-peers' own connection messages (IdMessage,
 * HostnamesMessage …), which psinode hands to the x-peers service, not to the network:
 * they are ignored here, as are psibase's snapshot and state-checksum messages (42, 43,
 * 45), which psiweb does not serve. Consensus messages are ignored until consensus runs
 * in the node. Any other frame that does not decode closes the connection.
 */
import { GENESIS_BLOCK_NUM } from '../../chain/constants.ts';
import { BlockValidationError } from '../../chain/errors.ts';
import type { Chain } from '../../chain/executor.ts';
import { decodeMessage, encodeMessage, MessageDecodeError, type AnyMessage, type WireMessage } from '../../net/wire/index.ts';
import { blockId } from '../../protocol/ids.ts';
import { unpackSignedBlock } from '../../protocol/types.ts';
import { bytesEqual } from '../../state/bytes.ts';
// Block ids as psibase's JSON writes them (upper-case hex), as /native/status does.
import { toHex as hexId } from '../../protocol/fracpack/index.ts';
import { PeerMisbehaviourError } from './errors.ts';
import { CloseCode, dialWebSocket, type WebSocket } from './websocket.ts';

/** psibase's routing_base protocol_version. */
export const PROTOCOL_VERSION = 0;
/** Type bytes psibase defines that psiweb does not speak yet: ignored, not a fault. */
const IGNORED_TYPES: ReadonlySet<number> = new Set([42, 43, 45]);
/** Type bytes from here up belong to x-peers, not to the network (psibase WebSocket::handleP2P). */
const FIRST_XPEERS_TYPE = 64;
/** Bytes queued on a socket before the block pump waits for it to drain. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;
/** Received messages waiting to be handled before the socket stops reading. */
const INBOX_HIGH = 512;
const INBOX_LOW = 64;
/** At most this many queued blocks are validated and committed together. */
export const MAX_BLOCKS_PER_COMMIT = 64;
/** Reconnect backoff for --peer URLs: first wait, and the most it grows to. */
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 5_000;
/** After a peer misbehaved, its URL is not dialed again for this long. */
export const MISBEHAVIOUR_BACKOFF_MS = 30_000;

export type Role = 'producer' | 'follower';

/** How often each peer is pinged for its round trip. */
export const RTT_PING_MS = 5_000;

export interface PeerInfo {
  id: number;
  transport: 'websocket';
  direction: 'in' | 'out';
  url?: string;
  /** The newest block the peer is known to hold (from its hello or the blocks it sent or was sent). */
  head?: { num: number; id: string };
  /** The last WebSocket ping's round trip, ms (pinged on connect and every RTT_PING_MS). */
  rttMs?: number;
}

export interface PeerNetworkInit {
  chain: Chain;
  role: Role;
  log: (line: string) => void;
  /** Called once a block is applied from a peer (the genesis block gives an empty node its chain id). */
  onApplied?: (num: number, id: Uint8Array) => void;
  /** Most peers that dialed this node, connected at once (default MAX_INBOUND_PEERS). */
  maxInbound?: number;
}

/**
 * Peers that dialed in, connected at once: each costs a socket, buffers and a share of
 * every block sent, so a crowd (or one peer dialing in a loop) cannot take the node down.
 * Peers this node dials are few (its --peer list) and not counted.
 */
export const MAX_INBOUND_PEERS = 64;

interface Connection {
  id: number;
  ws: WebSocket;
  direction: 'in' | 'out';
  url: string | undefined;
  /** The common block is known: blocks after `lastSent` go out as the head moves. */
  ready: boolean;
  /** The newest block the peer has (sent to it, or received from it). */
  lastSent: number;
  peerHead: { num: number; id: Uint8Array } | undefined;
  pumping: boolean;
  inbox: Promise<void>;
  queued: number;
  paused: boolean;
  closed: boolean;
  /** Set when this side closed the connection for the peer's fault. */
  fault: PeerMisbehaviourError | undefined;
}

interface Dialer {
  url: string;
  delayMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  connection: Connection | undefined;
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

  constructor(private readonly init: PeerNetworkInit) {
    this.chain = init.chain;
    this.role = init.role;
    this.log = init.log;
  }

  /** The peers connected now, for `/native/status`. */
  peers(): PeerInfo[] {
    return [...this.connections.values()].map((c) => ({
      id: c.id,
      transport: 'websocket' as const,
      direction: c.direction,
      ...(c.url !== undefined && { url: c.url }),
      ...(c.peerHead && { head: { num: c.peerHead.num, id: hexId(c.peerHead.id) } }),
      ...(c.ws.rttMs !== undefined && { rttMs: Math.round(c.ws.rttMs * 100) / 100 }),
    }));
  }

  /** Takes an accepted WebSocket (x-peers.<root>/p2p) as an incoming peer. */
  accept(ws: WebSocket, remote?: string): void {
    if (this.closing) {
      ws.close(CloseCode.goingAway, 'the node is stopping');
      return;
    }
    const inbound = [...this.connections.values()].filter((c) => c.direction === 'in').length;
    const max = this.init.maxInbound ?? MAX_INBOUND_PEERS;
    if (inbound >= max) {
      this.log(`p2p: refusing a peer${remote ? ` from ${remote}` : ''}: ${inbound} peers are connected in already (at most ${max})`);
      ws.close(CloseCode.tryAgainLater, `this node takes at most ${max} incoming peers`);
      return;
    }
    this.open(ws, 'in', undefined, remote);
  }

  /** Dials `url` and keeps dialing it (with backoff) whenever the connection is lost. */
  connect(url: string): void {
    const d: Dialer = { url, delayMs: RECONNECT_MIN_MS, timer: undefined, connection: undefined };
    this.dialers.push(d);
    this.dial(d);
  }

  /** Tells every ready peer that the head moved (the producer committed a block). */
  headChanged(): void {
    for (const c of this.connections.values()) void this.pump(c);
  }

  /** Closes every connection and stops dialing. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pinger) clearInterval(this.pinger);
    for (const d of this.dialers) if (d.timer) clearTimeout(d.timer);
    for (const c of this.connections.values()) c.ws.close(CloseCode.goingAway, 'the node is stopping');
    await this.applying;
  }

  private dial(d: Dialer): void {
    d.timer = undefined;
    if (this.closing) return;
    dialWebSocket(d.url).then(
      (ws) => {
        if (this.closing) {
          ws.close(CloseCode.goingAway, 'the node is stopping');
          return;
        }
        d.connection = this.open(ws, 'out', d.url);
        ws.on('close', (code, reason) => {
          const c = d.connection;
          d.connection = undefined;
          this.onClosed(c!, code, reason);
          if (this.closing) return;
          // A connection that worked resets the backoff; one closed for a fault (either
          // side's verdict: another chain, a bad block) waits long before trying again.
          const refused = code === CloseCode.policyViolation || code === CloseCode.invalidPayload;
          d.delayMs = c?.fault || refused ? MISBEHAVIOUR_BACKOFF_MS : RECONNECT_MIN_MS;
          d.timer = setTimeout(() => this.dial(d), d.delayMs);
          d.timer.unref();
        });
      },
      (e: unknown) => {
        if (this.closing) return;
        this.log(`p2p: cannot connect to ${d.url}: ${(e as Error).message}; retrying in ${d.delayMs} ms`);
        d.timer = setTimeout(() => this.dial(d), d.delayMs);
        d.timer.unref();
        d.delayMs = Math.min(d.delayMs * 2, RECONNECT_MAX_MS);
      },
    );
  }

  private open(ws: WebSocket, direction: 'in' | 'out', url?: string, remote?: string): Connection {
    const c: Connection = {
      id: this.nextId++,
      ws,
      direction,
      url,
      ready: false,
      lastSent: 0,
      peerHead: undefined,
      pumping: false,
      inbox: Promise.resolve(),
      queued: 0,
      paused: false,
      closed: false,
      fault: undefined,
    };
    this.connections.set(c.id, c);
    this.log(`p2p: peer ${c.id} connected (${direction}${url ? ` ${url}` : remote ? ` from ${remote}` : ''})`);
    ws.on('message', (data) => this.receive(c, data));
    if (direction === 'in') ws.on('close', (code, reason) => this.onClosed(c, code, reason));
    this.send(c, { kind: 'InitMessage', value: { version: PROTOCOL_VERSION } });
    this.sendHello(c);
    ws.ping();
    this.pinger ??= setInterval(() => {
      for (const peer of this.connections.values()) peer.ws.ping();
    }, RTT_PING_MS);
    this.pinger.unref();
    return c;
  }

  private onClosed(c: Connection, code: number, reason: string): void {
    if (c.closed) return;
    c.closed = true;
    this.connections.delete(c.id);
    if (!c.fault) this.log(`p2p: peer ${c.id} disconnected${reason && !this.closing ? ` (${code}: ${reason})` : ''}`);
  }

  private send(c: Connection, msg: AnyMessage): void {
    c.ws.send(encodeMessage(msg));
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
    this.log(`p2p: disconnecting peer ${c.id}${c.url ? ` (${c.url})` : ''}: ${fault.message}`);
    c.ws.close(fault.reason === 'undecodable' ? CloseCode.invalidPayload : CloseCode.policyViolation, fault.message);
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
      this.drop(c, new PeerMisbehaviourError('undecodable', `a frame that does not decode (${data.length} bytes): ${e.message}`, { cause: e }));
      return;
    }
    // One message at a time per peer, in order; a long queue stops reading from the socket.
    c.queued++;
    if (c.queued > INBOX_HIGH && !c.paused) {
      c.paused = true;
      c.ws.pause();
    }
    c.inbox = c.inbox
      .then(() => (c.closed || c.fault ? undefined : this.handle(c, msg)))
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

  private async handle(c: Connection, msg: WireMessage): Promise<void> {
    switch (msg.kind) {
      case 'InitMessage':
        if (msg.value.version !== PROTOCOL_VERSION)
          throw new PeerMisbehaviourError('version', `the peer speaks protocol version ${msg.value.version}; psiweb speaks ${PROTOCOL_VERSION}`);
        return;
      case 'HelloRequest':
        return this.onHello(c, msg.value.xid._id, msg.value.xid._num, msg.value.committed);
      case 'BlockMessage':
        return this.onBlock(c, msg.value.block);
      default:
        // Routing and consensus messages: not used until consensus runs in the node.
        return;
    }
  }

  private notePeerHead(c: Connection, num: number, id: Uint8Array): void {
    if (!c.peerHead || num > c.peerHead.num) c.peerHead = { num, id };
  }

  private async onHello(c: Connection, id: Uint8Array, num: number, committed: boolean): Promise<void> {
    if (c.ready) return;
    if (bytesEqual(id, ZERO_ID)) {
      this.ready(c, GENESIS_BLOCK_NUM - 1);
      return;
    }
    this.notePeerHead(c, num, id);
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
        const num = c.lastSent + 1;
        const rec = await this.chain.state.store.block(num);
        if (!rec || c.closed) return;
        // Acknowledged from the peer meanwhile: skip it.
        if (c.lastSent >= num) continue;
        c.lastSent = num;
        this.send(c, { kind: 'BlockMessage', value: { block: rec.bytes } });
        this.notePeerHead(c, num, rec.id);
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
    // The peer has this block: never send it back (blocknet update_last_received).
    c.ready = true;
    if (num > c.lastSent) c.lastSent = num;
    this.notePeerHead(c, num, id);
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

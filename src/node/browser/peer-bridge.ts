/**
 * The bridge between the leader tab's page, which owns the libp2p peer sockets
 * (RTCPeerConnection exists only in windows), and its node worker, which runs the node
 * core (ARCHITECTURE.md §5). One MessageChannel: the page posts each psibase peer's
 * arrival, messages and departure under the label the page's Libp2pTransport gave it;
 * the worker posts what the core's Transport does (sendToPeer, broadcast,
 * sendToProducer, misbehaved) back. The core names bridge peers `#lp#<n>`, apart from
 * the x-peers WebSocket's `#<n>`.
 *
 * Both sides are plain classes over a MessagePort-like object, so Node tests drive them
 * with a real MessageChannel and fake sockets.
 */
import type { PushAnswer } from '../../net/libp2p/push.ts';
import type { Libp2pTransport, TransportPeerEvent } from '../../net/libp2p/transport.ts';

/** How long a push through the bridge may take, each way (a push to peers tries several in turn). */
export const BRIDGE_PUSH_TIMEOUT_MS = 60_000;

/** What `/native/status` lists of one peer (the Node peer's shape). */
export interface NetPeerView {
  id: string;
  transport: 'webrtc' | 'websocket' | 'relayed' | 'other';
  direction: 'in' | 'out';
  url?: string;
  head?: { num: number; id: string };
  rttMs?: number;
  /** This node's label of the psibase stream ('#3'): a new stream to the same peer has a new one. */
  stream?: string;
}

/** The page's libp2p side as the worker reports it in its status. */
export interface NetView {
  /** 'on': psibase peers come over libp2p; 'off': they do not (why in `reason`): the x-peers WebSocket is used. */
  libp2p: 'starting' | 'on' | 'off';
  reason?: string;
  peerId: string | null;
  /** This node's dialable addresses (its /p2p-circuit/webrtc ones). */
  addrs: string[];
  peers: NetPeerView[];
  /** The invite link (`http://<root>/#join=…`), once there is something to join through. */
  invite: string | null;
}

export type PageToWorker =
  /** Whether the Node peer is reached over libp2p (then the x-peers WebSocket is not dialed). */
  | { type: 'mode'; libp2p: boolean; reason?: string }
  | { type: 'connected'; peer: string; peerId: string }
  | { type: 'message'; peer: string; bytes: Uint8Array }
  | { type: 'closed'; peer: string; reason?: string }
  | { type: 'net'; net: NetView }
  /** A browser peer pushed a transaction to this one (/psiweb/push/1.0.0): the worker answers with 'pushAnswer'. */
  | { type: 'pushIn'; id: number; bytes: Uint8Array; from: string }
  /** What the peers answered to the worker's 'push'. */
  | { type: 'pushResult'; id: number; answer: PushAnswer }
  /** A transaction a producer peer relayed (/psiweb/relay/2.0.0), for this one to hold. */
  | { type: 'relayIn'; bytes: Uint8Array; from: string };

export type WorkerToPage =
  | { type: 'sendToPeer'; peer: string; bytes: Uint8Array }
  | { type: 'broadcast'; bytes: Uint8Array }
  | { type: 'sendToProducer'; producer: string; bytes: Uint8Array }
  | { type: 'misbehaved'; peer: string; reason: string }
  /**
   * The chain the core follows (hex id), once it has one; `nodePeer` false when the Node
   * peer that served the page is not of it (a network created here or joined by invite):
   * the page then opens no psibase stream to it and keeps it as a relay only.
   */
  | { type: 'chain'; chainId: string; nodePeer: boolean }
  /** Push a transaction to the browser peers (a node with no HTTP producer): answered by 'pushResult'. */
  | { type: 'push'; id: number; bytes: Uint8Array }
  | { type: 'pushAnswer'; id: number; answer: PushAnswer }
  /** Relay a transaction this producer holds to the browser peers (/psiweb/relay/2.0.0), unanswered. */
  | { type: 'relay'; bytes: Uint8Array }
  /** The producers the core sends to (the sets in force and pending) and this node's own name: the page's routing finds them. */
  | { type: 'producers'; producers: string[]; self?: string };

/** The part of a MessagePort both sides use. */
export interface BridgePort<In, Out> {
  postMessage(m: Out, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<In>) => void) | null;
}

/** The core's label of a bridge peer: `#lp` + the page's label (the core takes labels starting with '#' for peers, others for producers). */
const LABEL_PREFIX = '#lp';
export const isBridgeLabel = (label: string): boolean => label.startsWith(LABEL_PREFIX);
/** The core's label of the page's peer `pageLabel` ('#3' → '#lp#3'). */
export const bridgeLabel = (pageLabel: string): string => LABEL_PREFIX + pageLabel;

export interface BridgeListener {
  connected(label: string): void;
  message(label: string, bytes: Uint8Array): void;
  closed(label: string): void;
  mode(libp2p: boolean): void;
}

/** A copy of `bytes` in its own buffer, so the buffer can be transferred. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : (bytes.slice() as Uint8Array<ArrayBuffer>);
}

/** Pushes sent across the bridge and waiting for the other side's answer, by id; one not answered in time is 'unavailable'. */
class PendingPushes {
  private seq = 0;
  private readonly waiting = new Map<number, (a: PushAnswer) => void>();

  /** Sends a push with a new id (`send`) and resolves with its answer, or `late` after `timeoutMs`. */
  ask(send: (id: number) => void, timeoutMs: number, late: string): Promise<PushAnswer> {
    const id = ++this.seq;
    return new Promise<PushAnswer>((resolve) => {
      const timer = setTimeout(() => done({ status: 'unavailable', error: `${late} within ${timeoutMs / 1000} s` }), timeoutMs);
      const done = (a: PushAnswer) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(a);
      };
      this.waiting.set(id, done);
      send(id);
    });
  }

  answered(id: number, answer: PushAnswer): void {
    this.waiting.get(id)?.(answer);
  }
}

/** The worker's side: the core's Transport to bridge peers, and what the page says. */
export class WorkerPeerBridge {
  private port: BridgePort<PageToWorker, WorkerToPage> | undefined;
  private listener: BridgeListener | undefined;
  /** Core labels of the peers connected now, with their libp2p ids. */
  readonly peers = new Map<string, string>();
  /** undefined until the page has said. */
  libp2p: boolean | undefined;
  modeReason: string | undefined;
  net: NetView | null = null;
  private chain: { chainId: string; nodePeer: boolean } | undefined;
  private readonly pushes = new PendingPushes();
  private pushHandler: ((tx: Uint8Array, from: string) => Promise<PushAnswer>) | undefined;
  private relayHandler: ((tx: Uint8Array, from: string) => void) | undefined;

  attach(port: BridgePort<PageToWorker, WorkerToPage>): void {
    this.port = port;
    port.onmessage = (e) => this.onPage(e.data);
    if (this.chain !== undefined) port.postMessage({ type: 'chain', ...this.chain });
    if (this.producers !== undefined) port.postMessage({ type: 'producers', ...this.producers });
  }

  private producers: { producers: string[]; self?: string } | undefined;

  /** Tells the page's routing which producers the core sends to, and whom it produces as (said again only when it changes). */
  tellProducers(producers: readonly string[], self?: string): void {
    const sorted = [...producers].sort();
    if (this.producers && this.producers.self === self && this.producers.producers.join() === sorted.join()) return;
    this.producers = { producers: sorted, ...(self !== undefined && { self }) };
    this.port?.postMessage({ type: 'producers', ...this.producers });
  }

  get attached(): boolean {
    return this.port !== undefined;
  }

  /** Who hears the page's peers (the core's sync); the peers connected already are told at once. */
  listen(listener: BridgeListener | undefined): void {
    this.listener = listener;
    if (listener) for (const label of this.peers.keys()) listener.connected(label);
  }

  /** Tells the page the chain the core follows, and whether the Node peer is of it (default yes: the network it served). */
  tellChain(chainId: string, nodePeer = true): void {
    if (this.chain?.chainId === chainId && this.chain.nodePeer === nodePeer) return;
    this.chain = { chainId, nodePeer };
    this.port?.postMessage({ type: 'chain', chainId, nodePeer });
  }

  sendToPeer(label: string, bytes: Uint8Array): boolean {
    if (!this.port || !this.peers.has(label)) return false;
    const b = own(bytes);
    this.port.postMessage({ type: 'sendToPeer', peer: label.slice(LABEL_PREFIX.length), bytes: b }, [b.buffer]);
    return true;
  }

  broadcast(bytes: Uint8Array): void {
    if (!this.port || this.peers.size === 0) return;
    const b = own(bytes);
    this.port.postMessage({ type: 'broadcast', bytes: b }, [b.buffer]);
  }

  sendToProducer(producer: string, bytes: Uint8Array): boolean {
    if (!this.port || this.peers.size === 0) return false;
    const b = own(bytes);
    this.port.postMessage({ type: 'sendToProducer', producer, bytes: b }, [b.buffer]);
    return true;
  }

  /**
   * Pushes a packed transaction to the page's browser peers (/psiweb/push/1.0.0), for a
   * node with no HTTP producer to reach. Resolves with their answer: 'unavailable' when
   * no peer takes it (or no page runs libp2p).
   */
  push(tx: Uint8Array, timeoutMs = BRIDGE_PUSH_TIMEOUT_MS): Promise<PushAnswer> {
    const port = this.port;
    if (!port) return Promise.resolve({ status: 'unavailable', error: 'no page runs libp2p for this node' });
    return this.pushes.ask(
      (id) => {
        // A copy: the outbox keeps the record's bytes for another try.
        const b = tx.slice();
        port.postMessage({ type: 'push', id, bytes: b }, [b.buffer]);
      },
      timeoutMs,
      'no answer from the browser peers',
    );
  }

  /** Relays a transaction this producer holds to the page's browser peers (/psiweb/relay/2.0.0); nothing without a page. */
  relay(tx: Uint8Array): void {
    const b = tx.slice();
    this.port?.postMessage({ type: 'relay', bytes: b }, [b.buffer]);
  }

  /** Who holds the transactions producer peers relay to this one; without one they are passed over. */
  onRelay(handler: ((tx: Uint8Array, from: string) => void) | undefined): void {
    this.relayHandler = handler;
  }

  /** Who takes the transactions browser peers push to this one (a producer); without one they are 'unavailable'. */
  onPush(handler: ((tx: Uint8Array, from: string) => Promise<PushAnswer>) | undefined): void {
    this.pushHandler = handler;
  }

  private async answerPush(id: number, tx: Uint8Array, from: string): Promise<void> {
    let answer: PushAnswer;
    try {
      answer = this.pushHandler ? await this.pushHandler(tx, from) : { status: 'unavailable', error: 'this browser does not produce this network' };
    } catch (e) {
      answer = { status: 'failed', error: (e as Error).message ?? String(e) };
    }
    this.port?.postMessage({ type: 'pushAnswer', id, answer });
  }

  /** The core found the peer misbehaving: the page closes its stream and bans its libp2p id. */
  misbehaved(label: string, reason: string): void {
    if (!this.peers.delete(label)) return;
    this.port?.postMessage({ type: 'misbehaved', peer: label.slice(LABEL_PREFIX.length), reason });
    this.listener?.closed(label);
  }

  private onPage(m: PageToWorker): void {
    switch (m.type) {
      case 'mode':
        this.libp2p = m.libp2p;
        this.modeReason = m.reason;
        this.listener?.mode(m.libp2p);
        break;
      case 'connected': {
        const label = LABEL_PREFIX + m.peer;
        this.peers.set(label, m.peerId);
        this.listener?.connected(label);
        break;
      }
      case 'message': {
        const label = LABEL_PREFIX + m.peer;
        if (this.peers.has(label)) this.listener?.message(label, m.bytes);
        break;
      }
      case 'closed': {
        const label = LABEL_PREFIX + m.peer;
        if (this.peers.delete(label)) this.listener?.closed(label);
        break;
      }
      case 'net':
        this.net = m.net;
        break;
      case 'pushIn':
        void this.answerPush(m.id, m.bytes, m.from);
        break;
      case 'relayIn':
        this.relayHandler?.(m.bytes, m.from);
        break;
      case 'pushResult':
        this.pushes.answered(m.id, m.answer);
        break;
    }
  }
}

/** What the page's side drives: a Libp2pTransport (or the same surface). */
export type BridgedTransport = Pick<Libp2pTransport, 'onMessage' | 'onPeer' | 'sendToPeer' | 'broadcast' | 'sendToProducer' | 'misbehaved'> & Partial<Pick<Libp2pTransport, 'setProducers'>>;

export interface PagePeerBridgeInit {
  /** A peer the core found misbehaving was dropped (its stream closed, its id banned): e.g. hang up its connection. */
  onDropped?: (peerId: string, reason: string) => void;
  /** The chain the worker's core follows, and whether the Node peer is of it. */
  onChain?: (chainId: string, nodePeer: boolean) => void;
  /** Pushes a transaction the worker gave to the browser peers (/psiweb/push/1.0.0); without it, 'unavailable'. */
  push?: (tx: Uint8Array) => Promise<PushAnswer>;
  /** Relays a transaction the worker's producer holds to the browser peers (/psiweb/relay/2.0.0). */
  relay?: (tx: Uint8Array) => void;
  log?: (line: string) => void;
}

/** The page's side: hands the transport's peers to the worker and does what the worker's core asks. */
export class PagePeerBridge {
  private readonly off: (() => void)[] = [];
  private readonly peerIds = new Map<string, string>();
  chainId: string | undefined;
  /** Whether the Node peer is a peer of the worker's chain (true until the worker says otherwise). */
  nodePeer = true;
  private readonly pushes = new PendingPushes();

  constructor(
    private readonly port: BridgePort<WorkerToPage, PageToWorker>,
    private readonly transport: BridgedTransport,
    private readonly init: PagePeerBridgeInit = {},
  ) {
    port.onmessage = (e) => this.onWorker(e.data);
    this.off.push(
      transport.onPeer((e: TransportPeerEvent) => {
        if (e.type === 'connected') {
          this.peerIds.set(e.peer, e.peerId);
          port.postMessage({ type: 'connected', peer: e.peer, peerId: e.peerId });
        } else {
          this.peerIds.delete(e.peer);
          port.postMessage({ type: 'closed', peer: e.peer, ...(e.reason !== undefined && { reason: e.reason }) });
        }
      }),
      transport.onMessage((m) => {
        const b = own(m.bytes);
        port.postMessage({ type: 'message', peer: m.peer, bytes: b }, [b.buffer]);
      }),
    );
  }

  setMode(libp2p: boolean, reason?: string): void {
    this.port.postMessage({ type: 'mode', libp2p, ...(reason !== undefined && { reason }) });
  }

  sendNet(net: NetView): void {
    this.port.postMessage({ type: 'net', net });
  }

  /** A transaction a browser peer pushed to this one: the worker's node answers ('unavailable' when it does not in time). */
  pushIn(tx: Uint8Array, from: string, timeoutMs = BRIDGE_PUSH_TIMEOUT_MS): Promise<PushAnswer> {
    return this.pushes.ask(
      (id) => {
        const b = own(tx);
        this.port.postMessage({ type: 'pushIn', id, bytes: b, from }, [b.buffer]);
      },
      timeoutMs,
      "this browser's node did not answer",
    );
  }

  /** A transaction a producer peer relayed: for the worker's producer to hold. */
  relayIn(tx: Uint8Array, from: string): void {
    const b = own(tx);
    this.port.postMessage({ type: 'relayIn', bytes: b, from }, [b.buffer]);
  }

  private async pushOut(id: number, tx: Uint8Array): Promise<void> {
    let answer: PushAnswer;
    try {
      answer = this.init.push ? await this.init.push(tx) : { status: 'unavailable', error: 'this page pushes to no browser peers' };
    } catch (e) {
      answer = { status: 'unavailable', error: (e as Error).message ?? String(e) };
    }
    this.port.postMessage({ type: 'pushResult', id, answer });
  }

  close(): void {
    for (const f of this.off.splice(0)) f();
    this.port.onmessage = null;
  }

  private onWorker(m: WorkerToPage): void {
    try {
      this.handle(m);
    } catch (e) {
      // The transport refuses bytes that are no psibase message: the core's bug, not a peer's.
      this.init.log?.(`libp2p bridge: ${m.type} failed: ${(e as Error).message}`);
    }
  }

  private handle(m: WorkerToPage): void {
    switch (m.type) {
      case 'sendToPeer':
        this.transport.sendToPeer(m.peer, m.bytes);
        break;
      case 'broadcast':
        this.transport.broadcast(m.bytes);
        break;
      case 'sendToProducer':
        this.transport.sendToProducer(m.producer, m.bytes);
        break;
      case 'misbehaved': {
        const peerId = this.peerIds.get(m.peer);
        this.init.log?.(`libp2p: the node dropped ${m.peer} (${peerId ?? 'gone'}): ${m.reason}`);
        this.transport.misbehaved(m.peer, m.reason);
        if (peerId !== undefined) this.init.onDropped?.(peerId, m.reason);
        break;
      }
      case 'push':
        void this.pushOut(m.id, m.bytes);
        break;
      case 'pushAnswer':
        this.pushes.answered(m.id, m.answer);
        break;
      case 'relay':
        this.init.relay?.(m.bytes);
        break;
      case 'producers':
        this.transport.setProducers?.(m.producers, m.self);
        break;
      case 'chain':
        this.chainId = m.chainId;
        this.nodePeer = m.nodePeer !== false;
        this.init.onChain?.(m.chainId, this.nodePeer);
        break;
    }
  }
}

/**
 * psinode's routing of messages to producers (psibase libraries/net
 * shortest_path_routing.hpp): Bellman-Ford distance vectors with babel's feasibility
 * condition (RFC 8966) against routing loops. Only producers are destinations; every
 * other node is a router. A platform-free state machine: no sockets, no timers of its
 * own. Each input (a peer connected or gone, a routing message from a peer, a message to
 * send, the producer set changed, the clock reached `wakeAt`) returns the messages to
 * send as `{peer, message}` actions, and envelopes addressed to this node as
 * `deliver` actions; the caller encodes and sends them.
 *
 * As psibase:
 *  - a sequence number is a u16 compared cyclically (a < b when b - a is in 1..32767);
 *    a metric is a u16 that saturates at 0xffff (infinite); each neighbour costs 1;
 *  - a route is keyed by (producer, router id, neighbour); the router id is random per
 *    start of the producer's node, and its seqno starts at 0;
 *  - the source table holds, per (producer, router), the best (seqno, metric) this node
 *    ever advertised (its feasibility distance); an update is feasible when it is
 *    infinite, from an unknown source, or strictly better: newer seqno, or the same
 *    seqno and a smaller advertised metric;
 *  - the selected route (least metric among feasible ones) is multicast to every
 *    neighbour whenever it changes or its neighbour updated it; when none is feasible
 *    the route is retracted (an infinite update) and a RouteSeqnoRequest for seqno + 1
 *    goes out; the producer answers by bumping its seqno (at most once a second), which
 *    makes the routes through the others feasible again;
 *  - a RouteSeqnoRequest is answered from a route at least that new, or forwarded
 *    (ttl - 1, along the selected route, else the best known one), the same request
 *    at most once per 30 s;
 *  - a RoutingEnvelope for this node is delivered; one for another producer is
 *    forwarded along the selected route when `validate` accepts what it carries (psibase
 *    forwards only consensus messages it can validate) and dropped otherwise.
 *
 * Not here: psibase's send_after_block (holding an envelope until the next hop has the
 * block it refers to): envelopes go on at once.
 */
import type { AnyMessage, RouteUpdateMessage, RouteSeqnoRequest, RoutingEnvelope } from '../wire/index.ts';
import { RoutingError } from './errors.ts';
import { accountName } from '../../protocol/names.ts';

/** A producer as the log names it: its account name (the number if it has none). */
function nameOf(producer: bigint): string {
  try {
    return accountName(producer);
  } catch {
    return String(producer);
  }
}

export type PeerId = number;
/** An AccountNumber (the producer's name as its u64). */
export type ProducerId = bigint;
/** psibase's RouterId: a random u64 per start of a producer's node. */
export type RouterId = bigint;

export const INFINITE_METRIC = 0xffff;
/** Each hop's transmission cost (psibase NeighborData default). */
export const NEIGHBOR_COST = 1;
/** A producer bumps its seqno at most this often (minSeqnoUpdateInterval). */
export const MIN_SEQNO_UPDATE_INTERVAL_MS = 1_000;
/** A forwarded seqno request is not forwarded again within this (seqnoCacheMaxAge). */
export const SEQNO_CACHE_MAX_AGE_MS = 30_000;
/** RouteSeqnoRequest's default ttl. */
export const SEQNO_REQUEST_TTL = 64;

/** Cyclic u16 comparison of sequence numbers (not even a partial order). */
export function seqnoLess(a: number, b: number): boolean {
  return a !== b && ((b - a) & 0x8000) === 0;
}

export function addMetric(a: number, b: number): number {
  return Math.min(a + b, INFINITE_METRIC);
}

export interface Feasibility {
  seqno: number;
  metric: number;
}

/** Whether `a` is strictly better than `b`: a newer seqno, or the same one at a smaller metric. */
export function feasibilityLess(a: Feasibility, b: Feasibility): boolean {
  return seqnoLess(b.seqno, a.seqno) || (a.seqno === b.seqno && a.metric < b.metric);
}

export type RoutingAction =
  /** Send `message` to the neighbour `peer`. */
  | { kind: 'send'; peer: PeerId; message: AnyMessage }
  /** An envelope addressed to this node arrived from `from`: handle `data` (a whole message) as if `from` sent it. */
  | { kind: 'deliver'; from: PeerId; data: Uint8Array };

export type RoutingMessage =
  | { kind: 'RouteUpdateMessage'; value: RouteUpdateMessage }
  | { kind: 'RouteSeqnoRequest'; value: RouteSeqnoRequest }
  | { kind: 'RequestRoutesMessage'; value: Record<string, never> }
  | { kind: 'RoutingEnvelope'; value: RoutingEnvelope };

export interface ShortestPathRoutingInit {
  /** Milliseconds on a monotonic clock. */
  now: () => number;
  /** This node's RouterId (psibase draws a random u64 at start). */
  routerId: RouterId;
  /** The producer this node is, if it is one. */
  self?: ProducerId;
  /** The active producers; undefined: every name counts as one (psibase's test mock). */
  producers?: Iterable<ProducerId>;
  /** Whether an envelope for another producer may be forwarded (default: it carries a message). */
  validate?: (data: Uint8Array) => boolean;
  log?: (line: string) => void;
}

interface Route {
  producer: ProducerId;
  router: RouterId;
  peer: PeerId;
  seqno: number;
  /** As the neighbour advertised it (without the hop to it). */
  metric: number;
}

interface Selected {
  router: RouterId;
  peer: PeerId;
}

const routeKey = (producer: ProducerId, router: RouterId, peer: PeerId) => `${producer}/${router}/${peer}`;
const sourceKey = (producer: ProducerId, router: RouterId) => `${producer}/${router}`;

export class ShortestPathRouting {
  readonly routerId: RouterId;
  private self: ProducerId | undefined;
  private producers: Set<ProducerId> | undefined;
  private seqno = 0;
  private lastSeqnoUpdate = -Infinity;
  /** When a seqno bump was asked for too soon after the last: the time to do it. */
  private seqnoBumpAt: number | undefined;
  private readonly neighbors = new Map<PeerId, { cost: number }>();
  private readonly routes = new Map<string, Route>();
  private readonly sources = new Map<string, Feasibility>();
  private readonly selected = new Map<ProducerId, Selected>();
  private readonly recentSeqnoRequests = new Map<ProducerId, { seqno: number; time: number }>();
  private out: RoutingAction[] = [];

  constructor(private readonly init: ShortestPathRoutingInit) {
    this.routerId = init.routerId;
    this.self = init.self;
    this.producers = init.producers ? new Set(init.producers) : undefined;
  }

  // -------------------------------------------------------------------------------------
  // Queries

  isProducer(name: ProducerId): boolean {
    return !this.producers || this.producers.has(name);
  }

  /** The producers a message can be sent to now. */
  reachable(): ProducerId[] {
    return [...this.selected.keys()];
  }

  isReachable(producer: ProducerId): boolean {
    return this.selected.has(producer);
  }

  /** The neighbour a message for `producer` goes to, and the metric of the route. */
  route(producer: ProducerId): { peer: PeerId; metric: number; seqno: number } | undefined {
    const s = this.selected.get(producer);
    if (!s) return undefined;
    const r = this.routes.get(routeKey(producer, s.router, s.peer));
    return r && { peer: s.peer, metric: this.metricOf(r), seqno: r.seqno };
  }

  /** This node's own seqno (as a producer). */
  get ownSeqno(): number {
    return this.seqno;
  }

  /** When `wake()` should be called (a seqno bump that had to wait), if ever. */
  get wakeAt(): number | undefined {
    return this.seqnoBumpAt;
  }

  // -------------------------------------------------------------------------------------
  // Inputs

  /** A neighbour connected (after InitMessage went out): it is sent every route this node has. */
  connect(peer: PeerId): RoutingAction[] {
    if (!this.neighbors.has(peer)) this.neighbors.set(peer, { cost: NEIGHBOR_COST });
    this.sendRoutes(peer);
    return this.flush();
  }

  /** A neighbour is gone: its routes go, and routes through it are selected anew. */
  disconnect(peer: PeerId): RoutingAction[] {
    for (const [k, r] of this.routes) if (r.peer === peer) this.routes.delete(k);
    this.neighbors.delete(peer);
    for (const [producer, s] of [...this.selected]) if (s.peer === peer) this.selectRoute(producer, peer);
    return this.flush();
  }

  /** A routing message from a neighbour. */
  receive(peer: PeerId, msg: RoutingMessage): RoutingAction[] {
    if (!this.neighbors.has(peer)) throw new RoutingError(`routing: message from peer ${peer}, which is not connected`, { details: { peer } });
    switch (msg.kind) {
      case 'RouteUpdateMessage':
        this.onRouteUpdate(peer, msg.value);
        break;
      case 'RouteSeqnoRequest':
        this.onSeqnoRequest(peer, msg.value);
        break;
      case 'RequestRoutesMessage':
        this.sendRoutes(peer);
        break;
      case 'RoutingEnvelope':
        this.onEnvelope(peer, msg.value);
        break;
    }
    return this.flush();
  }

  /**
   * Sends `data` (a whole message: type byte + fracpack) to `producer` in a
   * RoutingEnvelope along the selected route. `sent` is false when there is no route
   * (psibase drops the message then).
   */
  sendTo(producer: ProducerId, data: Uint8Array): { sent: boolean; actions: RoutingAction[] } {
    checkData(data);
    const s = this.selected.get(producer);
    if (s) this.send(s.peer, { kind: 'RoutingEnvelope', value: { destination: producer, data } });
    return { sent: s !== undefined, actions: this.flush() };
  }

  /** Sends `data` to every reachable producer (psibase multicast_producers). */
  sendToProducers(data: Uint8Array): RoutingAction[] {
    checkData(data);
    for (const [producer, s] of this.selected) this.send(s.peer, { kind: 'RoutingEnvelope', value: { destination: producer, data } });
    return this.flush();
  }

  /**
   * The producer set or this node's producer name changed (psibase on_producer_change):
   * routes to names no longer producing (or to this node) go, a new producer
   * advertises itself, and every neighbour is asked for its routes again.
   */
  setProducers(producers: Iterable<ProducerId> | undefined, self: ProducerId | undefined = this.self): RoutingAction[] {
    this.producers = producers ? new Set(producers) : undefined;
    this.self = self;
    const keep = (p: ProducerId) => this.isProducer(p) && p !== this.self;
    for (const p of [...this.selected.keys()])
      if (!keep(p)) {
        this.selected.delete(p);
        this.log(`routing: removed route to ${nameOf(p)}`);
      }
    for (const [k, r] of this.routes) if (!keep(r.producer)) this.routes.delete(k);
    for (const [k, _] of this.sources) if (!keep(BigInt(k.slice(0, k.indexOf('/'))))) this.sources.delete(k);
    if (this.selfIsProducer()) this.multicast({ kind: 'RouteUpdateMessage', value: this.ownUpdate() });
    this.multicast({ kind: 'RequestRoutesMessage', value: {} });
    return this.flush();
  }

  /** The clock reached `wakeAt`: the seqno bump that had to wait happens now. */
  wake(): RoutingAction[] {
    if (this.seqnoBumpAt !== undefined && this.init.now() >= this.seqnoBumpAt) {
      this.seqnoBumpAt = undefined;
      this.incrementSeqno();
    }
    return this.flush();
  }

  // -------------------------------------------------------------------------------------

  private log(line: string): void {
    this.init.log?.(line);
  }

  private flush(): RoutingAction[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private send(peer: PeerId, message: AnyMessage): void {
    this.out.push({ kind: 'send', peer, message });
  }

  private multicast(message: AnyMessage): void {
    for (const peer of this.neighbors.keys()) this.send(peer, message);
  }

  private selfIsProducer(): boolean {
    return this.self !== undefined && this.isProducer(this.self);
  }

  private ownUpdate(): RouteUpdateMessage {
    return { producer: this.self!, seqno: { value: this.seqno }, metric: { value: 0 }, router: this.routerId };
  }

  private metricOf(r: Route): number {
    const n = this.neighbors.get(r.peer);
    return n ? addMetric(r.metric, n.cost) : INFINITE_METRIC;
  }

  private sendRoutes(peer: PeerId): void {
    for (const [producer, s] of this.selected) {
      const r = this.routes.get(routeKey(producer, s.router, s.peer));
      if (r) this.send(peer, { kind: 'RouteUpdateMessage', value: { producer, seqno: { value: r.seqno }, metric: { value: this.metricOf(r) }, router: s.router } });
    }
    if (this.selfIsProducer()) this.send(peer, { kind: 'RouteUpdateMessage', value: this.ownUpdate() });
  }

  private isFeasible(r: Route): boolean {
    if (r.metric === INFINITE_METRIC) return true;
    const fd = this.sources.get(sourceKey(r.producer, r.router));
    return !fd || feasibilityLess({ seqno: r.seqno, metric: r.metric }, fd);
  }

  private selectRoute(producer: ProducerId, updatedPeer: PeerId): void {
    let best: Route | undefined;
    let bestMetric = INFINITE_METRIC;
    for (const r of this.routes.values()) {
      if (r.producer !== producer || !this.isFeasible(r)) continue;
      const m = this.metricOf(r);
      if (m < bestMetric) {
        bestMetric = m;
        best = r;
      }
    }
    if (best) {
      this.select(best, updatedPeer);
      return;
    }
    const removed = this.selected.get(producer);
    if (!removed) return;
    this.selected.delete(producer);
    this.log(`routing: no feasible route to ${nameOf(producer)}`);
    this.multicast({ kind: 'RouteUpdateMessage', value: { producer, seqno: { value: 0 }, metric: { value: INFINITE_METRIC }, router: removed.router } });
    const fd = this.sources.get(sourceKey(producer, removed.router));
    if (fd) this.multicast({ kind: 'RouteSeqnoRequest', value: { producer, seqno: { value: (fd.seqno + 1) & 0xffff }, ttl: SEQNO_REQUEST_TTL } });
  }

  private select(r: Route, updatedPeer: PeerId): void {
    const cur = this.selected.get(r.producer);
    const changed = !cur || cur.router !== r.router || cur.peer !== r.peer;
    if (changed) this.selected.set(r.producer, { router: r.router, peer: r.peer });
    if (!changed && r.peer !== updatedPeer) return;
    const metric = this.metricOf(r);
    this.log(`routing: ${changed ? 'new' : 'updated'} route to ${nameOf(r.producer)} via peer ${r.peer} seqno=${r.seqno} metric=${metric}`);
    const feasibility = { seqno: r.seqno, metric };
    const key = sourceKey(r.producer, r.router);
    const fd = this.sources.get(key);
    if (!fd || feasibilityLess(feasibility, fd)) this.sources.set(key, feasibility);
    this.multicast({ kind: 'RouteUpdateMessage', value: { producer: r.producer, seqno: { value: r.seqno }, metric: { value: metric }, router: r.router } });
  }

  private onRouteUpdate(peer: PeerId, msg: RouteUpdateMessage): void {
    if (msg.producer === this.self) return;
    if (!this.isProducer(msg.producer)) return;
    const router = msg.router ?? 0n;
    const key = routeKey(msg.producer, router, peer);
    const r = this.routes.get(key);
    if (!r) {
      if (msg.metric.value === INFINITE_METRIC) return;
      this.routes.set(key, { producer: msg.producer, router, peer, seqno: msg.seqno.value, metric: msg.metric.value });
      this.selectRoute(msg.producer, peer);
    } else if (r.metric !== msg.metric.value || r.seqno !== msg.seqno.value) {
      r.metric = msg.metric.value;
      r.seqno = msg.seqno.value;
      this.selectRoute(msg.producer, peer);
    }
  }

  private makeUpdate(producer: ProducerId): RouteUpdateMessage {
    const s = this.selected.get(producer);
    const r = s && this.routes.get(routeKey(producer, s.router, s.peer));
    if (s && r) return { producer, seqno: { value: r.seqno }, metric: { value: this.metricOf(r) }, router: s.router };
    return { producer, seqno: { value: 0 }, metric: { value: INFINITE_METRIC }, router: null };
  }

  private onSeqnoRequest(peer: PeerId, msg: RouteSeqnoRequest): void {
    const response = this.makeUpdate(msg.producer);
    if (response.metric.value !== INFINITE_METRIC && !seqnoLess(response.seqno.value, msg.seqno.value)) this.send(peer, { kind: 'RouteUpdateMessage', value: response });
    else if (msg.producer === this.self) this.incrementSeqno();
    else if (msg.ttl >= 2) this.forwardSeqnoRequest(msg);
  }

  private incrementSeqno(): void {
    const now = this.init.now();
    if (now - this.lastSeqnoUpdate > MIN_SEQNO_UPDATE_INTERVAL_MS) {
      this.seqno = (this.seqno + 1) & 0xffff;
      this.multicast({ kind: 'RouteUpdateMessage', value: this.ownUpdate() });
      this.lastSeqnoUpdate = now;
    } else {
      this.seqnoBumpAt = this.lastSeqnoUpdate + MIN_SEQNO_UPDATE_INTERVAL_MS;
    }
  }

  /** Whether the request is new (not the same one within SEQNO_CACHE_MAX_AGE_MS); records it. */
  private cacheSeqnoRequest(msg: RouteSeqnoRequest): boolean {
    const now = this.init.now();
    const cached = this.recentSeqnoRequests.get(msg.producer);
    if (cached && now - cached.time <= SEQNO_CACHE_MAX_AGE_MS && cached.seqno === msg.seqno.value) return false;
    this.recentSeqnoRequests.set(msg.producer, { seqno: msg.seqno.value, time: now });
    return true;
  }

  private forwardSeqnoRequest(req: RouteSeqnoRequest): void {
    const msg = { ...req, ttl: req.ttl - 1 };
    if (!this.cacheSeqnoRequest(msg)) return;
    const s = this.selected.get(msg.producer);
    if (s) {
      this.send(s.peer, { kind: 'RouteSeqnoRequest', value: msg });
      return;
    }
    let best: PeerId | undefined;
    let bestMetric = INFINITE_METRIC;
    for (const r of this.routes.values()) {
      if (r.producer !== msg.producer) continue;
      const m = this.metricOf(r);
      if (m < bestMetric) {
        bestMetric = m;
        best = r.peer;
      }
    }
    if (best !== undefined) this.send(best, { kind: 'RouteSeqnoRequest', value: msg });
  }

  private onEnvelope(peer: PeerId, msg: RoutingEnvelope): void {
    if (this.self !== undefined && msg.destination === this.self) {
      this.out.push({ kind: 'deliver', from: peer, data: msg.data });
      return;
    }
    const validate = this.init.validate ?? ((d: Uint8Array) => d.length > 0);
    if (!validate(msg.data)) {
      this.log(`routing: envelope for ${nameOf(msg.destination)} from peer ${peer} not forwarded: its message is not one that is routed`);
      return;
    }
    const s = this.selected.get(msg.destination);
    if (s) this.send(s.peer, { kind: 'RoutingEnvelope', value: msg });
    else this.log(`routing: envelope discarded for lack of a route to ${nameOf(msg.destination)}`);
  }
}

function checkData(data: Uint8Array): void {
  if (!(data instanceof Uint8Array) || data.length === 0)
    throw new RoutingError('routing: the message to send must be a whole peer message (type byte + fracpack), not empty');
}

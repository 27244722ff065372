/**
 * psibase's shortest-path routing, in scenarios modelled on psibase's
 * libraries/net/test/test_shortest_path_routing.cpp ("seqno", "feasibility", "basic
 * routing", "cycle", "producers only"), plus the parts those leave out. Nodes are
 * ShortestPathRouting instances wired by an in-memory queue; every message goes through
 * the wire codec (type byte + fracpack) as it would between peers. The clock is injected.
 */
import { describe, expect, it } from 'vitest';
import { accountNumber } from '../../protocol/names.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../wire/index.ts';
import { RoutingError } from './errors.ts';
import {
  feasibilityLess,
  INFINITE_METRIC,
  MIN_SEQNO_UPDATE_INTERVAL_MS,
  seqnoLess,
  ShortestPathRouting,
  type RoutingAction,
  type RoutingMessage,
} from './shortest-path.ts';

/** psibase's test message1 (type 96): an i32, routed as an opaque message. */
const message1 = (value: number) => {
  const b = new Uint8Array(5);
  b[0] = 96;
  new DataView(b.buffer).setInt32(1, value, true);
  return b;
};
const valueOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getInt32(1, true);

class Net {
  now = 0;
  readonly nodes = new Map<string, ShortestPathRouting>();
  /** [from node, to node] → the peer id the `to` node knows the link by. */
  private readonly links = new Map<string, number>();
  private nextPeer = 1;
  private readonly queue: { to: string; from: number; bytes: Uint8Array }[] = [];
  readonly received = new Map<string, number[]>();
  sent = 0;

  add(name: string, opts: { self?: string; producers?: string[] } = {}): ShortestPathRouting {
    const r = new ShortestPathRouting({
      now: () => this.now,
      routerId: BigInt(this.nodes.size + 1) * 0x1000n,
      ...(opts.self !== undefined && { self: accountNumber(opts.self) }),
      ...(opts.producers !== undefined && { producers: opts.producers.map(accountNumber) }),
    });
    this.nodes.set(name, r);
    this.received.set(name, []);
    return r;
  }

  private peerOf(name: string, other: string): number | undefined {
    return this.links.get(`${other}>${name}`);
  }

  private nameOfPeer(name: string, peer: number): string {
    for (const [k, v] of this.links) if (v === peer && k.endsWith(`>${name}`)) return k.slice(0, k.indexOf('>'));
    throw new Error(`no peer ${peer} at ${name}`);
  }

  apply(name: string, actions: RoutingAction[]): void {
    for (const a of actions) {
      if (a.kind === 'deliver') this.received.get(name)!.push(valueOf(a.data));
      else {
        const to = this.nameOfPeer(name, a.peer);
        // The link may have gone meanwhile: the message is lost, as on a closed socket.
        const from = this.peerOf(to, name);
        if (from !== undefined) this.queue.push({ to, from, bytes: encodeMessage(a.message) });
      }
    }
  }

  connect(a: string, b: string): void {
    const pa = this.nextPeer++;
    const pb = this.nextPeer++;
    this.links.set(`${b}>${a}`, pa);
    this.links.set(`${a}>${b}`, pb);
    this.apply(a, this.nodes.get(a)!.connect(pa));
    this.apply(b, this.nodes.get(b)!.connect(pb));
  }

  disconnect(a: string, b: string): void {
    const pa = this.peerOf(a, b)!;
    const pb = this.peerOf(b, a)!;
    this.links.delete(`${b}>${a}`);
    this.links.delete(`${a}>${b}`);
    this.apply(a, this.nodes.get(a)!.disconnect(pa));
    this.apply(b, this.nodes.get(b)!.disconnect(pb));
  }

  /** Delivers queued messages until none is left (psibase's ctx.run()). */
  run(): void {
    for (let guard = 0; this.queue.length > 0; guard++) {
      if (guard > 10_000) throw new Error('routing did not settle');
      const m = this.queue.shift()!;
      if (this.peerOf(m.to, this.nameOfPeer(m.to, m.from)) !== m.from) continue;
      this.sent++;
      const msg = decodeMessage(m.bytes) as WireMessage;
      this.apply(m.to, this.nodes.get(m.to)!.receive(m.from, msg as RoutingMessage));
    }
  }

  sendto(from: string, producer: string, value: number): boolean {
    const { sent, actions } = this.nodes.get(from)!.sendTo(accountNumber(producer), message1(value));
    this.apply(from, actions);
    return sent;
  }

  consume(name: string): number[] {
    const r = this.received.get(name)!;
    this.received.set(name, []);
    return r;
  }
}

describe('psibase test_shortest_path_routing.cpp', () => {
  it('seqno', () => {
    expect(seqnoLess(0, 1)).toBe(true);
    expect(seqnoLess(0, 32767)).toBe(true);
    expect(seqnoLess(0, 32768)).toBe(false);
    expect(seqnoLess(32768, 0)).toBe(false);
    // cyclic: 65535 comes before 0
    expect(seqnoLess(65535, 0)).toBe(true);
    expect(seqnoLess(1, 1)).toBe(false);
  });

  it('feasibility', () => {
    expect(feasibilityLess({ seqno: 0, metric: 2 }, { seqno: 0, metric: 3 })).toBe(true);
    expect(feasibilityLess({ seqno: 1, metric: 2 }, { seqno: 0, metric: 1 })).toBe(true);
    expect(feasibilityLess({ seqno: 0, metric: 3 }, { seqno: 0, metric: 3 })).toBe(false);
    expect(feasibilityLess({ seqno: 0, metric: 1 }, { seqno: 1, metric: 5 })).toBe(false);
  });

  it('basic routing', () => {
    const net = new Net();
    net.add('a');
    net.add('b');
    net.add('c', { self: 'c' });
    net.connect('a', 'b');
    net.connect('b', 'c');
    net.run();
    // a message sent by node a to producer c reaches c through b
    expect(net.sendto('a', 'c', 42)).toBe(true);
    net.run();
    expect(net.consume('c')).toEqual([42]);
    expect(net.consume('b')).toEqual([]);
    expect(net.nodes.get('a')!.route(accountNumber('c'))).toMatchObject({ metric: 2, seqno: 0 });
  });

  it('cycle', () => {
    const net = new Net();
    net.add('a');
    net.add('b');
    net.add('c', { self: 'c' });
    net.connect('a', 'b');
    net.connect('b', 'c');
    net.connect('a', 'c');
    net.run();
    expect(net.sendto('a', 'c', 42)).toBe(true);
    net.run();
    expect(net.consume('c')).toEqual([42]);
    expect(net.nodes.get('a')!.route(accountNumber('c'))!.metric).toBe(1);

    // The direct link goes: the route through b is not feasible at first (same seqno,
    // not a smaller metric), so a asks c for a new seqno, and c's answer makes it so.
    net.disconnect('a', 'c');
    net.run();
    expect(net.nodes.get('c')!.ownSeqno).toBe(1);
    expect(net.nodes.get('a')!.route(accountNumber('c'))).toMatchObject({ metric: 2, seqno: 1 });
    expect(net.sendto('a', 'c', 7)).toBe(true);
    net.run();
    expect(net.consume('c')).toEqual([7]);
  });

  it('producers only', () => {
    const net = new Net();
    net.add('a');
    const b = net.add('b');
    net.add('c', { self: 'c' });
    net.connect('a', 'b');
    net.connect('b', 'c');
    net.apply('b', b.setProducers([]));
    net.run();
    // b does not route to c, which it does not count as a producer
    expect(net.sendto('a', 'c', 42)).toBe(false);
    net.run();
    expect(net.consume('c')).toEqual([]);

    // once b counts c as a producer, a reaches it
    net.apply('b', b.setProducers([accountNumber('c')]));
    net.run();
    expect(net.sendto('a', 'c', 42)).toBe(true);
    net.run();
    expect(net.consume('c')).toEqual([42]);
  });
});

describe('shortest-path routing, beyond psibase’s cases', () => {
  it('takes the shorter of two paths, and the other when the shorter one breaks', () => {
    // a–b–c–p and a–d–p: a's route to p goes through d (3 hops vs 2)
    const net = new Net();
    for (const n of ['a', 'b', 'c', 'd']) net.add(n);
    net.add('p', { self: 'p' });
    net.connect('a', 'b');
    net.connect('b', 'c');
    net.connect('c', 'p');
    net.connect('a', 'd');
    net.connect('d', 'p');
    net.run();
    const a = net.nodes.get('a')!;
    expect(a.route(accountNumber('p'))!.metric).toBe(2);
    net.disconnect('d', 'p');
    net.now += 2_000;
    net.run();
    expect(a.route(accountNumber('p'))!.metric).toBe(3);
    expect(net.sendto('a', 'p', 5)).toBe(true);
    net.run();
    expect(net.consume('p')).toEqual([5]);
  });

  it('a partitioned producer is unreachable; no message loops', () => {
    const net = new Net();
    net.add('a');
    net.add('b');
    net.add('c', { self: 'c' });
    net.connect('a', 'b');
    net.connect('b', 'c');
    net.connect('a', 'c');
    net.run();
    net.disconnect('b', 'c');
    net.disconnect('a', 'c');
    net.run();
    expect(net.nodes.get('a')!.isReachable(accountNumber('c'))).toBe(false);
    expect(net.nodes.get('b')!.isReachable(accountNumber('c'))).toBe(false);
    expect(net.sendto('a', 'c', 1)).toBe(false);
  });

  it('a producer bumps its seqno at most once a second; the bump that waited happens at wakeAt', () => {
    const net = new Net();
    const p = net.add('p', { self: 'p' });
    net.add('a');
    net.connect('a', 'p');
    net.run();
    net.now = 5_000;
    const ask = (seqno: number) => p.receive(2, { kind: 'RouteSeqnoRequest', value: { producer: accountNumber('p'), seqno: { value: seqno }, ttl: 64 } });
    const first = ask(1);
    expect(p.ownSeqno).toBe(1);
    expect(first).toEqual([expect.objectContaining({ kind: 'send', message: expect.objectContaining({ kind: 'RouteUpdateMessage' }) })]);
    net.now += 10;
    expect(ask(2)).toEqual([]);
    expect(p.ownSeqno).toBe(1);
    expect(p.wakeAt).toBe(5_000 + MIN_SEQNO_UPDATE_INTERVAL_MS);
    expect(p.wake()).toEqual([]); // not yet
    net.now = p.wakeAt! + 1;
    expect(p.wake()).toHaveLength(1);
    expect(p.ownSeqno).toBe(2);
    expect(p.wakeAt).toBeUndefined();
  });

  it('a seqno request is answered from a route that new, else forwarded once towards the producer with ttl - 1', () => {
    // b with neighbours 1 (asking) and 2 (towards c, which advertised seqno 0 at metric 0)
    const b = new ShortestPathRouting({ now: () => 0, routerId: 1n });
    b.connect(1);
    b.connect(2);
    const c = accountNumber('c');
    b.receive(2, { kind: 'RouteUpdateMessage', value: { producer: c, seqno: { value: 0 }, metric: { value: 0 }, router: 9n } });
    // seqno 0 is what b has: answered from its route
    expect(b.receive(1, { kind: 'RouteSeqnoRequest', value: { producer: c, seqno: { value: 0 }, ttl: 64 } })).toEqual([
      { kind: 'send', peer: 1, message: { kind: 'RouteUpdateMessage', value: { producer: c, seqno: { value: 0 }, metric: { value: 1 }, router: 9n } } },
    ]);
    // seqno 1 is newer: forwarded towards c with ttl 63, and only once
    expect(b.receive(1, { kind: 'RouteSeqnoRequest', value: { producer: c, seqno: { value: 1 }, ttl: 64 } })).toEqual([
      { kind: 'send', peer: 2, message: { kind: 'RouteSeqnoRequest', value: { producer: c, seqno: { value: 1 }, ttl: 63 } } },
    ]);
    expect(b.receive(1, { kind: 'RouteSeqnoRequest', value: { producer: c, seqno: { value: 1 }, ttl: 64 } })).toEqual([]);
    // ttl 1 goes no further
    expect(b.receive(1, { kind: 'RouteSeqnoRequest', value: { producer: c, seqno: { value: 2 }, ttl: 1 } })).toEqual([]);
  });

  it('an envelope is forwarded only when validate accepts what it carries; one for this node is delivered', () => {
    const b = new ShortestPathRouting({ now: () => 0, routerId: 1n, validate: (d) => d[0]! >= 32 });
    b.connect(1);
    b.connect(2);
    const c = accountNumber('c');
    b.receive(2, { kind: 'RouteUpdateMessage', value: { producer: c, seqno: { value: 0 }, metric: { value: 0 }, router: 9n } });
    expect(b.receive(1, { kind: 'RoutingEnvelope', value: { destination: c, data: message1(3) } })).toEqual([
      { kind: 'send', peer: 2, message: { kind: 'RoutingEnvelope', value: { destination: c, data: message1(3) } } },
    ]);
    // a routing message inside an envelope is not forwarded
    expect(b.receive(1, { kind: 'RoutingEnvelope', value: { destination: c, data: Uint8Array.of(6) } })).toEqual([]);
    // no route: dropped
    expect(b.receive(1, { kind: 'RoutingEnvelope', value: { destination: accountNumber('zed'), data: message1(3) } })).toEqual([]);
    const p = new ShortestPathRouting({ now: () => 0, routerId: 2n, self: c });
    p.connect(4);
    expect(p.receive(4, { kind: 'RoutingEnvelope', value: { destination: c, data: message1(8) } })).toEqual([{ kind: 'deliver', from: 4, data: message1(8) }]);
  });

  it('an infinite route from an unknown source is not recorded; bad input is refused with RoutingError', () => {
    const b = new ShortestPathRouting({ now: () => 0, routerId: 1n });
    b.connect(1);
    const c = accountNumber('c');
    b.receive(1, { kind: 'RouteUpdateMessage', value: { producer: c, seqno: { value: 0 }, metric: { value: INFINITE_METRIC }, router: 9n } });
    expect(b.isReachable(c)).toBe(false);
    expect(() => b.receive(7, { kind: 'RequestRoutesMessage', value: {} })).toThrow(RoutingError);
    expect(() => b.sendTo(c, new Uint8Array())).toThrow(RoutingError);
  });

  it('a node that becomes a producer advertises itself to every neighbour', () => {
    const net = new Net();
    const a = net.add('a');
    const b = net.add('b');
    net.connect('a', 'b');
    net.run();
    expect(a.isReachable(accountNumber('b'))).toBe(false);
    net.apply('b', b.setProducers(undefined, accountNumber('b')));
    net.run();
    expect(a.route(accountNumber('b'))).toMatchObject({ metric: 1 });
  });
});

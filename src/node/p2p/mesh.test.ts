/**
 * The mesh of Node peers: address exchange (X-Psiweb-Peer-Url + GET x-peers.<root>/peers),
 * dialing learned addresses, surviving the loss of a node, psinode's shortest-path
 * routing of envelopes to a producer through other nodes, and bans of misbehaving
 * peers. Each node is a PeerNetwork behind the Node peer's HTTP adapter with the real
 * upgrade handler and peer list (as startPeer wires them), on 127.0.0.1; the chain is an
 * empty stand-in (these tests move no blocks), so nodes only say hello.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Chain } from '../../chain/executor.ts';
import { encodeMessage } from '../../net/wire/index.ts';
import { accountNumber } from '../../protocol/names.ts';
import { fetchNode } from '../client.ts';
import { LOOPBACK } from '../constants.ts';
import { startPeer } from '../peer.ts';
import { createHttpServer } from '../http-server.ts';
import { isPeerListUrl, p2pUpgradeHandler, peerListResponse } from './accept.ts';
import { fetchPeerList, PEER_URL_HEADER } from './discovery.ts';
import { PeerBannedError, WebSocketHandshakeError } from './errors.ts';
import { PeerNetwork, type PeerNetworkInit, type ReceivedMessage } from './network.ts';
import { dialWebSocket, type WebSocket } from './websocket.ts';

const ROOT = 'psiweb.localhost';
const emptyChain = { status: undefined, head: undefined, state: { store: { block: async () => undefined } } } as unknown as Chain;

interface TestNode {
  name: string;
  url: string;
  net: PeerNetwork;
  lines: string[];
  received: ReceivedMessage[];
  stop(): Promise<void>;
}

const running: TestNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

async function node(name: string, init: Partial<PeerNetworkInit> = {}, servesList = true): Promise<TestNode> {
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  let net: PeerNetwork | undefined;
  const server: Server = createHttpServer(
    async (r) => (servesList && isPeerListUrl(new URL(r.url), ROOT) ? peerListResponse(r, net!) : new Response('not here', { status: 404 })),
    { maxBodyBytes: 1 << 20, onUpgrade: p2pUpgradeHandler(ROOT, () => net, log) },
  );
  await new Promise<void>((resolve) => server.listen({ port: 0, host: LOOPBACK }, resolve));
  const url = `http://${ROOT}:${(server.address() as AddressInfo).port}`;
  net = new PeerNetwork({ chain: emptyChain, role: 'follower', log, selfUrl: url, discoveryIntervalMs: 0, ...init });
  const received: ReceivedMessage[] = [];
  net.onMessage((m) => received.push(m));
  let stopped: Promise<void> | undefined;
  const n: TestNode = {
    name,
    url,
    net,
    lines,
    received,
    stop: () =>
      (stopped ??= (async () => {
        await net.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })()),
  };
  running.push(n);
  return n;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const urlsOf = (n: TestNode) => n.net.peers().map((p) => p.url && new URL(p.url).origin);
const connected = (a: TestNode, b: TestNode) => urlsOf(a).includes(new URL(b.url).origin) && urlsOf(b).includes(new URL(a.url).origin);

/** A signed PrepareMessage (the signature is a stand-in: routing does not check it). */
function prepare(tag: number): Uint8Array {
  const inner = encodeMessage({ kind: 'PrepareMessage', value: { block_id: new Uint8Array(32).fill(tag), producer: accountNumber('prod'), signer: { service: accountNumber('verify-sig'), rawData: new Uint8Array([tag]) } } });
  return encodeMessage({ kind: 'SignedMessage<PrepareMessage>', value: { data: inner.subarray(1), signature: new Uint8Array([1, 2, 3]) } });
}

describe('a mesh of peers', () => {
  it('three nodes in a line A–B–C: A learns C’s address from B and connects to it directly; losing B leaves A–C connected', async () => {
    const b = await node('b');
    const c = await node('c');
    c.net.connect(b.url);
    await until('C–B', () => connected(b, c));
    // B lists its own URL and C's (which C said when it dialed)
    expect(await fetchPeerList(b.url)).toEqual([new URL(b.url).origin, new URL(c.url).origin]);
    const a = await node('a');
    a.net.connect(b.url);
    await until('A–C, learned through B', () => connected(a, c));
    expect(a.lines.join('\n')).toMatch(new RegExp(`dialing ${new URL(c.url).origin}, learned from a peer`));
    expect(a.net.peers()).toHaveLength(2);

    await b.stop();
    await until('B gone from A and C', () => a.net.peers().length === 1 && c.net.peers().length === 1);
    // A and C are still connected, and stay so
    await new Promise((r) => setTimeout(r, 300));
    expect(connected(a, c)).toBe(true);
  }, 30_000);

  it('two nodes that dial each other at once keep one connection, the one the node with the smaller URL dialed', async () => {
    const a = await node('a');
    const b = await node('b');
    a.net.connect(b.url);
    b.net.connect(a.url);
    await until('connected', () => connected(a, b));
    await new Promise((r) => setTimeout(r, 500));
    expect(a.net.peers()).toHaveLength(1);
    expect(b.net.peers()).toHaveLength(1);
    const [small, big] = new URL(a.url).origin < new URL(b.url).origin ? [a, b] : [b, a];
    expect(small.net.peers()[0]!.direction).toBe('out');
    expect(big.net.peers()[0]!.direction).toBe('in');
  }, 30_000);

  it('a peer that cannot be reached is dialed again after an exponential backoff with jitter', async () => {
    const gone = await node('gone');
    const goneUrl = gone.url;
    await gone.stop();
    // random() = 0: the jitter takes the least, half of each step (250, 500, 1000 … ms)
    const a = await node('a', { random: () => 0 });
    a.net.connect(goneUrl);
    await until('three retries', () => a.lines.filter((l) => l.includes('retrying in')).length >= 3);
    expect(a.lines.filter((l) => l.includes('retrying in')).map((l) => Number(/retrying in (\d+) ms/.exec(l)![1]))).toEqual([250, 500, 1000]);
  }, 30_000);

  it('a peer that serves no list of peers (as psinode) is not asked again', async () => {
    const old = await node('old', {}, false);
    const a = await node('a');
    a.net.connect(old.url);
    await until('asked once', () => a.lines.some((l) => l.includes('serves no list of peers')));
    await a.net.discoverPeers();
    await a.net.discoverPeers();
    expect(a.lines.filter((l) => /peer list|list of peers/.test(l))).toHaveLength(1);
  }, 30_000);

  it('a message for a producer behind C reaches it from A through B in a RoutingEnvelope', async () => {
    // No learned dials: A and C stay two hops apart.
    const a = await node('a', { maxOutbound: 0 });
    const b = await node('b', { maxOutbound: 0 });
    const c = await node('c', { maxOutbound: 0, producer: 'prod' });
    a.net.connect(b.url);
    c.net.connect(b.url);
    await until('A–B and B–C', () => connected(a, b) && connected(b, c));
    expect(connected(a, c)).toBe(false);
    await until('a route from A to prod', () => a.net.routing.isReachable(accountNumber('prod')));
    expect(a.net.routing.route(accountNumber('prod'))).toMatchObject({ metric: 2 });
    const msg = prepare(7);
    expect(a.net.sendToProducer('prod', msg)).toBe(true);
    await until('C receives it', () => c.received.length === 1);
    expect(c.received[0]).toMatchObject({ routed: true, message: { kind: 'SignedMessage<PrepareMessage>' } });
    expect(c.received[0]!.bytes).toEqual(msg);
    // B only passed it on
    expect(b.received).toEqual([]);
    expect(a.net.sendToProducer('nobody', msg)).toBe(false);
  }, 30_000);
});

describe('misbehaving peers are banned for a while', () => {
  /** A bare WebSocket that says it is `url` (frames are parsed once a message handler is set). */
  async function fake(target: TestNode, url: string): Promise<WebSocket> {
    const ws = await dialWebSocket(target.url, { headers: { [PEER_URL_HEADER]: url } });
    ws.on('message', () => undefined);
    return ws;
  }
  const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason })));

  it('a peer sending garbage is disconnected, banned, and its reconnect refused until the ban expires', async () => {
    let now = 1_000_000;
    const b = await node('b', { banMs: 60_000, now: () => now });
    const fakeUrl = 'http://garbage.localhost:9';
    const ws = await fake(b, fakeUrl);
    const gone = closed(ws);
    // type byte 7: none of psibase's (types 64 and up are x-peers' own, not faults)
    ws.send(new Uint8Array([7, 0xad, 0xbe, 0xef]));
    expect((await gone).code).toBe(1007);
    expect(b.lines.join('\n')).toMatch(/disconnecting peer 1 \(http:\/\/garbage\.localhost:9\): a frame that does not decode/);
    expect(b.lines.join('\n')).toMatch(/banned claimed:http:\/\/garbage\.localhost:9 for 60 s \(unknown-type\)/);
    expect(b.net.bans()).toEqual([expect.objectContaining({ key: 'claimed:http://garbage.localhost:9', reason: 'unknown-type' })]);
    expect(b.net.refusal(fakeUrl, '127.0.0.1')).toBeInstanceOf(PeerBannedError);

    // Reconnecting is refused at the handshake: 403
    const refused = await fake(b, fakeUrl).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(WebSocketHandshakeError);
    expect((refused as WebSocketHandshakeError).details).toMatchObject({ status: 403 });
    // Another peer is not affected
    const other = await fake(b, 'http://honest.localhost:10');
    other.close(1000, 'bye');

    // The ban ends
    now += 60_001;
    expect(b.net.bans()).toEqual([]);
    const again = await fake(b, fakeUrl);
    await until('the fake accepted again', () => b.net.peers().some((p) => p.url === fakeUrl));
    again.close(1000, 'bye');
  }, 30_000);

  it('a peer a caller reports (misbehaved) and one sending a frame that does not decode are banned; a node does not dial a banned URL', async () => {
    const b = await node('b', { banMs: 60_000 });
    const c = await node('c', { banMs: 60_000 });
    c.net.connect(b.url);
    await until('C–B', () => connected(b, c));
    const peerC = b.net.peers().find((p) => p.url === new URL(c.url).origin)!;
    expect(b.net.misbehaved(peerC.id, 'an invalid block 7')).toBe(true);
    await until('C dropped', () => b.net.peers().length === 0);
    expect(b.net.bans()).toEqual([expect.objectContaining({ key: `claimed:${new URL(c.url).origin}`, reason: 'reported', message: 'an invalid block 7' })]);
    // C's reconnects are refused (it waits, as refused for a fault)
    await new Promise((r) => setTimeout(r, 400));
    expect(b.net.peers()).toEqual([]);

    // A peer B dialed that misbehaves: B does not dial its URL again while the ban lasts
    const d = await node('d');
    b.net.connect(d.url);
    await until('B–D', () => connected(b, d));
    const peerD = b.net.peers().find((p) => p.url === d.url)!;
    expect(b.net.misbehaved(peerD.id, 'a forged commit')).toBe(true);
    await until('D dropped', () => b.net.peers().length === 0);
    expect(b.net.bans().map((x) => x.key)).toContain(new URL(d.url).origin);
    await new Promise((r) => setTimeout(r, 600));
    expect(b.net.peers()).toEqual([]);
    expect(b.lines.join('\n')).not.toMatch(/peer \d+ connected \(out .*\n(.|\n)*peer \d+ connected \(out/);

    // a known type whose body does not decode
    const ws = await fake(b, 'http://truncated.localhost:11');
    const gone = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(new Uint8Array([4, 1]));
    expect(await gone, b.lines.join('\n')).toBe(1007);
    expect(b.net.bans().map((x) => [x.key, x.reason])).toContainEqual(['claimed:http://truncated.localhost:11', 'undecodable']);
  }, 30_000);
});

describe('as startPeer wires it', () => {
  it('a Node peer lists its URL and its peers’ at x-peers.<root>/peers, and /native/status carries bans', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-mesh-'));
    const lines: string[] = [];
    const opts = { rootHost: ROOT, port: 0, distDir: join(dir, 'no-dist'), log: (l: string) => lines.push(l), follow: true };
    const b = await startPeer({ ...opts, dataDir: join(dir, 'b') });
    const a = await startPeer({ ...opts, dataDir: join(dir, 'a'), peers: [b.url] });
    try {
      await until('A–B', () => b.network.peers().length === 1 && a.network.peers().length === 1);
      expect(await fetchPeerList(b.url)).toEqual([b.url, a.url]);
      // what A said it is, as B shows it
      expect(b.network.peers()[0]).toMatchObject({ direction: 'in', url: a.url });
      const status = JSON.parse((await fetchNode(`${b.url}/native/status`)).text()) as { bans: unknown[] };
      expect(status.bans).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

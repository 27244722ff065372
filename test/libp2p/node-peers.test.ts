/**
 * psibase's peer messages between two Node peers over libp2p (WebSockets on loopback,
 * noise, yamux): the same type byte + fracpack as on the psinode WebSocket, one
 * length-prefixed frame each. A frame that is not a psibase message (bad type byte,
 * bad fracpack, oversize) closes that one stream with a PeerFrameError; the connection,
 * the peer's other stream and other peers go on.
 */
import type { Stream } from '@libp2p/interface';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type WireMessage } from '../../src/net/wire/index.ts';
import { PeerFrameError } from '../../src/net/libp2p/errors.ts';
import { encodeFrame, lengthPrefix } from '../../src/net/libp2p/frames.ts';
import { startNodeHost, type NodeHost } from '../../src/net/libp2p/node-host.ts';
import { CloseCode, type Libp2pPeerSocket, type PeerSocket } from '../../src/net/libp2p/peer-socket.ts';
import { PSIBASE_PEER_PROTOCOL } from '../../src/net/libp2p/protocol.ts';
import type { WebSocket } from '../../src/node/p2p/websocket.ts';

// The Node peer's WebSocket and the libp2p socket are one shape to a peer network.
const sameShape: (ws: WebSocket) => PeerSocket = (ws) => ws;
void sameShape;

/** A socket's messages, decoded, as they arrive. */
function inbox(s: Libp2pPeerSocket): { messages: WireMessage[]; next(): Promise<WireMessage> } {
  const messages: WireMessage[] = [];
  const waiters: ((m: WireMessage) => void)[] = [];
  s.on('message', (data) => {
    const m = decodeMessage(data);
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  return {
    messages,
    next: () => (messages.length > 0 ? Promise.resolve(messages.shift()!) : new Promise((r) => waiters.push(r))),
  };
}

function closed(s: Libp2pPeerSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (s.closedWith) resolve(s.closedWith);
    else s.on('close', (code, reason) => resolve({ code, reason }));
  });
}

const MAX = 256 * 1024;
const init = encodeMessage({ kind: 'InitMessage', value: { version: 0 } });
const hello = (num: number) => encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: new Uint8Array(32).fill(num), _num: num }, committed: false } });

describe('psibase peer messages between Node peers over libp2p', () => {
  let a: NodeHost;
  let b: NodeHost;
  let c: NodeHost;
  const accepted: Libp2pPeerSocket[] = [];
  const waiting: ((s: Libp2pPeerSocket) => void)[] = [];
  const nextAccepted = () => (accepted.length > 0 ? Promise.resolve(accepted.shift()!) : new Promise<Libp2pPeerSocket>((r) => waiting.push(r)));
  const logs: string[] = [];

  beforeAll(async () => {
    a = await startNodeHost({
      maxFrameBytes: MAX,
      log: (l) => logs.push(l),
      onPeer: (s) => {
        const w = waiting.shift();
        if (w) w(s);
        else accepted.push(s);
      },
    });
    b = await startNodeHost({ relay: false });
    c = await startNodeHost({ relay: false });
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  it('listens on a loopback WebSocket address with its peer id', () => {
    const addrs = a.addresses().map(String);
    expect(addrs.length).toBeGreaterThan(0);
    for (const addr of addrs) expect(addr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${a.peerId}$`));
  });

  it('exchanges psibase messages both ways, in order, large ones too', async () => {
    const out = await b.peers.dial(a.addresses()[0]!);
    const inn = await nextAccepted();
    expect(out.transport).toBe('websocket');
    expect(out.direction).toBe('out');
    expect(inn.direction).toBe('in');
    expect(inn.peerId).toBe(b.peerId);
    const fromA = inbox(out);
    const fromB = inbox(inn);
    expect(out.send(init)).toBe(true);
    for (let i = 1; i <= 20; i++) out.send(hello(i));
    expect((await fromB.next()).kind).toBe('InitMessage');
    for (let i = 1; i <= 20; i++) {
      const m = await fromB.next();
      expect(m.kind === 'HelloRequest' && m.value.xid._num).toBe(i);
    }
    // Many chunks on the wire (yamux frames of 64 KiB at most), one message.
    const envelope = encodeMessage({ kind: 'RoutingEnvelope', value: { destination: 5n, data: new Uint8Array(200_000).fill(9) } });
    inn.send(envelope);
    const got = await fromA.next();
    expect(got.kind).toBe('RoutingEnvelope');
    expect(got.kind === 'RoutingEnvelope' && got.value.data.length).toBe(200_000);
    // libp2p's ping over the same connection gives the round trip.
    out.ping();
    await expect.poll(() => out.rttMs, { timeout: 5000 }).toBeTypeOf('number');
    expect(b.peers.peers()).toEqual([expect.objectContaining({ peerId: a.peerId, transport: 'websocket', direction: 'out' })]);
    out.close();
    expect(await closed(inn)).toEqual({ code: CloseCode.normal, reason: 'the peer closed the stream' });
  });

  it('writes the messages sent in one turn to the stream together, in order', async () => {
    const out = await b.peers.dial(a.addresses()[0]!);
    const fromB = inbox(await nextAccepted());
    let writes = 0;
    const send = out.stream.send.bind(out.stream);
    out.stream.send = (data) => (writes++, send(data));
    for (let i = 1; i <= 300; i++) expect(out.send(hello(i))).toBe(true);
    // Queued until the turn ends: counted as buffered meanwhile.
    expect(out.bufferedAmount).toBeGreaterThan(300 * 40);
    for (let i = 1; i <= 300; i++) {
      const m = await fromB.next();
      expect(m.kind === 'HelloRequest' && m.value.xid._num).toBe(i);
    }
    expect(writes).toBe(1);
    // drained() writes what is queued at once (a sender waiting on it must not wait on its own queue).
    out.send(hello(300));
    const drained = out.drained();
    expect(writes).toBe(2);
    await drained;
    expect((await fromB.next()).kind).toBe('HelloRequest');
    // A message sent in a turn of its own is written alone, and a close sends what is queued first.
    out.send(hello(301));
    await new Promise((r) => setTimeout(r, 0));
    out.send(hello(302));
    out.close();
    for (const n of [301, 302]) {
      const m = await fromB.next();
      expect(m.kind === 'HelloRequest' && m.value.xid._num).toBe(n);
    }
    expect(writes).toBe(4);
  });

  it('dials a new connection when the one libp2p holds has a closed muxer under an open socket', async () => {
    const first = await b.peers.dial(a.addresses()[0]!);
    await nextAccepted();
    const stale = first.connection;
    // What a joiner met: the muxer gone, the WebSocket still open, libp2p still handing the connection out.
    await (stale as unknown as { muxer: { close(): Promise<void> } }).muxer.close();
    expect(stale.status).toBe('open');
    expect(b.node.getConnections(a.node.peerId)).toContain(stale);
    const again = await b.peers.dial(a.addresses()[0]!);
    const inn = inbox(await nextAccepted());
    expect(again.connection).not.toBe(stale);
    again.send(hello(77));
    const m = await inn.next();
    expect(m.kind === 'HelloRequest' && m.value.xid._num).toBe(77);
    again.close();
  });

  describe('a frame that is not a psibase message closes that stream, and nothing else', () => {
    let good: Libp2pPeerSocket;
    let goodIn: ReturnType<typeof inbox>;
    let third: Libp2pPeerSocket;
    let thirdIn: ReturnType<typeof inbox>;

    beforeAll(async () => {
      good = await b.peers.dial(a.addresses()[0]!);
      goodIn = inbox(await nextAccepted());
      third = await c.peers.dial(a.addresses()[0]!);
      thirdIn = inbox(await nextAccepted());
    });

    /** Opens a raw stream of the protocol from b to a (on b's connection) and writes `bytes` on it. */
    async function rawStream(bytes: Uint8Array): Promise<{ stream: Stream; socket: Libp2pPeerSocket }> {
      const conn = b.node.getConnections(a.node.peerId)[0]!;
      const stream = await conn.newStream(PSIBASE_PEER_PROTOCOL);
      const socket = await nextAccepted();
      socket.on('message', () => undefined);
      stream.send(bytes);
      return { stream, socket };
    }

    async function stillWorking(): Promise<void> {
      // The same connection's other psibase stream, and another peer, still carry messages.
      good.send(hello(33));
      const m = await goodIn.next();
      expect(m.kind === 'HelloRequest' && m.value.xid._num).toBe(33);
      third.send(hello(44));
      const n = await thirdIn.next();
      expect(n.kind === 'HelloRequest' && n.value.xid._num).toBe(44);
      expect(b.node.getConnections(a.node.peerId).length).toBeGreaterThan(0);
    }

    it('a type byte psibase does not define', async () => {
      const conns = b.node.getConnections(a.node.peerId).map((x) => x.id);
      const { stream, socket } = await rawStream(Uint8Array.of(...encodeFrame(init), ...encodeFrame(Uint8Array.of(2, 0, 0, 0, 0))));
      expect(await closed(socket)).toEqual({ code: CloseCode.invalidPayload, reason: 'a frame with type byte 2, which names no psibase peer message' });
      expect(socket.error).toBeInstanceOf(PeerFrameError);
      expect(socket.error!.fault).toBe('unknown-type');
      await expect.poll(() => stream.status, { timeout: 5000 }).not.toBe('open');
      expect(logs.some((l) => l.includes('type byte 2'))).toBe(true);
      await stillWorking();
      expect(b.node.getConnections(a.node.peerId).map((x) => x.id)).toEqual(conns);
    });

    it('fracpack that does not decode as the message its type byte names', async () => {
      const bad = hello(3).subarray(0, 20);
      const { stream, socket } = await rawStream(encodeFrame(bad));
      const { code, reason } = await closed(socket);
      expect(code).toBe(CloseCode.invalidPayload);
      expect(reason).toMatch(/^a frame of type 32 \(20 bytes\) that does not decode/);
      expect(socket.error!.fault).toBe('undecodable');
      await expect.poll(() => stream.status, { timeout: 5000 }).not.toBe('open');
      await stillWorking();
    });

    it('a frame longer than the limit, refused at its length prefix', async () => {
      const { socket } = await rawStream(lengthPrefix(MAX + 1));
      const { code, reason } = await closed(socket);
      expect(code).toBe(CloseCode.tooBig);
      expect(reason).toBe(`a frame of ${MAX + 1} bytes is larger than this stream accepts (${MAX})`);
      expect(socket.error!.fault).toBe('oversize');
      await stillWorking();
    });

    it('the good stream saw none of it', () => {
      expect(goodIn.messages).toEqual([]);
      expect(thirdIn.messages).toEqual([]);
    });
  });
});

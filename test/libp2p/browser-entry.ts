/**
 * What the libp2p browser tests load into a page (bundled by browser-kit.ts): one
 * browser peer per page and a small driver the Node-side test calls through
 * `page.evaluate`, returning plain data: `window.psiwebLibp2p`.
 */
import type { Connection } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { WebRTC } from '@multiformats/multiaddr-matcher';
import { startBrowserPeer, type BrowserPeer } from '../../src/net/libp2p/browser-peer.ts';
import { encodeFrame } from '../../src/net/libp2p/frames.ts';
import type { Libp2pPeerSocket } from '../../src/net/libp2p/peer-socket.ts';
import { PSIBASE_PEER_PROTOCOL } from '../../src/net/libp2p/protocol.ts';
import { decodeMessage, encodeMessage } from '../../src/net/wire/index.ts';

export interface SocketView {
  id: number;
  peerId: string;
  direction: 'in' | 'out';
  transport: string;
  remoteAddr: string;
  /** Block numbers of the HelloRequests received, in order. */
  hellos: number[];
  /** Kinds of every message received, in order. */
  kinds: string[];
  closedWith: { code: number; reason: string } | null;
  error: { name: string; fault: string; message: string } | null;
  rttMs: number | null;
}

export interface ConnectionView {
  remotePeer: string;
  remoteAddr: string;
  /** WebRTC.matches(remoteAddr) and no limits: a direct browser↔browser connection. */
  direct: boolean;
  limited: boolean;
  status: string;
}

let peer: BrowserPeer | undefined;
let nextId = 1;
const sockets = new Map<number, { s: Libp2pPeerSocket; hellos: number[]; kinds: string[] }>();

function track(s: Libp2pPeerSocket): number {
  const id = nextId++;
  const rec = { s, hellos: [] as number[], kinds: [] as string[] };
  sockets.set(id, rec);
  s.on('message', (data) => {
    const m = decodeMessage(data);
    rec.kinds.push(m.kind);
    if (m.kind === 'HelloRequest') rec.hellos.push(m.value.xid._num);
  });
  return id;
}

function view(id: number): SocketView {
  const { s, hellos, kinds } = sockets.get(id)!;
  return {
    id,
    peerId: s.peerId,
    direction: s.direction,
    transport: s.transport,
    remoteAddr: s.remoteAddr,
    hellos: [...hellos],
    kinds: [...kinds],
    closedWith: s.closedWith ?? null,
    error: s.error ? { name: s.error.name, fault: s.error.fault, message: s.error.message } : null,
    rttMs: s.rttMs ?? null,
  };
}

function connView(c: Connection): ConnectionView {
  return { remotePeer: c.remotePeer.toString(), remoteAddr: c.remoteAddr.toString(), direct: WebRTC.matches(c.remoteAddr) && c.limits == null, limited: c.limits != null, status: c.status };
}

function node(): BrowserPeer {
  if (!peer) throw new Error('start() first');
  return peer;
}

function hello(num: number): Uint8Array {
  return encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: new Uint8Array(32).fill(num & 0xff), _num: num }, committed: false } });
}

const api = {
  async start(relay: string, dialTimeoutMs?: number): Promise<{ peerId: string; addrs: string[] }> {
    peer = await startBrowserPeer({
      relays: [relay],
      rtcConfiguration: { iceServers: [] },
      allowPrivateAddresses: true,
      ...(dialTimeoutMs !== undefined && { dialTimeoutMs }),
      onPeer: (s) => void track(s),
    });
    const addrs = await peer.waitForWebRTCAddress(15_000);
    return { peerId: peer.peerId, addrs: addrs.map(String) };
  },

  /** Dials `addr` and opens a psibase peer stream: the socket's id, and how long it took. */
  async dial(addr: string): Promise<{ id: number; ms: number; connection: ConnectionView }> {
    const t0 = performance.now();
    const s = await node().peers.dial(multiaddr(addr));
    const ms = performance.now() - t0;
    return { id: track(s), ms, connection: connView(s.connection) };
  },

  /**
   * One dial of `addr` (a new WebRTC connection), one psibase message, hung up; resolves
   * once this end holds no connection to it (at most 10 s). The init-channel bug shows as
   * a dial that hangs until its timeout ('timeout').
   */
  async dialOnce(addr: string): Promise<{ ms: number; direct: boolean } | { kind: 'timeout' | 'reset' | 'other'; error: string }> {
    const p = node();
    const target = multiaddr(addr);
    const remote = target.getComponents().findLast((c) => c.name === 'p2p')!.value!;
    const gone = async () => {
      for (let k = 0; k < 500 && p.node.getConnections().some((c) => c.remotePeer.toString() === remote); k++) await new Promise((r) => setTimeout(r, 20));
    };
    const t0 = performance.now();
    let s: Libp2pPeerSocket;
    try {
      s = await p.peers.dial(target);
    } catch (e) {
      const error = (e as Error).message;
      await p.node.hangUp(peerIdFromString(remote)).catch(() => undefined);
      await gone();
      return { kind: /timed out/i.test(error) ? 'timeout' : /stream has been reset/i.test(error) ? 'reset' : 'other', error };
    }
    const ms = performance.now() - t0;
    const direct = WebRTC.matches(s.connection.remoteAddr) && s.connection.limits == null;
    s.send(hello(0));
    await p.node.hangUp(s.connection.remotePeer);
    await gone();
    return { ms, direct };
  },

  /** Closes every connection to `peerId` (a listener whose dialer hung up still holds its WebRTC connection: nothing tells it). */
  async hangUpPeer(peerId: string): Promise<void> {
    await node().node.hangUp(peerIdFromString(peerId));
  },

  send(id: number, nums: number[]): boolean[] {
    const { s } = sockets.get(id)!;
    return nums.map((n) => s.send(hello(n)));
  },

  sockets(): SocketView[] {
    return [...sockets.keys()].map(view);
  },

  connections(): ConnectionView[] {
    return node().node.getConnections().map(connView);
  },

  ping(id: number): void {
    sockets.get(id)!.s.ping();
  },

  /** Opens a raw psibase-protocol stream on the direct connection to `peerId` and writes `frames` (each framed) then `raw` bytes. */
  async sendRaw(peerId: string, frames: number[][], raw: number[] = []): Promise<void> {
    const c = node().node.getConnections().find((x) => x.remotePeer.toString() === peerId && x.limits == null);
    if (!c) throw new Error(`no direct connection to ${peerId}`);
    const stream = await c.newStream(PSIBASE_PEER_PROTOCOL);
    for (const f of frames) stream.send(encodeFrame(Uint8Array.from(f)));
    if (raw.length > 0) stream.send(Uint8Array.from(raw));
  },

  helloBytes(num: number): number[] {
    return [...hello(num)];
  },

  async stop(): Promise<void> {
    await peer?.stop();
  },
};

export type Libp2pDriver = typeof api;
(globalThis as unknown as { psiwebLibp2p: Libp2pDriver }).psiwebLibp2p = api;

/**
 * A browser's libp2p node: WebRTC to other browsers (signalled through a relay),
 * WebSockets to Node peers, and the circuit relay v2 transport, so it listens on a
 * relay's `/p2p-circuit/webrtc` address; noise, yamux, identify and ping; and psibase's
 * peer protocol (protocol.ts). RTCPeerConnection exists only in windows: this runs in
 * a page (the leader tab, ARCHITECTURE.md §5), not in a worker.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { identify, type Identify } from '@libp2p/identify';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping, type Ping } from '@libp2p/ping';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { WebRTC } from '@multiformats/multiaddr-matcher';
import { createLibp2p } from 'libp2p';
import { PeerDialError } from './errors.ts';
import { PsibasePeerProtocol, type PeerProtocolInit } from './protocol.ts';

export interface BrowserPeerInit extends PeerProtocolInit {
  /** Relays (Node peers) to dial at start and hold a reservation on: their WebSocket multiaddrs, with /p2p/<id>. */
  relays?: string[];
  /** ICE servers and the like for WebRTC (tests on loopback: `{ iceServers: [] }`). */
  rtcConfiguration?: RTCConfiguration;
  /** Dial loopback and private addresses (the browser's default gater refuses them; tests need them). */
  allowPrivateAddresses?: boolean;
  privateKey?: PrivateKey;
  /** How long a dial (and a dial of each address) may take, ms (libp2p: 10 s, 6 s per address). */
  dialTimeoutMs?: number;
}

type BrowserServices = { identify: Identify; ping: Ping };

export interface BrowserPeer {
  node: Libp2p<BrowserServices>;
  peers: PsibasePeerProtocol;
  peerId: string;
  /** This node's `/p2p-circuit/webrtc` addresses (through each relay it holds a reservation on). */
  webrtcAddresses(): Multiaddr[];
  /** Resolves once this node listens on a WebRTC address through a relay (its reservation is made). */
  waitForWebRTCAddress(timeoutMs?: number): Promise<Multiaddr[]>;
  stop(): Promise<void>;
}

/** How long a relayed connection stays once a direct one to the same peer is open (its signalling is over by then). */
export const RELAYED_GRACE_MS = 1_000;

export async function startBrowserPeer(init: BrowserPeerInit = {}): Promise<BrowserPeer> {
  const node = await createLibp2p<BrowserServices>({
    ...(init.privateKey && { privateKey: init.privateKey }),
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [webSockets(), webRTC(init.rtcConfiguration ? { rtcConfiguration: init.rtcConfiguration } : {}), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.allowPrivateAddresses && { connectionGater: { denyDialMultiaddr: async () => false } }),
    ...(init.dialTimeoutMs !== undefined && { connectionManager: { dialTimeout: init.dialTimeoutMs, addressDialTimeout: init.dialTimeoutMs } }),
    services: { identify: identify(), ping: ping() },
  });
  const peers = new PsibasePeerProtocol(node, init);
  await peers.start();
  // A relayed connection to a peer only carries WebRTC's signalling: once a direct one to
  // that peer is open, it goes. Left open, each holds a stop stream at this end and a
  // circuit at the relay, both limited in number (a browser dialed over and over, or
  // long-lived, would run out and refuse new peers).
  node.addEventListener('connection:open', (e) => {
    const c = e.detail;
    if (c.limits != null || !WebRTC.matches(c.remoteAddr)) return;
    setTimeout(() => {
      if (c.status !== 'open') return;
      for (const r of node.getConnections(c.remotePeer)) if (r.limits != null && r.status === 'open') void r.close().catch(() => undefined);
    }, RELAYED_GRACE_MS);
  });
  const webrtcAddresses = () => node.getMultiaddrs().filter((a) => WebRTC.matches(a));
  for (const relay of init.relays ?? []) {
    try {
      await node.dial(multiaddr(relay));
    } catch (e) {
      await node.stop();
      throw new PeerDialError(`cannot reach the relay ${relay}: ${(e as Error).message}`, { cause: e, details: { relay } });
    }
  }
  return {
    node,
    peers,
    peerId: node.peerId.toString(),
    webrtcAddresses,
    waitForWebRTCAddress(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = webrtcAddresses();
          if (found.length === 0) return false;
          node.removeEventListener('self:peer:update', onUpdate);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const onUpdate = () => void check();
        const timer = setTimeout(() => {
          node.removeEventListener('self:peer:update', onUpdate);
          reject(new PeerDialError(`no relay reservation (no /p2p-circuit/webrtc address) within ${timeoutMs} ms`));
        }, timeoutMs);
        node.addEventListener('self:peer:update', onUpdate);
        check();
      });
    },
    async stop() {
      await peers.stop();
      await node.stop();
    },
  };
}

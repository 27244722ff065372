/**
 * The Node peer's libp2p host: a WebSocket listener (on 127.0.0.1 by default) and a
 * circuit relay v2 server, so browsers reach it over WebSockets and signal WebRTC
 * connections to each other through it; noise, yamux, identify and ping; and psibase's
 * peer protocol (protocol.ts) for the Node peer's own psibase peers.
 */
import './polyfill.ts';
import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { identify, type Identify } from '@libp2p/identify';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping, type Ping } from '@libp2p/ping';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { WebSockets } from '@multiformats/multiaddr-matcher';
import { createLibp2p } from 'libp2p';
import { connectedPeers, serveDiscovery } from './discovery.ts';
import { PsibasePeerProtocol, type PeerProtocolInit } from './protocol.ts';

export interface NodeHostInit extends PeerProtocolInit {
  /** The address the WebSocket listener binds (default 127.0.0.1). */
  host?: string;
  /** Its port (default 0: any free port). */
  port?: number;
  /** This node's libp2p key (default: a new Ed25519 key per start). */
  privateKey?: PrivateKey;
  /** Serve circuit relay v2 (default true). */
  relay?: boolean;
  /** Most relay reservations held at once (default 128). */
  maxReservations?: number;
  /** The chain this node follows (hex), for discovery answers (default: not said, null). */
  chainId?: () => string | null;
}

type HostServices = { identify: Identify; ping: Ping; relay?: CircuitRelayService };

export interface NodeHost {
  node: Libp2p<HostServices>;
  peers: PsibasePeerProtocol;
  peerId: string;
  /** The WebSocket addresses browsers and Node peers dial, each ending in /p2p/<peer id>. */
  addresses(): Multiaddr[];
  stop(): Promise<void>;
}

export async function startNodeHost(init: NodeHostInit = {}): Promise<NodeHost> {
  const host = init.host ?? '127.0.0.1';
  const node = await createLibp2p<HostServices>({
    ...(init.privateKey && { privateKey: init.privateKey }),
    addresses: { listen: [`/ip4/${host}/tcp/${init.port ?? 0}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      ...(init.relay !== false && { relay: circuitRelayServer({ reservations: { maxReservations: init.maxReservations ?? 128 } }) }),
    },
  });
  const peers = new PsibasePeerProtocol(node, init);
  await peers.start();
  // Discovery (discovery.ts): browsers learn from the relay which other browsers it holds, with their /p2p-circuit/webrtc addresses.
  const stopDiscovery = await serveDiscovery(node, async (asker) => ({ chainId: init.chainId?.() ?? null, peers: await connectedPeers(node, new Set([asker])) }));
  return {
    node,
    peers,
    peerId: node.peerId.toString(),
    addresses: () => node.getMultiaddrs().filter((a) => WebSockets.matches(a)).map((a) => multiaddr(a.toString())),
    async stop() {
      await stopDiscovery();
      await peers.stop();
      await node.stop();
    },
  };
}

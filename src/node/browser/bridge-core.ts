/**
 * The node core (src/core) on the leader page's libp2p peers (peer-bridge.ts): which
 * frames the core takes from a peer, and the wiring both of the worker's nodes use — the
 * follower (CoreSync, with the x-peers WebSocket beside it) and the producer of a network
 * created here (ProducerNode, with bridge peers only).
 */
import type { CoreNode } from '../../core/node.ts';
import type { Transport } from '../../core/platform.ts';
import { MESSAGE_TYPES } from '../../net/wire/index.ts';
import { bridgeLabel, isBridgeLabel, type BridgeListener, type NetView, type WorkerPeerBridge } from './peer-bridge.ts';
import type { PeerHeads } from './peer-heads.ts';

/** Routing messages (RoutingEnvelope … RequestRoutesMessage): the page's transport routes; the core does not. */
export const ROUTING_TYPES: ReadonlySet<number> = new Set([3, 4, 5, 6]);
/** psibase's snapshot and state-checksum messages, which psiweb does not serve. */
export const IGNORED_TYPES: ReadonlySet<number> = new Set([42, 43, 45]);
/** Type bytes from here up are x-peers' own connection messages. */
export const FIRST_XPEERS_TYPE = 64;

/** Whether the core takes a frame of this type byte from a peer: hellos, blocks, consensus messages. */
export function isCoreFrame(type: number | undefined): boolean {
  return type !== undefined && type < FIRST_XPEERS_TYPE && !IGNORED_TYPES.has(type) && !ROUTING_TYPES.has(type) && type !== MESSAGE_TYPES.InitMessage;
}

/**
 * The core's Transport over the bridge's peers. `dropped` hears of a peer the core found
 * misbehaving (after the page was told to close its stream and ban it).
 */
export function bridgeTransport(bridge: WorkerPeerBridge, dropped?: (label: string, reason: string) => void): Transport {
  return {
    sendToProducer: (producer, bytes) => bridge.sendToProducer(producer, bytes),
    sendToPeer: (peer, bytes) => isBridgeLabel(peer) && bridge.sendToPeer(peer, bytes),
    broadcast: (bytes) => bridge.broadcast(bytes),
    misbehaved: (peer, reason) => {
      if (!isBridgeLabel(peer)) return;
      bridge.misbehaved(peer, reason);
      dropped?.(peer, reason);
    },
  };
}

/**
 * What feeds the core from the bridge: each peer that connects is told our head (so it
 * sends what follows it), and its frames the core takes go to the core, each noted in
 * `heads` (the newest block each peer has shown).
 */
export function coreListener(core: () => Pick<CoreNode, 'connected' | 'hello' | 'receive'> | undefined, heads: PeerHeads, mode: (libp2p: boolean) => void = () => undefined): BridgeListener {
  return {
    connected: (label) => {
      core()?.connected(label);
      core()?.hello(label);
    },
    message: (label, bytes) => {
      if (!isCoreFrame(bytes[0])) return;
      heads.note(label, bytes);
      core()?.receive(label, bytes);
    },
    closed: (label) => heads.forget(label),
    mode,
  };
}

/** The page's libp2p view as the worker last heard it, each peer with the newest block the core knows it holds. */
export function netViewWithHeads(bridge: WorkerPeerBridge | undefined, heads: PeerHeads | undefined): NetView | null {
  const net = bridge?.net;
  if (!net || !heads) return net ?? null;
  return {
    ...net,
    peers: net.peers.map((p) => {
      const head = p.stream === undefined ? undefined : heads.head(bridgeLabel(p.stream));
      return head ? { ...p, head } : p;
    }),
  };
}

/**
 * The browser's `GET /native/status` (issue 11 §2): what the root service worker answers
 * a page from the leader's latest status view, in the Node peer's shape — `role`,
 * `peers: [{ id, transport, direction, url?, head?, rttMs?, stream? }]` (transport `webrtc`,
 * `websocket` or `relayed`) — plus `invite` (the link) and `libp2p` ({ peerId, addrs }
 * or null). No libp2p here: the service worker imports it.
 */
import type { NodeStatusView } from './messages.ts';
import type { NetPeerView } from './peer-bridge.ts';

/** The node's peers: its libp2p peers, and the x-peers WebSocket to its Node peer when that is open. */
export function browserPeers(s: NodeStatusView): NetPeerView[] {
  const peers: NetPeerView[] = [...(s.net?.peers ?? [])];
  if (s.xpeersConnected) peers.push({ id: 'x-peers', transport: 'websocket', direction: 'out', url: s.peerUrl, ...(s.peerHead !== null && { head: { num: s.peerHead, id: '' } }) });
  return peers;
}

export interface BrowserNativeStatus {
  /** 'producer': this browser runs as a producer of the network (created here, or offered to join its set). */
  role: 'follower' | 'producer';
  /** Whether it is producing now (role producer, a member of the set in force). */
  producing?: boolean;
  /** The producer account it runs as (role producer). */
  producer?: string;
  chainId: string | null;
  head: { num: number; id: string } | null;
  irreversible: { num: number; id: string } | null;
  consensus: 'cft' | 'bft' | null;
  producers: string[];
  /** The producer set taking over once a pending change commits (null when none is pending). */
  nextProducers: string[] | null;
  /** This producer's part in consensus now (`leader`, `follower`, `candidate`, `nonvoting`, …; role producer). */
  consensusRole?: string;
  /** Who leads the current term, as this producer sees it (null: not known here). */
  leader?: string | null;
  /**
   * Whether a producing browser keeps its slots: its tab hidden (it still produces, from
   * its worker), and the block intervals within the last minute its worker did not run
   * (frozen tab, sleeping machine), with the newest such stall.
   */
  liveness?: NonNullable<NodeStatusView['liveness']>;
  sync: NodeStatusView['sync'];
  behind: number;
  peers: NetPeerView[];
  invite: string | null;
  libp2p: { peerId: string; addrs: string[] } | null;
  /** 'on' | 'off' | 'starting', and why it is off. */
  libp2pState: string;
  libp2pReason?: string;
  pendingTransactions: number;
  error: string | null;
}

export function browserNativeStatus(s: NodeStatusView): BrowserNativeStatus {
  const net = s.net;
  return {
    role: s.producer !== undefined ? 'producer' : 'follower',
    ...(s.producer !== undefined && { producing: s.producing === true, producer: s.producer }),
    chainId: s.chainId ?? null,
    head: s.head,
    irreversible: s.irreversible === null ? null : { num: s.irreversible, id: '' },
    consensus: s.consensus?.mode ?? (s.producer !== undefined ? 'cft' : null),
    producers: s.consensus?.producers ?? (s.producer !== undefined ? [s.producer] : []),
    nextProducers: s.consensus?.nextProducers ?? null,
    ...(s.consensus && { consensusRole: s.consensus.role, leader: s.consensus.leader }),
    ...(s.liveness && { liveness: s.liveness }),
    sync: s.sync,
    behind: s.behind,
    peers: browserPeers(s),
    invite: net?.invite ?? null,
    libp2p: net?.peerId ? { peerId: net.peerId, addrs: net.addrs } : null,
    libp2pState: net?.libp2p ?? 'off',
    ...(net?.reason !== undefined && { libp2pReason: net.reason }),
    pendingTransactions: s.pendingTransactions,
    error: s.error,
  };
}

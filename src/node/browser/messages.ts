/**
 * What the node, the root service worker and the tabs say to each other on the
 * BroadcastChannel NODE_CHANNEL. Everything is structured-clone data.
 */
import type { OutboxRecord } from './outbox.ts';
import type { NetView } from './peer-bridge.ts';

/** The node's view for dashboards (every tab), sent by the leader. */
export interface NodeStatusView {
  peerUrl: string;
  /** How blocks come: the node core over psibase's peer protocol (a WebSocket), or HTTP block ranges. */
  sync: 'p2p' | 'http';
  /** Whether the peer protocol's WebSocket is open (null when syncing over HTTP). */
  peerConnected: boolean | null;
  /** Whether the last request to the peer succeeded. */
  peerOnline: boolean;
  peerHead: number | null;
  peerIrreversible: number | null;
  head: { num: number; id: string } | null;
  irreversible: number | null;
  /** Blocks the peer has that this node has not applied yet. */
  behind: number;
  blocksPerSec: number;
  transfersPerSec: number;
  /** Transactions in the outbox without a verdict. */
  pendingTransactions: number;
  /** Why sync stopped (a block that failed validation, another chain), or null. */
  error: string | null;
  /** Sync stopped at a block boundary so a new service worker can take over. */
  paused: boolean;
  /** The node's range cache over IndexedDB: reads, misses among them, entries held, ranges dropped. */
  cache: { reads: number; misses: number; entries: number; evictions: number } | null;
  /** The chain followed (hex), once the node holds its genesis block. */
  chainId: string | null;
  /** Whether the x-peers WebSocket to the Node peer is open (null when syncing over HTTP). */
  xpeersConnected: boolean | null;
  /** The leader page's libp2p side (peers, this node's addresses, the invite link); null without one. */
  net: NetView | null;
  /** The producer account this browser produces as (a network created here, producer-node.ts); absent when it follows. */
  producer?: string;
  /** Whether it is producing now (not paused, not halted, a member of the producer set). */
  producing?: boolean;
  /** A producing browser's view of consensus: the mode, the set in force, and the set taking over (null when none is pending). */
  consensus?: { mode: 'cft' | 'bft' | null; producers: string[]; nextProducers: string[] | null; role: string; leader: string | null };
  /**
   * A producing browser's slots (slot-watch.ts): whether its tab is hidden (null: the page
   * has not said), and the block intervals its worker did not run within the last minute
   * while it had slots to keep (a frozen tab, a sleeping machine), with the newest stall.
   */
  liveness?: { hidden: boolean | null; missedSlots: number; lastStall: { at: number; ms: number; slots: number } | null };
  updatedAt: number;
}

export type NodeMessage =
  /**
   * A block was committed: its state write set, so other contexts' caches stay warm.
   * Blocks committed together come as one: `from` the first of them, `num` the last,
   * `writes` their merged write set.
   */
  | { type: 'block'; num: number; id: string; writes: [Uint8Array, Uint8Array | undefined][]; from?: number }
  | { type: 'status'; status: NodeStatusView }
  /** An outbox record changed (final verdicts, so waiting pushes can answer). */
  | { type: 'tx'; record: Omit<OutboxRecord, 'packed'> }
  /** The service worker queued transactions: submit them now. */
  | { type: 'outbox' }
  /** A tab asks the leader for its status now. */
  | { type: 'status?' }
  /** Stop at the next block boundary (an update is about to take over); answered by paused. */
  | { type: 'pause'; nonce: string }
  | { type: 'paused'; nonce: string }
  | { type: 'resume' };

/** What a node in the leader's worker (a follower or a producer) does for the channel's requests. */
export interface ChannelNode {
  /** Submits what the outbox holds. */
  pumpOutbox(): Promise<void>;
  /** Posts its status on the channel. */
  postStatus(): void;
  /** Stops at a block boundary (resolves once stopped). */
  pause(): Promise<void>;
  /** Goes on after a pause. */
  resume(): void;
}

/** Answers a channel message addressed to the leader's node (the others are for tabs and the service worker). */
export function onChannelMessage(node: ChannelNode, m: NodeMessage, post: (m: NodeMessage) => void): void {
  switch (m.type) {
    case 'outbox':
      void node.pumpOutbox();
      break;
    case 'status?':
      node.postStatus();
      break;
    case 'pause':
      void node.pause().then(() => post({ type: 'paused', nonce: m.nonce }));
      break;
    case 'resume':
      node.resume();
      break;
  }
}

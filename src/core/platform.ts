/**
 * What the node core (node.ts) takes from the platform it runs on: the Node peer
 * (src/node/peer.ts) and the browser's leader-tab worker (src/node/browser) each build
 * one. Nothing here names a DOM or Node API: the core compiles without either
 * (tsconfig.core.json), and test/layers.test.ts keeps it from importing a platform.
 */
import type { Chain } from '../chain/executor.ts';

/** Time and timers. */
export interface Clock {
  /** Milliseconds since the UNIX epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Where the core's consensus messages go: the platform's peer network (the Node peer's
 * src/node/p2p, the browser's WebSocket to its Node peer). Peers are named by a label
 * the platform chooses (`#1`, …); the core hands the same label back.
 */
export interface Transport {
  /** To one producer (routed through the mesh if it is not a neighbour); false: no route. */
  sendToProducer(producer: string, bytes: Uint8Array): boolean;
  /** To one neighbour, by the label the message came from. */
  sendToPeer(peer: string, bytes: Uint8Array): boolean;
  /** To every neighbour. */
  broadcast(bytes: Uint8Array): void;
  /** A neighbour sent something invalid (a block that does not validate): drop and ban it. */
  misbehaved?(peer: string, reason: string): void;
}

export interface Platform {
  clock: Clock;
  /** Uniform in [0, 1): consensus's election timeouts (default Math.random). */
  random?: () => number;
  /**
   * The chain executor over this platform's block log and state store, booted. A
   * reversible one (ChainInit.reversible) commits every block the core applies, with
   * undo records; one that is not commits only irreversible blocks and keeps the rest
   * in memory (a store that cannot take blocks back, e.g. IndexedDB).
   */
  chain: Chain;
  transport: Transport;
  log?: (line: string) => void;
}

export type WaitFor = 'applied' | 'final';

/** What `/native/status` reports of a node (the Node peer adds its role and peers). */
export interface NodeStatus {
  chainId: string | null;
  head: { num: number; id: string; time: string } | null;
  irreversible: { num: number; id: string } | null;
  consensus: 'cft' | 'bft' | null;
  producers: string[];
  /** The producer set taking over once the pending consensus change commits; null when none is pending. */
  nextProducers: string[] | null;
  producer: string;
  producing: boolean;
  /** Why production stopped for good (a damaged store), else null. */
  halted: string | null;
  pendingTransactions: number;
}

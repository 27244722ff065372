/**
 * The dashboard's data that is not the node's status view: the finality tracker (pure,
 * measured from the status updates this page sees), and the parsers of what the panels
 * read over HTTP — the Node peer's `/native/status` and the local `producers` GraphQL.
 * No lit and no DOM here, so a Node test covers it.
 */
import { PsiwebError } from '../errors.ts';
import type { NodeStatusView } from '../node/browser/messages.ts';
import type { NodeStatus } from '../core/platform.ts';

/** An answer a panel reads is not what it should be (not JSON, wrong shape, GraphQL errors). */
export class DashboardDataError extends PsiwebError {
  override name = 'DashboardDataError';
}

/** A status view older than this (the leader posts one at least every second) is shown stale. */
export const STATUS_STALE_MS = 5_000;

/**
 * One peer as a panel lists it: the Node peer's `/native/status` shape (and issue 11's
 * browser `/native/status`), plus `http` for a browser node that copies blocks over HTTP.
 */
export interface PeerView {
  id: string | number;
  transport: 'webrtc' | 'websocket' | 'relayed' | 'http';
  direction: 'in' | 'out';
  url?: string;
  head?: { num: number; id: string };
  rttMs?: number;
}

/**
 * What the browser node's status view does not carry yet (issue 11 §2–4) and the
 * dashboard shows when it does: read as optional, so today's view and tomorrow's both work.
 */
export interface NodeStatusExtras {
  /** This node's role in consensus: a producer, or a follower without a vote. */
  role?: 'producer' | 'follower';
  /** The peers this node is connected to (libp2p or WebSocket), with their round trips. */
  peers?: PeerView[];
  /** The head block's time (ISO), for finality measured from block time. */
  headTime?: string;
}

export type DashboardStatus = NodeStatusView & NodeStatusExtras;

/** The part of the Node peer's `/native/status` the dashboard reads. */
export type NativeStatus = Omit<NodeStatus, 'halted' | 'pendingTransactions'> & {
  role?: 'producer' | 'follower';
  peers?: PeerView[];
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isBlockRef = (v: unknown): boolean => v === null || (isObj(v) && Number.isInteger(v.num) && typeof v.id === 'string');

/** Checks a `/native/status` body; throws DashboardDataError when it is not a node status. */
export function parseNativeStatus(body: unknown): NativeStatus {
  if (!isObj(body)) throw new DashboardDataError('/native/status is not a JSON object');
  if (!isBlockRef(body.head) || !isBlockRef(body.irreversible)) throw new DashboardDataError('/native/status has no head or irreversible block');
  if (!Array.isArray(body.producers) || !body.producers.every((p) => typeof p === 'string')) throw new DashboardDataError('/native/status has no producer list');
  if (body.peers !== undefined && (!Array.isArray(body.peers) || !body.peers.every((p) => isObj(p) && typeof p.transport === 'string')))
    throw new DashboardDataError('/native/status lists peers without a transport');
  return body as unknown as NativeStatus;
}

/** The producers' query the consensus panel runs against local chain state. */
export const PRODUCERS_QUERY = 'query { consensus { __typename } producers { name } nextProducers { name } }';

export interface ProducersView {
  consensus: 'cft' | 'bft';
  producers: string[];
  /** The producers being changed to; empty when no change is under way. */
  nextProducers: string[];
}

/** Reads a PRODUCERS_QUERY answer; GraphQL errors and other shapes throw DashboardDataError. */
export function parseProducers(body: unknown): ProducersView {
  if (!isObj(body)) throw new DashboardDataError('the producers query answered no JSON object');
  const errors = body.errors;
  if (Array.isArray(errors) && errors.length > 0) throw new DashboardDataError(`producers query: ${String((errors[0] as { message?: unknown })?.message ?? 'error')}`);
  const data = body.data;
  if (!isObj(data) || !isObj(data.consensus) || !Array.isArray(data.producers) || !Array.isArray(data.nextProducers))
    throw new DashboardDataError('the producers query answered no consensus and producers');
  const kind = data.consensus.__typename;
  if (kind !== 'CftConsensus' && kind !== 'BftConsensus') throw new DashboardDataError(`unknown consensus ${String(kind)}`);
  const names = (l: unknown[]) => l.map((p) => (isObj(p) && typeof p.name === 'string' ? p.name : '?'));
  return { consensus: kind === 'CftConsensus' ? 'cft' : 'bft', producers: names(data.producers), nextProducers: names(data.nextProducers) };
}

/** The middle of `xs` (the mean of the middle two for an even count); undefined when empty. */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Samples each finality median is taken over. */
export const FINALITY_WINDOW = 50;
/** Block numbers remembered for pairing with block times. */
const REMEMBERED = 256;

export interface FinalityFigures {
  /** Median ms from a block's time (its header) to this page seeing it irreversible. */
  blockTimeMs: number | undefined;
  blockTimeSamples: number;
  /** Median ms from this page seeing a block as head to seeing it irreversible. */
  headMs: number | undefined;
  headSamples: number;
}

/**
 * Finality latency as this page sees it, two ways:
 *  - block time → irreversible: when the status view first names a block irreversible,
 *    minus the block's header time (from the explorer's recent blocks, or the view's
 *    `headTime`). Includes the block interval (a block's time is its slot's start) and
 *    the trip to this browser; assumes this clock and the producer's agree.
 *  - head → irreversible: first seen as head to first seen irreversible, both here.
 *    On a one-producer chain a block is irreversible as it is made: ~0.
 * Blocks that arrive while the node catches up (behind > 0) are not counted: their
 * latency is the sync's, not the chain's.
 */
export class FinalityTracker {
  private lastHead: number | undefined;
  private lastIrreversible: number | undefined;
  private readonly headSeen = new Map<number, number>();
  /** Block → when it was first seen irreversible, for blocks counted (not caught up). */
  private readonly irreversibleSeen = new Map<number, number>();
  private readonly blockTimes = new Map<number, number>();
  private readonly timed = new Set<number>();
  private readonly headSamples: number[] = [];
  private readonly timeSamples: number[] = [];

  constructor(private readonly window = FINALITY_WINDOW) {}

  /** Feeds one status view (head, irreversible, behind), seen at `now` (ms since the epoch). */
  observe(s: { head: { num: number } | null; irreversible: number | null; behind: number; headTime?: string }, now: number): void {
    const head = s.head?.num;
    const catchingUp = s.behind > 0;
    if (head !== undefined) {
      if (s.headTime !== undefined) this.addBlockTime(head, Date.parse(s.headTime));
      // The first view only sets the starting point: what came before it was not seen arriving.
      if (this.lastHead !== undefined && head > this.lastHead && !catchingUp)
        for (let n = Math.max(this.lastHead + 1, head - REMEMBERED); n <= head; n++) if (!this.headSeen.has(n)) this.headSeen.set(n, now);
      this.lastHead = Math.max(head, this.lastHead ?? head);
    }
    const irr = s.irreversible;
    if (irr !== null) {
      if (this.lastIrreversible !== undefined && irr > this.lastIrreversible && !catchingUp) {
        for (let n = Math.max(this.lastIrreversible + 1, irr - REMEMBERED); n <= irr; n++) {
          const seen = this.headSeen.get(n);
          if (seen !== undefined) this.push(this.headSamples, now - seen);
          this.irreversibleSeen.set(n, now);
          this.pair(n);
        }
      }
      this.lastIrreversible = Math.max(irr, this.lastIrreversible ?? irr);
      for (const n of this.headSeen.keys()) if (n <= irr) this.headSeen.delete(n);
    }
    this.trim();
  }

  /** Header times (ms since the epoch) of blocks, e.g. the explorer's recent blocks. */
  addBlockTime(num: number, timeMs: number): void {
    if (!Number.isFinite(timeMs) || this.blockTimes.has(num)) return;
    this.blockTimes.set(num, timeMs);
    this.pair(num);
    this.trim();
  }

  figures(): FinalityFigures {
    return { blockTimeMs: median(this.timeSamples), blockTimeSamples: this.timeSamples.length, headMs: median(this.headSamples), headSamples: this.headSamples.length };
  }

  private pair(num: number): void {
    const seen = this.irreversibleSeen.get(num);
    const time = this.blockTimes.get(num);
    if (seen === undefined || time === undefined || this.timed.has(num)) return;
    this.timed.add(num);
    this.push(this.timeSamples, seen - time);
  }

  private push(samples: number[], ms: number): void {
    samples.push(ms);
    if (samples.length > this.window) samples.shift();
  }

  private trim(): void {
    for (const m of [this.irreversibleSeen, this.blockTimes]) while (m.size > REMEMBERED) m.delete(m.keys().next().value!);
    while (this.timed.size > REMEMBERED) this.timed.delete(this.timed.values().next().value!);
  }
}

/** Whether a status view is too old to stand for the node now. */
export function statusStale(s: { updatedAt: number } | undefined, now: number): boolean {
  return s === undefined || now - s.updatedAt > STATUS_STALE_MS;
}

/** "12 s ago", "3 min ago": how old a last known value is. */
export function ago(thenMs: number, now: number): string {
  const s = Math.max(0, Math.round((now - thenMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

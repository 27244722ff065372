/**
 * What the dashboard's panels read besides the node's status view, shared by them all:
 *  - `nativeStatus`: the Node peer's `/native/status` (role, peers, head, consensus),
 *    polled while a panel shows it, with the round trip of each poll;
 *  - `producers`: the producers and consensus from this browser's own chain state
 *    (`/_svc/producers/graphql` through the root service worker, so offline too);
 *  - `finality`: the FinalityTracker fed by every status view this page sees.
 * Each keeps its last good value and when it got it, so a panel can show it stale.
 */
import type { NodeStatusView } from '../node/browser/messages.ts';
import { DashboardDataError, FinalityTracker, parseNativeStatus, parseProducers, PRODUCERS_QUERY, type DashboardStatus, type NativeStatus, type ProducersView } from './dashboard-data.ts';
import { withNode } from './node-context.ts';

/** How often `/native/status` is asked while shown. */
export const NATIVE_POLL_MS = 2_000;
/** …and again on a new head, but not sooner than this after the last ask. */
export const NATIVE_MIN_MS = 1_000;
/** A `/native/status` ask that has not answered by then failed (a peer that hangs is stale, not current). */
export const NATIVE_TIMEOUT_MS = 5_000;
/** The producers are read again at most this often (on a new head), and at least this often. */
export const PRODUCERS_MIN_MS = 2_000;
export const PRODUCERS_MAX_MS = 15_000;

export interface Reading<T> {
  value: T | undefined;
  /** When `value` was read (ms since the epoch). */
  okAt: number | undefined;
  /** Why the last read failed, or undefined when it succeeded. */
  error: string | undefined;
  /** The last successful read's round trip, ms. */
  rttMs: number | undefined;
}

let held = false;
/**
 * Stops the dashboard's reads for good (this page is about to reload into an update):
 * Chromium activates a waiting service worker only once the old one has no request in
 * flight, and a dashboard polling through it can keep it busy for a long while.
 */
export function holdReads(): void {
  held = true;
}
/** Whether the dashboard's reads are held (see holdReads). */
export const readsHeld = (): boolean => held;

/** A value read by polling while anyone listens; one read at a time. */
export class Poller<T> {
  reading: Reading<T> = { value: undefined, okAt: undefined, error: undefined, rttMs: undefined };
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private lastAsk = 0;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly everyMs: number,
    private readonly minMs = 0,
  ) {}

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1) this.schedule(0);
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Reads again soon (not sooner than minMs after the last read). */
  poke(): void {
    if (this.listeners.size === 0 || this.running) return;
    this.schedule(Math.max(0, this.lastAsk + this.minMs - Date.now()));
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (held) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (held) return;
    this.running = true;
    this.lastAsk = Date.now();
    const t0 = performance.now();
    try {
      const value = await this.read();
      this.reading = { value, okAt: Date.now(), error: undefined, rttMs: performance.now() - t0 };
    } catch (e) {
      this.reading = { ...this.reading, error: (e as Error).message ?? String(e) };
    } finally {
      this.running = false;
    }
    this.listeners.forEach((fn) => fn());
    if (this.listeners.size > 0 && this.timer === undefined) this.schedule(this.everyMs);
  }
}

/**
 * The Node peer's root URL: the one the node syncs from, else this origin (the Node peer
 * that served the page, a relay only for a network produced here or joined over browser
 * peers, whose status names no URL).
 */
function peerUrl(): string {
  const url = latestStatus?.peerUrl;
  return url !== undefined && /^https?:\/\//.test(url) ? url : location.origin;
}

export const nativeStatus = new Poller<NativeStatus>(async () => {
  const url = peerUrl();
  // The root service worker answers this origin's /native/status with this browser's own
  // status; the header (node.ts's UPSTREAM_HEADER) asks the Node peer (cross-origin: no header, no preflight).
  const upstream = new URL(url).origin === location.origin ? { headers: { 'x-psiweb-upstream': '1' } } : {};
  const r = await fetch(`${url}/native/status`, { cache: 'no-store', signal: AbortSignal.timeout(NATIVE_TIMEOUT_MS), ...upstream });
  if (!r.ok) throw new DashboardDataError(`/native/status answered ${r.status}`);
  return parseNativeStatus(await r.json());
}, NATIVE_POLL_MS, NATIVE_MIN_MS);

export const producers = new Poller<ProducersView>(
  async () => {
    const r = await fetch('/_svc/producers/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query: PRODUCERS_QUERY }) });
    return parseProducers(await r.json());
  },
  PRODUCERS_MAX_MS,
  PRODUCERS_MIN_MS,
);

export const finality = new FinalityTracker();
let latestStatus: DashboardStatus | undefined;
let seen: NodeStatusView | undefined;
const finalityListeners = new Set<() => void>();

/** Called when the finality figures may have changed. */
export function onFinality(fn: () => void): () => void {
  finalityListeners.add(fn);
  return () => finalityListeners.delete(fn);
}

/** Header times of recent blocks (the explorer's), for finality from block time. */
export function blockTimesSeen(blocks: { num: number; time: string }[]): void {
  for (const b of blocks) finality.addBlockTime(b.num, Date.parse(b.time));
  finalityListeners.forEach((fn) => fn());
}

withNode((node) =>
  node.subscribe(() => {
    const s = node.status as DashboardStatus | undefined;
    if (!s || s === seen) return;
    const headMoved = s.head?.num !== latestStatus?.head?.num;
    seen = s;
    latestStatus = s;
    finality.observe(s, Date.now());
    finalityListeners.forEach((fn) => fn());
    if (headMoved) {
      producers.poke();
      nativeStatus.poke();
    }
  }),
);

/** A clock that ticks every second while anyone listens, for "stale since" labels. */
const tickers = new Set<() => void>();
let tickTimer: ReturnType<typeof setInterval> | undefined;
export function onTick(fn: () => void): () => void {
  tickers.add(fn);
  tickTimer ??= setInterval(() => tickers.forEach((f) => f()), 1_000);
  return () => {
    tickers.delete(fn);
    if (tickers.size === 0 && tickTimer !== undefined) {
      clearInterval(tickTimer);
      tickTimer = undefined;
    }
  };
}

/**
 * The browser node (the leader of this browser profile): syncs blocks from its peer
 * into IndexedDB, submits the transactions the service worker queued, and tells every
 * tab its status. Its dependencies come in through the constructor, so a Node test can
 * drive it against an in-process peer.
 *
 * Sync (`sync`): 'p2p' runs the node core (src/core) as a follower over psibase's peer
 * protocol on a WebSocket to the peer (core-sync.ts), and falls back to HTTP when that
 * WebSocket never opens; 'http' copies blocks over HTTP (sync.ts). Both validate every
 * block before it is committed. The status view and the transaction outbox are the same.
 */
import type { Chain } from '../../chain/executor.ts';
import { traceJson } from '../../chain/executor.ts';
import { ONE_SECOND_US } from '../../chain/constants.ts';
import { toHex } from '../../state/bytes.ts';
import { RATE_WINDOW_MS, STATUS_INTERVAL_MS, SYNC_POLL_MS, SYNC_RETRY_MS } from './constants.ts';
import type { CommittedBlock } from '../../core/node.ts';
import type { Clock } from '../../core/platform.ts';
import { CoreSync, type Dial } from './core-sync.ts';
import { netViewWithHeads } from './bridge-core.ts';
import type { WorkerPeerBridge } from './peer-bridge.ts';
import { StateLostError, SyncError } from './errors.ts';
import { onChannelMessage, type NodeMessage, type NodeStatusView } from './messages.ts';
import { isFinal, type Outbox, type OutboxRecord } from './outbox.ts';
import { BlockSync, type AppliedBlock, type PeerStatus } from './sync.ts';

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface BrowserNodeInit {
  chain: Chain;
  outbox: Outbox;
  peerUrl: string;
  post: (m: NodeMessage) => void;
  fetch?: Fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Whether the platform believes it is online (navigator.onLine). */
  online?: () => boolean;
  /** Resolves once every block applied so far is stored (BroadcastingStateDb.settled). */
  settled?: () => Promise<void>;
  /** How blocks come (default 'http'): the node core over the peer protocol, or HTTP block ranges. */
  sync?: 'p2p' | 'http';
  /** Opens the WebSocket to the peer (default: the platform's WebSocket). */
  dial?: Dial;
  /** The leader page's libp2p peers (sync 'p2p'): the core follows over them too (peer-bridge.ts). */
  bridge?: WorkerPeerBridge;
  /**
   * A network the Node peer is not of (joined by a browser's invite): blocks, the genesis
   * block among them, come over the bridge's peers only (CoreSync peersOnly), nothing goes
   * to the Node peer over HTTP, and the peers' newest block is the head to reach.
   */
  peersOnly?: { chainId: string };
  log?: (line: string) => void;
}

/** The peer's transact subdomain URL of a root URL. */
function transactUrl(peerUrl: string, path: string, search: string): string {
  const u = new URL(peerUrl);
  u.hostname = `transact.${u.hostname}`;
  u.pathname = path;
  u.search = search;
  return u.toString();
}

/**
 * Marks requests the root service worker must send to the network rather than answer
 * from local state (the node's own forwarding of a transaction to its peer).
 */
export const UPSTREAM_HEADER = 'x-psiweb-upstream';

/** The peer URL a node of a network joined over browser peers names in its status. */
export const PEERS_ONLY = 'browser peers';

export class BrowserNode {
  readonly sync: BlockSync;
  /** The node core over the peer protocol (sync 'p2p'). */
  readonly p2p: CoreSync | undefined;
  private readonly chain: Chain;
  private readonly outbox: Outbox;
  private readonly fetch: Fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly online: () => boolean;
  private peer: PeerStatus | undefined;
  private peerOnline = false;
  private error: string | null = null;
  private paused = false;
  private stopped = false;
  private applying = false;
  private readonly pauseWaiters: (() => void)[] = [];
  private readonly rate: { at: number; blocks: number; transfers: number }[] = [];
  /** Transactions without a verdict, by id: matched against every applied block. */
  private readonly pending = new Map<string, { expiration: number; submitting: boolean }>();
  private wake: (() => void) | undefined;
  private lastStatusAt = 0;

  constructor(private readonly init: BrowserNodeInit) {
    this.chain = init.chain;
    this.outbox = init.outbox;
    this.fetch = init.fetch ?? ((i, r) => fetch(i, r));
    this.now = init.now ?? (() => Date.now());
    this.sleep = init.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.online = init.online ?? (() => true);
    this.sync = new BlockSync({
      chain: init.chain,
      peerUrl: init.peerUrl,
      fetch: this.fetch,
      onApplied: (b) => this.onApplied(b),
      shouldPause: () => this.paused || this.stopped,
    });
    if (init.sync === 'p2p') {
      const clock: Clock = { now: this.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
      this.p2p = new CoreSync({
        chain: init.chain,
        peerUrl: init.peerUrl,
        genesis: () => this.sync.genesis(),
        onCommitted: (b) => this.onCommitted(b),
        clock,
        ...(init.dial && { dial: init.dial }),
        ...(init.log && { log: init.log }),
        ...(init.bridge && { bridge: init.bridge }),
        ...(init.peersOnly && { peersOnly: init.peersOnly }),
      });
    }
  }

  /** What the peers have shown of the chain (a network joined over peers has no HTTP peer to ask). */
  private peersStatus(): PeerStatus {
    const head = this.p2p?.heads.newest() ?? null;
    return { chainId: this.init.peersOnly!.chainId, head, irreversible: null };
  }

  /** How blocks come now: the core over the peer protocol, or HTTP (chosen, or fallen back to). */
  get syncMode(): 'p2p' | 'http' {
    return this.p2p && !this.p2p.gaveUp ? 'p2p' : 'http';
  }

  /** Handles a message from the channel (the service worker, other tabs). */
  onMessage(m: NodeMessage): void {
    onChannelMessage(this, m, this.init.post);
  }

  /** Goes on after a pause. */
  resume(): void {
    this.paused = false;
    this.poke();
  }

  /** Stops at the next block boundary; resolves once no block is being applied and every applied one is stored. */
  async pause(): Promise<void> {
    this.paused = true;
    this.postStatus();
    if (this.applying) await new Promise<void>((r) => this.pauseWaiters.push(r));
    // The core stops once the block it is on is done, its irreversible blocks committed.
    await this.p2p?.stop();
    // A failed commit is the run loop's to report; paused is paused either way.
    await this.init.settled?.().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    void this.p2p?.stop();
    this.poke();
  }

  /**
   * Runs until stop(): sync, then wait for new blocks; submit queued transactions.
   * Throws a StateLostError when a block commit failed after the node moved on: only a
   * node opened again from IndexedDB can go on.
   */
  async run(): Promise<void> {
    await this.loadPending();
    void this.pumpOutbox();
    while (!this.stopped) {
      let delay = SYNC_POLL_MS;
      if (!this.paused) {
        try {
          this.applying = true;
          let n = 0;
          if (this.init.peersOnly && this.p2p) {
            // Blocks come from the bridge's peers; their newest is the head to reach.
            await this.p2p.start();
            this.peer = this.peersStatus();
            this.peerOnline = this.p2p.connected;
          } else {
            this.peer = await this.sync.peerStatus();
            this.peerOnline = true;
            if (this.p2p && !this.p2p.gaveUp) {
              // The core syncs on its own once started; this loop watches the peer's status.
              this.sync.checkChain(this.peer);
              await this.p2p.start();
            } else {
              if (this.p2p?.isRunning) await this.p2p.stop();
              n = await this.sync.step(this.peer);
            }
          }
          // The batch's last commits may still be in flight; a failure among them ends the run.
          await this.init.settled?.();
          const halt = this.p2p?.core?.haltError;
          if (halt !== undefined) {
            await this.p2p!.stop();
            if (halt instanceof StateLostError) throw halt;
            throw new SyncError(`the node core halted: ${(halt as Error).message ?? String(halt)}`, { cause: halt });
          }
          if (n > 0) delay = 0;
          // The peer sent the core something invalid: said until blocks come again.
          const bad = this.p2p?.misbehaviour ?? null;
          if (this.error !== bad) this.error = bad;
        } catch (e) {
          if (e instanceof StateLostError) {
            this.error = e.message;
            this.postStatus();
            throw e;
          }
          if (e instanceof SyncError) {
            this.error = e.message;
            delay = SYNC_RETRY_MS * 5;
          } else if (e instanceof TypeError) {
            // fetch's network failure: offline, or the peer is down.
            this.peerOnline = false;
            delay = SYNC_RETRY_MS;
          } else {
            this.error = (e as Error).message ?? String(e);
            delay = SYNC_RETRY_MS * 5;
          }
        } finally {
          this.applying = false;
          for (const w of this.pauseWaiters.splice(0)) w();
        }
      }
      if (delay > 0 || this.now() - this.lastStatusAt >= STATUS_INTERVAL_MS) this.postStatus();
      if (this.pending.size > 0 && this.peerOnline) void this.pumpOutbox();
      if (delay > 0 && !this.stopped) await this.wait(delay);
    }
  }

  private poke(): void {
    this.wake?.();
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      void this.sleep(ms).then(done);
    });
  }

  private cacheStats(): NodeStatusView['cache'] {
    const stats = this.chain.state.cache?.stats;
    return stats ? { reads: stats.reads, misses: stats.misses, entries: stats.entries, evictions: stats.evictions } : null;
  }

  status(): NodeStatusView {
    const head = this.chain.head;
    const cutoff = this.now() - RATE_WINDOW_MS;
    while (this.rate.length > 0 && this.rate[0]!.at < cutoff) this.rate.shift();
    const span = Math.max(1, this.rate.length > 0 ? this.now() - Math.min(this.rate[0]!.at, this.now() - 1000) : RATE_WINDOW_MS) / 1000;
    const blocks = this.rate.reduce((n, r) => n + r.blocks, 0);
    const transfers = this.rate.reduce((n, r) => n + r.transfers, 0);
    const peer = this.init.peersOnly && this.p2p ? this.peersStatus() : this.peer;
    const peerHead = peer?.head?.num ?? null;
    return {
      peerUrl: this.init.peersOnly ? PEERS_ONLY : this.sync.peerUrl,
      sync: this.syncMode,
      peerConnected: this.syncMode === 'p2p' ? this.p2p!.connected : null,
      peerOnline: this.peerOnline,
      peerHead,
      peerIrreversible: peer?.irreversible?.num ?? null,
      head: head ? { num: head.num, id: toHex(head.id) } : null,
      irreversible: this.chain.status?.head?.header.commitNum ?? null,
      behind: peerHead === null ? 0 : Math.max(0, peerHead - (head?.num ?? 1)),
      blocksPerSec: blocks / span,
      transfersPerSec: transfers / span,
      pendingTransactions: this.pending.size,
      error: this.error,
      paused: this.paused,
      cache: this.cacheStats(),
      chainId: this.chain.chainId ? toHex(this.chain.chainId) : null,
      xpeersConnected: this.syncMode === 'p2p' ? this.p2p!.xpeersConnected : null,
      net: netViewWithHeads(this.init.bridge, this.p2p?.heads),
      updatedAt: this.now(),
    };
  }

  postStatus(): void {
    this.lastStatusAt = this.now();
    this.init.post({ type: 'status', status: this.status() });
  }

  /** A block the core committed: as one applied over HTTP. */
  private onCommitted(b: CommittedBlock): Promise<void> {
    return this.onApplied({ num: b.num, id: b.id, transactions: b.transactions.map((t) => ({ id: toHex(t.id), trace: t.trace })) });
  }

  private async onApplied(block: AppliedBlock): Promise<void> {
    let transfers = 0;
    for (const t of block.transactions) if (t.trace.error == null && t.trace.actionTraces.length > 0) transfers++;
    this.rate.push({ at: this.now(), blocks: 1, transfers });
    if (this.now() - this.lastStatusAt >= STATUS_INTERVAL_MS / 4) this.postStatus();
    if (this.pending.size === 0) return;
    for (const t of block.transactions) {
      if (!this.pending.has(t.id)) continue;
      this.pending.delete(t.id);
      const patch =
        t.trace.error == null
          ? { status: 'applied' as const, blockNum: block.num, trace: traceJson(t.trace) }
          : { status: 'failed' as const, blockNum: block.num, trace: traceJson(t.trace), error: t.trace.error };
      this.announce(await this.outbox.update(t.id, patch));
    }
    // Whatever expired without getting into a block never will.
    const headSec = Number((this.chain.head?.time ?? 0n) / ONE_SECOND_US);
    for (const [id, p] of this.pending) {
      if (p.expiration < headSec) {
        this.pending.delete(id);
        this.announce(await this.outbox.update(id, { status: 'failed', error: 'transaction expired before it got into a block' }));
      }
    }
  }

  private announce(rec: OutboxRecord | undefined): void {
    if (!rec) return;
    const { packed: _, ...rest } = rec;
    this.init.post({ type: 'tx', record: rest });
  }

  private async loadPending(): Promise<void> {
    for (const r of await this.outbox.pending()) {
      if (!this.pending.has(r.id)) this.pending.set(r.id, { expiration: r.expiration, submitting: false });
    }
  }

  private pumping = false;

  /** Submits every queued transaction to the peer (each once at a time). */
  async pumpOutbox(): Promise<void> {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      const records = await this.outbox.pending();
      for (const r of records) if (!this.pending.has(r.id)) this.pending.set(r.id, { expiration: r.expiration, submitting: false });
      // The peer's reachability is the signal (a failed fetch leaves records queued, and
      // the run loop pumps again); navigator.onLine only saves attempts that cannot work.
      if (!this.online() && !this.peerOnline) return;
      const submits: Promise<void>[] = [];
      for (const r of records) {
        const p = this.pending.get(r.id)!;
        if (r.status !== 'queued' || p.submitting) continue;
        p.submitting = true;
        submits.push(this.submit(r).finally(() => (p.submitting = false)));
      }
      await Promise.all(submits);
    } finally {
      this.pumping = false;
    }
  }

  private async submit(r: OutboxRecord): Promise<void> {
    if (this.init.peersOnly) return this.submitToPeers(r);
    let res: Response;
    try {
      // `applied`: the producer answers once the transaction ran into the block it is
      // building, so the caller waiting on the service worker gets its trace then; the
      // record still leaves the outbox only once a committed block holding it is synced
      // here (onApplied), or fails once it expired without one.
      res = await this.fetch(transactUrl(this.sync.peerUrl, '/push_transaction', '?wait_for=applied'), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', accept: 'application/json', [UPSTREAM_HEADER]: '1' },
        body: r.packed as Uint8Array<ArrayBuffer>,
      });
    } catch {
      // Offline or the peer is down: it stays queued for the next attempt.
      return;
    }
    if (res.status === 200) {
      const trace = (await res.json()) as { error?: string | null };
      if (trace.error && !/duplicate/i.test(trace.error)) {
        this.pending.delete(r.id);
        this.announce(await this.outbox.update(r.id, { status: 'failed', trace, error: trace.error }));
      } else if (this.pending.has(r.id)) {
        // Ran at the producer (executed, not yet final): submitted, with the producer's
        // trace for the waiting caller (a duplicate's trace is no answer: it waits for
        // the block). Applied here once the block holding it is synced.
        this.announce(await this.outbox.update(r.id, trace.error ? { status: 'submitted' } : { status: 'submitted', trace }));
        this.poke();
      }
      return;
    }
    if (res.status === 400) {
      this.pending.delete(r.id);
      this.announce(await this.outbox.update(r.id, { status: 'failed', error: `the producer refused the transaction: ${await res.text()}` }));
    }
    // Anything else (503, 5xx) is the peer's trouble: try again later.
  }

  /**
   * A network joined over browser peers: no producer is reached over HTTP, and psibase's
   * peer protocol carries no transactions, so the page pushes it to its browser peers
   * (/psiweb/push/1.0.0), which hand it to the producer. As over HTTP: run there, it is
   * submitted (applied once its block is synced here); refused, failed; nobody took it,
   * queued still.
   */
  private async submitToPeers(r: OutboxRecord): Promise<void> {
    const bridge = this.init.bridge;
    if (!bridge) return;
    const answer = await bridge.push(r.packed);
    if (answer.status === 'unavailable') return;
    if (answer.status === 'failed' && !/duplicate/i.test(answer.error)) {
      this.pending.delete(r.id);
      this.announce(await this.outbox.update(r.id, { status: 'failed', ...(answer.trace !== undefined && { trace: answer.trace }), error: `the producer refused the transaction: ${answer.error}` }));
    } else if (this.pending.has(r.id)) {
      this.announce(await this.outbox.update(r.id, answer.status === 'applied' ? { status: 'submitted', trace: answer.trace } : { status: 'submitted' }));
      this.poke();
    }
  }

  /** Whether `id` has a final verdict recorded. */
  async verdict(id: string): Promise<OutboxRecord | undefined> {
    const r = await this.outbox.get(id);
    return r && isFinal(r.status) ? r : undefined;
  }
}

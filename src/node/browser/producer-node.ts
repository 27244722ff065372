/**
 * The browser as a producer: of a network created here (create-network.ts), or of one
 * joined whose producer set it offered to join (producer-set.ts). The node core
 * (CoreNode) runs in the node's worker (timers in a worker are not throttled as a hidden
 * tab's are), named as this browser's producer account and signing with its
 * non-extractable WebCrypto key (CoreNode signAsync: WebCrypto has no synchronous
 * signing) — blocks, votes and the rest.
 *
 * As the chain's sole producer (CFT with one producer, as a created network starts)
 * every block is irreversible as soon as it is made, so the core commits each one at
 * once, which is what IndexedDB (no undo) allows. In a set of several (BFT or CFT with
 * other browsers), the core holds the blocks above the irreversible one in memory and
 * commits them as they become irreversible. A browser whose account is not in the set
 * yet (a candidate) follows without a vote until a setConsensus names it. Its peers are
 * the page's libp2p peers; transactions it holds go to them too (a relay frame on the
 * psibase stream, TX_RELAY_TYPE), so whichever producer leads includes them.
 *
 * Transactions come as for a follower: the root service worker queues pushes in the
 * outbox and says so on the channel; this node submits each to the core, and records
 * its verdict once the block holding it is committed (or the core refused it). The
 * tabs get the same status view as from a follower, its peer being this browser.
 */
import type { Chain } from '../../chain/executor.ts';
import { traceJson } from '../../chain/executor.ts';
import { TransactionRejectedError } from '../../chain/errors.ts';
import { consensusAfterHead, producersOf } from '../../chain/block-context.ts';
import { claimVerifier, withPreverify } from '../../core/claim-verifier.ts';
import { CoreNode, type CommittedBlock } from '../../core/node.ts';
import type { Clock } from '../../core/platform.ts';
import type { HardState } from '../../consensus/types.ts';
import { sign, type KeyPair } from '../../crypto/keys.ts';
import { PsiwebError } from '../../errors.ts';
import { accountNumber } from '../../protocol/names.ts';
import { bytesEqual, toHex } from '../../state/bytes.ts';
import { EAGER_BLOCK_MS, RATE_WINDOW_MS, STATUS_INTERVAL_MS } from './constants.ts';
import { StateLostError } from './errors.ts';
import { onChannelMessage, type NodeMessage, type NodeStatusView } from './messages.ts';
import type { Outbox, OutboxRecord } from './outbox.ts';
import { bridgeTransport, coreListener, netViewWithHeads } from './bridge-core.ts';
import type { WorkerPeerBridge } from './peer-bridge.ts';
import type { PushAnswer } from '../../net/libp2p/push.ts';
import { PeerHeads } from './peer-heads.ts';
import { SlotWatch } from './slot-watch.ts';
import { BLOCK_INTERVAL_MS } from '../../core/constants.ts';

/** The key this browser holds is not the producer's claim on the chain: it must not (and could not validly) produce. */
export class ProducerKeyError extends PsiwebError {
  override name = 'ProducerKeyError';
}

/** The peer URL a producing browser's status names: itself. */
export const THIS_BROWSER = 'this browser';

export interface ProducerNodeInit {
  /** The network's chain (booted; not reversible), on a store that reads synchronously (MirroredStore over IndexedDB). */
  chain: Chain;
  outbox: Outbox;
  /** The producer account this browser signs as. */
  producer: string;
  /** Its block key (a non-extractable WebCrypto key from the registry). */
  key: KeyPair;
  post: (m: NodeMessage) => void;
  clock?: Clock;
  blockIntervalMs?: number;
  /** With transactions waiting, under a set of several, the next block this long after the last (EAGER_BLOCK_MS). */
  eagerBlockMs?: number;
  /** Resolves once every committed block is stored (BroadcastingStateDb.settled). */
  settled?: () => Promise<void>;
  /** The leader page's libp2p peers (peer-bridge.ts): browsers that joined by this network's invite follow it over them. */
  bridge?: WorkerPeerBridge;
  /** This browser offered to produce and may not be in the set yet: it follows without a vote until it is (checkKey). */
  candidate?: boolean;
  /** Where its consensus hard state is kept (term, votes), written before a step's messages go out and read back on opening: a restarted browser never votes twice in a term. */
  hardState?: { load(): Promise<HardState | undefined>; save(hard: HardState): Promise<void> };
  /** Whether the page this worker serves is hidden (its visibilityState, as the page last said; null: not said). */
  pageHidden?: () => boolean | null;
  log?: (line: string) => void;
}

const systemClock: Clock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };

export class ProducerNode {
  private core: CoreNode | undefined;
  private readonly clock: Clock;
  private stopped = false;
  private paused = false;
  private error: string | null = null;
  private wake: (() => void) | undefined;
  private readonly rate: { at: number; transfers: number }[] = [];
  /** Outbox records submitted to the core and not yet in a committed block, by id. */
  private readonly pending = new Set<string>();
  private pumping = false;
  /** pumpOutbox was asked again while it ran. */
  private pumpAgain = false;
  /** Each bridge peer's newest block, by the core's label. */
  private readonly heads = new PeerHeads();
  /** Times this worker did not run while it had slots to keep (slot-watch.ts). */
  private readonly slots: SlotWatch;

  constructor(private readonly init: ProducerNodeInit) {
    this.clock = init.clock ?? systemClock;
    this.slots = new SlotWatch(this.clock, init.blockIntervalMs ?? BLOCK_INTERVAL_MS);
  }

  /** The core, once running. */
  get node(): CoreNode | undefined {
    return this.core;
  }

  /** Checks that this browser's key is the producer's claim on the chain; ProducerKeyError if not. */
  checkKey(): void {
    const status = this.init.chain.status;
    if (!status?.head) throw new ProducerKeyError('the network has no chain yet');
    const name = accountNumber(this.init.producer);
    // The sets in force and pending (genesis names the first as a pending change).
    const after = consensusAfterHead(status);
    const prods = [...producersOf(after.current), ...(after.next ? producersOf(after.next.consensus) : [])];
    const claims = prods.filter((p) => p.name === name).map((p) => p.auth.rawData);
    if (claims.length === 0 && !this.init.candidate) throw new ProducerKeyError(`${this.init.producer} is not a producer of this chain`);
    for (const claim of claims) if (!bytesEqual(claim, this.init.key.publicKeyDer)) throw new ProducerKeyError(`the key this browser holds is not ${this.init.producer}'s block key on this chain`);
  }

  private async openCore(): Promise<CoreNode> {
    this.checkKey();
    // Blocks are built synchronously (Chain.openOn): every state read must be answered at once.
    if (this.init.chain.state.cache) throw new PsiwebError('a producing browser needs its state read synchronously: open its store through MirroredStore');
    const key = this.init.key;
    const saved = await this.init.hardState?.load();
    const core = await CoreNode.open({
      platform: {
        clock: this.clock,
        chain: this.init.chain,
        // Its peers are the page's libp2p peers (browsers that joined by its invite), if any.
        transport: this.init.bridge
          ? bridgeTransport(this.init.bridge, (peer, reason) => {
              this.init.log?.(`p2p: dropped the libp2p peer ${peer}: ${reason}`);
              this.heads.forget(peer);
            })
          : { sendToProducer: () => false, sendToPeer: () => false, broadcast: () => undefined },
        ...(this.init.log && { log: this.init.log }),
      },
      name: this.init.producer,
      signAsync: (data) => sign(key, data),
      ...(saved && { restore: { hardState: saved, blocks: [] } }),
      ...(this.init.hardState && { persist: (hard: HardState) => this.init.hardState!.save(hard) }),
      // What it holds goes to the other producers (over the page's libp2p peers).
      ...(this.init.bridge && { relay: (packed: Uint8Array) => this.init.bridge!.relay(packed) }),
      // Consensus checks signatures synchronously (noble, in JS); WebCrypto checks each arriving message's first.
      ...withPreverify(claimVerifier()),
      eagerBlockMs: this.init.eagerBlockMs ?? EAGER_BLOCK_MS,
      ...(this.init.blockIntervalMs !== undefined && { blockIntervalMs: this.init.blockIntervalMs }),
      onCommitted: (b) => this.onCommitted(b),
    });
    return core;
  }

  /** Handles a message from the channel (the service worker, other tabs). */
  onMessage(m: NodeMessage): void {
    onChannelMessage(this, m, this.init.post);
  }

  /** Goes on after a pause. */
  resume(): void {
    this.paused = false;
    this.core?.start();
    this.postStatus();
  }

  /** Stops producing after the block being made is committed. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.core?.stop();
    await this.init.settled?.().catch(() => undefined);
    this.postStatus();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /**
   * Produces until stop(). Throws ProducerKeyError when the key is not the chain's
   * producer key, and a StateLostError (or the core's halt) when blocks cannot be stored.
   */
  async run(): Promise<void> {
    this.core = await this.openCore();
    this.core.start();
    // A producer of the set in force (a vote, a leader's blocks), producing now.
    this.slots.start(() => !this.paused && this.core !== undefined && this.core.consensus.role !== 'nonvoting' && this.core.haltError === undefined);
    const bridge = this.init.bridge;
    // The Node peer that served the page is not of this network: the page keeps it as a relay only.
    if (bridge) {
      bridge.tellChain(toHex(this.init.chain.chainId!), false);
      bridge.listen(coreListener(() => this.core, this.heads));
      // Joiners have no HTTP producer: their transactions come over the bridge.
      bridge.onPush((tx) => this.takePush(tx));
      // … and other producers relay what they hold (a duplicate, or one that no longer fits, is passed over).
      bridge.onRelay((tx) => void this.core?.hold(tx).catch(() => undefined));
    }
    void this.pumpOutbox();
    try {
      while (!this.stopped) {
        await this.init.settled?.();
        const halt = this.core.haltError;
        if (halt !== undefined) {
          this.error = (halt as Error).message ?? String(halt);
          this.postStatus();
          if (halt instanceof StateLostError) throw halt;
          throw new StateLostError(`the producer halted: ${this.error}`, { cause: halt });
        }
        this.tellProducers();
        this.postStatus();
        await this.wait(STATUS_INTERVAL_MS);
      }
    } finally {
      this.slots.stop();
      bridge?.listen(undefined);
      bridge?.onPush(undefined);
      bridge?.onRelay(undefined);
      await this.core.stop();
      await this.init.settled?.().catch(() => undefined);
    }
  }

  /** Tells the page's routing the producers consensus sends to (in force and pending, as its head has them) and whom this browser produces as. */
  private tellProducers(): void {
    const core = this.core;
    if (!core || !this.init.bridge) return;
    const joint = core.consensus.activeJoint();
    this.init.bridge.tellProducers([...new Set([...joint.current.producers, ...(joint.next?.set.producers ?? [])])], this.init.producer);
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  status(): NodeStatusView & { producer: string; producing: boolean; liveness: NonNullable<NodeStatusView['liveness']> } {
    const committed = this.init.chain.head;
    const core = this.core;
    const s = core?.statusNow();
    // Under a set of several, the applied blocks above the irreversible one wait in memory.
    const head = core ? core.appliedTip : committed ? { num: committed.num, id: toHex(committed.id) } : null;
    const irreversible = s?.irreversible?.num ?? committed?.num ?? null;
    const newest = this.heads.newest();
    const now = this.clock.now();
    while (this.rate.length > 0 && this.rate[0]!.at < now - RATE_WINDOW_MS) this.rate.shift();
    const span = RATE_WINDOW_MS / 1000;
    return {
      peerUrl: THIS_BROWSER,
      sync: 'p2p',
      peerConnected: null,
      peerOnline: true,
      peerHead: Math.max(head?.num ?? 0, newest?.num ?? 0) || null,
      peerIrreversible: irreversible,
      head,
      irreversible,
      behind: newest && head ? Math.max(0, newest.num - head.num) : 0,
      blocksPerSec: this.rate.length / span,
      transfersPerSec: this.rate.reduce((n, r) => n + r.transfers, 0) / span,
      pendingTransactions: this.pending.size,
      error: this.error,
      paused: this.paused,
      cache: null,
      chainId: this.init.chain.chainId ? toHex(this.init.chain.chainId) : null,
      xpeersConnected: null,
      net: netViewWithHeads(this.init.bridge, this.heads),
      updatedAt: now,
      producer: this.init.producer,
      producing: core !== undefined && !this.paused && core.haltError === undefined && s!.producing,
      liveness: { hidden: this.init.pageHidden?.() ?? null, ...this.slots.view(now) },
      ...(s && { consensus: { mode: s.consensus, producers: s.producers, nextProducers: s.nextProducers, role: core!.consensus.role, leader: core!.consensus.leader ?? null } }),
    };
  }

  postStatus(): void {
    this.init.post({ type: 'status', status: this.status() });
  }

  private async onCommitted(b: CommittedBlock): Promise<void> {
    let transfers = 0;
    for (const t of b.transactions) if (t.trace.error == null && t.trace.actionTraces.length > 0) transfers++;
    this.rate.push({ at: this.clock.now(), transfers });
    // Each record of this browser's outbox settled by the block, in one IndexedDB transaction.
    const patches = [];
    for (const t of b.transactions) {
      const id = toHex(t.id);
      if (!this.pending.delete(id)) continue;
      patches.push({
        id,
        patch:
          t.trace.error == null
            ? { status: 'applied' as const, blockNum: b.num, trace: traceJson(t.trace) }
            : { status: 'failed' as const, blockNum: b.num, trace: traceJson(t.trace), error: t.trace.error },
      });
    }
    for (const rec of await this.init.outbox.updateMany(patches)) this.announce(rec);
  }

  private announce(rec: OutboxRecord | undefined): void {
    if (!rec) return;
    const { packed: _, ...rest } = rec;
    this.init.post({ type: 'tx', record: rest });
  }

  /** A transaction a browser peer pushed: run into a block here, answered with its trace, or why it was refused. */
  private async takePush(tx: Uint8Array): Promise<PushAnswer> {
    const core = this.core;
    if (!core || this.paused || this.stopped) return { status: 'unavailable', error: 'this browser is not producing now' };
    try {
      return { status: 'applied', trace: traceJson(await core.submit(tx, { waitFor: 'applied' })) };
    } catch (e) {
      return { status: 'failed', error: (e as Error).message ?? String(e) };
    }
  }

  /** Submits every queued outbox record to the core; asked again while it runs, it reads the outbox again when done (records queued meanwhile are not left behind). */
  async pumpOutbox(): Promise<void> {
    const core = this.core;
    if (this.stopped || !core) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.submitQueued(core);
      } while (this.pumpAgain && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  private async submitQueued(core: CoreNode): Promise<void> {
    const fresh = (await this.init.outbox.pending()).filter((r) => !this.pending.has(r.id));
    // To the core first (its checks run meanwhile), then marked submitted all in one IndexedDB transaction.
    for (const r of fresh) {
      this.pending.add(r.id);
      core.submit(r.packed, { waitFor: 'applied' }).then(
        () => undefined,
        async (e: unknown) => {
          if (e instanceof TransactionRejectedError && e.reason === 'duplicate') return; // in a block already, or held: its block settles it
          this.pending.delete(r.id);
          this.announce(await this.init.outbox.update(r.id, { status: 'failed', error: (e as Error).message ?? String(e) }));
        },
      );
    }
    for (const rec of await this.init.outbox.updateMany(fresh.map((r) => ({ id: r.id, patch: { status: 'submitted' as const } })))) this.announce(rec);
  }
}

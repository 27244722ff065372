/**
 * The node core: a node under consensus (CFT or BFT), producing or following, on any
 * platform. The consensus state machine (src/consensus) decides which block is the
 * head and which are irreversible; this feeds its output (persist, send, apply,
 * irreversible) into the chain executor and the network, and the network's and
 * clients' input into it (etcd raft's node.go pattern). What it runs on comes in as a
 * Platform (platform.ts): clock and timers, randomness, the chain (block log + state
 * store) and the transport to its peers. The Node peer (src/node/peer.ts) runs it as a
 * producer or a follower; the browser's leader-tab worker (src/node/browser) as a
 * follower of its Node peer.
 *
 * State: on a reversible chain (Chain `reversible`) the chain on disk is at the
 * consensus head. Blocks above the irreversible one are committed with undo records,
 * so a fork switch takes them back (`revertTo`) and commits the other fork's blocks.
 * On a chain that is not reversible (a store that cannot take blocks back) only
 * irreversible blocks are committed; the applied blocks above them stay in memory
 * (pending, below) until they are irreversible, and a fork switch only drops some. Every block consensus
 * sees is executed before it is accepted, on the state at its parent — the head's
 * state with the undo records back to the fork point and the fork's own write sets
 * laid over it (layeredReader) — so consensus only ever votes for, builds on or
 * switches to blocks that ran; a block whose transactions fail is never accepted.
 * Validated blocks keep their write sets, so switching to them commits without
 * running them again.
 *
 * Catch-up: a block consensus makes the head is applied at once (the next block runs
 * on its state, the chain's state with the write sets of the applied blocks not yet
 * committed over it) but commits to disk only when no more input waits, or when
 * COMMIT_BATCH of them are held. Those that are irreversible by then commit together
 * in one store transaction without undo records (Chain.commitIrreversible: one disk
 * sync for the batch); the rest one by one with their undo records. A crash loses at
 * most the uncommitted blocks, and the store is at one block or another, never between.
 * Clients hear of a block (`applied`, `final`) once it is committed.
 *
 * Transactions: a push is checked (TaPoS, duplicates, proofs) and held until a block
 * that holds it is applied (`applied`) or irreversible (`final`). Every producer
 * holds what was pushed to it, passes it to the other producers (`relay`), and builds
 * its blocks from what it holds when consensus makes it the leader.
 *
 * A sole producer (a producer set of this node alone: the devnet's `psiweb start`) runs
 * the same consensus, CFT with one producer, in which each block is irreversible as
 * soon as it is made, so it commits at once without undo records (the chain need not
 * be reversible). It builds as psibase's leader does (blocknet.hpp start_leader): a
 * block is open on the head while transactions arrive, at max(head + interval, the
 * interval boundary before now), and each push runs once, into it, its client waiting
 * for `applied` answered then (no dry run, and nothing runs again when consensus asks
 * for the block: the open block is finished). A block that fails to commit stays
 * applied and is committed with the next (nothing in it is lost, and its clients
 * waiting for `final` have it then); a damaged store halts the node.
 *
 * Signing asynchronously (`signAsync`: a browser's non-extractable WebCrypto key, which
 * signs only asynchronously, while consensus signs as it steps): consensus is handed a
 * stand-in of random bytes for each signature, and the real one is begun at once.
 * Before a step's output is persisted, stored or sent (`handle`), each stand-in is
 * filled in place with its signature — the votes, certificates and blocks consensus
 * keeps hold the same arrays — and the bytes packed meanwhile holding a stand-in (a
 * commit certificate with our own commit in it, a view change's prepares) are mended,
 * a signed message over them signed again. Consensus takes our own stand-ins as ours.
 */
import { BlockValidationError, ChainHaltError, TransactionRejectedError } from '../chain/errors.ts';
import { GENESIS_BLOCK_NUM, ONE_SECOND_US, MAX_TRX_LIFETIME_SEC, TAPOS_VALID_FLAGS } from '../chain/constants.ts';
import { consensusAfterHead, producersOf } from '../chain/block-context.ts';
import { openTransaction, type BuiltBlock, type Chain, type OpenBlock, type OpenedTransaction, type ValidatedBlock } from '../chain/executor.ts';
import { ConsensusNode } from '../consensus/node.ts';
import { SYNC_BATCH } from '../consensus/constants.ts';
import type { ConsensusFields, HardState, JointConsensus, PersistedState, Ready } from '../consensus/types.ts';
import { PsiwebError, StoreDamagedError } from '../errors.ts';
import { decodeMessage, encodeMessage, MESSAGE_TYPES, type SignedMessageName, type WireMessage } from '../net/wire/messages.ts';
import { toHex as hexId } from '../protocol/fracpack/index.ts';
import { blockId as protocolBlockId } from '../protocol/ids.ts';
import { blockId, blockSigningData, headerIdBytes, numFromId } from '../consensus/block.ts';
import { blockMessage, preimageOf } from '../consensus/messages.ts';
import { accountName, accountNumber } from '../protocol/names.ts';
import { packSignedBlock, packSignedTransaction, unpackSignedBlock, type Block, type SignedBlock, type TransactionTrace } from '../protocol/types.ts';
import { bytesEqual, toHex } from '../state/bytes.ts';
import { layeredReader } from '../state/layers.ts';
import { mergeUndo, undoOf } from '../state/memory-store.ts';
import { readBlocks } from '../state/store.ts';
import { WriteOverlay, type KvWrite } from '../state/overlay.ts';
import type { KvReader } from '../state/types.ts';
import { BLOCK_INTERVAL_MS } from './constants.ts';
import type { Clock, NodeStatus, Platform, Transport, WaitFor } from './platform.ts';

export type { Clock, NodeStatus, Platform, Transport, WaitFor } from './platform.ts';

/** How often consensus is ticked (its timers: block interval, elections, view changes). */
export const TICK_MS = 20;
/** Most transactions held at once. */
export const MAX_HELD_TRANSACTIONS = 20_000;
/** Blocks sent from the block log for one hello of a peer that is far behind. */
export const LOG_SYNC_BATCH = 1024;
/** Blocks read from the block log at once while answering such a hello (where the store reads runs: KvStore.blocks). */
export const LOG_READ_RUN = 64;
/** A hello this far below the irreversible block is answered from the block log (consensus keeps fewer in memory). */
export const LOG_SYNC_MARGIN = 64;
/** A peer sent nothing from the block log for this long gets a hello answered in full again. */
export const LOG_RESEND_MS = 2_000;
/** Most transactions in one block. */
export const MAX_BLOCK_TRANSACTIONS = 5_000;
/**
 * Most applied blocks held uncommitted while more input waits (a node catching up):
 * the irreversible ones among them commit together, in one store transaction.
 */
export const COMMIT_BATCH = 512;
/** A block this much older than the clock is one being caught up on (its commit may wait for a batch). */
export const CATCH_UP_LAG_MS = 1_000;
/** Longest a caught-up block waits uncommitted for more of its batch. */
export const COMMIT_WAIT_MS = 250;
/**
 * Blocks ahead of the one running whose signature checks are begun: the next one (it
 * runs on a crypto thread while this one runs, ~1.5 ms against ~0.1 ms). Beginning every
 * received block's check on arrival kept hundreds of decoded blocks alive (garbage
 * collection ~3× dearer) and hundreds of checks in flight, each dearer on the main
 * thread; 4 ahead measured no better than 1.
 */
export const EARLY_CHECKS = 1;
/** Longest the queue of consensus input runs before the event loop gets a turn (a 0 ms timer: ~1 ms on Node, so not much more often). */
export const YIELD_MS = 50;

export class CoreNodeError extends PsiwebError {
  override name = 'CoreNodeError';
}

/** A block the core committed, for its platform (e.g. the browser's waiters on pushed transactions). */
export interface CommittedBlock {
  num: number;
  id: Uint8Array;
  /** The block's transactions (ids as they were hashed when it ran), with their traces, in order. */
  transactions: { id: Uint8Array; trace: TransactionTrace }[];
}

export interface CoreNodeInit {
  platform: Platform;
  /** The chain's head block: consensus's trusted root (CoreNode.open reads it). */
  root: SignedBlock;
  /** The producer this node signs as; a name outside the producer set follows without a vote (FOLLOWER_NAME). */
  name: string;
  /** Signs `data` as this producer does (psibase: its claim's verify service checks it); or signAsync. */
  sign?: (data: Uint8Array) => Uint8Array;
  /**
   * Signs asynchronously instead of `sign` (a browser's non-extractable WebCrypto key,
   * which has no synchronous API): blocks, votes and every other signed message. See
   * "Signing asynchronously" above: consensus gets stand-ins, and no stand-in leaves the core.
   */
  signAsync?: (data: Uint8Array) => Promise<Uint8Array>;
  /** The length of signAsync's signatures (default 64: P-256's r‖s); CoreNode.open learns it by signing once. */
  signatureLength?: number;
  /** Checks a producer's signature over `data` with the key of its claim. */
  verify(claimRawData: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Begins checking a signed consensus message's signature as it arrives (asynchronously:
   * WebCrypto), so that `verify` at its turn finds the answer ready (claim-verifier.ts).
   * The message's step waits for it. Never rejects.
   */
  preverify?: (claimRawData: Uint8Array, data: Uint8Array, signature: Uint8Array) => Promise<void>;
  /** Passes a pushed transaction to the other producers (they hold it too). */
  relay?: (packed: Uint8Array) => void;
  /**
   * With transactions waiting, the leader makes its next block this long after its last
   * instead of a block interval after it (ConsensusNode.hurry); undefined: blocks only on
   * the interval, as psinode makes them.
   */
  eagerBlockMs?: number;
  blockIntervalMs?: number;
  /** The consensus state persisted by an earlier run of this node (restart), if any. */
  restore?: PersistedState;
  /** Writes consensus state that must survive a crash; called before the messages of the same step go out. */
  persist?: (hard: HardState) => void | Promise<void>;
  /** Most transactions held at once (default MAX_HELD_TRANSACTIONS). */
  maxHeld?: number;
  /** Told of each block once it is committed, in order (after its clients waiting for `applied`). */
  onCommitted?: (block: CommittedBlock) => void | Promise<void>;
}

/** The name a follower's core runs under: not a producer, so it never votes or signs. */
export const FOLLOWER_NAME = 'follower';

interface Waiter {
  resolve(trace: TransactionTrace): void;
  reject(error: Error): void;
  waitFor: WaitFor;
}

/** A transaction held for the next blocks. */
interface Held {
  t: OpenedTransaction;
  key: string;
  waiters: Waiter[];
  /** The applied block holding it, once there is one. */
  inBlock?: { num: number; trace: TransactionTrace };
  /** Its proofs passed (set once they are checked). */
  verified?: boolean;
  /** When this node last relayed it to the other producers (one pushed to this node; clock ms). */
  relayedAt?: number;
  /** How many times it was relayed again. */
  relayedAgain?: number;
}

/**
 * How many block intervals a transaction pushed to this node may wait in no block before
 * it is relayed to the other producers again: a relay can be lost (a peer that was not
 * connected, a stream that failed while the producers changed leader), and a
 * transaction only this node holds is in no block until this node leads.
 */
export const RELAY_AGAIN_INTERVALS = 3;
/**
 * Most times one transaction is relayed again: one that no producer puts in a block (it
 * fails in the leader's, which leaves it out) is not sent round until it expires.
 */
export const RELAY_AGAIN_LIMIT = 5;
/** Most transactions relayed again in one sweep. */
const RELAY_AGAIN_MAX = 512;

/** A block that ran: its write set, and (once on the head) what it overwrote. */
interface Known {
  num: number;
  parent: string;
  v: ValidatedBlock;
  writes: KvWrite[];
  /** The signature validateOn checked (a block from a peer). */
  signature?: Uint8Array;
}


export class CoreNode {
  readonly chain: Chain;
  readonly name: string;
  readonly consensus: ConsensusNode;
  private readonly transport: Transport;
  /** Whether blocks above the irreversible one are committed (with undo records), or held in memory until they are irreversible. */
  private readonly commitReversible: boolean;
  private readonly onCommittedHook: CoreNodeInit['onCommitted'];
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly relay: ((packed: Uint8Array) => void) | undefined;
  private readonly eagerBlockMs: number | undefined;
  private readonly preverify: CoreNodeInit['preverify'];
  private readonly persistHard: ((hard: HardState) => void | Promise<void>) | undefined;
  private readonly signAsync: ((data: Uint8Array) => Promise<Uint8Array>) | undefined;
  /** The length of signAsync's signatures: stand-ins have it, so they are filled in place. */
  private readonly signatureLength: number;
  /** Stand-ins handed to consensus since the last `handle`, and the signatures being made for them. */
  private unsigned: { standIn: Uint8Array; made: Promise<Uint8Array> }[] = [];
  /** Validated blocks above the irreversible one, by id (hex). */
  private readonly known = new Map<string, Known>();
  /** Block id (hex) by number, for the blocks on the applied chain above the irreversible one. */
  private readonly applied = new Map<number, string>();
  /** What each applied reversible block overwrote, by number (the undo records, in memory). */
  private readonly undo = new Map<number, KvWrite[]>();
  /** Verdicts of blocks that did not run (invalidKey: id and signature → why). */
  private readonly invalid = new Map<string, string>();
  /**
   * Applied blocks not yet committed, oldest first: they follow the chain's head, and
   * the applied chain ends with them (see "Catch-up" above).
   */
  private pending: Known[] = [];
  /** The chain's state with the pending blocks' writes over it: the state at the applied head. */
  private pendingState: WriteOverlay | undefined;
  /** Ids (hex) of the transactions in pending blocks (the duplicate check of a push). */
  private readonly pendingTx = new Set<string>();
  /** When the oldest pending block's batch began waiting (clock ms). */
  private pendingSince: number | undefined;
  /** Consensus inputs queued and not yet run: while some wait, applied blocks are not committed yet. */
  private waiting = 0;
  /** Per peer: the last block sent it from the block log, and when (clock ms). */
  private readonly logSent = new Map<string, { through: number; at: number }>();
  /** Per peer: the block named by the last hello consensus answered, and when (clock ms). */
  private readonly helloAnswered = new Map<string, { num: number; at: number }>();
  /** Blocks consensus asked about before they ran: run them, then step them in again. */
  private needValidation: SignedBlock[] = [];
  private readonly built = new Map<string, BuiltBlock>();
  private readonly held = new Map<string, Held>();
  /** Held transactions in push order. */
  private order: string[] = [];
  private irreversibleNum: number;
  private rootId: string;
  /** Consensus input, one at a time (validation is asynchronous; order is kept). */
  private queue: Promise<void> = Promise.resolve();
  private timer: unknown;
  private running = false;
  private halted: string | null = null;
  private readonly intervalMs: number;
  private readonly maxHeld: number;
  /** A sole producer's open block, on the applied head `parent` (see "A sole producer" above). */
  private openBlock: { ob: OpenBlock; parent: string; status?: object } | undefined;
  /** A consensus input is being run: pushes leave the open block alone meanwhile (consensus may be finishing it). */
  private stepping = false;
  /** Whether the chain's producer set is this node alone, for the status row (one object per commit) it was worked out at. */
  private loneAt: { status: object; lone: boolean } | undefined;
  /** Held transactions may be outside the open block (pushed while consensus ran, or a block was thrown away): fillOpen looks. */
  private refill = true;
  /** A sole producer's blocks that failed to commit: the first, and why (they are committed again after each input). */
  private commitFailure: { num: number; error: unknown } | undefined;
  /** A failure met inside a consensus step (e.g. a damaged store while building), thrown once the step is done. */
  private deferredFailure: unknown;
  /** What halted the node (e.g. a StateLostError of the browser's store), once it halted. */
  haltError: unknown;

  constructor(init: CoreNodeInit) {
    const { platform } = init;
    const head = platform.chain.head;
    if (!head) throw new CoreNodeError('the chain has not been booted');
    this.chain = platform.chain;
    this.commitReversible = platform.chain.reversible;
    this.name = init.name;
    this.transport = platform.transport;
    this.clock = platform.clock;
    this.log = platform.log ?? (() => undefined);
    this.relay = init.relay;
    this.eagerBlockMs = init.eagerBlockMs;
    this.preverify = init.preverify;
    this.persistHard = init.persist;
    this.signAsync = init.signAsync;
    this.signatureLength = init.signatureLength ?? 64;
    this.onCommittedHook = init.onCommitted;
    this.irreversibleNum = head.num;
    this.intervalMs = init.blockIntervalMs ?? BLOCK_INTERVAL_MS;
    this.maxHeld = init.maxHeld ?? MAX_HELD_TRANSACTIONS;
    const random = platform.random ?? Math.random;
    const verify = init.verify;
    const sign = init.sign;
    if (!sign && !init.signAsync) throw new CoreNodeError('a core needs sign or signAsync');
    const chain = platform.chain;
    // The trusted root: the chain's head when this node starts (the genesis block on a
    // new devnet). A restarted node's reversible blocks come back through `restore`.
    const root = init.root;
    if (blockId(root) !== toHex(head.id)) throw new CoreNodeError('the root block given is not the chain head');
    this.rootId = blockId(root);
    this.consensus = new ConsensusNode(
      {
        signer: { sign: (data) => (this.signAsync ? this.standIn(data) : sign!(data)) },
        verifier: {
          verify: (producer, data, signature, known) => {
            // Our own block or message, made with a stand-in signature it gets in `handle`.
            if (this.standIns.has(signature)) return producer === this.name;
            // A block this node ran had its signature checked then (against its producer's claim at its parent).
            if (this.ranWithSignature(data, signature)) return true;
            // The claim consensus holds (a set named by a block not committed yet), else the chain's.
            const claim = known?.rawData ?? this.claimOf(producer);
            return claim !== undefined && verify(claim, data, signature);
          },
        },
        random: { next: random },
        blocks: {
          build: (parent, fields, joint) => this.build(parent, fields, joint),
          validate: (block) => this.validate(block),
        },
      },
      {
        name: init.name,
        genesis: root,
        producers: chain.status!.consensus.current,
        now: this.clock.now(),
        blockIntervalMs: init.blockIntervalMs ?? BLOCK_INTERVAL_MS,
        ...(init.restore && { restore: restoreAt(init.restore, root) }),
      },
    );
  }

  /** Opens the core on its platform's booted chain, whose head (after a restart: the last irreversible block) is its trusted root. */
  static async open(init: Omit<CoreNodeInit, 'root'>): Promise<CoreNode> {
    const { chain, log } = init.platform;
    if (!chain.head) throw new CoreNodeError('the chain has not been booted');
    // After a restart, blocks above the last irreversible one may have lost their fork:
    // go back to it, and consensus takes the rest from the peers again.
    const irreversible = await chain.lastIrreversible();
    if (irreversible !== undefined && irreversible < chain.head.num) {
      log?.(`restart: back to irreversible block ${irreversible} from ${chain.head.num}; peers resend the rest`);
      await chain.revertTo(irreversible);
    }
    const head = chain.head!;
    await chain.markIrreversible(head.num);
    const root = await chain.blockByNum(head.num);
    if (!root) throw new CoreNodeError(`the head block ${head.num} is not in the block log`);
    let signatureLength = init.signatureLength;
    if (init.signAsync && signatureLength === undefined) {
      try {
        signatureLength = (await init.signAsync(new Uint8Array(0))).length;
      } catch (e) {
        throw new CoreNodeError(`the producer's key cannot sign: ${(e as Error).message ?? String(e)}`, { cause: e });
      }
    }
    return new CoreNode({ ...init, root, ...(signatureLength !== undefined && { signatureLength }) });
  }

  /** Stand-in signatures (signAsync), by identity: each is filled in place with its real signature before anything holding it leaves the core. */
  private readonly standIns = new WeakSet<Uint8Array>();

  /** A stand-in for the signature over `data`, which signAsync begins making now. Random bytes: a copy packed before it was filled can be found (patchStandIns). */
  private standIn(data: Uint8Array): Uint8Array {
    const s = new Uint8Array(this.signatureLength);
    crypto.getRandomValues(s);
    this.standIns.add(s);
    const made = this.signAsync!(data.slice());
    made.catch(() => undefined); // (awaited in `handle`, where a failure halts the node)
    this.unsigned.push({ standIn: s, made });
    return s;
  }

  /**
   * Fills every stand-in consensus was handed since the last call with its signature,
   * in place (votes, certificates and blocks hold the same arrays), and mends the bytes
   * packed meanwhile with a stand-in in them: a block's auxConsensusData (a commit
   * certificate holding our own commit), the hard state's proof, and a signed message's
   * data (a view change's prepares), which is then signed again.
   */
  private async fillStandIns(r: Ready): Promise<void> {
    const unsigned = this.unsigned;
    this.unsigned = [];
    const fills: { random: Uint8Array; real: Uint8Array }[] = [];
    for (const u of unsigned) {
      const real = await u.made;
      if (real.length !== u.standIn.length) throw new CoreNodeError(`signAsync made a ${real.length}-byte signature, not ${u.standIn.length} bytes as before`);
      fills.push({ random: u.standIn.slice(), real });
      u.standIn.set(real);
    }
    if (fills.length === 0) return;
    const seen = new Set<Uint8Array>();
    const mend = (bytes: Uint8Array | null | undefined): boolean => {
      if (!bytes || seen.has(bytes)) return false;
      seen.add(bytes);
      return patchStandIns(bytes, fills);
    };
    for (const b of r.blocks) mend(b.auxConsensusData);
    mend(r.hardState?.irreversibleProof);
    for (const { message } of r.messages) {
      if (!message.kind.startsWith('SignedMessage<')) continue;
      const m = message as unknown as { kind: string; value: { data: Uint8Array; signature: Uint8Array } };
      if (!mend(m.value.data)) continue;
      const name = m.kind.slice('SignedMessage<'.length, -1) as SignedMessageName;
      m.value.signature.set(await this.signAsync!(preimageOf(name, m.value.data)));
    }
  }

  /** Whether `data` is a block's signing data (00 ce a8 'B' ‖ id) for a block that ran here with this signature. */
  private ranWithSignature(data: Uint8Array, signature: Uint8Array): boolean {
    if (!isBlockSigningData(data)) return false;
    const k = this.known.get(toHex(data.subarray(4)));
    return k?.signature !== undefined && bytesEqual(k.signature, signature);
  }

  /** The claim (rawData) a producer signs with, from the consensus in force or pending. */
  private claimOf(producer: string): Uint8Array | undefined {
    const status = this.chain.status;
    if (!status) return undefined;
    const name = accountNumber(producer);
    for (const c of [status.consensus.current, status.consensus.next?.consensus]) {
      if (!c) continue;
      const p = producersOf(c).find((x) => x.name === name);
      if (p) return p.auth.rawData;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ running

  /** Ticks consensus from now on (not again once halted). */
  start(): void {
    if (this.running || this.halted) return;
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      this.enqueue(() => {
        if (this.hurried()) this.consensus.hurry(this.eagerBlockMs!);
        this.consensus.tick(this.clock.now());
      });
      this.relayAgain(this.clock.now());
      this.timer = this.clock.setTimeout(loop, TICK_MS);
    };
    loop();
  }

  /**
   * Stops ticking and waits for the input being run. A sole producer's open block that
   * holds transactions is finished and committed first (their clients were told they
   * applied); an empty one is dropped.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.queue;
    if (!this.halted && this.openBlock && this.openBlock.ob.included.length > 0)
      await this.produceBlock().catch((e: unknown) => this.log(`block production failed: ${(e as Error).message}`));
    this.openBlock?.ob.abandon();
    this.openBlock = undefined;
    if (!this.halted) await this.flush(this.commitReversible).catch((e: unknown) => this.fail(e));
    for (const h of this.held.values()) for (const w of h.waiters) w.reject(new CoreNodeError('the node stopped'));
    this.held.clear();
    this.order = [];
  }

  /** A neighbour connected: consensus tells it our head (and view changes). */
  connected(peer: string): void {
    this.enqueue(() => this.consensus.connected(peer));
  }

  /**
   * Says hello to `peer` naming this node's applied head (psibase blocknet's hello on
   * connect), `committed` when it is irreversible: a peer that knows the block sends
   * what follows it. A follower whose root has no parent (the genesis block) has no
   * head block to show a peer, so it asks with this.
   */
  hello(peer: string): void {
    this.enqueue(() => {
      const head = this.appliedHead();
      const xid = { _id: fromHexBytes(head.id), _num: head.num };
      this.transport.sendToPeer(peer, encodeMessage({ kind: 'HelloRequest', value: { xid, committed: head.num <= this.irreversibleNum } }));
    });
  }

  /** A message from a neighbour (type byte + fracpack). */
  receive(peer: string, bytes: Uint8Array): void {
    // A block's signature check begins a few blocks before its turn (EARLY_CHECKS), on
    // the crypto threads, so it has settled when the block runs (see Chain.beginSignatureCheck).
    const arrived: Arrived | undefined = bytes[0] === MESSAGE_TYPES.BlockMessage ? { bytes } : undefined;
    if (arrived) {
      this.arrived.push(arrived);
      if (this.arrived.length <= EARLY_CHECKS) this.beginCheck(arrived);
    }
    // A signed consensus message's signature check begins now, off this thread where the platform can.
    let early: WireMessage | undefined;
    let checked: Promise<void> | undefined;
    if (!arrived && this.preverify) {
      try {
        early = decodeMessage(bytes);
      } catch {
        early = undefined;
      }
      const c = early && this.consensus.signedCheckOf(early);
      const claim = c && (c.claim?.rawData ?? this.claimOf(c.producer));
      if (c && claim && !this.standIns.has(c.signature)) checked = this.preverify(claim, c.data, c.signature);
    }
    this.enqueue(async () => {
      let m: WireMessage | undefined;
      let signed: SignedBlock | undefined;
      if (checked) await checked;
      if (early) m = early;
      else if (arrived) {
        // This block's turn: the one EARLY_CHECKS behind it comes into the window.
        const at = this.arrived.indexOf(arrived);
        if (at >= 0) this.arrived.splice(0, at + 1);
        const next = this.arrived[EARLY_CHECKS - 1];
        if (next) this.beginCheck(next);
        ({ m, signed } = decodeArrived(arrived));
      } else {
        try {
          m = decodeMessage(bytes);
        } catch {
          m = undefined;
        }
      }
      if (m === undefined) return this.consensus.stepBytes(peer, bytes); // consensus drops it with the reason
      // A peer far behind (joining, or back from a long stop) asks for blocks consensus
      // no longer holds in memory: they come from the block log, and consensus does not
      // answer too (it would send the blocks at its head, which the peer cannot link yet).
      if (m.kind === 'HelloRequest') {
        if (await this.serveFromLog(peer, m.value.xid, m.value.committed)) return;
        // Nearer the head consensus answers, with up to SYNC_BATCH blocks from its memory;
        // a peer catching up says hello again after each of them it applies: those
        // hellos are not answered again while the answer is still on its way.
        const num = m.value.xid._num;
        const last = this.helloAnswered.get(peer);
        const now = this.clock.now();
        if (last && now - last.at < LOG_RESEND_MS && num > last.num && num < last.num + SYNC_BATCH) return;
        if (this.helloAnswered.size > 1024 && !last) this.helloAnswered.clear();
        this.helloAnswered.set(peer, { num, at: now });
      }
      // A block is run before consensus sees it, on the state at its parent.
      if (m.kind === 'BlockMessage') {
        if (signed) {
          await this.prevalidate(signed, peer);
          // Consensus takes the same decode (and the header's id, hashed once).
          return this.consensus.stepBlock(peer, signed, m.value.block);
        }
      }
      this.consensus.step(peer, m);
    });
  }

  /**
   * A HelloRequest naming a block below what consensus keeps: the blocks after it, up
   * to the irreversible one and at most LOG_SYNC_BATCH, from the block log. The peer
   * asks again from its new head when the next block it hears of does not link.
   * Whether the hello was answered here.
   */
  private async serveFromLog(peer: string, hello: { _id: Uint8Array; _num: number }, committed = false): Promise<boolean> {
    const num = hello._num;
    // A block the peer holds irreversible that contradicts ours: it is on another chain.
    if (committed && num <= this.irreversibleNum && num >= GENESIS_BLOCK_NUM) {
      const ours = await this.chain.state.store.block(num);
      if (ours && !bytesEqual(ours.id, hello._id)) {
        this.transport.misbehaved?.(peer, `no common block: the peer's irreversible block ${num} is ${hexId(hello._id).slice(0, 16)}…, this node's is ${hexId(ours.id).slice(0, 16)}… (another chain)`);
        return true;
      }
    }
    // (A sole producer's blocks are irreversible at once: consensus keeps none of them to answer from.)
    if (num >= this.irreversibleNum - (this.lone ? 0 : LOG_SYNC_MARGIN)) return false;
    const at = await this.chain.state.store.block(num);
    // A hello from an empty node names the block before genesis.
    const from = at && bytesEqual(at.id, hello._id) ? num + 1 : num < GENESIS_BLOCK_NUM ? GENESIS_BLOCK_NUM : undefined;
    if (from === undefined) return false;
    const to = Math.min(this.irreversibleNum, from + LOG_SYNC_BATCH - 1);
    // A peer catching up says hello again after each block it applies while blocks we
    // sent are still on their way: send only what follows them (up to LOG_SYNC_BATCH
    // past the block it names), not the same blocks again. Once nothing was sent to it
    // for LOG_RESEND_MS, a hello is answered in full (what was sent may be lost).
    const now = this.clock.now();
    const sent = this.logSent.get(peer);
    const start = sent && now - sent.at < LOG_RESEND_MS && sent.through >= from ? sent.through + 1 : from;
    let through: number | undefined;
    const store = this.chain.state.store;
    // Read in runs where the store can (IndexedDB: one transaction a run, not a block).
    sending: for (let n = start; n <= to; ) {
      const run = await readBlocks(store, n, Math.min(to, n + LOG_READ_RUN - 1));
      if (run.length === 0) break;
      for (const rec of run) {
        if (!this.transport.sendToPeer(peer, encodeMessage({ kind: 'BlockMessage', value: { block: rec.bytes } }))) break sending;
        through = rec.num;
      }
      n += run.length;
    }
    if (through === undefined) return true;
    if (this.logSent.size > 1024 && !sent) this.logSent.clear();
    this.logSent.set(peer, { through: Math.max(through, start > from ? sent!.through : 0), at: now });
    return true;
  }

  /** Runs `step` after what came before it, then hands consensus's output on. */
  private enqueue(step: () => void | Promise<void>): void {
    if (this.waiting === 0) this.lastYield = this.clock.now();
    this.waiting++;
    this.queue = this.queue
      .then(async () => {
        this.waiting--;
        if (this.halted) return;
        this.stepping = true;
        try {
          await step();
          await this.pump();
          await this.settleCommits();
        } finally {
          this.stepping = false;
        }
        const deferred = this.deferredFailure;
        this.deferredFailure = undefined;
        if (deferred !== undefined) throw deferred;
        await this.yieldWhenBusy();
      })
      .catch((e: unknown) => this.fail(e));
  }

  /** Blocks received and not yet stepped, oldest first: the first EARLY_CHECKS have their signature checks begun. */
  private arrived: Arrived[] = [];

  /** Begins an arrived block's signature check (decoding it: its turn uses the same decode). */
  private beginCheck(a: Arrived): void {
    const { signed } = decodeArrived(a);
    if (signed && signed.block.header.blockNum > this.irreversibleNum && !this.halted) this.chain.beginSignatureCheck(signed, headerIdBytes(signed.block.header));
  }

  /** When the queue began running without a break, or last gave way (clock ms). */
  private lastYield = 0;

  /**
   * Gives the platform's event loop a turn after YIELD_MS of queued steps: a node
   * catching up runs a backlog of blocks whose checks have all settled (their signature
   * checks began as they arrived), which would otherwise hold the thread for seconds
   * (no socket reads, timers or status requests meanwhile).
   */
  private async yieldWhenBusy(): Promise<void> {
    if (this.waiting === 0 || this.clock.now() - this.lastYield < YIELD_MS) return;
    await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 0));
    this.lastYield = this.clock.now();
  }

  private fail(e: unknown): void {
    this.arrived = [];
    this.haltError ??= e;
    this.halted = (e as Error).message ?? String(e);
    this.running = false;
    this.log(`producer ${this.name} halted: ${(e as Error).stack ?? String(e)}`);
    for (const h of this.held.values()) for (const w of h.waiters) w.reject(new ChainHaltError(`the node halted: ${this.halted}`));
    this.held.clear();
  }

  /** Everything consensus has to hand out, until it has nothing. */
  private async pump(): Promise<void> {
    for (let rounds = 0; rounds < 64; rounds++) {
      while (this.consensus.hasReady()) await this.handle(this.consensus.ready());
      if (this.needValidation.length === 0) return;
      // Blocks consensus met before they ran (a parent that arrived later): run them now, then step them in again.
      const again = this.needValidation;
      this.needValidation = [];
      for (const b of again) {
        if (await this.prevalidate(b, undefined)) this.consensus.stepBlock('self', b, packedOf(b));
      }
    }
  }

  private async handle(r: Ready): Promise<void> {
    // A sole producer votes for itself alone and its blocks are irreversible at once: nothing of its consensus state needs to survive a crash.
    // Signing asynchronously: the stand-ins consensus signed with become the real
    // signatures before anything is persisted, stored or sent; our own blocks, packed
    // with a stand-in, are packed again.
    const resigned = new Map<Uint8Array, Uint8Array>();
    if (this.signAsync) {
      const stale = new Map<SignedBlock, Uint8Array>();
      for (const b of r.blocks) if (this.standIns.has(b.signature)) stale.set(b, blockBytes(blockMessage(b)));
      await this.fillStandIns(r);
      for (const [b, bytes] of stale) {
        b.signature = b.signature.slice(); // (a new identity: blockMessage packs it again)
        resigned.set(bytes, blockBytes(blockMessage(b)));
      }
    }
    // (A platform that writes asynchronously, e.g. IndexedDB, is waited for: nothing of the step goes out before.)
    if (r.hardState && !this.lone) await this.persistHard?.(r.hardState);
    // Our own blocks: seal what was built with the signature consensus gave it.
    for (const b of r.blocks) {
      const id = blockId(b);
      const built = this.built.get(id);
      if (built && !this.known.has(id)) {
        const v = this.chain.sealBuilt(built, b.signature, b.auxConsensusData ?? null);
        this.known.set(id, { num: b.block.header.blockNum, parent: toHex(b.block.header.previous), v, writes: [...v.bc.state.writes()] });
        this.built.delete(id);
      }
    }
    // (A block met before it ran is dropped with "content rejected", run, and stepped in again: not worth a line.)
    for (const d of r.dropped) if (d.from !== 'self' && !d.reason.endsWith('content rejected by the executor')) this.log(`consensus: dropped from ${d.from}: ${d.reason}`);
    for (const { to, message } of r.messages) {
      const fresh = message.kind === 'BlockMessage' && resigned.size > 0 ? resigned.get(blockBytes(message)) : undefined;
      const bytes = encodeMessage((fresh ? { kind: 'BlockMessage', value: { block: fresh } } : message) as never);
      if (to === '*') this.transport.broadcast(bytes);
      else if (to.startsWith('#') || to === 'self') this.transport.sendToPeer(to, bytes);
      else this.transport.sendToProducer(to, bytes);
    }
    if (r.head !== undefined) await this.switchTo(r.head);
    if (r.irreversible.length > 0) await this.markIrreversible(r.irreversible[r.irreversible.length - 1]!);
  }

  // ------------------------------------------------------------------ blocks

  /** The state at block `id` (the head, or a validated block on any fork above the irreversible one); undefined if unknown. */
  private readerAt(id: string): KvReader | undefined {
    const disk = this.chain.head!;
    const fork = this.forkPoint(id);
    if (!fork) return undefined;
    let base: KvReader;
    if (fork.at >= disk.num) {
      // On the applied chain at or above the committed head: the pending blocks up to the fork point.
      const kept = fork.at - disk.num;
      if (kept === this.pending.length) base = this.pendingState ?? this.chain.state.reader;
      else if (kept === 0) base = this.chain.state.reader;
      else base = layeredReader(this.chain.state.reader, this.pending.slice(0, kept).map((k) => k.writes));
    } else {
      const undos: KvWrite[][] = [];
      for (let n = disk.num; n > fork.at; n--) {
        const u = this.undo.get(n);
        if (!u) return undefined;
        undos.push(u);
      }
      base = layeredReader(this.chain.state.reader, [mergeUndo(undos)]);
    }
    return fork.path.length === 0 ? base : layeredReader(base, fork.path.map((k) => k.writes));
  }

  /** The last applied block: the last pending one, else the chain's head. */
  private appliedHead(): { num: number; id: string } {
    const last = this.pending[this.pending.length - 1];
    if (last) return { num: last.num, id: toHex(last.v.id) };
    const h = this.chain.head!;
    return { num: h.num, id: toHex(h.id) };
  }

  /**
   * Where block `id`'s chain leaves the applied one: the number of the applied block
   * (or the irreversible one) it descends from, and the validated blocks after it up to
   * `id`, oldest first. Undefined when `id` does not lead back to the applied chain.
   */
  private forkPoint(id: string): { at: number; path: Known[] } | undefined {
    const head = this.appliedHead();
    const headId = head.id;
    const path: Known[] = [];
    let cur = id;
    let at: number | undefined;
    for (;;) {
      if (cur === headId) {
        at = head.num;
        break;
      }
      const k = this.known.get(cur);
      if (!k) {
        for (const [num, aid] of this.applied) if (aid === cur) at = num;
        if (at === undefined && cur === this.irreversibleId()) at = this.irreversibleNum;
        break;
      }
      if (this.applied.get(k.num) === cur) {
        at = k.num;
        break;
      }
      path.push(k);
      cur = k.parent;
    }
    return at === undefined ? undefined : { at, path: path.reverse() };
  }

  private irreversibleId(): string {
    return this.applied.get(this.irreversibleNum) ?? this.rootId;
  }

  /** Runs a block from a peer on the state at its parent and remembers the verdict. Returns whether it ran. */
  private async prevalidate(b: SignedBlock, peer: string | undefined): Promise<boolean> {
    // (A block at or below the irreversible one, e.g. sent twice while catching up, is not even hashed.)
    if (b.block.header.blockNum <= this.irreversibleNum) return false;
    const id = blockId(b);
    if (this.known.has(id) || this.applied.get(b.block.header.blockNum) === id) return true;
    const why = this.invalid.get(invalidKey(id, b));
    if (why !== undefined) {
      // A block already found not to run, sent again: its sender is reported as the first was.
      if (peer !== undefined) this.transport.misbehaved?.(peer, `sent block ${b.block.header.blockNum} that does not run: ${why}`);
      return false;
    }
    const parent = toHex(b.block.header.previous);
    const reader = this.readerAt(parent);
    if (!reader) return false;
    try {
      // The proofs of transactions this node holds were checked when they came.
      // The block as decoded here, with its id (blockId above hashed this header once).
      const v = await this.chain.validateOn({ signed: b, bytes: packedOf(b), id: headerIdBytes(b.block.header) }, reader, { verified: (txId) => this.held.get(toHex(txId))?.verified === true });
      this.known.set(id, { num: b.block.header.blockNum, parent, v, writes: [...v.bc.state.writes()], signature: b.signature });
      return true;
    } catch (e) {
      if (!(e instanceof BlockValidationError)) throw e;
      this.invalid.set(invalidKey(id, b), e.message);
      this.log(`block ${b.block.header.blockNum} ${id.slice(0, 16)} does not run: ${e.message}`);
      if (peer !== undefined) this.transport.misbehaved?.(peer, `sent block ${b.block.header.blockNum} that does not run: ${e.message}`);
      return false;
    }
  }

  /** BlockSource.validate: only blocks that ran are valid; one consensus meets first is run and stepped in again. */
  private validate(b: SignedBlock): boolean {
    const id = blockId(b);
    if (this.known.has(id) || this.built.has(id)) return true;
    if (this.applied.get(b.block.header.blockNum) === id) return true;
    if (!this.invalid.has(invalidKey(id, b))) this.needValidation.push(b);
    return false;
  }

  /** BlockSource.build: the next block on `parent`, from the held transactions, synchronously. */
  private build(parent: SignedBlock, fields: ConsensusFields, _joint: JointConsensus): Block | undefined {
    if (this.halted) return undefined;
    if (this.lone) return this.buildLone(parent, fields);
    const reader = this.readerAt(blockId(parent));
    if (!reader) return undefined;
    const candidates: OpenedTransaction[] = [];
    const nowSec = fields.time / ONE_SECOND_US;
    for (const key of this.order) {
      const h = this.held.get(key);
      if (!h || h.inBlock) continue;
      if (h.t.transaction.tapos.expiration <= nowSec) continue;
      candidates.push(h.t);
      if (candidates.length >= MAX_BLOCK_TRANSACTIONS) break;
    }
    let built: BuiltBlock;
    try {
      built = this.chain.buildOn(reader, { time: fields.time, producer: fields.producer, term: fields.term, irreversible: fields.commitNum }, candidates);
    } catch (e) {
      this.log(`producer ${this.name}: cannot build block ${fields.blockNum}: ${(e as Error).message}`);
      return undefined;
    }
    const h = built.block.header;
    if (h.blockNum !== fields.blockNum || !bytesEqual(h.previous, fields.previous)) {
      this.log(`producer ${this.name}: built block ${h.blockNum} does not match consensus's ${fields.blockNum}`);
      return undefined;
    }
    // A transaction that failed in the block is refused to its clients now.
    for (const r of built.rejected) {
      const key = toHex(r.id);
      const held = this.held.get(key);
      if (held && r.error.reason === 'failed') {
        this.log(`transaction ${key.slice(0, 16)} left out of block ${fields.blockNum}: ${r.error.message}`);
        for (const w of held.waiters) w.reject(r.error);
        this.forget(key);
      }
    }
    this.built.set(toHex(built.id), built);
    return built.block;
  }

  /**
   * BlockSource.build for a sole producer: its open block, when it is on `parent` for
   * this term, with what was held and not in it yet added, finished (nothing in it runs
   * again); otherwise a block opened now on `parent`, filled and finished.
   */
  private buildLone(parent: SignedBlock, fields: ConsensusFields): Block | undefined {
    const parentId = blockId(parent);
    let ob: OpenBlock | undefined;
    const o = this.openBlock;
    this.openBlock = undefined;
    if (o && o.ob.open && o.parent === parentId && o.ob.term === fields.term) ob = o.ob;
    else if (o) {
      o.ob.abandon();
      this.refill = true;
    }
    try {
      ob ??= this.openOn(parentId, parent.block.header.time, fields.term);
      if (!ob) return undefined;
      this.fillOpen(ob);
      const built = ob.finish();
      this.built.set(toHex(built.id), built);
      return built.block;
    } catch (e) {
      ob?.abandon();
      this.refill = true;
      if (e instanceof StoreDamagedError) this.deferredFailure ??= e;
      this.log(`producer ${this.name}: cannot build block ${fields.blockNum}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Whether the chain's producer set is this node alone (and no change to it is pending). */
  private get lone(): boolean {
    const status = this.chain.status;
    if (!status?.head) return false;
    // (The chain's status row is a new object with each commit.)
    if (this.loneAt?.status !== status) {
      const next = consensusAfterHead(status);
      const prods = next.next ? [] : producersOf(next.current);
      this.loneAt = { status, lone: this.name !== FOLLOWER_NAME && prods.length === 1 && prods[0]!.name === this.producer };
    }
    return this.loneAt.lone;
  }

  /** The time of a sole producer's block opened now on a parent of `parentTime`: max(parent + interval, now floored to the interval), microseconds. */
  private nextBlockTime(parentTime: bigint): bigint {
    // A block hurried for waiting transactions (eagerBlockMs) takes its time on that finer grid.
    const stepMs = this.hurried() && this.eagerBlockMs! > 0 ? Math.min(this.eagerBlockMs!, this.intervalMs) : this.intervalMs;
    const intervalUs = BigInt(stepMs) * 1000n;
    const nowUs = BigInt(Math.floor(this.clock.now())) * 1000n;
    const boundary = intervalUs > 0n ? (nowUs / intervalUs) * intervalUs : nowUs;
    const earliest = parentTime + (intervalUs > 0n ? intervalUs : ONE_SECOND_US);
    return boundary > earliest ? boundary : earliest;
  }

  /** A block opened on the applied block `parentId` (its startBlock run), or undefined when that state is not known. */
  private openOn(parentId: string, parentTime: bigint, term: number): OpenBlock | undefined {
    const reader = this.readerAt(parentId);
    if (!reader) return undefined;
    // A sole producer's block commits itself (the executor sets its commitNum); the one
    // after a block naming a new set does not (a change is pending: the executor takes
    // this), and must name no less than what is irreversible.
    return this.chain.openOn(reader, { time: this.nextBlockTime(parentTime), producer: this.producer, term, irreversible: this.consensus.irreversible.num });
  }

  /**
   * A sole producer's open block on the applied head, opened now if there is none (what
   * is held and in no block goes in first); undefined while a consensus input runs.
   */
  private currentOpenBlock(): OpenBlock | undefined {
    if (this.stepping || this.halted || !this.lone) return undefined;
    const o = this.openBlock;
    // Opened on the committed head, which has not moved (its status row is the same object): no hex id to work out.
    if (o?.ob.open && o.status !== undefined && o.status === this.chain.status && this.pending.length === 0) return o.ob;
    const head = this.appliedHead();
    if (o && o.ob.open && o.parent === head.id) return o.ob;
    if (o) {
      o.ob.abandon();
      this.refill = true;
    }
    this.openBlock = undefined;
    const last = this.pending[this.pending.length - 1];
    const headTime = last ? last.v.bc.header.time : this.chain.head!.time;
    // Consensus elects a sole producer in the next term when it is not leading yet.
    const term = this.consensus.role === 'leader' ? this.consensus.term : this.consensus.term + 1;
    let ob: OpenBlock | undefined;
    try {
      ob = this.openOn(head.id, headTime, term);
    } catch (e) {
      // A damaged store halts the node (the push that met it says why).
      if (e instanceof StoreDamagedError) throw e;
      this.log(`producer ${this.name}: cannot open block ${head.num + 1}: ${(e as Error).message}`);
      return undefined;
    }
    if (!ob) return undefined;
    this.openBlock = { ob, parent: head.id, ...(this.pending.length === 0 && this.chain.status && { status: this.chain.status }) };
    this.fillOpen(ob);
    return ob;
  }

  /**
   * Runs the held transactions that are in no block into `ob`, in push order (those of a
   * block thrown away, or pushed while consensus ran): one that expired by the block's
   * time or fails is refused to its clients and let go; each one that went in answers
   * its clients waiting for `applied`.
   */
  private fillOpen(ob: OpenBlock): void {
    if (!this.refill) return;
    this.refill = false;
    for (const key of this.order) {
      if (ob.included.length >= MAX_BLOCK_TRANSACTIONS) {
        this.refill = true;
        return;
      }
      const h = this.held.get(key);
      if (!h || h.inBlock || !h.verified || ob.has(key)) continue;
      let error: TransactionRejectedError | undefined;
      try {
        checkTapos(h.t, ob.time / ONE_SECOND_US);
        error = ob.push(h.t, key).error;
      } catch (e) {
        if (!(e instanceof TransactionRejectedError)) throw e;
        error = e;
      }
      if (error) {
        this.log(`transaction ${key.slice(0, 16)} left out of block ${ob.num}: ${error.message}`);
        for (const w of h.waiters) w.reject(error);
        this.forget(key);
      } else this.answerApplied(h, ob);
    }
  }

  /** A held transaction ran into the open block: its clients waiting for `applied` have its trace. */
  private answerApplied(h: Held, ob: OpenBlock): void {
    if (h.waiters.length === 0) return;
    const trace = ob.traceOf(h.key);
    if (!trace) return;
    for (const w of h.waiters) if (w.waitFor === 'applied') w.resolve(trace);
    h.waiters = h.waiters.filter((x) => x.waitFor !== 'applied');
  }

  /** Makes block `id` the chain's head: back to the fork point, then the fork's blocks. */
  private async switchTo(id: string): Promise<void> {
    const head = this.appliedHead();
    if (head.id === id) return;
    const fork = this.forkPoint(id);
    if (!fork) throw new CoreNodeError(`consensus chose head ${id.slice(0, 16)}, which does not descend from the applied chain`);
    const { at, path } = fork;
    if (at < head.num) {
      // Pending blocks above the fork point are dropped; committed ones are taken back.
      this.keepPending(at);
      if (at < this.chain.head!.num) await this.chain.revertTo(at);
      for (let n = head.num; n > at; n--) {
        this.applied.delete(n);
        this.undo.delete(n);
      }
      // Held transactions of the taken-back blocks go back to waiting.
      for (const h of this.held.values()) if (h.inBlock && h.inBlock.num > at) delete h.inBlock;
      this.refill = true;
      this.log(`fork switch: back to block ${at}, then ${path.length} block${path.length === 1 ? '' : 's'}`);
    }
    for (const k of path) {
      this.pending.push(k);
      this.pendingState ??= new WriteOverlay(this.chain.state.reader);
      for (const [key, value] of k.writes) {
        if (value === undefined) this.pendingState.remove(key);
        else this.pendingState.put(key, value);
      }
      this.applied.set(k.num, toHex(k.v.id));
      this.onApplied(k);
    }
  }

  /** Drops the pending blocks above block `num` (a fork switch), keeping the state at the rest. */
  private keepPending(num: number): void {
    const kept = this.pending.filter((k) => k.num <= num);
    if (kept.length < this.pending.length) this.setPending(kept);
  }

  /** The pending blocks are `blocks`: their state and transaction ids rebuilt. */
  private setPending(blocks: Known[]): void {
    this.pending = [];
    this.pendingState = undefined;
    this.pendingTx.clear();
    for (const k of blocks) {
      this.pending.push(k);
      this.pendingState ??= new WriteOverlay(this.chain.state.reader);
      for (const [key, value] of k.writes) {
        if (value === undefined) this.pendingState.remove(key);
        else this.pendingState.put(key, value);
      }
      for (const id of k.v.bc.transactionIds()) this.pendingTx.add(toHex(id));
    }
  }

  /**
   * After a consensus input: commit the applied blocks, at once unless they are being
   * caught up on (old blocks) and more input waits; those wait for COMMIT_BATCH of them,
   * or COMMIT_WAIT_MS.
   */
  private async settleCommits(): Promise<void> {
    const last = this.pending[this.pending.length - 1];
    if (!last) return;
    if (this.lone) return this.flushLone();
    const now = this.clock.now();
    const lag = now - Number(last.v.bc.header.time / 1000n);
    if (this.waiting === 0 || lag < CATCH_UP_LAG_MS) return this.flush(this.commitReversible);
    this.pendingSince ??= now;
    if (this.pending.length < COMMIT_BATCH && now - this.pendingSince < COMMIT_WAIT_MS) return;
    const before = this.pending.length;
    await this.flush(false);
    // Irreversibility is not keeping up: commit the rest with their undo records too
    // (a chain that is not reversible keeps them in memory until they are irreversible).
    if (this.commitReversible && (this.pending.length === before || this.pending.length >= COMMIT_BATCH)) await this.flush(true);
  }

  /**
   * Commits the pending blocks: the irreversible ones together in one store
   * transaction, then (with `all`, on a reversible chain) the others one by one with
   * their undo records.
   * Their clients hear of them then.
   */
  private async flush(all: boolean): Promise<void> {
    if (this.pending.length === 0) return;
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.num <= this.irreversibleNum) n++;
    const done: Known[] = [];
    if (n > 0) {
      const batch = this.pending.slice(0, n);
      await this.chain.commitIrreversible(batch.map((k) => k.v));
      done.push(...batch);
    }
    if (all && this.commitReversible)
      for (const k of this.pending.slice(n)) {
        this.undo.set(k.num, undoOf(k.writes, this.chain.state.reader));
        await this.chain.commitValidated(k.v);
        done.push(k);
      }
    if (done.length === 0) return;
    this.setPending(this.pending.slice(done.length));
    this.pendingSince = this.pending.length > 0 ? this.clock.now() : undefined;
    for (const k of done) {
      this.onCommitted(k);
      if (this.onCommittedHook) {
        const ids = k.v.bc.transactionIds();
        const traces = k.v.traces;
        // traces[0] is the startBlock transaction's when the block has one beside its transactions.
        const skip = traces.length - ids.length;
        const block: CommittedBlock = { num: k.num, id: k.v.id, transactions: ids.map((id, i) => ({ id, trace: traces[i + skip]! })) };
        try {
          await this.onCommittedHook(block);
        } catch (e) {
          this.log(`block ${k.num}: its platform's onCommitted failed: ${(e as Error).stack ?? String(e)}`);
        }
      }
    }
    this.settleFinal();
  }

  /**
   * A sole producer commits its blocks as they are made (each irreversible at once).
   * One that fails to commit stays pending, applied, with what it holds: the next input
   * commits it (with the blocks made on it since) once the store takes it. A damaged
   * store halts the node.
   */
  private async flushLone(): Promise<void> {
    try {
      await this.flush(false);
      if (this.commitFailure) this.log(`blocks from ${this.commitFailure.num} committed after all`);
      this.commitFailure = undefined;
    } catch (e) {
      if (e instanceof StoreDamagedError) throw e;
      const num = this.pending[0]?.num ?? 0;
      if (this.commitFailure?.num !== num) this.log(`block production failed: block ${num} did not commit (it is committed again with the next): ${(e as Error).message}`);
      this.commitFailure = { num, error: e };
    }
  }

  /** A block joins the applied chain: its held transactions are in it (so no block of ours takes them again). */
  private onApplied(k: Known): void {
    // The block's transaction ids as its run recorded them (no decoding or hashing again).
    const ids = k.v.bc.transactionIds();
    const traces = k.v.traces;
    for (const [i, id] of ids.entries()) {
      const key = toHex(id);
      this.pendingTx.add(key);
      const h = this.held.get(key);
      if (!h) continue;
      // traces[0] is the startBlock transaction's when the block has one beside its transactions.
      const trace = traces[i + (traces.length - ids.length)]!;
      h.inBlock = { num: k.num, trace };
    }
  }

  /** A block is committed: clients waiting for `applied` get their traces; `final` ones wait for irreversibility. */
  private onCommitted(k: Known): void {
    const ids = k.v.bc.transactionIds();
    for (const id of ids) {
      const h = this.held.get(toHex(id));
      if (!h?.inBlock || h.inBlock.num !== k.num || h.waiters.length === 0) continue;
      const trace = h.inBlock.trace;
      for (const w of h.waiters) if (w.waitFor === 'applied') w.resolve(trace);
      h.waiters = h.waiters.filter((x) => x.waitFor !== 'applied');
    }
    // Every block after the genesis block begins with its startBlock transaction: not counted.
    const count = ids.length - (k.num === GENESIS_BLOCK_NUM ? 0 : 1);
    this.log(`block ${k.num} ${toHex(k.v.id).slice(0, 16)} ${count} transaction${count === 1 ? '' : 's'}`);
  }

  /** Held transactions in committed irreversible blocks: their clients get their traces, and they are let go. */
  private settleFinal(): void {
    const upTo = Math.min(this.irreversibleNum, this.chain.head!.num);
    for (const [key, h] of this.held) {
      if (h.inBlock && h.inBlock.num <= upTo) {
        for (const w of h.waiters) w.resolve(h.inBlock.trace);
        this.forget(key);
      }
    }
  }

  private async markIrreversible(b: SignedBlock): Promise<void> {
    const num = b.block.header.blockNum;
    if (num <= this.irreversibleNum) return;
    const id = blockId(b);
    // An irreversible block is on the head's chain (consensus never finalises off it).
    if (this.applied.get(num) !== id && this.appliedHead().id !== id) await this.switchTo(id);
    await this.chain.markIrreversible(num);
    this.irreversibleNum = num;
    this.rootId = id;
    for (const n of [...this.applied.keys()]) if (n < num) this.applied.delete(n);
    for (const n of [...this.undo.keys()]) if (n <= num) this.undo.delete(n);
    for (const [kid, k] of this.known) if (k.num <= num) this.known.delete(kid);
    for (const [bid, built] of this.built) if (built.block.header.blockNum <= num) this.built.delete(bid);
    for (const bid of this.invalid.keys()) if (numFromId(bid) <= num) this.invalid.delete(bid);
    this.settleFinal();
    this.expireHeld();
  }

  // ------------------------------------------------------------- transactions

  /**
   * Whether the next block comes eagerBlockMs after the last rather than on the interval:
   * transactions wait, under a set of several (a sole producer's open block takes them as
   * they come, and is made on the interval).
   */
  private hurried(): boolean {
    return this.eagerBlockMs !== undefined && !this.lone && this.waitingTransactions();
  }

  /** Whether a transaction this node holds is in no block yet (the leader's next block would take it). */
  private waitingTransactions(): boolean {
    for (const h of this.held.values()) if (!h.inBlock) return true;
    return false;
  }

  /** When relayAgain next looks (clock ms). */
  private relaySweepAt = 0;

  /** Relays again what was pushed to this node and still waits in no block RELAY_AGAIN_INTERVALS after it was last relayed. */
  private relayAgain(now: number): void {
    if (!this.relay || now < this.relaySweepAt) return;
    const after = RELAY_AGAIN_INTERVALS * this.intervalMs;
    this.relaySweepAt = now + this.intervalMs;
    let sent = 0;
    for (const h of this.held.values()) {
      if (h.relayedAt === undefined || h.inBlock || now - h.relayedAt < after || (h.relayedAgain ?? 0) >= RELAY_AGAIN_LIMIT) continue;
      h.relayedAt = now;
      h.relayedAgain = (h.relayedAgain ?? 0) + 1;
      this.relay(packSignedTransaction(h.t.signed));
      if (++sent >= RELAY_AGAIN_MAX) break;
    }
  }

  private forget(key: string): void {
    this.held.delete(key);
  }

  private expireHeld(): void {
    const head = this.chain.head;
    if (!head) return;
    const nowSec = head.time / ONE_SECOND_US;
    for (const [key, h] of this.held) {
      if (!h.inBlock && h.t.transaction.tapos.expiration <= nowSec && !this.openBlock?.ob.has(key)) {
        for (const w of h.waiters) w.reject(new TransactionRejectedError('expired', 'transaction has expired'));
        this.held.delete(key);
      }
    }
    if (this.order.length > 2 * this.held.size + 1024) this.order = this.order.filter((k) => this.held.has(k));
  }

  /** This node's producer account. */
  get producer(): bigint {
    return accountNumber(this.name);
  }

  /**
   * A sole producer's "make the next block now" (its open block, or an empty one), for
   * tests and a stop; resolves with the block once it is committed, rejects with why it
   * was not. Under multi-producer consensus blocks come when consensus makes this node
   * the leader: CoreNodeError.
   */
  async produceBlock(): Promise<{ num: number; id: Uint8Array; block: SignedBlock }> {
    if (!this.lone) throw new CoreNodeError('under multi-producer consensus, blocks are produced when consensus makes this node the leader');
    const before = this.appliedHead().num;
    this.enqueue(() => {
      // Not leading yet: the first tick elects it (a sole producer wins at once) and it produces then.
      this.consensus.produceAtNextTick();
      this.consensus.tick(this.clock.now());
    });
    await this.queue;
    if (this.halted) throw new ChainHaltError(`the node halted: ${this.halted}`);
    const head = this.chain.head!;
    if (this.commitFailure) throw this.commitFailure.error;
    if (head.num <= before) throw new CoreNodeError(`no block was produced on block ${before}`);
    const block = await this.chain.blockByNum(head.num);
    if (!block) throw new CoreNodeError(`block ${head.num} is not in the block log`);
    return { num: head.num, id: head.id, block };
  }

  get pendingTransactions(): number {
    return this.held.size;
  }

  /**
   * Takes a SignedTransaction and resolves with its trace once a block holding it is
   * on this node's head (`applied`) or irreversible (`final`). Refused, with
   * TransactionRejectedError: malformed, a duplicate, bad TaPoS, a failing proof, an
   * action that fails, too many held.
   */
  async submit(input: Uint8Array | OpenedTransaction, options: { waitFor: WaitFor } = { waitFor: 'final' }): Promise<TransactionTrace> {
    let settle!: Waiter;
    const settled = new Promise<TransactionTrace>((resolve, reject) => (settle = { resolve, reject, waitFor: options.waitFor }));
    await this.admit(input, false, settle);
    return settled;
  }

  /**
   * Holds a transaction another producer relayed (it ran there when it was pushed), so
   * this node puts it in its blocks when it leads. Resolves once it is held; refused
   * with TransactionRejectedError as `submit` refuses (a failing proof, a duplicate, …).
   */
  async hold(input: Uint8Array | OpenedTransaction): Promise<void> {
    await this.admit(input, true, undefined);
  }

  /** The checks of a push, then the transaction held (with its client's waiter, if any). */
  private async admit(input: Uint8Array | OpenedTransaction, relayed: boolean, waiter: Waiter | undefined): Promise<void> {
    if (this.halted) throw new ChainHaltError(`the node halted: ${this.halted}`);
    const t = input instanceof Uint8Array ? openTransaction(input) : input;
    if (t.signed.subjectiveData != null) throw new TransactionRejectedError('malformed', 'Subjective data should be set by the block producer');
    const head = this.chain.head!;
    const key = toHex(t.id);
    if (this.held.has(key) || this.pendingTx.has(key) || this.chain.isRecentlyIncluded(t.id)) throw new TransactionRejectedError('duplicate', 'duplicate transaction', undefined, { details: { id: key } });
    if (this.openBlock?.ob.has(key)) throw new TransactionRejectedError('duplicate', 'duplicate transaction', undefined, { details: { id: key } });
    // Any block it can go in is at least one second after the head.
    checkTapos(t, (head.time + ONE_SECOND_US) / ONE_SECOND_US);
    if (this.held.size >= this.maxHeld) throw new TransactionRejectedError('full', 'too many pending transactions');
    // Held (with its waiter) before the checks that wait, so a block that takes it meanwhile finds it.
    const h: Held = { t, key, waiters: waiter ? [waiter] : [] };
    this.held.set(key, h);
    try {
      const [proofError] = await this.chain.verifyTransactions([t]);
      if (proofError !== undefined) throw new TransactionRejectedError('signature', proofError);
      h.verified = true;
      // A dry run on the head, so a transaction that cannot run is refused to its client
      // now rather than held (the head now: it moved while the proofs were checked). A
      // relayed one was run by the producer it was pushed to; a block leaves it out if it fails.
      // A sole producer runs it into its open block instead, once: that is its run.
      const ob = relayed ? undefined : this.currentOpenBlock();
      if (ob && ob.included.length < MAX_BLOCK_TRANSACTIONS) {
        checkTapos(t, ob.time / ONE_SECOND_US);
        const { error } = ob.push(t, key);
        if (error) throw error;
        this.order.push(key);
        this.answerApplied(h, ob);
        return;
      }
      if (!relayed) {
        const trace = this.chain.tryTransaction(t, accountNumber(this.name));
        // The dry run sees the committed state only. With applied blocks above it, or an
        // open block being finished, a failure may be one of theirs fixes (an account
        // created there): it is held, and the block it goes into decides.
        const ahead = this.pending.length > 0 || this.stepping || this.openBlock !== undefined;
        if (trace.error != null && !ahead) throw new TransactionRejectedError('failed', trace.error, trace);
      }
      // Held outside the open block: a sole producer's next one takes it.
      this.refill = true;
    } catch (e) {
      this.held.delete(key);
      if (e instanceof StoreDamagedError) this.fail(e);
      throw e;
    }
    this.order.push(key);
    if (!relayed && this.relay) {
      h.relayedAt = this.clock.now();
      this.relay(packSignedTransaction(t.signed));
    }
  }

  /** The node's view for `/native/status`. */
  async status(): Promise<NodeStatus> {
    return this.statusNow();
  }

  /** The last applied block: above the committed head on a chain that is not reversible (its blocks wait in memory until irreversible). */
  get appliedTip(): { num: number; id: string } {
    return this.appliedHead();
  }

  /** status(), at once. */
  statusNow(): NodeStatus {
    const status = this.chain.status;
    const head = status?.head;
    const current = status?.consensus.current;
    const consensusIrr = this.consensus.irreversible;
    // A sole producer's committed blocks are irreversible (consensus has the one being committed too).
    const irr = this.lone && head ? { num: head.header.blockNum, id: hexId(head.blockId) } : { num: consensusIrr.num, id: consensusIrr.id.toUpperCase() };
    return {
      chainId: head ? hexId(status.chainId) : null,
      head: head ? { num: head.header.blockNum, id: hexId(head.blockId), time: new Date(Number(head.header.time / 1000n)).toISOString() } : null,
      irreversible: irr,
      consensus: current ? ('CftConsensus' in current.data ? 'cft' : 'bft') : null,
      producers: current ? producersOf(current).map((p) => accountName(p.name)) : [],
      nextProducers: status?.consensus.next ? producersOf(status.consensus.next.consensus).map((p) => accountName(p.name)) : null,
      producer: this.name,
      producing: this.running && this.consensus.role !== 'nonvoting',
      halted: this.halted,
      pendingTransactions: this.held.size,
    };
  }
}

/**
 * The persisted state to restore on `root`: a hard state of a term below the root
 * block's (written before the node applied blocks of later terms) is left out, and
 * consensus resumes at the root's term as a node without one does.
 */
function restoreAt(restore: PersistedState, root: SignedBlock): PersistedState {
  const hard = restore.hardState;
  return hard && hard.term < root.block.header.term ? { ...restore, hardState: undefined } : restore;
}

const packedCache = new WeakMap<SignedBlock, Uint8Array>();

/**
 * The key a block that does not run is remembered by: its id and its signature. A
 * block's id does not cover its signature, so a copy with a forged signature must not
 * get the genuine block (same id) refused from honest peers; the id leads the key
 * (pruning reads the block number from it).
 */
function invalidKey(id: string, b: SignedBlock): string {
  return `${id}/${toHex(b.signature)}`;
}

/** A BlockMessage as received, decoded once (when its signature check begins, or at its turn). */
interface Arrived {
  bytes: Uint8Array;
  decoded?: { m: WireMessage | undefined; signed: SignedBlock | undefined };
}

function decodeArrived(a: Arrived): { m: WireMessage | undefined; signed: SignedBlock | undefined } {
  if (a.decoded) return a.decoded;
  let m: WireMessage | undefined;
  let signed: SignedBlock | undefined;
  try {
    m = decodeMessage(a.bytes);
  } catch {
    m = undefined;
  }
  if (m?.kind === 'BlockMessage') {
    try {
      signed = unpackSignedBlock(m.value.block);
      packedCache.set(signed, m.value.block);
    } catch {
      signed = undefined; // consensus drops it with the reason
    }
  }
  a.decoded = { m, signed };
  return a.decoded;
}

/** Bytes of a lower-case hex string (a block id). */
function fromHexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A block's packed bytes (kept from the wire where it came from there). */
function packedOf(b: SignedBlock): Uint8Array {
  let p = packedCache.get(b);
  if (!p) {
    p = packSignedBlock(b);
    packedCache.set(b, p);
  }
  return p;
}

/** The checks psibase's Transact makes of a transaction's TaPoS, against a block time (seconds). */
function checkTapos(t: OpenedTransaction, blockSeconds: bigint): void {
  const { tapos } = t.transaction;
  if (tapos.flags & ~TAPOS_VALID_FLAGS) throw new TransactionRejectedError('tapos', 'unsupported flags on transaction');
  if (tapos.expiration <= blockSeconds) throw new TransactionRejectedError('expired', 'transaction has expired');
  if (tapos.expiration >= blockSeconds + MAX_TRX_LIFETIME_SEC) throw new TransactionRejectedError('tapos', 'transaction was submitted too early');
}

/** Whether `data` is a block's signing data: 00 ce a8 'B' and a 32-byte id. */
function isBlockSigningData(data: Uint8Array): boolean {
  return data.length === 36 && data[0] === 0 && data[1] === 0xce && data[2] === 0xa8 && data[3] === 0x42;
}

/** Replaces, in place, each stand-in's random bytes found in `bytes` with its real signature. Whether any was found. */
export function patchStandIns(bytes: Uint8Array, fills: readonly { random: Uint8Array; real: Uint8Array }[]): boolean {
  let found = false;
  for (const { random, real } of fills) {
    const first = random[0]!;
    const last = bytes.length - random.length;
    for (let i = bytes.indexOf(first); i !== -1 && i <= last; i = bytes.indexOf(first, i + 1)) {
      let j = 1;
      while (j < random.length && bytes[i + j] === random[j]) j++;
      if (j === random.length) {
        bytes.set(real, i);
        found = true;
      }
    }
  }
  return found;
}

/** The packed SignedBlock a BlockMessage carries. */
function blockBytes(m: WireMessage): Uint8Array {
  return (m as Extract<WireMessage, { kind: 'BlockMessage' }>).value.block;
}

/**
 * One producer's consensus state machine, CFT and BFT in one object because joint
 * consensus moves a running chain between them (joint-consensus.md).
 *
 * etcd-raft style: `step(from, message)` and `tick(now)` change state; `ready()` hands
 * out what to persist, send and apply. Persist `hardState` and `blocks` before sending
 * `messages`. No clocks, timers, sockets or storage in here.
 *
 * It speaks psibase's peer protocol: messages are src/net/wire's (`stepBytes` takes
 * them as bytes, `encodeMessage` gives an outbound one's bytes), blocks are psibase's
 * SignedBlocks with psibase's ids, signed messages are signed as psibase signs them,
 * and a BFT block carries the commit certificate of its `commitNum` as psibase's
 * packed BlockConfirm in `auxConsensusData`. As in psibase (bft.hpp), a block carries
 * no view-change certificate: each producer prepares a block of a term only once the
 * view changes it holds make the term ready (the leader's names a block no worse than
 * those of a quorum) and the block descends from the block the leader's names.
 */
import { ConsensusError } from '../errors.ts';
import { decodeMessage, unpackBlockConfirm, packBlockConfirm, type ProducerConfirm, type SignedMessageName, type WireMessage, type ViewChangeMessage as WireViewChange } from '../net/wire/messages.ts';
import { accountName, accountNumber } from '../protocol/names.ts';
import { unpackSignedBlock, type Consensus } from '../protocol/types.ts';
import { blockId, blockSigningData, claimIn, hexOf, idBytes, NULL_ID, numFromId, producerSetOf, sameClaim, usOf } from './block.ts';
import {
  BLOCK_INTERVAL_MS,
  ELECTION_TIMEOUT_MS,
  MAX_PENDING,
  MAX_VERIFIED,
  MAX_VIEW_CHANGE_TIMEOUT_MS,
  RETAINED_IRREVERSIBLE_BLOCKS,
  SYNC_BATCH,
  CATCH_UP_HELLO_BLOCKS,
  VIEW_CHANGE_BACKOFF,
  VIEW_CHANGE_RESEND_MS,
  VIEW_CHANGE_TIMEOUT_MS,
} from './constants.ts';
import { ancestorAt, descendsFrom, isBetter, survivors, type BlockEntry } from './fork-db.ts';
import { blockMessage, confirmsOf, helloMessage, notePacked, preimageOf, signed, signVote, voteMessage, votePreimage } from './messages.ts';
import {
  bftLeader,
  hasQuorum,
  hasQuorumOf,
  isProducer,
  mayPrepare,
  mayStandForElection,
  prepareSets,
  QuorumTally,
  sets,
  settle,
  sameJoint,
  threshold,
  weakThreshold,
  type QuorumOverride,
} from './producers.ts';
import type {
  BlockHeader,
  BlockId,
  Claim,
  ConsensusComponents,
  ConsensusMode,
  Dropped,
  Evidence,
  HardState,
  JointConsensus,
  Outbound,
  PersistedState,
  PreparedCertificate,
  ProducerName,
  ProducerSet,
  Ready,
  SignedBlock,
  Vote,
} from './types.ts';

export interface ConsensusInit {
  readonly name: ProducerName;
  /** The trusted root block: irreversible at once. Its `newConsensus` (or `producers`) is the producer set in force after it. */
  readonly genesis: SignedBlock;
  /** The producers in force after `genesis` when its header carries no `newConsensus`. */
  readonly producers?: Consensus | undefined;
  readonly now: number;
  readonly restore?: PersistedState | undefined;
  readonly blockIntervalMs?: number;
  readonly electionTimeoutMs?: number;
  readonly viewChangeTimeoutMs?: number;
  /** Irreversible blocks kept in memory (default RETAINED_IRREVERSIBLE_BLOCKS). */
  readonly retainBlocks?: number;
  /** Test-only: a deliberately wrong quorum size, to prove the simulator catches unsafe rules. */
  readonly unsafeQuorum?: QuorumOverride;
}

const ZERO32 = new Uint8Array(32);

/**
 * A genesis block naming the initial producers in `newConsensus` (tests, the
 * simulator, a devnet). README.md: the genesis block is irreversible at once, so it
 * is trusted rather than verified. `timeUs`: psibase block time, µs.
 */
export function makeGenesis(consensus: Consensus, timeUs = 0n): SignedBlock {
  const first = producerSetOf(consensus).producers[0];
  return {
    block: {
      header: {
        previous: ZERO32,
        blockNum: 1,
        time: timeUs,
        producer: first === undefined ? 0n : accountNumber(first),
        term: 0,
        commitNum: 0,
        consensusState: ZERO32,
        trxMerkleRoot: ZERO32,
        eventMerkleRoot: ZERO32,
        newConsensus: consensus,
        authCode: null,
      },
      transactions: [],
    },
    signature: new Uint8Array(0),
    auxConsensusData: null,
  };
}

/** A view change as the machine keeps it: psibase's ViewChangeMessage, its sender by name, and the signed message to pass on. */
interface ViewChange {
  readonly term: number;
  readonly producer: ProducerName;
  readonly signer: Claim;
  /** The best prepared block it names (NULL_ID: none) and that block's term. */
  readonly namedId: BlockId;
  readonly namedTerm: number;
  readonly prepares: readonly ProducerConfirm[];
  readonly nextPrepares: readonly ProducerConfirm[] | null;
  readonly wire: WireMessage;
}

type Role = 'nonvoting' | 'follower' | 'candidate' | 'leader';
/**
 * The block a view change names: valid (with its prepares), still to fetch, or
 * invalid. A named block below our irreversible one that we no longer hold counts as
 * our irreversible block (psibase `get_subtree_from_leader`).
 */
type NamedCheck = { ok: true; entry: BlockEntry; cert: PreparedCertificate | undefined } | { ok: false; missing?: BlockId; reason: string };

interface CftConfirm {
  readonly term: number;
  readonly producer: ProducerName;
  readonly blockNum: number;
}
interface CftRequestVote {
  readonly term: number;
  readonly producer: ProducerName;
  readonly lastTerm: number;
  readonly lastNum: number;
}
interface CftVote {
  readonly term: number;
  readonly producer: ProducerName;
  readonly candidate: ProducerName;
  readonly granted: boolean;
}

/** What `ready()` hands out for an empty list: most steps change only one or two of them. */
const NONE: readonly never[] = Object.freeze([]);

export class ConsensusNode {
  readonly name: ProducerName;
  private readonly c: ConsensusComponents;
  private readonly unsafeQuorum: QuorumOverride | undefined;
  private readonly blockIntervalMs: number;
  private readonly electionTimeoutMs: number;
  private readonly viewChangeTimeoutMs: number;

  private readonly blocks = new Map<BlockId, BlockEntry>();
  private readonly retainBlocks: number;
  /** Tree size at which to prune next: twice what the last pruning kept, so pruning costs O(1) a block. */
  private pruneAt: number;
  private readonly orphans = new Map<BlockId, SignedBlock[]>();
  private pendingCount = 0;
  private readonly requested = new Map<string, number>();
  /** The producer sets last seen in force (checkMode): a change under BFT resyncs the term. */
  private syncedJoint: JointConsensus | undefined;
  /**
   * Per peer, the highest block of its sync answers that we hold, and the block our last
   * hello to it named: the next hello names that block while it moves, so a long fork
   * comes in batch after batch (see requestBlock).
   */
  private readonly syncTips = new Map<string, { tip: BlockEntry; named: BlockId | undefined }>();
  /**
   * Per peer, the last hello sent to it: our head then, when, and whether a catch-up
   * hello was held back since (see askForMore; tick sends it two block intervals on).
   */
  private readonly catchUp = new Map<string, { head: BlockEntry; at: number; held: boolean }>();
  private _head: BlockEntry;
  private _irreversible: BlockEntry;
  private irreversibleProof: Uint8Array | undefined;
  private now: number;
  private mode: ConsensusMode;

  private _term = 0;
  private votedFor: ProducerName | undefined;
  private _role: Role = 'nonvoting';
  private electionDeadline = Infinity;
  private readonly votes = new Set<ProducerName>();
  private readonly matchIndex = new Map<ProducerName, number>();
  private lastProduced: BlockEntry | undefined;
  private nextBlockAt = Infinity;

  private lastPrepared: { term: number; id: BlockId } | undefined;
  private lastCommitted: { term: number; id: BlockId } | undefined;
  private bestPrepared: PreparedCertificate | undefined;
  /** psibase ForkDb's subtree root: the head descends from it (see setRoot). */
  private subtree: BlockEntry | undefined;
  private readonly prepares = new Map<BlockId, QuorumTally<Vote>>();
  private readonly commits = new Map<BlockId, QuorumTally<Vote>>();
  /**
   * Votes for blocks not here yet. psibase (bft.hpp `recv(SignedMessage<PrepareMessage>)`)
   * ignores them and relies on its peers re-sending a block's votes right after the block
   * on the same ordered connection (`post_send_block`). psiweb's links do not order one
   * peer's broadcasts against another's, so it holds them (bounded) and counts them when
   * the block arrives: the decision is the one psibase makes once it has both.
   */
  private readonly earlyVotes = new Map<BlockId, Vote[]>();
  private readonly viewChanges = new Map<ProducerName, ViewChange>();
  /** The highest term each producer is known to be in: from view changes, and from its votes (psibase `do_view_change`). */
  private readonly viewTerms = new Map<ProducerName, number>();
  private viewActive = false;
  private vcTimeout: number;
  private vcDeadline = Infinity;
  private vcResendAt = Infinity;
  /** The highest term whose view changes were asked of a peer (RequestViewMessage). */
  private viewRequestedFor = 0;

  private readonly seenBlocks = new Map<string, SignedBlock>();
  /** Per producer, block number → the prepares and commits it signed at that height (with the block's term). */
  private readonly seenVotes = new Map<ProducerName, Map<number, { vote: Vote; term: number }[]>>();
  private seenVoteCount = 0;
  private readonly _evidence: Evidence[] = [];
  /** Commit signatures already checked (hex → what they cover): a commit comes back in the BlockConfirm of a later block. */
  private readonly verified = new Map<string, string>();

  private out: Outbound[] = [];
  private newBlocks: SignedBlock[] = [];
  private newIrreversible: SignedBlock[] = [];
  private dropped: Dropped[] = [];
  private newEvidence: Evidence[] = [];
  private hardDirty = false;
  private headChanged = false;

  constructor(components: ConsensusComponents, init: ConsensusInit) {
    this.c = components;
    this.name = init.name;
    this.unsafeQuorum = init.unsafeQuorum;
    this.blockIntervalMs = init.blockIntervalMs ?? BLOCK_INTERVAL_MS;
    this.electionTimeoutMs = init.electionTimeoutMs ?? ELECTION_TIMEOUT_MS;
    this.viewChangeTimeoutMs = init.viewChangeTimeoutMs ?? VIEW_CHANGE_TIMEOUT_MS;
    this.vcTimeout = this.viewChangeTimeoutMs;
    this.now = init.now;
    this.retainBlocks = Math.max(1, init.retainBlocks ?? RETAINED_IRREVERSIBLE_BLOCKS);
    this.pruneAt = 2 * this.retainBlocks;

    const g = init.genesis;
    const initial = g.block.header.newConsensus ?? init.producers;
    if (!initial) throw new ConsensusError('genesis must carry the initial producer set (or pass init.producers)');
    const joint: JointConsensus = { current: producerSetOf(initial) };
    const genesis = this.entryOf(g, blockId(g), undefined, joint, joint);
    this.blocks.set(genesis.id, genesis);
    this._head = genesis;
    this._irreversible = genesis;

    const restore = init.restore;
    if (restore) {
      for (const b of restore.blocks) this.insertTrusted(b);
      const hs = restore.hardState;
      if (hs) {
        this._term = hs.term;
        this.votedFor = hs.votedFor;
        this._irreversible = this.blocks.get(hs.irreversible) ?? genesis;
        this.irreversibleProof = hs.irreversibleProof;
        this.lastPrepared = hs.lastPrepared;
        this.lastCommitted = hs.lastCommitted;
        this.bestPrepared = hs.bestPrepared;
      }
      this.recomputeHead();
      this.headChanged = false;
    }
    // A node started without its consensus state (a Node peer restarts from its last
    // irreversible block) resumes at the term of the block it starts from: a block of an
    // earlier term could never follow it.
    const resumedBehind = !restore?.hardState && this._head.term > this._term;
    if (resumedBehind) this._term = this._head.term;
    this.mode = this.activeJoint().current.mode;
    this.syncedJoint = this.activeJoint();
    this.enterMode(true);
    // Under BFT it opens a fresh term at once: it may have voted in that term before it
    // stopped and no longer knows for what (psibase persists this; the Node peer does not).
    if (resumedBehind && this.mode === 'bft' && isProducer(this.activeJoint(), this.name)) this.startViewChange(this._term + 1, false);
  }

  // ------------------------------------------------------------ inspection

  get term(): number {
    return this._term;
  }
  get role(): Role {
    return this._role;
  }
  /** Who leads the current term as this node sees it: BFT's producer by rotation; under CFT this node when it leads, else not known here. */
  get leader(): ProducerName | undefined {
    if (this.mode === 'bft') return bftLeader(this.activeJoint(), this._term);
    return this._role === 'leader' ? this.name : undefined;
  }

  get consensusMode(): ConsensusMode {
    return this.mode;
  }
  get head(): BlockRef {
    return refOf(this._head);
  }
  get irreversible(): BlockRef {
    return refOf(this._irreversible);
  }
  /** Equivocation seen so far: two signed blocks or votes of one producer that conflict. */
  get evidence(): readonly Evidence[] {
    return this._evidence;
  }
  /** The joint consensus that governs the next block on the head. */
  activeJoint(): JointConsensus {
    return this._head.state;
  }
  idOf(b: SignedBlock): BlockId {
    return blockId(b);
  }
  getBlock(id: BlockId): SignedBlock | undefined {
    return this.blocks.get(id)?.block;
  }
  /** Blocks held in the block tree (bounded by pruning). */
  get blockCount(): number {
    return this.blocks.size;
  }

  /**
   * A connection to `peer` opened (or reopened after a partition or restart). Tell the
   * peer our head: a peer that is behind finds the block's parent unknown and asks for
   * what follows its own head, which nothing else would send it when no leader is
   * broadcasting to it. In BFT also send the view changes we hold, as psibase does
   * on connect (`send_all_view_changes`).
   */
  connected(peer: string): void {
    // Our head, so a peer behind us asks for what leads to it: also when it is the root
    // we started from (a restarted node; only the chain's genesis, which every peer
    // has, is not sent).
    if (this._head.parent || this._head.block.block.header.previous.some((b) => b !== 0)) this.send(peer, blockMessage(this._head.block));
    if (this.mode === 'bft') this.sendViewChanges(peer);
  }

  // ------------------------------------------------------------ driving

  hasReady(): boolean {
    return (
      this.hardDirty ||
      this.headChanged ||
      this.out.length > 0 ||
      this.newBlocks.length > 0 ||
      this.newIrreversible.length > 0 ||
      this.dropped.length > 0 ||
      this.newEvidence.length > 0
    );
  }

  ready(): Ready {
    const r: Ready = {
      hardState: this.hardDirty ? this.hardState() : undefined,
      blocks: this.newBlocks.length > 0 ? this.newBlocks : NONE,
      messages: this.out.length > 0 ? this.out : NONE,
      irreversible: this.newIrreversible.length > 0 ? this.newIrreversible : NONE,
      head: this.headChanged ? this._head.id : undefined,
      dropped: this.dropped.length > 0 ? this.dropped : NONE,
      evidence: this.newEvidence.length > 0 ? this.newEvidence : NONE,
    };
    this.hardDirty = false;
    this.headChanged = false;
    if (this.out.length > 0) this.out = [];
    if (this.newBlocks.length > 0) this.newBlocks = [];
    if (this.newIrreversible.length > 0) this.newIrreversible = [];
    if (this.dropped.length > 0) this.dropped = [];
    if (this.newEvidence.length > 0) this.newEvidence = [];
    return r;
  }

  /**
   * Handles one message from peer `from`, as psibase's wire codec gives it (type byte +
   * fracpack, decoded): a decode failure is a `dropped` entry, never a throw, and
   * changes nothing.
   */
  stepBytes(from: string, bytes: Uint8Array): void {
    let m: WireMessage;
    try {
      m = decodeMessage(bytes);
    } catch (e) {
      return this.drop(from, `undecodable message: ${(e as Error).message}`);
    }
    this.step(from, m);
  }

  /**
   * A BlockMessage whose block the caller already decoded: `b` is unpackSignedBlock(packed)
   * (a node core decodes a received block once, for the executor and for this).
   */
  stepBlock(from: string, b: SignedBlock, packed: Uint8Array): void {
    notePacked(b, packed);
    this.onBlock(from, b);
    this.checkMode();
  }

  /**
   * The signature `step` checks first on a signed consensus message — its producer, the
   * signed preimage, the signature and the claim consensus holds for that producer — so
   * a platform can begin checking it before the message's turn (CoreNode `preverify`);
   * undefined for any other message. The check in `step` is unchanged.
   */
  signedCheckOf(m: WireMessage): { producer: ProducerName; data: Uint8Array; signature: Uint8Array; claim: Claim | undefined } | undefined {
    let name: SignedMessageName;
    let producer: bigint;
    switch (m.kind) {
      case 'SignedMessage<ConfirmMessage>':
        [name, producer] = ['ConfirmMessage', m.message.follower_id];
        break;
      case 'SignedMessage<RequestVoteRequest>':
        [name, producer] = ['RequestVoteRequest', m.message.candidate_id];
        break;
      case 'SignedMessage<RequestVoteResponse>':
        [name, producer] = ['RequestVoteResponse', m.message.voter_id];
        break;
      case 'SignedMessage<PrepareMessage>':
        [name, producer] = ['PrepareMessage', m.message.producer];
        break;
      case 'SignedMessage<CommitMessage>':
        [name, producer] = ['CommitMessage', m.message.producer];
        break;
      case 'SignedMessage<ViewChangeMessage>':
        [name, producer] = ['ViewChangeMessage', m.message.producer];
        break;
      default:
        return undefined;
    }
    const p = accountName(producer);
    return { producer: p, data: preimageOf(name, m.value.data), signature: m.value.signature, claim: this.ownClaimOf(p) };
  }

  /** Handles one decoded message from peer `from`. Bad input is dropped with a reason, never thrown. */
  step(from: string, m: WireMessage): void {
    if (typeof m !== 'object' || m === null) return this.drop(from, 'not a message');
    switch (m.kind) {
      case 'BlockMessage': {
        let b: SignedBlock;
        try {
          b = unpackSignedBlock(m.value.block);
        } catch (e) {
          return this.drop(from, `undecodable block: ${(e as Error).message}`);
        }
        notePacked(b, m.value.block);
        this.onBlock(from, b);
        break;
      }
      case 'HelloRequest':
        this.onHello(from, hexOf(m.value.xid._id), m.value.xid._num);
        break;
      case 'RequestViewMessage':
        if (this.mode === 'bft') this.sendViewChanges(from);
        break;
      case 'SignedMessage<ConfirmMessage>': {
        const x = m.message;
        const c: CftConfirm = { term: x.term, producer: accountName(x.follower_id), blockNum: x.head_num };
        if (!this.verifySigned('ConfirmMessage', m.value, c.producer, x.signer)) return this.drop(from, `bad signature on confirm from ${c.producer}`);
        this.onConfirm(from, c);
        break;
      }
      case 'SignedMessage<RequestVoteRequest>': {
        const x = m.message;
        const r: CftRequestVote = { term: x.term, producer: accountName(x.candidate_id), lastTerm: x.last_log_term, lastNum: x.last_log_index };
        if (!this.verifySigned('RequestVoteRequest', m.value, r.producer, x.signer)) return this.drop(from, `bad signature on requestVote from ${r.producer}`);
        this.onRequestVote(from, r);
        break;
      }
      case 'SignedMessage<RequestVoteResponse>': {
        const x = m.message;
        const v: CftVote = { term: x.term, producer: accountName(x.voter_id), candidate: accountName(x.candidate_id), granted: x.vote_granted };
        if (!this.verifySigned('RequestVoteResponse', m.value, v.producer, x.signer)) return this.drop(from, `bad signature on vote from ${v.producer}`);
        this.onVote(from, v);
        break;
      }
      case 'SignedMessage<PrepareMessage>':
      case 'SignedMessage<CommitMessage>': {
        const x = m.message;
        const kind = m.kind === 'SignedMessage<PrepareMessage>' ? 'prepare' : 'commit';
        if (x.block_id.length !== 32) return this.drop(from, `malformed ${kind}`);
        const v: Vote = { kind, blockId: hexOf(x.block_id), producer: accountName(x.producer), signer: x.signer, signature: m.value.signature };
        const name = kind === 'prepare' ? 'PrepareMessage' : 'CommitMessage';
        if (!this.verifySigned(name, m.value, v.producer, undefined)) return this.drop(from, `bad signature on ${kind} from ${v.producer}`);
        if (kind === 'commit') this.rememberVerified(v);
        this.onBftVote(v);
        break;
      }
      case 'SignedMessage<ViewChangeMessage>': {
        const x = m.message;
        const vc = viewChangeOf(x, m);
        if (!this.verifySigned('ViewChangeMessage', m.value, vc.producer, x.signer)) return this.drop(from, `bad signature on viewChange from ${vc.producer}`);
        this.onViewChange(from, vc);
        break;
      }
      default:
        return this.drop(from, `not a consensus message: ${(m as { kind: string }).kind}`);
    }
    this.checkMode();
  }

  /**
   * A CFT leader whose producer set is itself alone makes its next block at the next
   * tick instead of waiting out the block interval (its node is stopping with
   * transactions in its open block, or a test drives production): no one else's timing
   * depends on it. Whether that leader is this node.
   */
  produceAtNextTick(): boolean {
    const joint = this.activeJoint();
    if (this.mode !== 'cft' || this._role !== 'leader' || soleProducer(joint) !== this.name) return false;
    this.nextBlockAt = Math.min(this.nextBlockAt, this.now);
    return true;
  }

  /**
   * A leader with transactions waiting makes its next block once `minGapMs` have passed
   * since its last, rather than a whole block interval (browser producers: a transfer is
   * final in a few hundred ms, not after the next tick of a 1 s clock). Blocks stay on
   * the interval when nothing waits, and while its last block is not yet irreversible.
   * Nothing for a node that is not producing.
   */
  hurry(minGapMs: number): void {
    if (this.nextBlockAt === Infinity) return;
    // One early block at a time: until the last is irreversible, what comes meanwhile waits
    // for it and goes in the next together (a burst makes a few large blocks, not many small ones).
    if (this.lastProduced && this.lastProduced.num > this._irreversible.num) return;
    this.nextBlockAt = Math.min(this.nextBlockAt, this.nextBlockAt - this.blockIntervalMs + Math.max(0, minGapMs));
  }

  tick(now: number): void {
    if (now > this.now) this.now = now;
    if (this.catchUp.size > 0) this.sendHeldHellos();
    if (this.mode === 'cft') this.tickCft();
    else this.tickBft();
    this.checkMode();
  }

  // ------------------------------------------------------------ shared

  private drop(from: string, reason: string): void {
    this.dropped.push({ from, reason });
  }

  private send(to: ProducerName | '*', message: WireMessage): void {
    this.out.push({ to, message });
  }

  /** This node's claim among the producers in force (what it signs messages with), if it is one. */
  private ownClaim(joint: JointConsensus = this.activeJoint()): Claim | undefined {
    return claimIn(joint.current, this.name) ?? (joint.next ? claimIn(joint.next.set, this.name) : undefined);
  }

  /**
   * psibase routing_base.hpp `verify_signature`: the signature over T's type byte and
   * `data` as received, by the sender's key; and bft.hpp `validate_producer`: the claim
   * it names is the producer's own in the producers in force (when it is one of them).
   */
  private verifySigned(name: SignedMessageName, value: { data: Uint8Array; signature: Uint8Array }, producer: ProducerName, signer: Claim | undefined): boolean {
    if (signer) {
      const expected = this.ownClaimOf(producer);
      if (expected && !sameClaim(expected, signer)) return false;
    }
    return this.c.verifier.verify(producer, preimageOf(name, value.data), value.signature, this.ownClaimOf(producer));
  }

  private ownClaimOf(producer: ProducerName): Claim | undefined {
    const joint = this.activeJoint();
    return claimIn(joint.current, producer) ?? (joint.next ? claimIn(joint.next.set, producer) : undefined);
  }

  private voteKey(v: Vote): string {
    return `${v.kind}|${v.blockId}|${v.producer}`;
  }

  /** Commits come back in the BlockConfirm of a later block, checked by every node: remember each check. */
  private rememberVerified(v: Vote): void {
    // Only a cache: dropping it all at once bounds memory without bookkeeping.
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(hexOf(v.signature), this.voteKey(v));
  }

  private verifyVote(v: Vote): boolean {
    const key = v.kind === 'commit' ? hexOf(v.signature) : undefined;
    if (key !== undefined && this.verified.get(key) === this.voteKey(v)) return true;
    if (!this.c.verifier.verify(v.producer, votePreimage(v), v.signature, this.ownClaimOf(v.producer))) return false;
    if (v.kind === 'commit') this.rememberVerified(v);
    return true;
  }

  private hardState(): HardState {
    return {
      term: this._term,
      votedFor: this.votedFor,
      irreversible: this._irreversible.id,
      lastPrepared: this.lastPrepared,
      lastCommitted: this.lastCommitted,
      bestPrepared: this.bestPrepared,
      irreversibleProof: this.irreversibleProof,
    };
  }

  private quorum(joint: JointConsensus, voters: ReadonlySet<ProducerName>): boolean {
    return hasQuorum(joint, voters, this.unsafeQuorum);
  }

  private entryOf(b: SignedBlock, id: BlockId, parent: BlockEntry | undefined, gov: JointConsensus, state: JointConsensus): BlockEntry {
    const h = b.block.header;
    return {
      id,
      block: b,
      header: h,
      num: h.blockNum,
      term: h.term,
      producer: accountName(h.producer),
      previous: hexOf(h.previous),
      commitNum: h.commitNum,
      parent,
      gov,
      state,
    };
  }

  /**
   * A block's producer is checked against the state its parent left; its votes are
   * governed by that state with the block's own `newConsensus` applied (psibase's
   * BlockHeaderState of the block), so the block that starts joint consensus is already
   * confirmed, prepared and committed by both sets. Joint consensus ends on the first
   * block whose `commitNum` shows that block irreversible, so every node switches at the
   * same block.
   */
  private makeEntry(b: SignedBlock, id: BlockId, parent: BlockEntry): BlockEntry {
    const prev = parent.state;
    const h = b.block.header;
    const gov: JointConsensus = h.newConsensus ? { current: prev.current, next: { set: producerSetOf(h.newConsensus), blockNum: h.blockNum } } : prev;
    return this.entryOf(b, id, parent, gov, settle(gov, h.commitNum));
  }

  private insertTrusted(b: SignedBlock): void {
    const id = blockId(b);
    const parent = this.blocks.get(hexOf(b.block.header.previous));
    if (!parent || this.blocks.has(id)) return;
    this.blocks.set(id, this.makeEntry(b, id, parent));
  }

  private viable(e: BlockEntry): boolean {
    if (!descendsFrom(e, this._irreversible)) return false;
    const sub = this.subtree;
    // A subtree root at or below the irreversible block no longer restricts anything.
    if (!sub || sub.num <= this._irreversible.num || !descendsFrom(sub, this._irreversible)) return true;
    return descendsFrom(e, sub);
  }

  /**
   * psibase `set_root` / ForkDb `set_subtree`: in BFT, only descendants of one block may
   * be the head: the block the current term builds on once the term is ready (the
   * leader's view change, see termRoot), else our best prepared block (a block a quorum
   * prepared cannot be forked out by a block that does not descend from it, bft.md),
   * else the irreversible block. Set on each view change and term change, as psibase
   * does, then the head is chosen again (psibase `switch_fork`), which may move it to a
   * worse block.
   */
  private setRoot(): void {
    if (this.mode !== 'bft') {
      this.subtree = undefined;
    } else {
      let root = this.termRoot();
      if (!root) {
        const bp = this.bestPrepared ? this.blocks.get(this.bestPrepared.blockId) : undefined;
        root = bp && descendsFrom(bp, this._irreversible) ? bp : this._irreversible;
      }
      this.subtree = root;
    }
    this.recomputeHead();
  }

  /**
   * psibase ForkDb `setTerm`: a BFT block of a term later than ours is not a candidate
   * for the head until we are in its term (view change update head).
   */
  private eligible(e: BlockEntry): boolean {
    return e.term <= this._term || e.gov.current.mode !== 'bft';
  }

  private recomputeHead(): void {
    let best = this._irreversible;
    for (const e of this.blocks.values()) {
      if (isBetter(e, best) && this.eligible(e) && this.viable(e)) best = e;
    }
    if (best !== this._head) {
      this._head = best;
      this.headChanged = true;
    }
  }

  /**
   * Ask `from` for blocks we lack (psibase HelloRequest): the peer sends what follows
   * its common ancestor with the block we name, on its best chain. We name our head
   * when what we lack is above it (we are behind), and our irreversible block when it
   * is at or below our head's height (our head is on another fork, which the peer may
   * not know; every honest peer has our irreversible block). One hello per peer and
   * block is sent at most once per two block intervals.
   */
  private requestBlock(from: string, missingNum: number): void {
    let base = missingNum <= this._head.num ? this._irreversible : this._head;
    // psibase's hello walks back to a block both sides know. Here a peer that does not
    // know the block we name answers from our irreversible block, SYNC_BATCH blocks at
    // most; when our head sits on a fork the peer never saw, that answer may hold only
    // blocks we already have. So while the peer's answers reach further along its chain,
    // name the furthest of them: each hello then brings the next batch of its fork.
    const st = this.syncTips.get(from);
    if (st && st.tip.id !== st.named && st.tip.num > this._irreversible.num && this.blocks.get(st.tip.id) === st.tip) {
      base = st.tip;
      st.named = st.tip.id;
    }
    const k = `${from}|${base.id}`;
    const last = this.requested.get(k);
    if (last !== undefined && this.now - last < 2 * this.blockIntervalMs) return;
    if (this.requested.size > MAX_PENDING) this.requested.clear();
    this.requested.set(k, this.now);
    if (!this.catchUp.has(from) && this.catchUp.size >= MAX_PENDING) this.catchUp.clear();
    this.catchUp.set(from, { head: this._head, at: this.now, held: false });
    this.send(from, helloMessage(base.id, base.num, base === this._irreversible));
  }

  /**
   * A peer has `id` (number `num`) and wants what follows: our best chain from our
   * common ancestor with it, up to SYNC_BATCH blocks, oldest first. A block we do not
   * know counts from our chain at its height (at most our irreversible one).
   */
  private onHello(from: string, id: BlockId, num: number): void {
    let common: BlockEntry | undefined;
    const known = this.blocks.get(id);
    if (known) {
      common = known;
      while (common && !descendsFrom(this._head, common)) common = common.parent;
    }
    if (!common) common = ancestorAt(this._head, Math.min(num, this._irreversible.num));
    const floor = common ? common.num : this._irreversible.num;
    const chain: SignedBlock[] = [];
    for (let e: BlockEntry | undefined = this._head; e && e.num > floor; e = e.parent) chain.push(e.block);
    const start = Math.max(0, chain.length - SYNC_BATCH);
    for (let i = chain.length - 1; i >= start; i--) this.send(from, blockMessage(chain[i]!));
  }

  private hold(map: Map<BlockId, SignedBlock[]>, key: BlockId, b: SignedBlock): void {
    if (this.pendingCount >= MAX_PENDING) return;
    const list = map.get(key);
    if (list) {
      if (list.some((x) => x === b || sameBytes(x.signature, b.signature) && blockId(x) === blockId(b))) return;
      list.push(b);
    } else map.set(key, [b]);
    this.pendingCount++;
  }

  private release(map: Map<BlockId, SignedBlock[]>, key: BlockId): SignedBlock[] {
    const list = map.get(key);
    if (!list) return [];
    map.delete(key);
    this.pendingCount -= list.length;
    return list;
  }

  // ------------------------------------------------------------ blocks

  private onBlock(from: string, b: SignedBlock): void {
    const queue: SignedBlock[] = [b];
    const head = this._head;
    while (queue.length > 0) {
      const next = queue.shift()!;
      const id = this.acceptBlock(from, next);
      if (id !== undefined) queue.push(...this.release(this.orphans, id));
    }
    // Catching up: a batch came in and blocks still wait for parents; ask for what follows the new head.
    if (this._head !== head && this.orphans.size > 0) this.askForMore(from);
  }

  /**
   * A catch-up hello to `from` after the head moved: sent when the head is
   * CATCH_UP_HELLO_BLOCKS past the one the last hello to it was sent at (or off its
   * chain), or two block intervals after it; otherwise held back, and sent by tick
   * once those two intervals have passed if blocks still wait for parents then.
   */
  private askForMore(from: string): void {
    const last = this.catchUp.get(from);
    const h = this._head;
    if (last && h.num < last.head.num + CATCH_UP_HELLO_BLOCKS && this.now - last.at < 2 * this.blockIntervalMs && descendsFrom(h, last.head)) {
      last.held = true;
      return;
    }
    this.requestBlock(from, Infinity);
  }

  /** The catch-up hellos held back two block intervals ago, if blocks still wait for parents. */
  private sendHeldHellos(): void {
    for (const [from, last] of this.catchUp) {
      if (!last.held || this.now - last.at < 2 * this.blockIntervalMs) continue;
      last.held = false;
      if (this.orphans.size > 0) this.requestBlock(from, Infinity);
    }
  }

  /** Validates and inserts a block; returns its id when it was newly accepted. */
  private acceptBlock(from: string, b: SignedBlock): BlockId | undefined {
    const h = b.block.header;
    const id = blockId(b);
    const known = this.blocks.get(id);
    if (known) {
      this.noteSyncTip(from, known);
      return undefined;
    }
    if (h.blockNum <= this._irreversible.num) return undefined;
    const previous = hexOf(h.previous);
    const parent = this.blocks.get(previous);
    if (!parent) {
      this.hold(this.orphans, previous, b);
      this.requestBlock(from, h.blockNum - 1);
      return undefined;
    }
    const producer = accountName(h.producer);
    if (!this.c.verifier.verify(producer, blockSigningData(id), b.signature)) {
      this.drop(from, `bad block signature from ${producer}`);
      return undefined;
    }
    let entry: BlockEntry;
    try {
      entry = this.makeEntry(b, id, parent);
    } catch (e) {
      this.drop(from, `invalid block ${h.blockNum} by ${producer}: ${(e as Error).message}`);
      return undefined;
    }
    const bad = this.validateBlock(entry);
    if (bad !== undefined) {
      this.drop(from, `invalid block ${h.blockNum} by ${producer}: ${bad}`);
      return undefined;
    }
    this.blocks.set(id, entry);
    this.newBlocks.push(b);
    this.noteBlockEquivocation(entry);
    this.noteSyncTip(from, entry);

    if (entry.gov.current.mode === 'cft') this.onCftBlock(entry);
    if (this.eligible(entry) && this.viable(entry) && isBetter(entry, this._head)) {
      this._head = entry;
      this.headChanged = true;
      this.onHeadChanged();
    }
    if (entry.gov.current.mode === 'bft') this.onBftBlock(from, entry);
    this.applyCommitNum(entry);
    return id;
  }

  private noteSyncTip(from: string, e: BlockEntry): void {
    if (from === this.name) return;
    const st = this.syncTips.get(from);
    if (!st) this.syncTips.set(from, { tip: e, named: undefined });
    else if (e.num > st.tip.num || this.blocks.get(st.tip.id) !== st.tip) st.tip = e;
  }

  /** Undefined when valid, else the reason. */
  private validateBlock(e: BlockEntry): string | undefined {
    const h = e.header;
    const parent = e.parent!;
    const ph = parent.header;
    if (e.num !== parent.num + 1) return 'number does not follow its parent';
    if (e.term < parent.term) return 'term lower than its parent';
    if (h.time < ph.time) return 'time before its parent';
    // psibase (BlockContext::callOnBlock): a block that leaves a sole producer (no change
    // pending) is irreversible at once and names itself committed.
    const sole = !h.newConsensus && soleProducer(e.state) === e.producer;
    if (e.commitNum < parent.commitNum || e.commitNum > e.num || (e.commitNum === e.num && !sole)) return 'commitNum out of range';
    // The producer answers to the state its parent left, not to the block's own newConsensus.
    const prev = parent.state;
    if (h.newConsensus && prev.next) return 'joint consensus already active';
    if (h.newConsensus && e.state.next && e.state.next.set.producers.length === 0) return 'empty producer set';
    if (prev.current.mode === 'cft') {
      if (!mayStandForElection(prev, e.producer)) return 'producer may not lead under CFT';
    } else if (bftLeader(prev, e.term) !== e.producer) return 'producer is not the leader of its term';
    // psibase bft.hpp validate_aux_consensus_data: a BlockConfirm for commitNum, checked against the committed block.
    const aux = e.block.auxConsensusData;
    const committed = e.commitNum === e.num ? e : e.commitNum > parent.commitNum || aux ? ancestorAt(parent, e.commitNum) : undefined;
    if (e.commitNum > parent.commitNum && !committed) return 'commitNum names an unknown block';
    // bft.hpp: a sole producer's block needs no irreversibility proof, and only a block
    // BFT governs is checked (on_accept_block_header): the first block after joint
    // consensus ended in a CFT set names its commitNum as a CFT leader does.
    if (committed && committed !== e && e.gov.current.mode === 'bft' && committed.gov.current.mode === 'bft' && committed.num > this._irreversible.num && soleProducer(committed.gov) === undefined) {
      if (!aux) return 'commitNum lacks a commit certificate';
      const bad = this.checkBlockConfirm(committed, aux);
      if (bad) return bad;
    }
    if (!this.c.blocks.validate(e.block)) return 'content rejected by the executor';
    return undefined;
  }

  /** Whether packed BlockConfirm `aux` holds a quorum of commits for `committed`. */
  private checkBlockConfirm(committed: BlockEntry, aux: Uint8Array): string | undefined {
    let conf;
    try {
      conf = unpackBlockConfirm(aux);
    } catch {
      return 'undecodable auxConsensusData';
    }
    if (conf.blockNum !== committed.num) return 'auxConsensusData confirms another block than commitNum';
    const votes = this.votesOf('commit', committed, conf.commits, conf.nextCommits ?? null);
    if (!votes || !this.isCertificate(committed, 'commit', votes)) return 'commitNum lacks a commit certificate';
    return undefined;
  }

  /**
   * The votes a list of ProducerConfirm stands for (psibase `load_prepares`): each
   * producer's message rebuilt with its claim in the set that governs `e` (`confirms`
   * from the current set, `next` from the next one). Undefined if one names a non-member.
   */
  private votesOf(kind: Vote['kind'], e: BlockEntry, confirms: readonly ProducerConfirm[], next: readonly ProducerConfirm[] | null): Vote[] | undefined {
    const out: Vote[] = [];
    const add = (list: readonly ProducerConfirm[], set: ProducerSet | undefined): boolean => {
      for (const c of list) {
        const producer = accountName(c.producer);
        const signer = set ? claimIn(set, producer) : undefined;
        if (!signer) return false;
        if (out.some((v) => v.producer === producer)) continue;
        out.push({ kind, blockId: e.id, producer, signer, signature: c.signature });
      }
      return true;
    };
    if (!add(confirms, e.gov.current)) return undefined;
    if (next && !add(next, e.gov.next?.set)) return undefined;
    return out;
  }

  /**
   * A quorum of distinct, correctly signed votes of one kind for `e`: commits from the
   * producers that govern it, prepares from those of them that prepare (`prepareSets`).
   */
  private isCertificate(e: BlockEntry, kind: Vote['kind'], votes: readonly Vote[]): boolean {
    const voters = new Set<ProducerName>();
    for (const v of votes) {
      if (v.kind !== kind || v.blockId !== e.id) return false;
      if (!this.mayCast(e, kind, v.producer) || voters.has(v.producer)) return false;
      if (!this.verifyVote(v)) return false;
      voters.add(v.producer);
    }
    return hasQuorumOf(kind === 'prepare' ? prepareSets(e.gov) : sets(e.gov), voters, this.unsafeQuorum);
  }

  private mayCast(e: BlockEntry, kind: Vote['kind'], producer: ProducerName): boolean {
    return kind === 'prepare' ? mayPrepare(e.gov, producer) : isProducer(e.gov, producer);
  }

  private noteBlockEquivocation(e: BlockEntry): void {
    const key = `${e.producer}|${e.term}|${e.num}`;
    const first = this.seenBlocks.get(key);
    if (!first) {
      this.seenBlocks.set(key, e.block);
      return;
    }
    this.recordEvidence({ producer: e.producer, kind: 'block', term: e.term, first, second: e.block });
  }

  private recordEvidence(ev: Evidence): void {
    this._evidence.push(ev);
    this.newEvidence.push(ev);
  }

  /** psibase: a block's `commitNum` makes that ancestor irreversible on every node that accepts the block. */
  private applyCommitNum(e: BlockEntry): void {
    const n = e.commitNum;
    if (n <= this._irreversible.num) return;
    const committed = ancestorAt(e, n);
    if (!committed) return;
    this.markIrreversible(committed, committed.gov.current.mode === 'bft' ? (e.block.auxConsensusData ?? undefined) : undefined);
  }

  private markIrreversible(e: BlockEntry, proof: Uint8Array | undefined): void {
    const old = this._irreversible;
    if (e.num <= old.num) return;
    if (!descendsFrom(e, old)) {
      this.drop(e.producer, `block ${e.num} made irreversible conflicts with irreversible block ${old.num}`);
      return;
    }
    const chain: SignedBlock[] = [];
    for (let cur: BlockEntry | undefined = e; cur && cur !== old; cur = cur.parent) chain.push(cur.block);
    chain.reverse();
    this.newIrreversible.push(...chain);
    this._irreversible = e;
    this.irreversibleProof = proof;
    this.hardDirty = true;
    if (!this.viable(this._head)) this.recomputeHead();
    this.pruneVotes();
    this.pruneBlocks();
    if (this.mode === 'bft') {
      // bft.md: "The view change timer is restarted whenever irreversibility advances."
      this.vcTimeout = this.viewChangeTimeoutMs;
      this.vcDeadline = this.now + this.vcTimeout;
    }
  }

  /**
   * Drops blocks that lost to the irreversible chain and irreversible blocks beyond the
   * retention window, and cuts the parent link of the oldest block kept so the dropped
   * ones can be collected. Runs when the tree has doubled since the last pruning.
   */
  private pruneBlocks(): void {
    if (this.blocks.size < this.pruneAt) return;
    const keep = survivors(this.blocks.values(), this._irreversible, this.retainBlocks);
    for (const [id, e] of this.blocks) if (!keep.has(e)) this.blocks.delete(id);
    for (const e of keep) if (e.parent && !keep.has(e.parent)) e.parent = undefined;
    if (this.lastProduced && !keep.has(this.lastProduced)) this.lastProduced = undefined;
    const floor = this._irreversible.num;
    for (const [key, list] of this.orphans) {
      if (list.every((b) => b.block.header.blockNum <= floor)) this.release(this.orphans, key);
    }
    this.pruneAt = Math.max(2 * this.retainBlocks, 2 * this.blocks.size);
  }

  private pruneVotes(): void {
    const floor = this._irreversible.num;
    for (const id of this.prepares.keys()) if ((this.blocks.get(id)?.num ?? 0) <= floor) this.prepares.delete(id);
    for (const id of this.commits.keys()) if ((this.blocks.get(id)?.num ?? 0) <= floor) this.commits.delete(id);
    for (const [id, list] of this.earlyVotes) {
      if (numFromId(id) <= floor) {
        this.earlyVotes.delete(id);
        this.pendingCount -= list.length;
      }
    }
    // Kept past irreversibility up to a bound, so late equivocation still yields evidence.
    if (this.seenVoteCount > MAX_PENDING) {
      for (const byNum of this.seenVotes.values()) {
        byNum.forEach((votes, num) => {
          if (num > floor) return;
          byNum.delete(num);
          this.seenVoteCount -= votes.length;
        });
      }
    }
    if (this.seenBlocks.size > MAX_PENDING) {
      this.seenBlocks.forEach((b, k, map) => {
        if (b.block.header.blockNum <= floor) map.delete(k);
      });
    }
  }

  private onHeadChanged(): void {
    // cft.md: followers confirm after applying a block of the current term.
    const h = this._head;
    if (this.mode === 'cft' && this._role === 'follower' && h.term === this._term && h.producer !== this.name && isProducer(h.gov, this.name)) {
      const signer = this.ownClaim(h.gov);
      if (signer) this.send(h.producer, signed('ConfirmMessage', { term: this._term, follower_id: accountNumber(this.name), head_num: h.num, signer }, this.c.signer));
    }
  }

  /** Mode of the chain follows the producer set in force; switching restarts the role (cft.md diagram "producers changed"). */
  private checkMode(): void {
    const joint = this.activeJoint();
    const mode = joint.current.mode;
    const was = this.syncedJoint;
    const setsChanged = !sameJoint(joint, was);
    this.syncedJoint = joint;
    if (mode !== this.mode) {
      this.mode = mode;
      this.enterMode(false);
    } else if (this.mode === 'bft') {
      if (setsChanged) this.syncCurrentTerm(was);
    } else {
      const voter = isProducer(joint, this.name);
      if (voter && this._role === 'nonvoting') this.becomeFollower(this._term);
      else if (!voter && this._role !== 'nonvoting') this.stopLeading('nonvoting');
    }
  }

  /**
   * psibase `set_producers` / `sync_current_term`: when the producers in force change
   * under BFT (a set joins or leaves joint consensus), the view changes of producers no
   * longer in force are dropped; a producer new to the sets says it is in the current
   * term and asks for the others' view changes, and where the current term's leader
   * changed the term is opened again. The new set's leader can then open it at once
   * instead of waiting for a view-change timeout. (psibase has every producer resend its
   * view change; the others' are still held here, so only the newcomers send.)
   */
  private syncCurrentTerm(was: JointConsensus | undefined): void {
    const joint = this.activeJoint();
    for (const p of [...this.viewChanges.keys()]) if (!isProducer(joint, p)) this.viewChanges.delete(p);
    if (!isProducer(joint, this.name)) return;
    const newHere = !was || !isProducer(was, this.name);
    const leaderChanged = !was || bftLeader(was, this._term) !== bftLeader(joint, this._term);
    if (!newHere && !leaderChanged) return;
    this.viewActive = false;
    this.lastProduced = undefined;
    this.nextBlockAt = Infinity;
    if (newHere) {
      this.noteViewTerm(this.name, this._term);
      const vc = this.makeViewChange();
      if (vc) {
        this.viewChanges.set(this.name, vc);
        this.send('*', vc.wire);
      }
      this.send('*', { kind: 'RequestViewMessage', value: {} });
    }
    this.afterViewChanges();
  }

  private enterMode(restart: boolean): void {
    const joint = this.activeJoint();
    this.stopLeading(isProducer(joint, this.name) ? 'follower' : 'nonvoting');
    if (this.mode === 'cft') {
      this.resetElectionTimer();
      return;
    }
    this.vcTimeout = this.viewChangeTimeoutMs;
    this.vcDeadline = this.now + this.vcTimeout;
    if (restart) {
      const h = this._head;
      this.viewActive = h.term === this._term;
      if (this.viewActive && h.producer === this.name) {
        this.lastProduced = this._head;
        this.nextBlockAt = this.now + this.blockIntervalMs;
      }
      // View changes are not persisted: ask the peers for theirs (psibase RequestViewMessage).
      if (this._term > 0 && isProducer(joint, this.name)) this.send('*', { kind: 'RequestViewMessage', value: {} });
    } else if (isProducer(joint, this.name)) {
      // A chain that just became BFT opens a fresh view, in which its first BFT block is made.
      this.startViewChange(this._term + 1, false);
    }
  }

  private stopLeading(role: Role): void {
    this._role = role;
    this.votes.clear();
    this.matchIndex.clear();
    this.lastProduced = undefined;
    this.nextBlockAt = Infinity;
    this.electionDeadline = Infinity;
    this.vcDeadline = Infinity;
    this.vcResendAt = Infinity;
  }

  private produce(parent: BlockEntry): BlockEntry | undefined {
    let commitNum = parent.commitNum;
    let aux: Uint8Array | null = null;
    const irr = this._irreversible;
    if (descendsFrom(parent, irr) && irr.num >= commitNum) {
      if (irr.gov.current.mode === 'bft') {
        // psibase makeBlockData: the BlockConfirm of the block `commitNum` names.
        if (this.irreversibleProof) (commitNum = irr.num), (aux = this.irreversibleProof);
      } else commitNum = irr.num;
    }
    const fields = {
      previous: idBytes(parent.id),
      blockNum: parent.num + 1,
      time: maxBig(usOf(this.now), parent.header.time),
      producer: accountNumber(this.name),
      term: this._term,
      commitNum,
    };
    const made = this.c.blocks.build(parent.block, fields, parent.state);
    if (!made) return undefined;
    const id = blockId({ block: made, signature: ZERO32, auxConsensusData: null });
    const block: SignedBlock = { block: made, signature: this.c.signer.sign(blockSigningData(id)), auxConsensusData: aux };
    // The block goes out before the votes that accepting it produces, so peers never see a vote for a block still in flight.
    const mark = this.out.length;
    if (this.acceptBlock(this.name, block) === undefined) return undefined;
    this.out.splice(mark, 0, { to: '*', message: blockMessage(block) });
    return this.blocks.get(id);
  }

  // ------------------------------------------------------------ CFT (cft.md)

  private resetElectionTimer(): void {
    if (this._role === 'nonvoting' || this._role === 'leader') return;
    const joint = this.activeJoint();
    if (!mayStandForElection(joint, this.name)) {
      this.electionDeadline = Infinity;
      return;
    }
    // psibase: a sole producer does not wait for anyone.
    const sole = sets(joint).every((s) => s.producers.length === 1 && s.producers[0] === this.name);
    this.electionDeadline = sole ? this.now : this.now + this.electionTimeoutMs * (1 + this.c.random.next());
  }

  private becomeFollower(term: number): void {
    if (term > this._term) {
      this._term = term;
      this.votedFor = undefined;
      this.hardDirty = true;
    }
    this.stopLeading(isProducer(this.activeJoint(), this.name) ? 'follower' : 'nonvoting');
    this.resetElectionTimer();
  }

  /** cft.md: any message of a later term makes a node a follower in that term. */
  private seeCftTerm(term: number): void {
    if (this.mode === 'cft' && term > this._term) this.becomeFollower(term);
  }

  private tickCft(): void {
    if ((this._role === 'follower' || this._role === 'candidate') && this.now >= this.electionDeadline) this.startElection();
    if (this._role === 'leader' && this.now >= this.nextBlockAt) this.produceCft();
  }

  private startElection(): void {
    this._term++;
    this.votedFor = this.name;
    this.hardDirty = true;
    this._role = 'candidate';
    this.votes.clear();
    this.votes.add(this.name);
    this.resetElectionTimer();
    const h = this._head;
    const signer = this.ownClaim();
    if (signer) {
      this.send(
        '*',
        signed('RequestVoteRequest', { term: this._term, candidate_id: accountNumber(this.name), last_log_index: h.num, last_log_term: h.term, signer }, this.c.signer),
      );
    }
    this.checkVotes();
  }

  private onRequestVote(from: string, m: CftRequestVote): void {
    const h0 = this._head;
    // A candidate behind our head (or still in CFT after the chain moved to BFT) is
    // missing blocks: hand it our head, whose ancestors it then asks for.
    if (m.lastTerm < h0.term || (m.lastTerm === h0.term && m.lastNum < h0.num)) this.send(from, blockMessage(this._head.block));
    // A candidate ahead of us means we are the one missing blocks, and with no leader
    // nobody will broadcast them (say, we missed a BFT→CFT switch that made us a
    // producer, and the election needs our vote): ask it for what follows our head.
    else if (m.lastTerm > h0.term || (m.lastTerm === h0.term && m.lastNum > h0.num)) this.requestBlock(from, Infinity);
    if (this.mode !== 'cft') return;
    const joint = this.activeJoint();
    if (!mayStandForElection(joint, m.producer)) return this.drop(from, `vote request from ${m.producer}, who may not stand`);
    this.seeCftTerm(m.term);
    if (!isProducer(joint, this.name)) return;
    const h = this._head;
    // cft.md: "a node will vote for the first candidate that is up-to-date" in a term.
    const upToDate = m.lastTerm > h.term || (m.lastTerm === h.term && m.lastNum >= h.num);
    const granted = m.term === this._term && (this.votedFor === undefined || this.votedFor === m.producer) && upToDate;
    if (granted) {
      this.votedFor = m.producer;
      this.hardDirty = true;
      this.resetElectionTimer();
    }
    const signer = this.ownClaim();
    if (!signer) return;
    this.send(
      m.producer,
      signed(
        'RequestVoteResponse',
        { term: this._term, candidate_id: accountNumber(m.producer), voter_id: accountNumber(this.name), vote_granted: granted, signer },
        this.c.signer,
      ),
    );
  }

  private onVote(from: string, m: CftVote): void {
    if (this.mode !== 'cft') return;
    if (!isProducer(this.activeJoint(), m.producer)) return this.drop(from, `vote from non-producer ${m.producer}`);
    this.seeCftTerm(m.term);
    if (this._role !== 'candidate' || m.term !== this._term || m.candidate !== this.name || !m.granted) return;
    this.votes.add(m.producer);
    this.checkVotes();
  }

  private checkVotes(): void {
    // joint-consensus.md: elections need a quorum of the old and of the new producers.
    if (this._role !== 'candidate' || !this.quorum(this.activeJoint(), this.votes)) return;
    this._role = 'leader';
    this.electionDeadline = Infinity;
    this.matchIndex.clear();
    this.lastProduced = undefined;
    this.nextBlockAt = this.now;
    this.produceCft();
  }

  private produceCft(): void {
    const e = this.produce(this._head);
    this.nextBlockAt = this.now + this.blockIntervalMs;
    if (!e) return;
    this.lastProduced = e;
    this.updateCommitIndex();
  }

  private onConfirm(from: string, m: CftConfirm): void {
    if (this.mode !== 'cft') return;
    if (!isProducer(this.activeJoint(), m.producer)) return this.drop(from, `confirm from non-producer ${m.producer}`);
    this.seeCftTerm(m.term);
    if (this._role !== 'leader' || m.term !== this._term) return;
    if ((this.matchIndex.get(m.producer) ?? 0) < m.blockNum) this.matchIndex.set(m.producer, m.blockNum);
    this.updateCommitIndex();
  }

  /**
   * cft.md: the leader advances irreversibility to the highest block of its own term
   * confirmed by more than half of the producers (of both sets while joint).
   */
  private updateCommitIndex(): void {
    const tip = this.lastProduced;
    if (!tip) return;
    let commit = Infinity;
    for (const set of sets(this.activeJoint())) {
      const confirmed = set.producers.map((p) => (p === this.name ? tip.num : (this.matchIndex.get(p) ?? 0)));
      confirmed.sort((a, b) => b - a);
      commit = Math.min(commit, confirmed[threshold(set, this.unsafeQuorum) - 1] ?? 0);
    }
    if (commit === Infinity || commit <= this._irreversible.num) return;
    const e = ancestorAt(tip, Math.min(commit, tip.num));
    if (e && e.term === this._term) this.markIrreversible(e, undefined);
  }

  private onCftBlock(e: BlockEntry): void {
    this.seeCftTerm(e.term);
    if (this.mode !== 'cft' || e.term < this._term || this._role === 'leader') return;
    // A block of the current term means its producer won the election: a candidate stands down.
    if (this._role === 'candidate' && e.producer !== this.name) this._role = 'follower';
    this.resetElectionTimer();
  }

  // ------------------------------------------------------------ BFT (bft.md, psibase bft.hpp)

  private tickBft(): void {
    if (!isProducer(this.activeJoint(), this.name)) return;
    if (this.now >= this.vcDeadline) {
      this.startViewChange(this._term + 1, true);
      return;
    }
    if (!this.viewActive) {
      if (bftLeader(this.activeJoint(), this._term) === this.name) this.tryActivate();
      if (!this.viewActive && this.now >= this.vcResendAt) {
        const own = this.viewChanges.get(this.name);
        if (own && own.term === this._term) this.send('*', own.wire);
        this.vcResendAt = this.now + VIEW_CHANGE_RESEND_MS;
      }
      return;
    }
    if (this.lastProduced && this.now >= this.nextBlockAt) {
      const e = this.produce(this.lastProduced);
      this.nextBlockAt = this.now + this.blockIntervalMs;
      if (e) this.lastProduced = e;
    }
  }

  /** psibase `make_view_change`: our term and best prepared block with its prepares, split by the sets that govern it. */
  private makeViewChange(): ViewChange | undefined {
    const signer = this.ownClaim();
    if (!signer) return undefined;
    const bp = this.bestPrepared;
    const e = bp ? this.blocks.get(bp.blockId) : undefined;
    let prepares: ProducerConfirm[] = [];
    let nextPrepares: ProducerConfirm[] | null = null;
    if (bp && e) {
      const inSet = (set: ProducerSet) => bp.prepares.filter((v) => {
        const c = claimIn(set, v.producer);
        return c !== undefined && sameClaim(c, v.signer);
      });
      prepares = confirmsOf(inSet(e.gov.current));
      if (e.gov.next && e.gov.next.set.mode === 'bft') nextPrepares = confirmsOf(inSet(e.gov.next.set));
    }
    const msg: WireViewChange = {
      term: this._term,
      producer: accountNumber(this.name),
      signer,
      best_prepared: bp ? idBytes(bp.blockId) : ZERO32,
      best_prepared_term: bp ? bp.term : 0,
      prepares,
      nextPrepares,
    };
    return viewChangeOf(msg, signed('ViewChangeMessage', msg, this.c.signer));
  }

  private startViewChange(term: number, timedOut: boolean): void {
    this._term = term;
    this.hardDirty = true;
    // Blocks of terms up to this one may now be the head.
    this.setRoot();
    this.viewActive = false;
    this.lastProduced = undefined;
    this.nextBlockAt = Infinity;
    // bft.md: consecutive view changes without progress increase the timeout.
    if (timedOut) this.vcTimeout = Math.min(this.vcTimeout * VIEW_CHANGE_BACKOFF, MAX_VIEW_CHANGE_TIMEOUT_MS);
    // bft.md: the timer does not restart until 2f+1 producers are in this term or later.
    this.vcDeadline = Infinity;
    this.vcResendAt = this.now + VIEW_CHANGE_RESEND_MS;
    this.noteViewTerm(this.name, term);
    const vc = this.makeViewChange();
    if (vc) {
      this.viewChanges.set(this.name, vc);
      this.send('*', vc.wire);
    }
    this.afterViewChanges();
  }

  private noteViewTerm(producer: ProducerName, term: number): boolean {
    if (term <= (this.viewTerms.get(producer) ?? 0)) return false;
    this.viewTerms.set(producer, term);
    return true;
  }

  private onViewChange(from: string, m: ViewChange): void {
    if (this.mode !== 'bft') return this.syncWithOtherMode(from);
    if (!isProducer(this.activeJoint(), m.producer)) return this.drop(from, `view change from non-producer ${m.producer}`);
    const known = this.viewChanges.get(m.producer);
    if (known && !this.betterViewChange(m, known)) return;
    const r = this.checkNamed(m);
    if (r.ok) {
      if (r.cert) this.notePrepared(r.cert);
    } else if (r.missing) this.requestBlock(from, numFromId(r.missing));
    else return this.drop(from, `view change from ${m.producer}: ${r.reason}`);
    this.noteViewTerm(m.producer, m.term);
    this.viewChanges.set(m.producer, m);
    // Not in a ready term: we may lack blocks the sender has (a lost block leaves no
    // orphan behind when nobody builds on it yet). psibase's links stream every block of
    // the best chain to each peer; here, ask the sender for what follows our head.
    if (!this.viewActive) this.requestBlock(from, Infinity);
    this.afterViewChanges();
    this.setRoot();
  }

  /** Send `peer` every view change we hold of the producers in force (psibase `send_all_view_changes`). */
  private sendViewChanges(peer: string): void {
    const joint = this.activeJoint();
    for (const vc of this.viewChanges.values()) if (isProducer(joint, vc.producer)) this.send(peer, vc.wire);
  }

  /**
   * A view change while the chain here runs CFT means one of us missed a switch of
   * consensus (say, it was down): the sender a BFT→CFT one, or we a CFT→BFT one. Send
   * our head and ask for what follows it; whoever is behind catches up. No leader
   * broadcasts blocks until the one behind takes part again, so nothing else would reach it.
   */
  private syncWithOtherMode(from: string): void {
    this.send(from, blockMessage(this._head.block));
    this.requestBlock(from, Infinity);
  }

  /**
   * psibase `compare_view_change`: a later term is better; in one term the leader's
   * view change is better when it names a better block (its second view change),
   * anyone else's when it names a worse one.
   */
  private betterViewChange(m: ViewChange, known: ViewChange): boolean {
    if (m.term !== known.term) return m.term > known.term;
    const c = compareNamed(m, known);
    return bftLeader(this.activeJoint(), m.term) === m.producer ? c > 0 : c < 0;
  }

  /** Named blocks whose prepares were checked, per view change: the check repeats on every block and vote. */
  private readonly namedOk = new WeakMap<ViewChange, { ok: true; entry: BlockEntry; cert: PreparedCertificate | undefined }>();

  /**
   * psibase `get_subtree_from_view_change` / `validate_view_change`: the block a view
   * change names, with a quorum of valid prepares of the producers that govern it.
   * None named, or one below our irreversible block that we no longer hold: our
   * irreversible block (nothing better can be prepared below it).
   */
  private checkNamed(vc: ViewChange): NamedCheck {
    if (vc.namedId === NULL_ID) return { ok: true, entry: this._irreversible, cert: undefined };
    const cached = this.namedOk.get(vc);
    if (cached) return cached;
    const entry = this.blocks.get(vc.namedId);
    if (!entry) {
      if (numFromId(vc.namedId) <= this._irreversible.num) return { ok: true, entry: this._irreversible, cert: undefined };
      return { ok: false, missing: vc.namedId, reason: 'unknown prepared block' };
    }
    if (entry.term !== vc.namedTerm) return { ok: false, reason: 'prepared certificate mislabels its block' };
    const votes = this.votesOf('prepare', entry, vc.prepares, vc.nextPrepares);
    if (!votes || !this.isCertificate(entry, 'prepare', votes)) return { ok: false, reason: 'invalid prepared certificate' };
    const r = { ok: true as const, entry, cert: { blockId: entry.id, term: entry.term, num: entry.num, prepares: votes } };
    this.namedOk.set(vc, r);
    return r;
  }

  /**
   * psibase `get_subtree_from_leader` / `is_term_ready`: the block the current term
   * builds on, once the leader's view change for the term is here, the block it names
   * is valid, and a quorum (of each set in force) is in the term with view changes
   * naming no better block. Undefined while the term is not ready.
   */
  private termRoot(): BlockEntry | undefined {
    // Term 0 is a chain that was BFT from genesis: no view change opened it, its leader builds on genesis.
    if (this._term === 0) return this._irreversible;
    const joint = this.activeJoint();
    const leader = bftLeader(joint, this._term);
    const lvc = leader === undefined ? undefined : this.viewChanges.get(leader);
    if (!lvc || lvc.term !== this._term) return undefined;
    const r = this.checkNamed(lvc);
    if (!r.ok) return undefined;
    const voters = new Set<ProducerName>();
    for (const vc of this.viewChanges.values()) if (vc.term === this._term && compareNamed(vc, lvc) <= 0) voters.add(vc.producer);
    if (!this.quorum(joint, voters)) return undefined;
    return r.entry;
  }

  private afterViewChanges(): void {
    const joint = this.activeJoint();
    // bft.md: a view change triggers at once if the leader of the current term, or f+1
    // other producers (of either set), are in a later term.
    let target = this._term;
    const leader = bftLeader(joint, this._term);
    const leaderTerm = leader === undefined || leader === this.name ? 0 : (this.viewTerms.get(leader) ?? 0);
    if (leaderTerm > target) target = leaderTerm;
    for (const set of sets(joint)) {
      const terms = set.producers
        .filter((p) => p !== this.name)
        .map((p) => this.viewTerms.get(p) ?? 0)
        .sort((a, b) => b - a);
      const t = terms[weakThreshold(set) - 1] ?? 0;
      if (t > target) target = t;
    }
    if (target > this._term) return this.startViewChange(target, false);

    if (this.vcDeadline === Infinity && !this.viewActive) {
      const atOrAfter = new Set<ProducerName>();
      for (const [p, t] of this.viewTerms) if (t >= this._term) atOrAfter.add(p);
      if (this.quorum(joint, atOrAfter)) this.vcDeadline = this.now + this.vcTimeout;
    }
    if (this.viewActive) return;
    if (leader === this.name) this.tryActivate();
    else this.prepareReady();
  }

  /**
   * The term became ready here after its blocks arrived: prepare (and commit, where
   * the prepares are already in) the best chain of this term under the root, oldest first.
   */
  private prepareReady(): void {
    if (this.mode !== 'bft') return;
    const root = this.termRoot();
    if (!root) return;
    let best: BlockEntry | undefined;
    for (const e of this.blocks.values()) {
      if (e.term === this._term && e.gov.current.mode === 'bft' && (!best || isBetter(e, best)) && descendsFrom(e, root)) best = e;
    }
    if (!best) return;
    const path: BlockEntry[] = [];
    for (let e: BlockEntry | undefined = best; e && e !== root && e.term === this._term; e = e.parent) path.push(e);
    for (let i = path.length - 1; i >= 0; i--) {
      const e = path[i]!;
      this.maybePrepare(e);
      if (this.prepares.get(e.id)?.reached) this.maybeCommit(e);
    }
    this.activateFollower();
  }

  private activateFollower(): void {
    if (this.viewActive) return;
    this.viewActive = true;
    // A quorum is in this term (the term is ready), so the view-change timer runs again
    // (bft.md): without it, a term whose leader then cannot produce would never be left.
    if (this.vcDeadline === Infinity) this.vcDeadline = this.now + this.vcTimeout;
  }

  /**
   * psibase `set_root` for the leader: take the best prepared block any view change of
   * the term proves, name it in a second view change if ours named a worse one, and
   * once the term is ready produce its first block on the block the term builds on.
   */
  private tryActivate(): void {
    let own = this.viewChanges.get(this.name);
    if (!own || own.term !== this._term) return;
    for (const vc of this.viewChanges.values()) {
      if (vc.term !== this._term || vc.namedId === NULL_ID || !this.improvesPrepared(vc.namedTerm, numFromId(vc.namedId))) continue;
      const r = this.checkNamed(vc);
      if (r.ok && r.cert) this.notePrepared(r.cert);
    }
    const bp = this.bestPrepared;
    if (bp && compareNamed({ namedTerm: bp.term, namedId: bp.blockId }, own) > 0) {
      const vc = this.makeViewChange();
      if (vc) {
        own = vc;
        this.viewChanges.set(this.name, vc);
        this.send('*', vc.wire);
      }
    }
    const root = this.termRoot();
    if (!root) return;
    const parent = descendsFrom(this._head, root) ? this._head : root;
    if (!descendsFrom(parent, this._irreversible)) return;
    // The producers that govern the new block are those its parent leaves, as peers check.
    if (bftLeader(parent.state, this._term) !== this.name) return;
    const e = this.produce(parent);
    if (!e) return;
    this.viewActive = true;
    this.lastProduced = e;
    this.nextBlockAt = this.now + this.blockIntervalMs;
  }

  private onBftBlock(from: string, e: BlockEntry): void {
    if (this.mode !== 'bft') return;
    // A block of a term we are not in yet: ask its sender for the view changes that opened it.
    if (e.term > this._term && e.term > this.viewRequestedFor) {
      this.viewRequestedFor = e.term;
      if (from !== this.name) this.send(from, { kind: 'RequestViewMessage', value: {} });
    }
    this.maybePrepare(e);
    if (e.term === this._term && !this.viewActive && e.producer !== this.name && this.lastPrepared?.id === e.id) this.activateFollower();
    const early = this.earlyVotes.get(e.id);
    if (early) {
      this.earlyVotes.delete(e.id);
      this.pendingCount -= early.length;
      for (const v of early) this.countVote(e, v);
    }
  }

  /** bft.md rule 2 and psibase `can_prepare`: only blocks of the current, ready term under its root; never conflicting ones in one term. */
  private mayVote(e: BlockEntry, kind: Vote['kind'], last: { term: number; id: BlockId } | undefined): boolean {
    if (e.term !== this._term || e.gov.current.mode !== 'bft' || !this.mayCast(e, kind, this.name) || !this.viable(e)) return false;
    const root = this.termRoot();
    if (!root || !descendsFrom(e, root)) return false;
    if (!last || last.term !== this._term) return true;
    const prev = this.blocks.get(last.id);
    return prev !== undefined && e.num > prev.num && descendsFrom(e, prev);
  }

  private ownVote(kind: Vote['kind'], e: BlockEntry): Vote | undefined {
    const signer = this.ownClaim(e.gov);
    return signer ? signVote(kind, e.id, this.name, signer, this.c.signer) : undefined;
  }

  private maybePrepare(e: BlockEntry): void {
    if (!this.mayVote(e, 'prepare', this.lastPrepared)) return;
    const v = this.ownVote('prepare', e);
    if (!v) return;
    this.lastPrepared = { term: this._term, id: e.id };
    this.hardDirty = true;
    this.send('*', voteMessage(v));
    this.countVote(e, v);
  }

  private maybeCommit(e: BlockEntry): void {
    // bft.md rule 1: only commit a block prepared by a quorum.
    if (!this.mayVote(e, 'commit', this.lastCommitted)) return;
    const v = this.ownVote('commit', e);
    if (!v) return;
    this.lastCommitted = { term: this._term, id: e.id };
    this.hardDirty = true;
    this.send('*', voteMessage(v));
    this.countVote(e, v);
  }

  private onBftVote(v: Vote): void {
    if (numFromId(v.blockId) <= this._irreversible.num) return;
    const e = this.blocks.get(v.blockId);
    if (!e) {
      if (this.pendingCount >= MAX_PENDING) return;
      const list = this.earlyVotes.get(v.blockId);
      if (list) list.push(v);
      else this.earlyVotes.set(v.blockId, [v]);
      // No fetch here: the block is usually in flight, and a lost one shows up as an orphan parent.
      this.pendingCount++;
      return;
    }
    this.countVote(e, v);
  }

  /** First vote of a producer of one kind at a height in a term counts; a second for another block is evidence. */
  private firstVote(e: BlockEntry, v: Vote): boolean {
    let byNum = this.seenVotes.get(v.producer);
    const seen = byNum?.get(e.num);
    if (seen) {
      for (const first of seen) {
        if (first.vote.kind !== v.kind || first.term !== e.term) continue;
        if (first.vote.blockId !== v.blockId) this.recordEvidence({ producer: v.producer, kind: v.kind, term: e.term, first: first.vote, second: v });
        return false;
      }
      seen.push({ vote: v, term: e.term });
    } else {
      if (!byNum) this.seenVotes.set(v.producer, (byNum = new Map()));
      byNum.set(e.num, [{ vote: v, term: e.term }]);
    }
    this.seenVoteCount++;
    return true;
  }

  private countVote(e: BlockEntry, v: Vote): void {
    // psibase: votes for a block that BFT does not govern are ignored.
    if (e.gov.current.mode !== 'bft') return;
    const expected = this.mayCast(e, v.kind, v.producer) ? (claimIn(e.gov.current, v.producer) ?? (e.gov.next ? claimIn(e.gov.next.set, v.producer) : undefined)) : undefined;
    if (!expected || !sameClaim(expected, v.signer)) {
      return this.drop(v.producer, `${v.kind} does not match block ${e.num} or the producers that ${v.kind} it`);
    }
    if (!this.firstVote(e, v)) return;
    // psibase `do_view_change`: a producer voting for a block of a term is in that term.
    const moved = this.mode === 'bft' && this.noteViewTerm(v.producer, e.term);
    if (e.num > this._irreversible.num) {
      const map = v.kind === 'prepare' ? this.prepares : this.commits;
      let tally = map.get(e.id);
      if (!tally) map.set(e.id, (tally = new QuorumTally(v.kind === 'prepare' ? prepareSets(e.gov) : sets(e.gov), this.unsafeQuorum)));
      if (tally.add(v.producer, v) && tally.reached) {
        if (v.kind === 'prepare') {
          if (this.improvesPrepared(e.term, e.num)) this.notePrepared({ blockId: e.id, term: e.term, num: e.num, prepares: [...tally.votes.values()] });
          this.maybeCommit(e);
        } else {
          // bft.md: irreversible once committed by 2f+1 (of both sets while joint).
          this.markIrreversible(e, packBlockConfirm(this.blockConfirm(e, [...tally.votes.values()])));
        }
      }
    }
    if (moved) this.afterViewChanges();
  }

  /** psibase `save_commit_data`: the commits of `e` by the current set, and by the next one while joint, sorted by producer. */
  private blockConfirm(e: BlockEntry, votes: readonly Vote[]) {
    const inSet = (set: ProducerSet) => votes.filter((v) => {
      const c = claimIn(set, v.producer);
      return c !== undefined && sameClaim(c, v.signer);
    });
    return { blockNum: e.num, commits: confirmsOf(inSet(e.gov.current)), nextCommits: e.gov.next ? confirmsOf(inSet(e.gov.next.set)) : null };
  }

  private improvesPrepared(term: number, num: number): boolean {
    const b = this.bestPrepared;
    return !b || b.term < term || (b.term === term && b.num < num);
  }

  private notePrepared(cert: PreparedCertificate): void {
    if (!this.improvesPrepared(cert.term, cert.num)) return;
    this.bestPrepared = cert;
    this.hardDirty = true;
  }
}

/** What `head` and `irreversible` report. */
export interface BlockRef {
  readonly id: BlockId;
  readonly num: number;
  readonly term: number;
  readonly producer: ProducerName;
  readonly header: BlockHeader;
  readonly block: SignedBlock;
}

function refOf(e: BlockEntry): BlockRef {
  return { id: e.id, num: e.num, term: e.term, producer: e.producer, header: e.header, block: e.block };
}

function viewChangeOf(x: WireViewChange, wire: WireMessage): ViewChange {
  return {
    term: x.term,
    producer: accountName(x.producer),
    signer: x.signer,
    namedId: hexOf(x.best_prepared),
    namedTerm: x.best_prepared_term,
    prepares: x.prepares,
    nextPrepares: x.nextPrepares ?? null,
    wire,
  };
}

/**
 * Orders the blocks two view changes name as psibase's `by_best_prepared`: by term,
 * then id (whose first bytes are the block number); naming none (zero id, term 0) comes first.
 */
function compareNamed(a: { namedTerm: number; namedId: BlockId }, b: { namedTerm: number; namedId: BlockId }): number {
  if (a.namedTerm !== b.namedTerm) return a.namedTerm - b.namedTerm;
  return a.namedId < b.namedId ? -1 : a.namedId > b.namedId ? 1 : 0;
}

/** The producer of a set of one, outside joint consensus (psibase `singleProducer`). */
function soleProducer(joint: JointConsensus): ProducerName | undefined {
  return !joint.next && joint.current.producers.length === 1 ? joint.current.producers[0] : undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

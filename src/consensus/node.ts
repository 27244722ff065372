/**
 * One producer's consensus state machine, CFT and BFT in one object because joint
 * consensus moves a running chain between them (joint-consensus.md).
 *
 * etcd-raft style: `step(from, message)` and `tick(now)` change state; `ready()` hands
 * out what to persist, send and apply. Persist `hardState` and `blocks` before sending
 * `messages`. No clocks, timers, sockets or storage in here.
 */
import { ConsensusError } from '../errors.ts';
import { blockId, blockSigningText, lentTextBytes, messageSigningText, NULL_ID, defaultCodec, type BlockCodec } from './block.ts';
import {
  BLOCK_INTERVAL_MS,
  ELECTION_TIMEOUT_MS,
  MAX_PENDING,
  MAX_VERIFIED,
  MAX_VIEW_CHANGE_TIMEOUT_MS,
  RETAINED_IRREVERSIBLE_BLOCKS,
  SYNC_BATCH,
  VIEW_CHANGE_BACKOFF,
  VIEW_CHANGE_RESEND_MS,
  VIEW_CHANGE_TIMEOUT_MS,
} from './constants.ts';
import { ancestorAt, descendsFrom, isBetter, survivors, type BlockEntry } from './fork-db.ts';
import { parseMessage } from './messages.ts';
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
  threshold,
  weakThreshold,
  type QuorumOverride,
} from './producers.ts';
import type {
  BlockHeader,
  BlockId,
  ConfirmMessage,
  ConsensusComponents,
  ConsensusMessage,
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
  RequestVoteMessage,
  SignedBlock,
  ViewChangeMessage,
  VoteMessage,
} from './types.ts';

export interface ConsensusInit {
  readonly name: ProducerName;
  readonly genesis: SignedBlock;
  readonly now: number;
  readonly restore?: PersistedState | undefined;
  readonly blockIntervalMs?: number;
  readonly electionTimeoutMs?: number;
  readonly viewChangeTimeoutMs?: number;
  readonly codec?: BlockCodec;
  /** Irreversible blocks kept in memory (default RETAINED_IRREVERSIBLE_BLOCKS). */
  readonly retainBlocks?: number;
  /** Test-only: a deliberately wrong quorum size, to prove the simulator catches unsafe rules. */
  readonly unsafeQuorum?: QuorumOverride;
}

/**
 * The genesis block: its `newConsensus` is the initial producer set. README.md: the
 * genesis block is irreversible at once, so it is trusted rather than verified.
 */
export function makeGenesis(set: ProducerSet, time = 0): SignedBlock {
  return {
    header: {
      num: 1,
      previous: NULL_ID,
      producer: set.producers[0] ?? 'genesis',
      term: 0,
      time,
      commitNum: 0,
      newConsensus: set,
      payload: 'genesis',
    },
    signature: 'genesis',
  };
}

type Role = 'nonvoting' | 'follower' | 'candidate' | 'leader';
/**
 * A prepared certificate is valid, names a block still to fetch, names a block below
 * our irreversible one that we no longer have (`stale`: it cannot be checked, and as
 * it lost to the irreversible block it can only rank below it), or is invalid.
 */
type CertCheck = { ok: true; entry: BlockEntry } | { ok: false; missing?: BlockId; stale?: true; reason: string };
/** The messages a producer signs. */
type SignedMessage = Exclude<ConsensusMessage, { type: 'block' | 'requestBlocks' }>;

/** What `ready()` hands out for an empty list: most steps change only one or two of them. */
const NONE: readonly never[] = Object.freeze([]);

export class ConsensusNode {
  readonly name: ProducerName;
  private readonly c: ConsensusComponents;
  private readonly codec: BlockCodec;
  private readonly unsafeQuorum: QuorumOverride | undefined;
  private readonly blockIntervalMs: number;
  private readonly electionTimeoutMs: number;
  private readonly viewChangeTimeoutMs: number;

  private readonly blocks = new Map<BlockId, BlockEntry>();
  private readonly retainBlocks: number;
  /** Tree size at which to prune next: twice what the last pruning kept, so pruning costs O(1) a block. */
  private pruneAt: number;
  private readonly orphans = new Map<BlockId, SignedBlock[]>();
  /** Blocks waiting for a block named by their view-change certificate. */
  private readonly waiting = new Map<BlockId, SignedBlock[]>();
  private pendingCount = 0;
  private readonly requested = new Map<BlockId, number>();
  private _head: BlockEntry;
  private _irreversible: BlockEntry;
  private irreversibleProof: readonly VoteMessage[] | undefined;
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
  private readonly prepares = new Map<BlockId, QuorumTally<VoteMessage>>();
  private readonly commits = new Map<BlockId, QuorumTally<VoteMessage>>();
  private readonly earlyVotes = new Map<BlockId, VoteMessage[]>();
  private readonly viewChanges = new Map<ProducerName, ViewChangeMessage>();
  private viewActive = false;
  private vcTimeout: number;
  private vcDeadline = Infinity;
  private vcResendAt = Infinity;

  private readonly seenBlocks = new Map<string, SignedBlock>();
  /**
   * Per producer, block number → the prepares and commits it signed at that height, to
   * catch one signing two blocks in a term. Keyed by name, then number, so no key
   * string is built per vote.
   */
  private readonly seenVotes = new Map<ProducerName, Map<number, VoteMessage[]>>();
  private seenVoteCount = 0;
  private readonly _evidence: Evidence[] = [];
  /**
   * Signatures already checked: signature → the signing text it covers. A commit is
   * checked on arrival and again in the commit certificate that carries it; with real
   * keys each check is a P-256 verify.
   */
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
    this.codec = init.codec ?? defaultCodec;
    this.unsafeQuorum = init.unsafeQuorum;
    this.blockIntervalMs = init.blockIntervalMs ?? BLOCK_INTERVAL_MS;
    this.electionTimeoutMs = init.electionTimeoutMs ?? ELECTION_TIMEOUT_MS;
    this.viewChangeTimeoutMs = init.viewChangeTimeoutMs ?? VIEW_CHANGE_TIMEOUT_MS;
    this.vcTimeout = this.viewChangeTimeoutMs;
    this.now = init.now;
    this.retainBlocks = Math.max(1, init.retainBlocks ?? RETAINED_IRREVERSIBLE_BLOCKS);
    this.pruneAt = 2 * this.retainBlocks;

    const g = init.genesis;
    if (!g.header.newConsensus) throw new ConsensusError('genesis must carry the initial producer set');
    const joint: JointConsensus = { current: g.header.newConsensus };
    const genesis: BlockEntry = { id: blockId(g.header, this.codec), block: g, header: g.header, parent: undefined, gov: joint, state: joint };
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
    this.mode = this.activeJoint().current.mode;
    this.enterMode(true);
  }

  // ------------------------------------------------------------ inspection

  get term(): number {
    return this._term;
  }
  get role(): Role {
    return this._role;
  }
  get consensusMode(): ConsensusMode {
    return this.mode;
  }
  get head(): { id: BlockId; header: BlockHeader } {
    return { id: this._head.id, header: this._head.header };
  }
  get irreversible(): { id: BlockId; header: BlockHeader } {
    return { id: this._irreversible.id, header: this._irreversible.header };
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
    return blockId(b.header, this.codec);
  }
  getBlock(id: BlockId): SignedBlock | undefined {
    return this.blocks.get(id)?.block;
  }
  /** Blocks held in the block tree (bounded by pruning). */
  get blockCount(): number {
    return this.blocks.size;
  }

  /**
   * A connection to `peer` opened (or reopened after a partition or restart). As
   * psibase's blocknet does on a new connection, tell the peer our head: a peer that
   * is behind finds the block's parent unknown and requests the missing ancestors,
   * which nothing else would send it when no leader is broadcasting to it (say, it
   * missed a switch to a producer set it is not in).
   */
  connected(peer: string): void {
    if (this._head.parent) this.send(peer, { type: 'block', block: this._head.block });
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

  /** Handles one message from peer `from`. Bad input is dropped with a reason, never thrown. */
  step(from: string, raw: unknown): void {
    const m = parseMessage(raw);
    if (typeof m === 'string') return this.drop(from, m);
    switch (m.type) {
      case 'block':
        this.onBlock(from, m.block);
        break;
      case 'requestBlocks':
        this.onRequestBlocks(from, m.id, m.count);
        break;
      default:
        if (!this.verifySigned(m)) return this.drop(from, `bad signature on ${m.type} from ${m.producer}`);
        this.onSigned(from, m);
    }
    this.checkMode();
  }

  tick(now: number): void {
    if (now > this.now) this.now = now;
    if (this.mode === 'cft') this.tickCft();
    else this.tickBft();
    this.checkMode();
  }

  // ------------------------------------------------------------ shared

  private drop(from: string, reason: string): void {
    this.dropped.push({ from, reason });
  }

  private send(to: ProducerName | '*', message: ConsensusMessage): void {
    this.out.push({ to, message });
  }

  /**
   * Signs a message built with an empty `signature`, in place: it is fresh and not yet
   * shared. (Copying it with a spread here, one site for every message type, was a
   * megamorphic clone on every vote.)
   */
  private sign<M extends SignedMessage>(m: M): M {
    const text = messageSigningText(m);
    const signature = this.c.signer.sign(lentTextBytes(text));
    (m as { signature: string }).signature = signature;
    if (m.type === 'commit' || m.type === 'viewChange') this.rememberVerified(signature, text);
    return m;
  }

  private verifySigned(m: SignedMessage): boolean {
    const text = messageSigningText(m);
    const remembered = m.type === 'commit' || m.type === 'viewChange';
    if (remembered && this.verified.get(m.signature) === text) return true;
    if (!this.c.verifier.verify(m.producer, lentTextBytes(text), m.signature)) return false;
    if (remembered) this.rememberVerified(m.signature, text);
    return true;
  }

  /**
   * Commits come back in the commit certificate of a later block, checked by every
   * node; view changes in the certificate of a term's first block. Prepares come back
   * only in view changes, which are rare: not worth the churn of remembering each.
   */
  private rememberVerified(signature: string, text: string): void {
    // Only a cache: dropping it all at once bounds memory without bookkeeping.
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(signature, text);
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

  /**
   * A block is governed by the state its parent left. Joint consensus starts on the
   * block carrying `newConsensus` and ends on the first block whose `commitNum` shows
   * that block irreversible, so every node switches at the same block.
   */
  private makeEntry(b: SignedBlock, id: BlockId, parent: BlockEntry): BlockEntry {
    const gov = parent.state;
    const joint: JointConsensus = b.header.newConsensus ? { current: gov.current, next: { set: b.header.newConsensus, blockNum: b.header.num } } : gov;
    return { id, block: b, header: b.header, parent, gov, state: settle(joint, b.header.commitNum) };
  }

  private insertTrusted(b: SignedBlock): void {
    const id = blockId(b.header, this.codec);
    const parent = this.blocks.get(b.header.previous);
    if (!parent || this.blocks.has(id)) return;
    this.blocks.set(id, this.makeEntry(b, id, parent));
  }

  private viable(e: BlockEntry): boolean {
    return descendsFrom(e, this._irreversible);
  }

  private recomputeHead(): void {
    let best = this._irreversible;
    for (const e of this.blocks.values()) {
      if (isBetter(e.header, e.id, best.header, best.id) && this.viable(e)) best = e;
    }
    if (best !== this._head) {
      this._head = best;
      this.headChanged = true;
    }
  }

  private requestBlock(from: string, id: BlockId, num?: number): void {
    const last = this.requested.get(id);
    if (last !== undefined && this.now - last < 2 * this.blockIntervalMs) return;
    if (this.requested.size > MAX_PENDING) this.requested.clear();
    this.requested.set(id, this.now);
    const missing = num === undefined ? SYNC_BATCH : num - this._irreversible.header.num;
    this.send(from, { type: 'requestBlocks', id, count: Math.max(1, Math.min(SYNC_BATCH, missing)) });
  }

  private onRequestBlocks(from: string, id: BlockId, count: number): void {
    const chain: SignedBlock[] = [];
    let e = id === NULL_ID ? this._head : this.blocks.get(id);
    while (e && e.parent && chain.length < Math.min(count, SYNC_BATCH)) {
      chain.push(e.block);
      e = e.parent;
    }
    for (let i = chain.length - 1; i >= 0; i--) this.send(from, { type: 'block', block: chain[i]! });
  }

  private hold(map: Map<BlockId, SignedBlock[]>, key: BlockId, b: SignedBlock): void {
    if (this.pendingCount >= MAX_PENDING) return;
    const list = map.get(key);
    if (list) {
      if (list.some((x) => x.header === b.header || x.signature === b.signature)) return;
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
    while (queue.length > 0) {
      const next = queue.shift()!;
      const id = this.acceptBlock(from, next);
      if (id !== undefined) {
        queue.push(...this.release(this.orphans, id), ...this.release(this.waiting, id));
      }
    }
  }

  /** Validates and inserts a block; returns its id when it was newly accepted. */
  private acceptBlock(from: string, b: SignedBlock): BlockId | undefined {
    const h = b.header;
    const id = blockId(h, this.codec);
    if (this.blocks.has(id)) return undefined;
    if (h.num <= this._irreversible.header.num) return undefined;
    const parent = this.blocks.get(h.previous);
    if (!parent) {
      this.hold(this.orphans, h.previous, b);
      this.requestBlock(from, h.previous, h.num - 1);
      return undefined;
    }
    if (!this.c.verifier.verify(h.producer, lentTextBytes(blockSigningText(id)), b.signature)) {
      this.drop(from, `bad block signature from ${h.producer}`);
      return undefined;
    }
    const entry = this.makeEntry(b, id, parent);
    const bad = this.validateBlock(from, entry);
    if (bad === 'wait') return undefined;
    if (bad !== undefined) {
      this.drop(from, `invalid block ${h.num} by ${h.producer}: ${bad}`);
      return undefined;
    }
    this.blocks.set(id, entry);
    this.newBlocks.push(b);
    this.noteBlockEquivocation(entry);

    if (entry.gov.current.mode === 'cft') this.onCftBlock(entry);
    if (this.viable(entry) && isBetter(h, id, this._head.header, this._head.id)) {
      this._head = entry;
      this.headChanged = true;
      this.onHeadChanged();
    }
    if (entry.gov.current.mode === 'bft') this.onBftBlock(entry);
    this.applyCommitNum(entry);
    return id;
  }

  /** Undefined when valid; 'wait' when it names a block we must fetch first; else the reason. */
  private validateBlock(from: string, e: BlockEntry): string | 'wait' | undefined {
    const h = e.header;
    const parent = e.parent!;
    const ph = parent.header;
    if (h.num !== ph.num + 1) return 'number does not follow its parent';
    if (h.term < ph.term) return 'term lower than its parent';
    if (h.time < ph.time) return 'time before its parent';
    if (h.commitNum < ph.commitNum || h.commitNum >= h.num) return 'commitNum out of range';
    if (h.newConsensus && e.gov.next) return 'joint consensus already active';
    if (h.newConsensus && h.newConsensus.producers.length === 0) return 'empty producer set';
    if (e.gov.current.mode === 'cft') {
      if (!mayStandForElection(e.gov, h.producer)) return 'producer may not lead under CFT';
    } else {
      if (bftLeader(e.gov, h.term) !== h.producer) return 'producer is not the leader of its term';
      const opensTerm = h.term > ph.term || (parent.gov.current.mode !== 'bft' && ph.num > 1);
      if (opensTerm) {
        const bad = this.checkViewCertificate(from, e);
        if (bad) return bad;
      } else if (hasViewChanges(e.block)) return 'unexpected view-change certificate';
    }
    if (h.commitNum > ph.commitNum) {
      const committed = ancestorAt(parent, h.commitNum);
      if (!committed) return 'commitNum names an unknown block';
      if (committed.gov.current.mode === 'bft') {
        const proof = e.block.proof?.commits;
        if (!proof || !this.isCertificate(committed, 'commit', proof)) return 'commitNum lacks a commit certificate';
      }
    }
    if (!this.c.blocks.validate(h)) return 'content rejected by the executor';
    return undefined;
  }

  /**
   * bft.md rule 4: the first block of a term carries a quorum of view changes for the
   * term, the leader's among them naming a block no worse than any other's, and
   * descends from the block the leader's names. Only that block's prepared certificate
   * matters (psibase `get_subtree_from_leader` checks the leader's alone, and
   * `is_term_ready` only compares the others with it): what another view change names
   * can only lower the bar, which is why it must rank no higher than the leader's.
   */
  private checkViewCertificate(from: string, e: BlockEntry): string | 'wait' | undefined {
    const vcs = e.block.proof?.viewChanges;
    if (!vcs) return 'first block of a term without a view-change certificate';
    const leaderVc = vcs.find((vc) => vc.producer === e.header.producer);
    if (!leaderVc) return "view-change certificate lacks the leader's view change";
    const voters = new Set<ProducerName>();
    for (const vc of vcs) {
      if (vc.term !== e.header.term) return 'view change for another term';
      if (!isProducer(e.gov, vc.producer) || voters.has(vc.producer)) return 'view change from a non-producer or twice';
      if (compareNamed(vc.prepared, leaderVc.prepared) > 0) return "a view change names a better block than the leader's";
      if (!this.verifySigned(vc)) return 'forged view change';
      voters.add(vc.producer);
    }
    if (!this.quorum(e.gov, voters)) return 'view-change certificate lacks a quorum';
    if (!leaderVc.prepared) return undefined;
    const r = this.checkPrepared(leaderVc.prepared);
    if (!r.ok) {
      if (!r.missing) return `leader's view change: ${r.reason}`;
      this.hold(this.waiting, r.missing, e.block);
      this.requestBlock(from, r.missing);
      return 'wait';
    }
    if (!descendsFrom(e.parent!, r.entry)) return "does not descend from the block named by the leader's view change";
    return undefined;
  }

  private checkPrepared(cert: PreparedCertificate): CertCheck {
    const entry = this.blocks.get(cert.blockId);
    if (!entry) {
      if (cert.num <= this._irreversible.header.num) return { ok: false, stale: true, reason: 'prepared block below irreversible is unknown' };
      return { ok: false, missing: cert.blockId, reason: 'unknown prepared block' };
    }
    if (entry.header.term !== cert.term || entry.header.num !== cert.num) return { ok: false, reason: 'prepared certificate mislabels its block' };
    if (!this.isCertificate(entry, 'prepare', cert.prepares)) return { ok: false, reason: 'invalid prepared certificate' };
    return { ok: true, entry };
  }

  /**
   * A quorum of distinct, correctly signed votes of one kind for `e`: commits from the
   * producers that govern it, prepares from those of them that prepare (`prepareSets`).
   */
  private isCertificate(e: BlockEntry, type: 'prepare' | 'commit', votes: readonly VoteMessage[]): boolean {
    const voters = new Set<ProducerName>();
    for (const v of votes) {
      if (v.type !== type || v.subject !== e.id || v.term !== e.header.term || v.value !== e.header.num) return false;
      if (!this.mayCast(e, type, v.producer) || voters.has(v.producer)) return false;
      if (!this.verifySigned(v)) return false;
      voters.add(v.producer);
    }
    return hasQuorumOf(type === 'prepare' ? prepareSets(e.gov) : sets(e.gov), voters, this.unsafeQuorum);
  }

  private mayCast(e: BlockEntry, type: 'prepare' | 'commit', producer: ProducerName): boolean {
    return type === 'prepare' ? mayPrepare(e.gov, producer) : isProducer(e.gov, producer);
  }

  private noteBlockEquivocation(e: BlockEntry): void {
    const key = `${e.header.producer}|${e.header.term}|${e.header.num}`;
    const first = this.seenBlocks.get(key);
    if (!first) {
      this.seenBlocks.set(key, e.block);
      return;
    }
    this.recordEvidence({ producer: e.header.producer, kind: 'block', term: e.header.term, first, second: e.block });
  }

  private recordEvidence(ev: Evidence): void {
    this._evidence.push(ev);
    this.newEvidence.push(ev);
  }

  /** psibase: a block's `commitNum` makes that ancestor irreversible on every node that accepts the block. */
  private applyCommitNum(e: BlockEntry): void {
    const n = e.header.commitNum;
    if (n <= this._irreversible.header.num) return;
    const committed = ancestorAt(e, n);
    if (!committed) return;
    this.markIrreversible(committed, committed.gov.current.mode === 'bft' ? e.block.proof?.commits : undefined);
  }

  private markIrreversible(e: BlockEntry, proof: readonly VoteMessage[] | undefined): void {
    const old = this._irreversible;
    if (e.header.num <= old.header.num) return;
    if (!descendsFrom(e, old)) {
      this.drop(e.header.producer, `block ${e.header.num} made irreversible conflicts with irreversible block ${old.header.num}`);
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
    const floor = this._irreversible.header.num;
    for (const map of [this.orphans, this.waiting]) {
      for (const [key, list] of map) {
        if (list.every((b) => b.header.num <= floor)) this.release(map, key);
      }
    }
    this.pruneAt = Math.max(2 * this.retainBlocks, 2 * this.blocks.size);
  }

  private pruneVotes(): void {
    const floor = this._irreversible.header.num;
    for (const id of this.prepares.keys()) if ((this.blocks.get(id)?.header.num ?? 0) <= floor) this.prepares.delete(id);
    for (const id of this.commits.keys()) if ((this.blocks.get(id)?.header.num ?? 0) <= floor) this.commits.delete(id);
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
        if (b.header.num <= floor) map.delete(k);
      });
    }
  }

  private onHeadChanged(): void {
    // cft.md: followers confirm after applying a block of the current term.
    const h = this._head.header;
    if (this.mode === 'cft' && this._role === 'follower' && h.term === this._term && h.producer !== this.name && isProducer(this._head.gov, this.name)) {
      this.send(h.producer, this.sign<ConfirmMessage>({ type: 'confirm', term: this._term, producer: this.name, blockNum: h.num, blockId: this._head.id, signature: '' }));
    }
  }

  private onSigned(from: string, m: Exclude<ConsensusMessage, { type: 'block' | 'requestBlocks' }>): void {
    switch (m.type) {
      case 'confirm':
        return this.onConfirm(from, m);
      case 'requestVote':
        return this.onRequestVote(from, m);
      case 'vote':
        return this.onVote(from, m);
      case 'prepare':
      case 'commit':
        return this.onBftVote(from, m);
      case 'viewChange':
        return this.onViewChange(from, m);
    }
  }

  /** Mode of the chain follows the producer set in force; switching restarts the role (cft.md diagram "producers changed"). */
  private checkMode(): void {
    const mode = this.activeJoint().current.mode;
    if (mode !== this.mode) {
      this.mode = mode;
      this.enterMode(false);
    } else if (this.mode === 'cft') {
      const voter = isProducer(this.activeJoint(), this.name);
      if (voter && this._role === 'nonvoting') this.becomeFollower(this._term);
      else if (!voter && this._role !== 'nonvoting') this.stopLeading('nonvoting');
    }
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
      const h = this._head.header;
      this.viewActive = h.term === this._term;
      if (this.viewActive && h.producer === this.name) {
        this.lastProduced = this._head;
        this.nextBlockAt = this.now + this.blockIntervalMs;
      }
    } else if (isProducer(joint, this.name)) {
      // A chain that just became BFT opens a fresh view, so its first block carries a certificate.
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

  private produce(parent: BlockEntry, viewChanges?: readonly ViewChangeMessage[]): BlockEntry | undefined {
    const gov0 = parent.state;
    let commitNum = parent.header.commitNum;
    let commits: readonly VoteMessage[] | undefined;
    if (descendsFrom(parent, this._irreversible) && this._irreversible.header.num > commitNum) {
      commitNum = this._irreversible.header.num;
      if (this._irreversible.gov.current.mode === 'bft') {
        commits = this.irreversibleProof;
        if (!commits) commitNum = parent.header.commitNum;
      }
    }
    const newConsensus = gov0.next ? undefined : this.c.blocks.newConsensus?.(parent.header, gov0);
    const header: BlockHeader = {
      num: parent.header.num + 1,
      previous: parent.id,
      producer: this.name,
      term: this._term,
      time: Math.max(this.now, parent.header.time),
      commitNum,
      ...(newConsensus ? { newConsensus } : {}),
      payload: this.c.blocks.payload(parent.header, parent.header.num + 1),
    };
    const id = blockId(header, this.codec);
    const proof = viewChanges || commits ? { ...(viewChanges ? { viewChanges } : {}), ...(commits ? { commits } : {}) } : undefined;
    const block: SignedBlock = { header, signature: this.c.signer.sign(lentTextBytes(blockSigningText(id))), ...(proof ? { proof } : {}) };
    // The block goes out before the votes that accepting it produces, so peers never see a vote for a block still in flight.
    const mark = this.out.length;
    if (this.acceptBlock(this.name, block) === undefined) return undefined;
    this.out.splice(mark, 0, { to: '*', message: { type: 'block', block } });
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
    const h = this._head.header;
    this.send('*', this.sign<RequestVoteMessage>({ type: 'requestVote', term: this._term, producer: this.name, lastTerm: h.term, lastNum: h.num, signature: '' }));
    this.checkVotes();
  }

  private onRequestVote(from: string, m: RequestVoteMessage): void {
    const h0 = this._head.header;
    // A candidate behind our head (or still in CFT after the chain moved to BFT) is
    // missing blocks: hand it our head, whose ancestors it then fetches.
    if (m.lastTerm < h0.term || (m.lastTerm === h0.term && m.lastNum < h0.num)) this.send(from, { type: 'block', block: this._head.block });
    // A candidate ahead of us means we are the one missing blocks, and with no leader
    // nobody will broadcast them (say, we missed a BFT→CFT switch that made us a
    // producer, and the election needs our vote): ask it for its head.
    else if (m.lastTerm > h0.term || (m.lastTerm === h0.term && m.lastNum > h0.num)) this.requestBlock(from, NULL_ID, m.lastNum);
    if (this.mode !== 'cft') return;
    const joint = this.activeJoint();
    if (!mayStandForElection(joint, m.producer)) return this.drop(from, `vote request from ${m.producer}, who may not stand`);
    this.seeCftTerm(m.term);
    if (!isProducer(joint, this.name)) return;
    const h = this._head.header;
    // cft.md: "a node will vote for the first candidate that is up-to-date" in a term.
    const upToDate = m.lastTerm > h.term || (m.lastTerm === h.term && m.lastNum >= h.num);
    const granted = m.term === this._term && (this.votedFor === undefined || this.votedFor === m.producer) && upToDate;
    if (granted) {
      this.votedFor = m.producer;
      this.hardDirty = true;
      this.resetElectionTimer();
    }
    this.send(m.producer, this.sign<VoteMessage>({ type: 'vote', term: this._term, producer: this.name, subject: m.producer, value: granted ? 1 : 0, signature: '' }));
  }

  private onVote(from: string, m: VoteMessage): void {
    if (this.mode !== 'cft') return;
    if (!isProducer(this.activeJoint(), m.producer)) return this.drop(from, `vote from non-producer ${m.producer}`);
    this.seeCftTerm(m.term);
    if (this._role !== 'candidate' || m.term !== this._term || m.subject !== this.name || m.value !== 1) return;
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

  private onConfirm(from: string, m: ConfirmMessage): void {
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
      const confirmed = set.producers.map((p) => (p === this.name ? tip.header.num : (this.matchIndex.get(p) ?? 0)));
      confirmed.sort((a, b) => b - a);
      commit = Math.min(commit, confirmed[threshold(set, this.unsafeQuorum) - 1] ?? 0);
    }
    if (commit === Infinity || commit <= this._irreversible.header.num) return;
    const e = ancestorAt(tip, Math.min(commit, tip.header.num));
    if (e && e.header.term === this._term) this.markIrreversible(e, undefined);
  }

  private onCftBlock(e: BlockEntry): void {
    this.seeCftTerm(e.header.term);
    if (this.mode !== 'cft' || e.header.term < this._term || this._role === 'leader') return;
    // A block of the current term means its producer won the election: a candidate stands down.
    if (this._role === 'candidate' && e.header.producer !== this.name) this._role = 'follower';
    this.resetElectionTimer();
  }

  // ------------------------------------------------------------ BFT (bft.md)

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
        if (own && own.term === this._term) this.send('*', own);
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

  private startViewChange(term: number, timedOut: boolean): void {
    this._term = term;
    this.hardDirty = true;
    this.viewActive = false;
    this.lastProduced = undefined;
    this.nextBlockAt = Infinity;
    // bft.md: consecutive view changes without progress increase the timeout.
    if (timedOut) this.vcTimeout = Math.min(this.vcTimeout * VIEW_CHANGE_BACKOFF, MAX_VIEW_CHANGE_TIMEOUT_MS);
    // bft.md: the timer does not restart until 2f+1 producers are in this term or later.
    this.vcDeadline = Infinity;
    this.vcResendAt = this.now + VIEW_CHANGE_RESEND_MS;
    const vc = this.sign<ViewChangeMessage>({ type: 'viewChange', term, producer: this.name, ...(this.bestPrepared ? { prepared: this.bestPrepared } : {}), signature: '' });
    this.viewChanges.set(this.name, vc);
    this.send('*', vc);
    this.afterViewChanges();
  }

  /** A block that opens a later term carries a valid certificate: a quorum has moved, so follow it. */
  private enterActiveTerm(term: number): void {
    this._term = term;
    this.hardDirty = true;
    this.viewActive = true;
    this.lastProduced = undefined;
    this.nextBlockAt = Infinity;
    this.vcDeadline = this.now + this.vcTimeout;
  }

  private onViewChange(from: string, m: ViewChangeMessage): void {
    if (this.mode !== 'bft') return this.syncWithOtherMode(from);
    if (!isProducer(this.activeJoint(), m.producer)) return this.drop(from, `view change from non-producer ${m.producer}`);
    const known = this.viewChanges.get(m.producer);
    if (known && !this.betterViewChange(m, known)) return;
    if (m.prepared) {
      const r = this.checkPrepared(m.prepared);
      if (r.ok) this.notePrepared(m.prepared);
      else if (r.missing) this.requestBlock(from, r.missing);
      else if (!r.stale) return this.drop(from, `view change from ${m.producer}: ${r.reason}`);
    }
    this.viewChanges.set(m.producer, m);
    this.afterViewChanges();
  }

  /**
   * A view change while the chain here runs CFT means one of us missed a switch of
   * consensus (say, it was down): the sender a BFT→CFT one, or we a CFT→BFT one. Send
   * our head and ask for the sender's; whoever is behind fetches the ancestors. No
   * leader broadcasts blocks until the one behind takes part again, so nothing else
   * would reach it.
   */
  private syncWithOtherMode(from: string): void {
    this.send(from, { type: 'block', block: this._head.block });
    this.requestBlock(from, NULL_ID);
  }

  /**
   * bft.md "The ordering of view change messages from a single node": a later term is
   * better; in one term the leader's view change is better when it names a newer
   * block (its second view change), anyone else's when it names an older one.
   */
  private betterViewChange(m: ViewChangeMessage, known: ViewChangeMessage): boolean {
    if (m.term !== known.term) return m.term > known.term;
    const c = compareNamed(m.prepared, known.prepared);
    return bftLeader(this.activeJoint(), m.term) === m.producer ? c > 0 : c < 0;
  }

  private afterViewChanges(): void {
    const joint = this.activeJoint();
    // bft.md: a view change triggers at once if the leader of the current term, or f+1
    // other producers (of either set), are in a later term.
    let target = this._term;
    const leader = bftLeader(joint, this._term);
    const leaderVc = leader === undefined || leader === this.name ? undefined : this.viewChanges.get(leader);
    if (leaderVc && leaderVc.term > target) target = leaderVc.term;
    for (const set of sets(joint)) {
      const terms = set.producers
        .filter((p) => p !== this.name)
        .map((p) => this.viewChanges.get(p)?.term ?? 0)
        .sort((a, b) => b - a);
      const t = terms[weakThreshold(set) - 1] ?? 0;
      if (t > target) target = t;
    }
    if (target > this._term) return this.startViewChange(target, false);

    if (this.vcDeadline === Infinity && !this.viewActive) {
      const atOrAfter = new Set<ProducerName>();
      for (const [p, vc] of this.viewChanges) if (vc.term >= this._term) atOrAfter.add(p);
      if (this.quorum(joint, atOrAfter)) this.vcDeadline = this.now + this.vcTimeout;
    }
    if (!this.viewActive && leader === this.name) this.tryActivate();
  }

  /**
   * bft.md rule 4: the first block of a term descends from the block named by the
   * leader's view change, and that block is the best named by a quorum of view changes
   * of the term. psibase (bft.hpp `get_subtree_from_leader`, `set_root`): the quorum
   * counts view changes naming a block no better than the leader's; a leader whose
   * view change names too old a block takes the best prepared certificate it has
   * seen and issues a second view change for the same term naming it.
   */
  private tryActivate(): void {
    let own = this.viewChanges.get(this.name);
    if (!own || own.term !== this._term) return;
    // Certificates that named blocks still in flight when they arrived count once the blocks are here.
    for (const vc of this.viewChanges.values()) {
      if (vc.term === this._term && vc.prepared && this.improvesPrepared(vc.prepared.term, vc.prepared.num) && this.checkPrepared(vc.prepared).ok)
        this.notePrepared(vc.prepared);
    }
    if (compareNamed(this.bestPrepared, own.prepared) > 0) {
      own = this.sign<ViewChangeMessage>({ type: 'viewChange', term: this._term, producer: this.name, prepared: this.bestPrepared, signature: '' });
      this.viewChanges.set(this.name, own);
      this.send('*', own);
    }
    let parent = this._head;
    if (own.prepared) {
      const named = this.checkPrepared(own.prepared);
      if (!named.ok) return;
      if (!descendsFrom(parent, named.entry)) parent = named.entry;
    }
    if (!descendsFrom(parent, this._irreversible)) return;
    // The producers that govern the new block are those its parent leaves, as peers check.
    const gov = parent.state;
    if (bftLeader(gov, this._term) !== this.name) return;
    const vcs: ViewChangeMessage[] = [];
    const voters = new Set<ProducerName>();
    for (const vc of this.viewChanges.values()) {
      if (vc.term !== this._term || !isProducer(gov, vc.producer) || compareNamed(vc.prepared, own.prepared) > 0) continue;
      vcs.push(vc);
      voters.add(vc.producer);
    }
    if (!this.quorum(gov, voters)) return;
    const e = this.produce(parent, vcs);
    if (!e) return;
    this.viewActive = true;
    this.lastProduced = e;
    this.nextBlockAt = this.now + this.blockIntervalMs;
  }

  private onBftBlock(e: BlockEntry): void {
    if (this.mode !== 'bft') return;
    const h = e.header;
    if (h.term > this._term) this.enterActiveTerm(h.term);
    else if (h.term === this._term && !this.viewActive && h.producer !== this.name) {
      this.viewActive = true;
      // Its view-change certificate shows a quorum in this term, so the view-change timer
      // runs again (bft.md): without it, a term whose leader then cannot produce (the
      // producer set changed under it) would never be left.
      if (this.vcDeadline === Infinity) this.vcDeadline = this.now + this.vcTimeout;
    }
    this.maybePrepare(e);
    const early = this.earlyVotes.get(e.id);
    if (early) {
      this.earlyVotes.delete(e.id);
      this.pendingCount -= early.length;
      for (const v of early) this.countVote(e, v);
    }
  }

  /** bft.md rule 2: never prepare (or commit) conflicting blocks in one term. */
  private mayVote(e: BlockEntry, type: 'prepare' | 'commit', last: { term: number; id: BlockId } | undefined): boolean {
    if (e.header.term !== this._term || !this.mayCast(e, type, this.name) || !this.viable(e)) return false;
    if (!last || last.term !== this._term) return true;
    const prev = this.blocks.get(last.id);
    return prev !== undefined && e.header.num > prev.header.num && descendsFrom(e, prev);
  }

  private maybePrepare(e: BlockEntry): void {
    if (!this.mayVote(e, 'prepare', this.lastPrepared)) return;
    this.lastPrepared = { term: this._term, id: e.id };
    this.hardDirty = true;
    const v = this.sign<VoteMessage>({ type: 'prepare', term: this._term, producer: this.name, subject: e.id, value: e.header.num, signature: '' });
    this.send('*', v);
    this.countVote(e, v);
  }

  private maybeCommit(e: BlockEntry): void {
    // bft.md rule 1: only commit a block prepared by a quorum.
    if (!this.mayVote(e, 'commit', this.lastCommitted)) return;
    this.lastCommitted = { term: this._term, id: e.id };
    this.hardDirty = true;
    const v = this.sign<VoteMessage>({ type: 'commit', term: this._term, producer: this.name, subject: e.id, value: e.header.num, signature: '' });
    this.send('*', v);
    this.countVote(e, v);
  }

  private onBftVote(from: string, v: VoteMessage): void {
    let byNum = this.seenVotes.get(v.producer);
    const seen = byNum?.get(v.value);
    if (seen) {
      for (const first of seen) {
        if (first.type !== v.type || first.term !== v.term) continue;
        if (first.subject !== v.subject) this.recordEvidence({ producer: v.producer, kind: v.type as 'prepare' | 'commit', term: v.term, first, second: v });
        return;
      }
    }
    if (v.value <= this._irreversible.header.num) return;
    if (seen) seen.push(v);
    else {
      if (!byNum) this.seenVotes.set(v.producer, (byNum = new Map()));
      byNum.set(v.value, [v]);
    }
    this.seenVoteCount++;
    const e = this.blocks.get(v.subject);
    if (!e) {
      if (this.pendingCount >= MAX_PENDING) return;
      const list = this.earlyVotes.get(v.subject);
      if (list) list.push(v);
      else this.earlyVotes.set(v.subject, [v]);
      // No fetch here: the block is usually in flight, and a lost one shows up as an orphan parent.
      this.pendingCount++;
      return;
    }
    this.countVote(e, v);
  }

  private countVote(e: BlockEntry, v: VoteMessage): void {
    const type = v.type as 'prepare' | 'commit';
    if (v.term !== e.header.term || v.value !== e.header.num || !this.mayCast(e, type, v.producer)) {
      return this.drop(v.producer, `${v.type} does not match block ${e.header.num} or the producers that ${v.type} it`);
    }
    if (e.header.num <= this._irreversible.header.num) return;
    const map = type === 'prepare' ? this.prepares : this.commits;
    let tally = map.get(e.id);
    if (!tally) map.set(e.id, (tally = new QuorumTally(type === 'prepare' ? prepareSets(e.gov) : sets(e.gov), this.unsafeQuorum)));
    if (!tally.add(v.producer, v) || !tally.reached) return;
    const h = e.header;
    if (v.type === 'prepare') {
      if (this.improvesPrepared(h.term, h.num)) this.notePrepared({ blockId: e.id, term: h.term, num: h.num, prepares: [...tally.votes.values()] });
      this.maybeCommit(e);
    } else {
      // bft.md: irreversible once committed by 2f+1 (of both sets while joint).
      this.markIrreversible(e, [...tally.votes.values()]);
    }
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

/**
 * Orders the blocks two view changes name as psibase's `by_best_prepared`: by term,
 * then id (whose first bytes are the block number); naming none comes first.
 */
function compareNamed(a: PreparedCertificate | undefined, b: PreparedCertificate | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  if (a.term !== b.term) return a.term - b.term;
  return a.blockId < b.blockId ? -1 : a.blockId > b.blockId ? 1 : 0;
}

function hasViewChanges(b: SignedBlock): boolean {
  return (b.proof?.viewChanges?.length ?? 0) > 0;
}

/**
 * Data types of the consensus state machines. Blocks are abstract here: `BlockHeader`
 * mirrors only the fields of psibase's `BlockHeader` (block.hpp) that consensus reads.
 * The real fracpack header from src/protocol plugs in through `BlockCodec` (block.ts).
 */

/** sha256 of the encoded header, first 4 bytes = big-endian block number (hex). */
export type BlockId = string;
export type ProducerName = string;
export type ConsensusMode = 'cft' | 'bft';

/** psibase `CftConsensus` / `BftConsensus`: the algorithm and its producers. */
export interface ProducerSet {
  readonly mode: ConsensusMode;
  readonly producers: readonly ProducerName[];
}

/**
 * psibase `JointConsensus`: the current set and, while a change is pending, the next
 * set and the number of the block that introduced it. Joint consensus ends once that
 * block is irreversible (joint-consensus.md).
 */
export interface JointConsensus {
  readonly current: ProducerSet;
  readonly next?: { readonly set: ProducerSet; readonly blockNum: number } | undefined;
}

export interface BlockHeader {
  readonly num: number;
  readonly previous: BlockId;
  readonly producer: ProducerName;
  readonly term: number;
  /** Virtual or wall time in ms when produced. */
  readonly time: number;
  /** The producer's irreversible block number when it produced this block (psibase `commitNum`). */
  readonly commitNum: number;
  /** psibase `newConsensus`: starts joint consensus on this block. */
  readonly newConsensus?: ProducerSet | undefined;
  /** Stands for the transaction merkle root: content that consensus does not read. */
  readonly payload: string;
}

/**
 * What a block carries besides its header, outside the block id (psibase
 * `auxConsensusData`): the view-change certificate that opens a BFT term and the
 * commit certificate that justifies `commitNum`.
 */
export interface BlockProof {
  readonly viewChanges?: readonly ViewChangeMessage[] | undefined;
  readonly commits?: readonly VoteMessage[] | undefined;
}

export interface SignedBlock {
  readonly header: BlockHeader;
  /** Producer's signature over the block id. */
  readonly signature: string;
  readonly proof?: BlockProof | undefined;
}

// ---------------------------------------------------------------- messages

export interface BlockMessage {
  readonly type: 'block';
  readonly block: SignedBlock;
}

/** CFT: a follower has applied the leader's chain up to `blockNum` (psibase ConfirmMessage). */
export interface ConfirmMessage {
  readonly type: 'confirm';
  readonly term: number;
  readonly producer: ProducerName;
  readonly blockNum: number;
  readonly blockId: BlockId;
  readonly signature: string;
}

export interface RequestVoteMessage {
  readonly type: 'requestVote';
  readonly term: number;
  readonly producer: ProducerName;
  readonly lastTerm: number;
  readonly lastNum: number;
  readonly signature: string;
}

export interface VoteMessage {
  readonly type: 'vote' | 'prepare' | 'commit';
  readonly term: number;
  readonly producer: ProducerName;
  /** vote: the candidate; prepare/commit: the block id. */
  readonly subject: string;
  /** vote: 1 granted, 0 refused; prepare/commit: the block number. */
  readonly value: number;
  readonly signature: string;
}

/** A block with prepares from a quorum of the producers that govern it. */
export interface PreparedCertificate {
  readonly blockId: BlockId;
  readonly term: number;
  readonly num: number;
  readonly prepares: readonly VoteMessage[];
}

/** BFT: the sender moves to `term`, naming its best prepared block (bft.md, rule 3). */
export interface ViewChangeMessage {
  readonly type: 'viewChange';
  readonly term: number;
  readonly producer: ProducerName;
  readonly prepared?: PreparedCertificate | undefined;
  readonly signature: string;
}

/**
 * Ask a peer for block `id` and up to `count - 1` of its ancestors; `id` = NULL_ID
 * (all zeros) asks for the peer's head, when all we know is that it is ahead of us.
 */
export interface RequestBlocksMessage {
  readonly type: 'requestBlocks';
  readonly id: BlockId;
  readonly count: number;
}

export type ConsensusMessage =
  | BlockMessage
  | ConfirmMessage
  | RequestVoteMessage
  | VoteMessage
  | ViewChangeMessage
  | RequestBlocksMessage;

// ------------------------------------------------------------ components

/**
 * Signs the canonical bytes of a message or block id with this node's key. `data` is
 * lent for the call (the node reuses its buffer): copy it to keep it.
 */
export interface Signer {
  sign(data: Uint8Array): string;
}

/** Checks a producer's signature; must reject signatures made with any other key. `data` is lent for the call, as for `Signer`. */
export interface Verifier {
  verify(producer: ProducerName, data: Uint8Array, signature: string): boolean;
}

/** Seeded randomness (election timeouts). Returns a float in [0, 1). */
export interface Random {
  next(): number;
}

/** Block content: what the chain executor produces and validates. */
export interface BlockSource {
  /** Content for a new block on top of `parent` (e.g. the transaction merkle root). */
  payload(parent: BlockHeader, num: number): string;
  /** A producer-set change to carry in the next block, if the chain asks for one. */
  newConsensus?(parent: BlockHeader, joint: JointConsensus): ProducerSet | undefined;
  /** Whether a block's content is valid (execution). */
  validate(header: BlockHeader): boolean;
}

export interface ConsensusComponents {
  readonly signer: Signer;
  readonly verifier: Verifier;
  readonly random: Random;
  readonly blocks: BlockSource;
}

// ------------------------------------------------------------- ready

/** What must survive a crash; written before the messages of the same Ready are sent. */
export interface HardState {
  readonly term: number;
  /** CFT: the candidate voted for in `term`. */
  readonly votedFor: ProducerName | undefined;
  readonly irreversible: BlockId;
  /** BFT: the last block prepared and committed, so a restart never votes twice in a term. */
  readonly lastPrepared: { readonly term: number; readonly id: BlockId } | undefined;
  readonly lastCommitted: { readonly term: number; readonly id: BlockId } | undefined;
  readonly bestPrepared: PreparedCertificate | undefined;
  /** The commit certificate of the irreversible block, to justify `commitNum` in BFT. */
  readonly irreversibleProof: readonly VoteMessage[] | undefined;
}

export interface Outbound {
  /** A producer name, or '*' for every peer. */
  readonly to: ProducerName | '*';
  readonly message: ConsensusMessage;
}

export interface Dropped {
  readonly from: string;
  readonly reason: string;
}

/** Proof that a producer signed two conflicting things in one term. */
export interface Evidence {
  readonly producer: ProducerName;
  readonly kind: 'block' | 'prepare' | 'commit';
  readonly term: number;
  readonly first: SignedBlock | VoteMessage;
  readonly second: SignedBlock | VoteMessage;
}

export interface Ready {
  readonly hardState: HardState | undefined;
  /** Newly accepted blocks to store. */
  readonly blocks: readonly SignedBlock[];
  readonly messages: readonly Outbound[];
  /** Newly irreversible blocks, oldest first, each the child of the previous one. */
  readonly irreversible: readonly SignedBlock[];
  /** The best block, when it changed (the chain applies this fork). */
  readonly head: BlockId | undefined;
  readonly dropped: readonly Dropped[];
  readonly evidence: readonly Evidence[];
}

/** Everything the node asked to persist, handed back on restart. */
export interface PersistedState {
  readonly hardState: HardState | undefined;
  readonly blocks: readonly SignedBlock[];
}

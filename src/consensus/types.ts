/**
 * Data types of the consensus state machines. Blocks are psibase's signed blocks
 * (src/protocol/types.ts `SignedBlock`) and messages are psibase's peer messages as
 * src/net/wire decodes them (`WireMessage`): one set of wire types. What is defined
 * here is only the machine's own bookkeeping (producer sets by name, votes held for
 * certificates) and the components it is given.
 */
import type { WireMessage } from '../net/wire/messages.ts';
import type { Block, Claim, SignedBlock } from '../protocol/types.ts';

export type { WireMessage } from '../net/wire/messages.ts';
export type { Block, BlockHeader, Claim, Consensus, SignedBlock } from '../protocol/types.ts';

/** A block id as lowercase hex: psibase's id (src/protocol/ids.ts), first 4 bytes the big-endian block number. */
export type BlockId = string;
/** A producer's account name. */
export type ProducerName = string;
export type ConsensusMode = 'cft' | 'bft';

/**
 * psibase `CftConsensus` / `BftConsensus` by name: the algorithm, its producers, and
 * each producer's auth claim (the `signer` of its messages), in the same order.
 */
export interface ProducerSet {
  readonly mode: ConsensusMode;
  readonly producers: readonly ProducerName[];
  readonly claims: readonly Claim[];
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

/**
 * A checked prepare or commit, kept for a certificate: psibase's SignedMessage<T> with
 * T = {block_id, producer, signer}, re-packed from these fields when sent on (the
 * `ProducerConfirm` of a view change or of a BlockConfirm keeps only producer and signature).
 */
export interface Vote {
  readonly kind: 'prepare' | 'commit';
  readonly blockId: BlockId;
  readonly producer: ProducerName;
  readonly signer: Claim;
  readonly signature: Uint8Array;
}

/** A block with prepares from a quorum of the producers that govern it (what a view change carries). */
export interface PreparedCertificate {
  readonly blockId: BlockId;
  readonly term: number;
  readonly num: number;
  readonly prepares: readonly Vote[];
}

// ------------------------------------------------------------ components

/**
 * Signs with this node's producer key. `data` is the exact preimage psibase signs: a
 * block's BlockSignatureInfo (00 ce a8 'B' ‖ id) or a message's type byte ‖ fracpack.
 * `data` is lent for the call: copy it to keep it.
 */
export interface Signer {
  sign(data: Uint8Array): Uint8Array;
}

/** Checks a producer's signature over `data`; must reject signatures made with any other key. */
export interface Verifier {
  /**
   * Checks `producer`'s signature over `data`. `claim`: the claim consensus holds for it
   * (from the sets in force or pending as its head has them), when it has one — a set
   * named by a block not yet committed is known to consensus before the chain's store.
   */
  verify(producer: ProducerName, data: Uint8Array, signature: Uint8Array, claim?: Claim): boolean;
}

/** Seeded randomness (election timeouts). Returns a float in [0, 1). */
export interface Random {
  next(): number;
}

/** The header fields consensus decides for a block it produces. */
export interface ConsensusFields {
  readonly previous: Uint8Array;
  readonly blockNum: number;
  /** µs since the UNIX epoch (psibase's block time). */
  readonly time: bigint;
  readonly producer: bigint;
  readonly term: number;
  readonly commitNum: number;
}

/** Block content: what the chain executor produces and validates. */
export interface BlockSource {
  /**
   * The block to produce on `parent` with the header fields consensus decided (copy
   * them into the header as given, but for psibase's one rule: a block that leaves a
   * sole producer with no change pending names itself committed, `commitNum` =
   * `blockNum`). The executor fills in the rest (transactions,
   * merkle roots, consensusState) and `newConsensus` when the block changes the
   * producers; it must not while `joint.next` is set. Undefined: no block now.
   */
  build(parent: SignedBlock, fields: ConsensusFields, joint: JointConsensus): Block | undefined;
  /** Whether a block's content is valid (execution). */
  validate(block: SignedBlock): boolean;
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
  /** The packed BlockConfirm (commit certificate) of the irreversible block, for auxConsensusData in BFT. */
  readonly irreversibleProof: Uint8Array | undefined;
}

export interface Outbound {
  /** A producer name, or '*' for every peer. */
  readonly to: ProducerName | '*';
  /** psibase's message in src/net/wire's native form: `encodeMessage(message)` gives its bytes. */
  readonly message: WireMessage;
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
  readonly first: SignedBlock | Vote;
  readonly second: SignedBlock | Vote;
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

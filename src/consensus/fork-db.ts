/**
 * The block tree a node knows, with the joint consensus state each block leaves
 * behind. Fork choice as psibase: the best block is the one with the highest term,
 * then the highest number (bft.md "ordered first by term, then by block height").
 */
import type { BlockHeader, BlockId, JointConsensus, ProducerName, SignedBlock } from './types.ts';

/** A block in the tree, with the header fields consensus reads taken out once. */
export interface BlockEntry {
  readonly id: BlockId;
  readonly block: SignedBlock;
  readonly header: BlockHeader;
  readonly num: number;
  readonly term: number;
  readonly producer: ProducerName;
  /** The parent's id (hex). */
  readonly previous: BlockId;
  readonly commitNum: number;
  /** Cut (undefined) on the oldest block kept once older ones are pruned, so they can be collected. */
  parent: BlockEntry | undefined;
  /** The producers that confirm, prepare and commit this block: its parent's state with its own `newConsensus` applied (psibase's BlockHeaderState). Its producer is checked against the parent's `state`. */
  readonly gov: JointConsensus;
  /** The joint consensus after this block (its `newConsensus` applied). */
  readonly state: JointConsensus;
}

export function isBetter(a: BlockEntry, b: BlockEntry): boolean {
  if (a.term !== b.term) return a.term > b.term;
  if (a.num !== b.num) return a.num > b.num;
  return a.id > b.id;
}

/** The ancestor of `e` (inclusive) with number `num`, if the tree still holds it. */
export function ancestorAt(e: BlockEntry, num: number): BlockEntry | undefined {
  let cur: BlockEntry | undefined = e;
  while (cur && cur.num > num) cur = cur.parent;
  return cur && cur.num === num ? cur : undefined;
}

/** Whether `e` is `ancestor` or one of its descendants. */
export function descendsFrom(e: BlockEntry, ancestor: BlockEntry): boolean {
  return ancestorAt(e, ancestor.num) === ancestor;
}

/**
 * The entries to keep once `irreversible` is irreversible: its last `retain` ancestors
 * (itself included), to serve peers that are behind, and every block above it that
 * descends from it. Everything else is on a fork that lost to an irreversible block
 * and can never become the head again.
 */
export function survivors(entries: Iterable<BlockEntry>, irreversible: BlockEntry, retain: number): Set<BlockEntry> {
  const keep = new Set<BlockEntry>();
  let cur: BlockEntry | undefined = irreversible;
  for (let i = 0; cur && i < retain; i++, cur = cur.parent) keep.add(cur);
  const floor = irreversible.num;
  for (const e of entries) if (e.num > floor && descendsFrom(e, irreversible)) keep.add(e);
  return keep;
}

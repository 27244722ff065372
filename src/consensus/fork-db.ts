/**
 * The block tree a node knows, with the joint consensus state each block leaves
 * behind. Fork choice as psibase: the best block is the one with the highest term,
 * then the highest number (bft.md "ordered first by term, then by block height").
 */
import type { BlockHeader, BlockId, JointConsensus, SignedBlock } from './types.ts';

export interface BlockEntry {
  readonly id: BlockId;
  readonly block: SignedBlock;
  readonly header: BlockHeader;
  readonly parent: BlockEntry | undefined;
  /** The producers that govern this block: produce, confirm, prepare and commit it. */
  readonly gov: JointConsensus;
  /** The joint consensus after this block (its `newConsensus` applied). */
  readonly state: JointConsensus;
}

export function isBetter(a: BlockHeader, aId: BlockId, b: BlockHeader, bId: BlockId): boolean {
  if (a.term !== b.term) return a.term > b.term;
  if (a.num !== b.num) return a.num > b.num;
  return aId > bId;
}

/** The ancestor of `e` (inclusive) with number `num`, if the tree still holds it. */
export function ancestorAt(e: BlockEntry, num: number): BlockEntry | undefined {
  let cur: BlockEntry | undefined = e;
  while (cur && cur.header.num > num) cur = cur.parent;
  return cur && cur.header.num === num ? cur : undefined;
}

/** Whether `e` is `ancestor` or one of its descendants. */
export function descendsFrom(e: BlockEntry, ancestor: BlockEntry): boolean {
  return ancestorAt(e, ancestor.header.num) === ancestor;
}

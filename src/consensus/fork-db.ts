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
  /** Cut (undefined) on the oldest block kept once older ones are pruned, so they can be collected. */
  parent: BlockEntry | undefined;
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
  const floor = irreversible.header.num;
  for (const e of entries) if (e.header.num > floor && descendsFrom(e, irreversible)) keep.add(e);
  return keep;
}

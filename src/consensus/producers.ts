/**
 * Producer sets and quorums, including joint consensus (joint-consensus.md): while a
 * change is pending, every decision needs a quorum of the old set and of the new set.
 */
import type { JointConsensus, ProducerName, ProducerSet } from './types.ts';

/** Test-only hook: replaces the quorum size of every set, to show the simulator catches a broken rule. */
export type QuorumOverride = (set: ProducerSet) => number;

/**
 * psibase ProducerSet::threshold: CFT a majority (n/2+1), BFT 2f+1 (n·2/3+1).
 * A single producer is a quorum on its own, so such a chain is irreversible at once.
 */
export function threshold(set: ProducerSet, override?: QuorumOverride): number {
  if (override) return override(set);
  const n = set.producers.length;
  return set.mode === 'cft' ? Math.floor(n / 2) + 1 : Math.floor((n * 2) / 3) + 1;
}

/** psibase weak_threshold: f+1 in BFT, the fewest producers that include an honest one. */
export function weakThreshold(set: ProducerSet): number {
  const n = set.producers.length;
  return set.mode === 'cft' ? 1 : Math.floor((n + 2) / 3);
}

export function sets(joint: JointConsensus): ProducerSet[] {
  return joint.next ? [joint.current, joint.next.set] : [joint.current];
}

/**
 * Producer name → position, per set object. Sets are immutable and shared by every
 * block they govern, so each is indexed once; membership is asked for every message.
 */
const indexes = new WeakMap<ProducerSet, ReadonlyMap<ProducerName, number>>();

export function producerIndex(set: ProducerSet): ReadonlyMap<ProducerName, number> {
  let index = indexes.get(set);
  if (!index) {
    index = new Map(set.producers.map((p, i) => [p, i]));
    indexes.set(set, index);
  }
  return index;
}

export function inSet(set: ProducerSet, name: ProducerName): boolean {
  return producerIndex(set).has(name);
}

export function isProducer(joint: JointConsensus, name: ProducerName): boolean {
  return inSet(joint.current, name) || (joint.next !== undefined && inSet(joint.next.set, name));
}

/**
 * The sets whose quorum a BFT prepare needs. joint-consensus.md, BFT→CFT: "The new
 * producers commit, but do not prepare blocks. Commit require prepares by a quorum of
 * the old producers." psibase counts a next set's prepares only when that set is BFT
 * (bft.hpp `block_info::confirm`); commits always need both sets.
 */
export function prepareSets(joint: JointConsensus): ProducerSet[] {
  return joint.next && joint.next.set.mode === 'bft' ? [joint.current, joint.next.set] : [joint.current];
}

/** Whether `name` prepares blocks governed by `joint` (psibase `can_prepare`: CFT joint producers do not). */
export function mayPrepare(joint: JointConsensus, name: ProducerName): boolean {
  return inSet(joint.current, name) || (joint.next !== undefined && joint.next.set.mode === 'bft' && inSet(joint.next.set, name));
}

/** Whether `voters` hold a quorum of every set in force. */
export function hasQuorum(joint: JointConsensus, voters: ReadonlySet<ProducerName>, override?: QuorumOverride): boolean {
  return hasQuorumOf(sets(joint), voters, override);
}

/** Whether `voters` hold a quorum of each of `counted`. */
export function hasQuorumOf(counted: readonly ProducerSet[], voters: ReadonlySet<ProducerName> | ReadonlyMap<ProducerName, unknown>, override?: QuorumOverride): boolean {
  for (const set of counted) {
    let n = 0;
    for (const p of set.producers) if (voters.has(p)) n++;
    if (n < threshold(set, override)) return false;
  }
  return true;
}

/**
 * Votes of one kind for one subject, with a running count per set (psibase keeps a
 * bitset and its count per producer set): adding a vote and asking whether a quorum
 * is reached cost O(1), where recounting every set on every vote cost O(n) and made
 * a block's votes O(n²) per node.
 */
export class QuorumTally<V> {
  /** Voters in arrival order, with their votes. */
  readonly votes = new Map<ProducerName, V>();
  private readonly members: ReadonlyMap<ProducerName, number>[];
  private readonly need: number[];
  private readonly have: number[];

  constructor(counted: readonly ProducerSet[], override?: QuorumOverride) {
    this.members = counted.map(producerIndex);
    this.need = counted.map((s) => threshold(s, override));
    this.have = counted.map(() => 0);
  }

  /** Records `name`'s vote; false if it had already voted. */
  add(name: ProducerName, vote: V): boolean {
    if (this.votes.has(name)) return false;
    this.votes.set(name, vote);
    for (let i = 0; i < this.members.length; i++) if (this.members[i]!.has(name)) this.have[i]!++;
    return true;
  }

  get reached(): boolean {
    for (let i = 0; i < this.need.length; i++) if (this.have[i]! < this.need[i]!) return false;
    return true;
  }
}

/**
 * joint-consensus.md: joint consensus ends once the block that started it is
 * irreversible; `commitNum` is the irreversible number known when a block is made.
 */
export function settle(joint: JointConsensus, commitNum: number): JointConsensus {
  if (joint.next && commitNum >= joint.next.blockNum) return { current: joint.next.set };
  return joint;
}

/** The BFT leader of a term: round-robin over the old set (bft.md; joint: "selected from the old producers"). */
export function bftLeader(joint: JointConsensus, term: number): ProducerName | undefined {
  const ps = joint.current.producers;
  return ps.length === 0 ? undefined : ps[term % ps.length];
}

/**
 * Who may stand for CFT election. joint-consensus.md: CFT→CFT any old or new producer;
 * CFT→BFT only the old producers ("the new producers cannot advance the current term").
 */
export function mayStandForElection(joint: JointConsensus, name: ProducerName): boolean {
  if (inSet(joint.current, name)) return true;
  return joint.next !== undefined && joint.next.set.mode === 'cft' && inSet(joint.next.set, name);
}

export function sameSet(a: ProducerSet, b: ProducerSet): boolean {
  return a.mode === b.mode && a.producers.length === b.producers.length && a.producers.every((p, i) => p === b.producers[i]);
}

/** Whether two joint consensus states have the same sets in force (either may be absent). */
export function sameJoint(a: JointConsensus | undefined, b: JointConsensus | undefined): boolean {
  if (!a || !b) return a === b;
  if (!sameSet(a.current, b.current)) return false;
  if (!a.next || !b.next) return a.next === b.next;
  return sameSet(a.next.set, b.next.set);
}

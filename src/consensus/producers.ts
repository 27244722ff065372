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

export function isProducer(joint: JointConsensus, name: ProducerName): boolean {
  return joint.current.producers.includes(name) || (joint.next?.set.producers.includes(name) ?? false);
}

/** Whether `voters` hold a quorum of every set in force. */
export function hasQuorum(joint: JointConsensus, voters: ReadonlySet<ProducerName>, override?: QuorumOverride): boolean {
  for (const set of sets(joint)) {
    let n = 0;
    for (const p of set.producers) if (voters.has(p)) n++;
    if (n < threshold(set, override)) return false;
  }
  return true;
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
  if (joint.current.producers.includes(name)) return true;
  return joint.next !== undefined && joint.next.set.mode === 'cft' && joint.next.set.producers.includes(name);
}

export function sameSet(a: ProducerSet, b: ProducerSet): boolean {
  return a.mode === b.mode && a.producers.length === b.producers.length && a.producers.every((p, i) => p === b.producers[i]);
}

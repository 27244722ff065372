/**
 * Byzantine producers for the simulator. A Byzantine node runs the honest state
 * machine (so what it sends is well-formed and timely) and rewrites its output: it
 * goes silent, equivocates, double-votes or sends invalid and forged messages.
 */
import { blockId, blockSigningBytes, messageSigningBytes } from '../block.ts';
import type { BlockHeader, ConsensusMessage, Outbound, ProducerName, SignedBlock, Signer, VoteMessage } from '../types.ts';
import type { Prng } from './prng.ts';

export const BYZANTINE_BEHAVIOURS = ['silent', 'equivocate', 'double-vote', 'invalid', 'mixed'] as const;
export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number];

export interface Delivery {
  readonly to: ProducerName;
  /** The node it leaves from, when not the one whose output is rewritten (colluders send for each other). */
  readonly from?: ProducerName;
  readonly message: unknown;
}

/** What a Byzantine node does with a message for it: pass it to its state machine or not, and send more. */
export interface Received {
  readonly pass: boolean;
  readonly deliveries: readonly Delivery[];
}

/** Stands between a Byzantine node's honest state machine and the network. */
export interface Adversary {
  /** What actually leaves the node for `out`, given the peers it would reach. */
  rewrite(out: Outbound, peers: readonly ProducerName[]): Delivery[];
  /** Sees a message before the node's state machine does. */
  receive?(from: ProducerName, message: unknown): Received;
}

/** A lone Byzantine node: it rewrites only its own output. (collusion.ts: nodes that act together.) */
export class ByzantineAdversary implements Adversary {
  constructor(
    readonly name: ProducerName,
    private readonly signer: Signer,
    readonly behaviour: ByzantineBehaviour,
    private readonly rng: Prng,
  ) {}

  /** What actually leaves the node for `out`, given the peers it would reach. */
  rewrite(out: Outbound, peers: readonly ProducerName[]): Delivery[] {
    const targets = out.to === '*' ? peers : [out.to];
    const b = this.behaviour === 'mixed' ? this.rng.pick(BYZANTINE_BEHAVIOURS.filter((x) => x !== 'mixed')) : this.behaviour;
    const m = out.message;
    switch (b) {
      case 'silent':
        return [];
      case 'equivocate':
        if (m.type === 'block' && m.block.header.producer === this.name) return this.split(targets, m, { type: 'block', block: this.twin(m.block) });
        break;
      case 'double-vote':
        if ((m.type === 'prepare' || m.type === 'commit') && m.producer === this.name) {
          const other = this.resign({ ...m, subject: this.randomId() });
          const deliveries = this.split(targets, m, other);
          const witness = targets[this.rng.int(targets.length)];
          if (witness !== undefined) deliveries.push({ to: witness, message: m }, { to: witness, message: other });
          return deliveries;
        }
        break;
      case 'invalid': {
        const extra = this.invalid(m);
        return [...targets.map((to) => ({ to, message: m as unknown })), ...targets.map((to) => ({ to, message: extra }))];
      }
    }
    return targets.map((to) => ({ to, message: m }));
  }

  private split(targets: readonly ProducerName[], a: unknown, b: unknown): Delivery[] {
    const half = Math.ceil(targets.length / 2);
    return targets.map((to, i) => ({ to, message: i < half ? a : b }));
  }

  private randomId(): string {
    let s = '';
    for (let i = 0; i < 8; i++) s += Math.floor(this.rng.next() * 0x100000000).toString(16).padStart(8, '0');
    return s;
  }

  private signBlock(header: BlockHeader, proof: SignedBlock['proof']): SignedBlock {
    const id = blockId(header);
    return { header, signature: this.signer.sign(blockSigningBytes(id)), ...(proof ? { proof } : {}) };
  }

  /** A different block at the same height and term, correctly signed: the equivocation itself. */
  private twin(b: SignedBlock): SignedBlock {
    return this.signBlock({ ...b.header, payload: `${b.header.payload}x${this.rng.int(1000)}` }, b.proof);
  }

  private resign(m: VoteMessage): VoteMessage {
    return { ...m, signature: this.signer.sign(messageSigningBytes(m)) };
  }

  /** One of many ways to be wrong: every one must be dropped or outvoted by honest nodes. */
  private invalid(m: ConsensusMessage): unknown {
    if (m.type === 'viewChange' && m.producer === this.name && this.rng.chance(0.5)) {
      // A second view change for the same term naming no block: well-formed and signed,
      // but it hides what this node prepared (bft.md rule 3), and as a non-leader's it
      // replaces the first wherever it arrives later.
      const { prepared: _hidden, ...rest } = m;
      return { ...rest, signature: this.signer.sign(messageSigningBytes({ ...rest, signature: '' })) };
    }
    const h: BlockHeader | undefined = m.type === 'block' ? m.block.header : undefined;
    const choice = this.rng.int(h ? 9 : 4);
    switch (choice) {
      case 0:
        return { type: 'prepare', term: -1, producer: this.name };
      case 1:
        return 'garbage';
      case 2:
        // Forged: claims another producer's name but is signed with this node's key.
        return this.resign({ type: 'commit', term: 1, producer: 'p0', subject: this.randomId(), value: 2, signature: '' });
      case 3:
        return { type: 'viewChange', term: 1e6, producer: this.name, prepared: { blockId: this.randomId(), term: 1, num: 2, prepares: [] }, signature: 'x' };
    }
    const header = h!;
    const block = (m as { block: SignedBlock }).block;
    switch (choice) {
      case 4:
        return { type: 'block', block: { ...block, signature: 'deadbeef' } };
      case 5:
        return { type: 'block', block: this.signBlock({ ...header, num: header.num + 5 }, block.proof) };
      case 6:
        return { type: 'block', block: this.signBlock({ ...header, payload: `bad${this.rng.int(1000)}` }, block.proof) };
      case 7:
        return { type: 'block', block: this.signBlock({ ...header, term: header.term + 100 }, block.proof) };
      default:
        return { type: 'block', block: this.signBlock({ ...header, commitNum: header.num - 1 }, undefined) };
    }
  }
}

/**
 * Byzantine producers for the simulator. A Byzantine node runs the honest state
 * machine (so what it sends is well-formed and timely) and rewrites its output: it
 * goes silent, equivocates, double-votes or sends invalid and forged messages.
 */
import { encodeMessage } from '../../net/wire/messages.ts';
import { accountNumber } from '../../protocol/names.ts';
import { unpackSignedBlock, type SignedBlock } from '../../protocol/types.ts';
import { blockId, hexOf } from '../block.ts';
import { blockMessage, signed, signVote, voteMessage } from '../messages.ts';
import type { Outbound, ProducerName, Signer, WireMessage } from '../types.ts';
import { BAD_CONTENT, signBlock, withHeader } from './blocks.ts';
import { simClaim } from './keys.ts';
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

/** The block a BlockMessage carries. */
export function blockIn(m: WireMessage): SignedBlock | undefined {
  return m.kind === 'BlockMessage' ? unpackSignedBlock(m.value.block) : undefined;
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
      case 'equivocate': {
        const block = blockIn(m);
        if (block && block.block.header.producer === accountNumber(this.name)) return this.split(targets, m, blockMessage(this.twin(block)));
        break;
      }
      case 'double-vote':
        if ((m.kind === 'SignedMessage<PrepareMessage>' || m.kind === 'SignedMessage<CommitMessage>') && m.message.producer === accountNumber(this.name)) {
          // A vote names only a block id; its term is the block's (psibase). A second vote is
          // provable only for a real block: its own block's twin when it made the block (the
          // twin goes along), else a block id nobody has.
          const kind = m.kind === 'SignedMessage<PrepareMessage>' ? 'prepare' : 'commit';
          const own = this.produced.get(hexOf(m.message.block_id));
          const twin = own ? this.twinOf(own) : undefined;
          const other = voteMessage(signVote(kind, twin ? blockId(twin) : this.randomId(), this.name, m.message.signer, this.signer));
          const deliveries = this.split(targets, m, other);
          const witness = targets[this.rng.int(targets.length)];
          if (witness !== undefined) {
            if (twin) deliveries.push({ to: witness, message: blockMessage(twin) });
            deliveries.push({ to: witness, message: m }, { to: witness, message: other });
          }
          return deliveries;
        }
        {
          const own = blockIn(m);
          if (own && own.block.header.producer === accountNumber(this.name)) this.produced.set(blockId(own), own);
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

  private randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.int(256);
    return out;
  }

  private randomId(): string {
    return hexOf(this.randomBytes(32));
  }

  /** Blocks this node made (double-vote), and the one twin of each it votes for too. */
  private readonly produced = new Map<string, SignedBlock>();
  private readonly twins = new Map<SignedBlock, SignedBlock>();

  private twinOf(b: SignedBlock): SignedBlock {
    let t = this.twins.get(b);
    if (!t) this.twins.set(b, (t = this.twin(b)));
    return t;
  }

  /** A different block at the same height and term, correctly signed: the equivocation itself. */
  private twin(b: SignedBlock): SignedBlock {
    return signBlock(withHeader(b, { eventMerkleRoot: this.randomBytes(32) }), this.signer, b.auxConsensusData ?? null);
  }

  /** One of many ways to be wrong: every one must be dropped or outvoted by honest nodes. */
  private invalid(m: WireMessage): unknown {
    if (m.kind === 'SignedMessage<ViewChangeMessage>' && m.message.producer === accountNumber(this.name) && this.rng.chance(0.5)) {
      // A second view change for the same term naming no block: well-formed and signed,
      // but it hides what this node prepared (bft.md rule 3), and as a non-leader's it
      // replaces the first wherever it arrives later.
      return signed('ViewChangeMessage', { ...m.message, best_prepared: new Uint8Array(32), best_prepared_term: 0, prepares: [], nextPrepares: null }, this.signer);
    }
    const block = blockIn(m);
    const choice = this.rng.int(block ? 9 : 4);
    switch (choice) {
      case 0: {
        // A prepare cut short: the receiver's decoder refuses it.
        const whole = encodeMessage(voteMessage(signVote('prepare', this.randomId(), this.name, simClaim(this.name), this.signer)));
        return whole.subarray(0, whole.length - 3);
      }
      case 1:
        // Garbage: a type byte psibase does not define, then noise.
        return Uint8Array.of(0xfe, ...this.randomBytes(5));
      case 2:
        // Forged: claims another producer's name but is signed with this node's key.
        return voteMessage(signVote('commit', this.randomId(), 'p0', simClaim('p0'), this.signer));
      case 3:
        return {
          kind: 'SignedMessage<ViewChangeMessage>',
          value: { data: encodeMessage({ kind: 'ViewChangeMessage', value: this.bogusViewChange() }).subarray(1), signature: this.randomBytes(8) },
          message: this.bogusViewChange(),
        };
    }
    const b = block!;
    const h = b.block.header;
    switch (choice) {
      case 4:
        return blockMessage({ ...b, signature: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) });
      case 5:
        return blockMessage(signBlock(withHeader(b, { blockNum: h.blockNum + 5 }), this.signer, b.auxConsensusData ?? null));
      case 6: {
        const bad = new Uint8Array(32);
        bad[0] = BAD_CONTENT;
        bad[1] = this.rng.int(256);
        return blockMessage(signBlock(withHeader(b, { trxMerkleRoot: bad }), this.signer, b.auxConsensusData ?? null));
      }
      case 7:
        return blockMessage(signBlock(withHeader(b, { term: h.term + 100 }), this.signer, b.auxConsensusData ?? null));
      default:
        return blockMessage(signBlock(withHeader(b, { commitNum: h.blockNum - 1 }), this.signer, null));
    }
  }

  private bogusViewChange() {
    return {
      term: 1e6,
      producer: accountNumber(this.name),
      signer: simClaim(this.name),
      best_prepared: Uint8Array.of(0, 0, 0, 2, ...this.randomBytes(28)),
      best_prepared_term: 1,
      prepares: [],
      nextPrepares: null,
    };
  }
}

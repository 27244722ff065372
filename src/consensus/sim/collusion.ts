/**
 * Colluding Byzantine producers: one controller for all of them, which sees every
 * message any of them receives or sends and holds every one of their keys. Each still
 * runs the honest state machine (so what it sends is well-formed and timely); the
 * controller attacks around it:
 *
 * - Equivocating leader: each block a member produces in BFT goes to the members and
 *   to one half of the honest producers; the other half gets a twin, a different block
 *   at the same height, correctly signed, and the twin chain continues with the
 *   member's later blocks of the term (each twin's parent is the previous twin).
 * - Double votes on both sides: for every BFT block any member sees or makes, every
 *   member prepares and commits it at once, rules 1 and 2 of bft.md ignored. Votes for
 *   a block that has a twin go only to the half that holds it, and votes for the twin
 *   to the other half: an honest node counts the first vote of a producer at a height
 *   and keeps a second one only as evidence, so each half sees a clean quorum.
 * - The twin chain is served: a HelloRequest from the twin half is answered with the
 *   twins after the block it names (the member's machine never saw the twins).
 *
 * With f colluders of 3f+1 the smaller half of the 2f+1 honest producers has f, so
 * f + f < 2f+1 and only one twin can reach a quorum. With f+1 colluders each half of
 * the 2f honest producers has f, and f + (f+1) = 2f+1 on both sides: the simulator must
 * then see conflicting irreversible blocks. A quorum of 2f falls the same way to f.
 */
import { accountNumber } from '../../protocol/names.ts';
import type { SignedBlock } from '../../protocol/types.ts';
import { blockId, hexOf, idBytes } from '../block.ts';
import { SYNC_BATCH } from '../constants.ts';
import { blockMessage, signVote, voteMessage } from '../messages.ts';
import type { BlockId, Outbound, ProducerName, Signer, Vote, WireMessage } from '../types.ts';
import { blockIn, type Adversary, type Delivery, type Received } from './byzantine.ts';
import { signBlock, withHeader } from './blocks.ts';
import { simClaim } from './keys.ts';
import type { Prng } from './prng.ts';

type Side = 0 | 1;

export interface CollusionStats {
  /** Blocks sent to one half with a twin to the other. */
  readonly twins: number;
  /** Votes the controller signed for members (both sides counted). */
  readonly votes: number;
}

export class Collusion {
  private readonly signers = new Map<ProducerName, Signer>();
  private readonly side = new Map<ProducerName, Side>();
  /** Original block id → its twin. */
  private readonly twinOf = new Map<BlockId, SignedBlock>();
  /** Twin id → twin, to serve requests for it. */
  private readonly twins = new Map<BlockId, SignedBlock>();
  /** Blocks every member has already prepared and committed. */
  private readonly voted = new Set<BlockId>();
  private twinCount = 0;
  private voteCount = 0;

  /**
   * `honest` are split at random into two halves (sizes differ by at most one);
   * `isBft(member)` says whether that member's chain runs BFT now (the attack is BFT's).
   */
  constructor(
    members: readonly { readonly name: ProducerName; readonly signer: Signer }[],
    honest: readonly ProducerName[],
    rng: Prng,
    private readonly isBft: (member: ProducerName) => boolean,
    private readonly trace?: (line: string) => void,
  ) {
    for (const m of members) this.signers.set(m.name, m.signer);
    const order = [...honest];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const half = Math.floor(order.length / 2);
    order.forEach((p, i) => this.side.set(p, i < half ? 0 : 1));
    this.trace?.(`colluders ${[...this.signers.keys()].join(',')}; honest halves ${order.slice(0, half).join(',')} | ${order.slice(half).join(',')}`);
  }

  get stats(): CollusionStats {
    return { twins: this.twinCount, votes: this.voteCount };
  }

  /** The adversary one member's node runs behind. */
  member(name: ProducerName): Adversary {
    if (!this.signers.has(name)) throw new RangeError(`${name} is not a colluding member`);
    return {
      rewrite: (out, peers) => this.outgoing(name, out, peers),
      receive: (from, message) => this.incoming(name, from, message),
    };
  }

  private isMember(p: ProducerName): boolean {
    return this.signers.has(p);
  }

  /** Where a message about the original of a twinned block may go: members and half 0. */
  private seesOriginal(p: ProducerName): boolean {
    return this.isMember(p) || this.side.get(p) !== 1;
  }

  private outgoing(member: ProducerName, out: Outbound, peers: readonly ProducerName[]): Delivery[] {
    const m = out.message;
    const targets = out.to === '*' ? peers : [out.to];
    const bft = this.isBft(member);
    const b = bft && out.to === '*' ? blockIn(m) : undefined;
    if (b && b.block.header.producer === accountNumber(member)) {
      const id = blockId(b);
      const twin = this.makeTwin(member, id, b);
      const d: Delivery[] = [];
      const twinMessage = twin ? blockMessage(twin) : undefined;
      for (const to of targets) d.push({ to, message: twinMessage && !this.seesOriginal(to) ? twinMessage : m });
      d.push(...this.voteFor(id, b), ...(twin ? this.voteFor(blockId(twin), twin) : []));
      return d;
    }
    if (bft && (m.kind === 'SignedMessage<PrepareMessage>' || m.kind === 'SignedMessage<CommitMessage>') && m.message.producer === accountNumber(member)) {
      const twin = this.twinOf.get(hexOf(m.message.block_id));
      if (twin) {
        // The member's own vote for an original goes only where the original went; its twin vote to the rest.
        const kind = m.kind === 'SignedMessage<PrepareMessage>' ? 'prepare' : 'commit';
        const other = voteMessage(this.sign(member, kind, blockId(twin)));
        return targets.map((to) => ({ to, message: this.seesOriginal(to) ? m : other }));
      }
    }
    return targets.map((to) => ({ to, message: m }));
  }

  private incoming(member: ProducerName, from: ProducerName, message: unknown): Received {
    const m = message as WireMessage;
    if (typeof m !== 'object' || m === null) return PASS;
    if (m.kind === 'HelloRequest' && this.side.get(from) === 1 && this.twins.size > 0) {
      // The twin half asks for what follows its head: the controller serves the twin chain, oldest first.
      const after = m.value.xid._num;
      const chain = [...this.twins.values()].filter((b) => b.block.header.blockNum > after).sort((a, b) => a.block.header.blockNum - b.block.header.blockNum);
      if (chain.length === 0) return PASS;
      return { pass: false, deliveries: chain.slice(0, SYNC_BATCH).map((block) => ({ to: from, from: member, message: blockMessage(block) })) };
    }
    if (m.kind === 'BlockMessage' && this.isBft(member)) {
      // Any BFT block a member sees, honest or not: every member votes for it, both phases at once.
      const b = blockIn(m)!;
      const deliveries = this.voteFor(blockId(b), b);
      return deliveries.length > 0 ? { pass: true, deliveries } : PASS;
    }
    return PASS;
  }

  /**
   * A twin for a member's new block, or none: a block that opens a term on top of a
   * twin cannot have one (the view changes that opened the term name the original side).
   */
  private makeTwin(member: ProducerName, id: BlockId, b: SignedBlock): SignedBlock | undefined {
    const known = this.twinOf.get(id);
    if (known) return known;
    const h = b.block.header;
    const parentTwin = this.twinOf.get(hexOf(h.previous));
    if (parentTwin && h.term !== parentTwin.block.header.term) return undefined;
    const tag = new Uint8Array(32);
    tag[0] = 0x7e;
    tag[31] = this.twinCount & 0xff;
    const block = parentTwin
      ? withHeader(b, { previous: idBytes(blockId(parentTwin)), commitNum: parentTwin.block.header.commitNum, eventMerkleRoot: tag })
      : withHeader(b, { eventMerkleRoot: tag });
    // On the twin chain the original's commit certificate names the wrong blocks: carry the parent twin's.
    const aux = parentTwin ? (parentTwin.auxConsensusData ?? null) : (b.auxConsensusData ?? null);
    const twin = signBlock(block, this.signers.get(member)!, aux);
    const twinId = blockId(twin);
    this.twinOf.set(id, twin);
    this.twins.set(twinId, twin);
    this.twinCount++;
    this.trace?.(`colluders: ${member} equivocates at ${h.blockNum} term ${h.term}: ${id.slice(8, 16)} to one half, twin ${twinId.slice(8, 16)} to the other`);
    return twin;
  }

  /** Every member's prepare and commit for block `id`, once, to the honest nodes that hold it. */
  private voteFor(id: BlockId, _b: SignedBlock): Delivery[] {
    if (this.voted.has(id)) return [];
    this.voted.add(id);
    const isTwin = this.twins.has(id);
    const hasTwin = this.twinOf.has(id);
    const out: Delivery[] = [];
    for (const member of this.signers.keys()) {
      for (const kind of ['prepare', 'commit'] as const) {
        const v = voteMessage(this.sign(member, kind, id));
        for (const [to, s] of this.side) {
          if ((isTwin && s !== 1) || (hasTwin && s === 1)) continue;
          out.push({ to, from: member, message: v });
        }
      }
    }
    return out;
  }

  private sign(member: ProducerName, kind: Vote['kind'], id: BlockId): Vote {
    this.voteCount++;
    return signVote(kind, id, member, simClaim(member), this.signers.get(member)!);
  }
}

const NONE: readonly Delivery[] = [];
const PASS: Received = { pass: true, deliveries: NONE };

import { describe, expect, it } from 'vitest';
import { encodeMessage, type WireMessage } from '../net/wire/messages.ts';
import { accountNumber } from '../protocol/names.ts';
import type { SignedBlock } from '../protocol/types.ts';
import { blockId, hexOf, idBytes, NULL_ID } from './block.ts';
import { blockMessage, confirmsOf, signed, signVote, voteMessage } from './messages.ts';
import { ConsensusNode, makeGenesis } from './node.ts';
import { BAD_CONTENT, signBlock, simBlockSource, simConsensus, withHeader } from './sim/blocks.ts';
import { blockIn } from './sim/byzantine.ts';
import { SimKeyring, simClaim } from './sim/keys.ts';
import { Prng } from './sim/prng.ts';
import type { ConsensusMode, Outbound, PersistedState } from './types.ts';
import { CATCH_UP_HELLO_BLOCKS } from './constants.ts';

const keys = new SimKeyring(7);

function makeNode(name: string, mode: ConsensusMode, producers: string[], restore?: PersistedState) {
  return new ConsensusNode(
    { signer: keys.signerFor(name), verifier: keys, random: new Prng(1), blocks: simBlockSource() },
    { name, genesis: makeGenesis(simConsensus(mode, producers)), now: 0, restore, blockIntervalMs: 100 },
  );
}

/** A BlockMessage's bytes with the packed block's own fixed-part size made too large. */
function corruptBlock(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  // type byte, u16 fixed size of BlockMessage, u32 offset, u32 length of the block bytes, then the block: its u16 fixed size.
  out[1 + 2 + 4 + 4] = 0xff;
  out[1 + 2 + 4 + 4 + 1] = 0xff;
  return out;
}

const kinds = (messages: readonly Outbound[]) => messages.map((m) => m.message.kind);
const blocksIn = (messages: readonly Outbound[]) => messages.flatMap((m) => blockIn(m.message) ?? []);
const vote = (kind: 'prepare' | 'commit', id: string, producer: string, signedBy = producer): WireMessage =>
  voteMessage(signVote(kind, id, producer, simClaim(producer), keys.signerFor(signedBy)));

describe('one-producer chain', () => {
  for (const mode of ['cft', 'bft'] as const) {
    it(`${mode}: every block is irreversible as soon as it is produced`, () => {
      const n = makeNode('p0', mode, ['p0']);
      n.ready();
      for (let t = 0; t <= 1000; t += 50) n.tick(t);
      const r = n.ready();
      expect(n.irreversible.id).toBe(n.head.id);
      expect(n.head.num).toBeGreaterThanOrEqual(10);
      expect(r.irreversible.map((b) => b.block.header.blockNum)).toEqual(Array.from({ length: n.head.num - 1 }, (_, i) => i + 2));
    });
  }
});

describe('bad input from peers', () => {
  function leaderBlock(): { node: ConsensusNode; block: SignedBlock } {
    const p0 = makeNode('p0', 'bft', ['p0', 'p1', 'p2', 'p3']);
    p0.tick(100);
    const block = blocksIn(p0.ready().messages)[0]!;
    return { node: makeNode('p1', 'bft', ['p0', 'p1', 'p2', 'p3']), block };
  }

  it('drops undecodable and malformed messages with a reason and keeps its state', () => {
    const { node, block } = leaderBlock();
    node.ready();
    const prepare = encodeMessage(vote('prepare', blockId(block), 'p0'));
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0xfe, 1, 2, 3),
      prepare.subarray(0, prepare.length - 2),
      Uint8Array.of(...prepare, 0),
      // A BlockMessage whose block is cut short inside (the frame's own length still matches).
      corruptBlock(encodeMessage(blockMessage(block))),
      encodeMessage({ kind: 'InitMessage', value: { version: 1 } }),
    ];
    for (const m of bad) node.stepBytes('p3', m);
    const r = node.ready();
    expect(r.dropped).toHaveLength(bad.length);
    expect(r.dropped.map((d) => d.reason.split(':')[0])).toEqual([
      'undecodable message',
      'undecodable message',
      'undecodable message',
      'undecodable message',
      'undecodable message',
      'not a consensus message',
    ]);
    expect(r.messages).toHaveLength(0);
    expect(node.term).toBe(0);
    expect(node.head.num).toBe(1);
    // The same bytes, well formed, are taken.
    node.stepBytes('p0', encodeMessage(blockMessage(block)));
    expect(node.head.num).toBe(2);
  });

  it('drops forged votes, forged blocks and blocks from the wrong leader', () => {
    const { node, block } = leaderBlock();
    node.ready();
    // p3 signs with its own key but claims to be p0.
    node.step('p3', vote('prepare', blockId(block), 'p0', 'p3'));
    node.step('p3', blockMessage(signBlock(block.block, keys.signerFor('p3'))));
    node.step('p3', blockMessage(signBlock(withHeader(block, { producer: accountNumber('p3') }), keys.signerFor('p3'))));
    const bad = new Uint8Array(32);
    bad[0] = BAD_CONTENT;
    node.step('p0', blockMessage(signBlock(withHeader(block, { trxMerkleRoot: bad }), keys.signerFor('p0'))));
    const r = node.ready();
    expect(r.dropped.map((d) => d.reason)).toEqual([
      'bad signature on prepare from p0',
      'bad block signature from p0',
      'invalid block 2 by p3: producer is not the leader of its term',
      'invalid block 2 by p0: content rejected by the executor',
    ]);
    expect(node.head.num).toBe(1);
    node.step('p0', blockMessage(block));
    expect(node.head.num).toBe(2);
    expect(kinds(node.ready().messages)).toEqual(['SignedMessage<PrepareMessage>']);
  });

  it('keeps evidence of a leader that signs two blocks at one height', () => {
    const { node, block } = leaderBlock();
    const twin = signBlock(withHeader(block, { eventMerkleRoot: new Uint8Array(32).fill(9) }), keys.signerFor('p0'));
    node.step('p0', blockMessage(block));
    node.step('p0', blockMessage(twin));
    expect(node.evidence).toHaveLength(1);
    expect(node.evidence[0]).toMatchObject({ producer: 'p0', kind: 'block', term: 0 });
    // Rule 2: it prepared only the first of the two.
    expect(kinds(node.ready().messages).filter((k) => k === 'SignedMessage<PrepareMessage>')).toHaveLength(1);
  });
});

describe('catching up', () => {
  it('asks a candidate that is ahead for what follows its head, and serves its chain when asked', () => {
    const p1 = makeNode('p1', 'cft', ['p0', 'p1', 'p2']);
    p1.ready();
    const rv = { term: 3, candidate_id: accountNumber('p0'), last_log_index: 9, last_log_term: 2, signer: simClaim('p0') };
    p1.step('p0', signed('RequestVoteRequest', rv, keys.signerFor('p0')));
    const ask = p1.ready().messages.find((m) => m.message.kind === 'HelloRequest');
    // Its head is genesis, which is irreversible: psibase marks such a hello `committed`.
    expect(ask).toEqual({ to: 'p0', message: { kind: 'HelloRequest', value: { xid: { _id: idBytes(p1.head.id), _num: 1 }, committed: true } } });

    const p0 = makeNode('p0', 'bft', ['p0']);
    for (let t = 0; t <= 300; t += 50) p0.tick(t);
    p0.ready();
    p0.step('p1', ask!.message);
    const sent = blocksIn(p0.ready().messages).map((b) => b.block.header.blockNum);
    expect(sent.at(-1)).toBe(p0.head.num);
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => 2 + i));
  });
  /** p0 alone has built a chain of about `blocks` blocks; f, a fresh follower, hears of its head. */
  function behind(blocks: number) {
    const p0 = makeNode('p0', 'bft', ['p0']);
    for (let t = 0; t <= blocks * 100; t += 100) p0.tick(t);
    p0.ready();
    const f = makeNode('f', 'bft', ['p0']);
    f.ready();
    p0.connected('f');
    for (const m of p0.ready().messages) f.step('p0', m.message);
    return { p0, f };
  }
  const hellos = (messages: readonly Outbound[]) => messages.filter((m) => m.message.kind === 'HelloRequest');

  it('while catching up asks again every CATCH_UP_HELLO_BLOCKS blocks applied, not after each block', () => {
    const { p0, f } = behind(200);
    const asks = hellos(f.ready().messages);
    let sent = 0;
    let applied = 0;
    while (asks.length > 0) {
      sent++;
      p0.step('f', asks.shift()!.message);
      for (const m of p0.ready().messages) {
        const before = f.head.num;
        f.step('p0', m.message);
        if (f.head.num > before) applied++;
        // What consensus hands out after each message, as the node drains it.
        asks.push(...hellos(f.ready().messages));
      }
    }
    expect(f.head.id).toBe(p0.head.id);
    expect(applied).toBeGreaterThan(190);
    // One hello on hearing of the head, then one per CATCH_UP_HELLO_BLOCKS (32) applied.
    expect(sent).toBeLessThanOrEqual(2 + Math.ceil(applied / CATCH_UP_HELLO_BLOCKS));
  });

  it('tells a peer that connects its head, also when the head is the root it was restarted from', () => {
    const p0 = makeNode('p0', 'bft', ['p0']);
    for (let t = 0; t <= 1000; t += 100) p0.tick(t);
    const root = p0.head.block;
    // The chain's genesis is not sent: every peer has it.
    const fresh = makeNode('p0', 'bft', ['p0']);
    fresh.ready();
    fresh.connected('f');
    expect(blocksIn(fresh.ready().messages)).toEqual([]);
    // Restarted at block `root` (its trusted root, no parent held): a fresh follower hears of it and asks for the rest.
    const restarted = new ConsensusNode(
      { signer: keys.signerFor('p0'), verifier: keys, random: new Prng(1), blocks: simBlockSource() },
      { name: 'p0', genesis: root, producers: simConsensus('bft', ['p0']), now: 1000, blockIntervalMs: 100 },
    );
    restarted.ready();
    restarted.connected('f');
    expect(blocksIn(restarted.ready().messages).map((b) => blockId(b))).toEqual([blockId(root)]);
  });

  it('sends a held-back hello at a tick two block intervals on, so a short answer does not stall the sync', () => {
    const { p0, f } = behind(200);
    const first = hellos(f.ready().messages);
    expect(first).toHaveLength(1);
    p0.step('f', first[0]!.message);
    // Only the first 10 blocks of the answer arrive: the next hello is held back.
    const answer = p0.ready().messages.slice(0, 10);
    for (const m of answer) f.step('p0', m.message);
    expect(f.head.num).toBe(11);
    expect(hellos(f.ready().messages)).toHaveLength(0);
    f.tick(150);
    expect(hellos(f.ready().messages)).toHaveLength(0);
    f.tick(200);
    const again = hellos(f.ready().messages);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ to: 'p0', message: { kind: 'HelloRequest', value: { xid: { _id: idBytes(f.head.id), _num: 11 } } } });
    f.tick(1000);
    expect(hellos(f.ready().messages)).toHaveLength(0);
  });
});

describe('restart', () => {
  for (const mode of ['bft', 'cft'] as const) {
    it(`${mode}: a whole network restarted from a block of a later term, with no consensus state, finalises again at once`, () => {
      // What four Node peers do after all of them stopped: each starts from its last
      // irreversible block (here of term 5) and remembers no votes or view changes.
      const producers = ['p0', 'p1', 'p2', 'p3'];
      const g = makeGenesis(simConsensus(mode, producers));
      const root: SignedBlock = { ...g, block: withHeader(g, { term: 5 }) };
      const nodes = producers.map(
        (name) => new ConsensusNode({ signer: keys.signerFor(name), verifier: keys, random: new Prng(producers.indexOf(name) + 1), blocks: simBlockSource() }, { name, genesis: root, now: 0, blockIntervalMs: 100 }),
      );
      const byName = new Map(nodes.map((n) => [n.name, n]));
      const dropped: string[] = [];
      // Six seconds: a few election timeouts (1.5 s), while a node resuming in term 0 would
      // need one timeout for every term up to 6 (with backoff under BFT).
      for (let t = 0; t <= 6_000; t += 10) {
        for (const n of nodes) n.tick(t);
        for (let round = 0; round < 20; round++) {
          let moved = false;
          for (const n of nodes) {
            const r = n.ready();
            dropped.push(...r.dropped.map((d) => `${n.name}: ${d.reason}`));
            for (const m of r.messages) {
              moved = true;
              const bytes = encodeMessage(m.message);
              for (const to of m.to === '*' ? nodes.filter((x) => x !== n) : [byName.get(m.to)!]) to.stepBytes(n.name, bytes);
            }
          }
          if (!moved) break;
        }
      }
      expect(dropped).toEqual([]);
      for (const n of nodes) {
        expect(n.irreversible.num, n.name).toBeGreaterThanOrEqual(3);
        expect(n.term).toBeGreaterThan(5);
      }
    });
  }


  it('comes back with what it persisted and does not prepare twice in a term', () => {
    const p0 = makeNode('p0', 'bft', ['p0', 'p1', 'p2', 'p3']);
    p0.tick(100);
    const block = blocksIn(p0.ready().messages)[0]!;
    const p1 = makeNode('p1', 'bft', ['p0', 'p1', 'p2', 'p3']);
    p1.step('p0', blockMessage(block));
    const r = p1.ready();
    expect(r.hardState?.lastPrepared?.id).toBe(blockId(block));
    const again = makeNode('p1', 'bft', ['p0', 'p1', 'p2', 'p3'], { hardState: r.hardState, blocks: r.blocks });
    expect(again.head.id).toBe(blockId(block));
    again.ready();
    again.step('p0', blockMessage(block));
    expect(again.ready().messages).toHaveLength(0);
  });
});

describe("a term's first block is prepared only once its view changes make the term ready (bft.md rule 4, psibase is_term_ready)", () => {
  const producers = ['p0', 'p1', 'p2', 'p3'];

  /** Block 2 of term 0 by p0, prepared by p0–p2, on a node of p3 that has it; and p1, leader of term 1, opening term 1 on it. */
  function setup() {
    const p0 = makeNode('p0', 'bft', producers);
    p0.tick(100);
    const b2 = blocksIn(p0.ready().messages)[0]!;
    const id2 = blockId(b2);
    const prepares = ['p0', 'p1', 'p2'].map((p) => signVote('prepare', id2, p, simClaim(p), keys.signerFor(p)));
    type Named = { id: string; term: number; prepares: typeof prepares };
    const cert: Named = { id: id2, term: 0, prepares };
    const vc = (producer: string, named?: Named) =>
      signed(
        'ViewChangeMessage',
        {
          term: 1,
          producer: accountNumber(producer),
          signer: simClaim(producer),
          best_prepared: idBytes(named?.id ?? NULL_ID),
          best_prepared_term: named?.term ?? 0,
          prepares: confirmsOf(named?.prepares ?? []),
          nextPrepares: null,
        },
        keys.signerFor(producer),
      );
    const opening = signBlock(
      withHeader(b2, { previous: idBytes(id2), blockNum: 3, producer: accountNumber('p1'), term: 1, time: 200_000n, commitNum: 0 }),
      keys.signerFor('p1'),
    );
    const node = makeNode('p3', 'bft', producers);
    node.step('p0', blockMessage(b2));
    node.ready();
    const prepared = () => node.ready().messages.some((m) => m.message.kind === 'SignedMessage<PrepareMessage>' && hexOf(m.message.message.block_id) === blockId(opening));
    return { node, cert, vc, opening, prepared };
  }

  it("does not prepare it while a view change names a better block than the leader's", () => {
    const { node, cert, vc, opening, prepared } = setup();
    node.step('p1', vc('p1'));
    node.step('p2', vc('p2', cert));
    node.step('p1', blockMessage(opening));
    expect(node.term).toBe(1);
    expect(node.head).toMatchObject({ num: 3, term: 1 });
    expect(prepared()).toBe(false);
  });

  it("does not prepare it without the leader's view change", () => {
    const { node, cert, vc, opening, prepared } = setup();
    node.step('p0', vc('p0', cert));
    node.step('p2', vc('p2', cert));
    node.step('p1', blockMessage(opening));
    expect(node.term).toBe(1);
    expect(prepared()).toBe(false);
  });

  it("checks only the leader's prepared certificate: another may name a block lost below irreversibility", () => {
    const { node, cert, vc, opening } = setup();
    // A block 1 of term 0 that lost to genesis: this node cannot have it, nor check its prepares.
    const lost = { id: `00000001${'e'.repeat(56)}`, term: 0, prepares: [] };
    node.step('p1', vc('p1', cert));
    node.step('p2', vc('p2', cert));
    node.step('p0', vc('p0', lost));
    node.step('p1', blockMessage(opening));
    const r = node.ready();
    expect(r.dropped).toEqual([]);
    expect(node.head).toMatchObject({ num: 3, term: 1 });
    expect(r.messages.some((m) => m.message.kind === 'SignedMessage<PrepareMessage>' && hexOf(m.message.message.block_id) === blockId(opening))).toBe(true);
  });

  it("prepares it once the leader's (second) view change names the best block", () => {
    const { node, cert, vc, opening, prepared } = setup();
    node.step('p1', vc('p1'));
    node.step('p2', vc('p2', cert));
    node.step('p1', blockMessage(opening));
    expect(prepared()).toBe(false);
    node.step('p1', vc('p1', cert));
    expect(prepared()).toBe(true);
    expect(node.head).toMatchObject({ num: 3, term: 1 });
    expect(node.term).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { blockId, blockSigningBytes, messageSigningBytes, NULL_ID } from './block.ts';
import { ConsensusNode, makeGenesis } from './node.ts';
import { SimKeyring } from './sim/keys.ts';
import { Prng } from './sim/prng.ts';
import type { BlockHeader, ConsensusMode, PersistedState, PreparedCertificate, SignedBlock, ViewChangeMessage, VoteMessage } from './types.ts';

const keys = new SimKeyring(7);

function makeNode(name: string, mode: ConsensusMode, producers: string[], restore?: PersistedState) {
  return new ConsensusNode(
    {
      signer: keys.signerFor(name),
      verifier: keys,
      random: new Prng(1),
      blocks: { payload: (_p, num) => `b${num}`, validate: (h) => !h.payload.startsWith('bad') },
    },
    { name, genesis: makeGenesis({ mode, producers }), now: 0, restore, blockIntervalMs: 100 },
  );
}

describe('one-producer chain', () => {
  for (const mode of ['cft', 'bft'] as const) {
    it(`${mode}: every block is irreversible as soon as it is produced`, () => {
      const n = makeNode('p0', mode, ['p0']);
      n.ready();
      for (let t = 0; t <= 1000; t += 50) n.tick(t);
      const r = n.ready();
      expect(n.irreversible.id).toBe(n.head.id);
      expect(n.head.header.num).toBeGreaterThanOrEqual(10);
      expect(r.irreversible.map((b) => b.header.num)).toEqual(Array.from({ length: n.head.header.num - 1 }, (_, i) => i + 2));
    });
  }
});

describe('bad input from peers', () => {
  function leaderBlock(): { node: ConsensusNode; block: SignedBlock } {
    const p0 = makeNode('p0', 'bft', ['p0', 'p1', 'p2', 'p3']);
    p0.tick(100);
    const block = p0.ready().messages.find((m) => m.message.type === 'block')!.message as { block: SignedBlock };
    return { node: makeNode('p1', 'bft', ['p0', 'p1', 'p2', 'p3']), block: block.block };
  }

  it('drops malformed messages with a reason and keeps its state', () => {
    const { node } = leaderBlock();
    node.ready();
    const bad: unknown[] = [
      null,
      'garbage',
      42,
      { type: 'nope' },
      { type: 'prepare', term: -1, producer: 'p0' },
      { type: 'block', block: { header: { num: 'x' } } },
      { type: 'viewChange', term: 1, producer: 'p|0', signature: 's' },
      { type: 'requestBlocks', id: 'zz', count: 1 },
    ];
    for (const m of bad) node.step('p3', m);
    const r = node.ready();
    expect(r.dropped).toHaveLength(bad.length);
    expect(r.messages).toHaveLength(0);
    expect(node.term).toBe(0);
    expect(node.head.header.num).toBe(1);
  });

  it('drops forged votes, forged blocks and blocks from the wrong leader', () => {
    const { node, block } = leaderBlock();
    node.ready();
    // p3 signs with its own key but claims to be p0.
    const forgedVote: VoteMessage = { type: 'prepare', term: 0, producer: 'p0', subject: blockId(block.header), value: 2, signature: '' };
    node.step('p3', { ...forgedVote, signature: keys.signerFor('p3').sign(messageSigningBytes(forgedVote)) });
    node.step('p3', { type: 'block', block: { ...block, signature: keys.signerFor('p3').sign(blockSigningBytes(blockId(block.header))) } });
    const wrongLeader = { ...block.header, producer: 'p3' };
    node.step('p3', { type: 'block', block: { header: wrongLeader, signature: keys.signerFor('p3').sign(blockSigningBytes(blockId(wrongLeader))) } });
    const badContent = { ...block.header, payload: 'bad1' };
    node.step('p0', { type: 'block', block: { header: badContent, signature: keys.signerFor('p0').sign(blockSigningBytes(blockId(badContent))) } });
    const r = node.ready();
    expect(r.dropped.map((d) => d.reason)).toEqual([
      'bad signature on prepare from p0',
      'bad block signature from p0',
      'invalid block 2 by p3: producer is not the leader of its term',
      'invalid block 2 by p0: content rejected by the executor',
    ]);
    expect(node.head.header.num).toBe(1);
    node.step('p0', { type: 'block', block });
    expect(node.head.header.num).toBe(2);
    expect(node.ready().messages.map((m) => m.message.type)).toEqual(['prepare']);
  });

  it('keeps evidence of a leader that signs two blocks at one height', () => {
    const { node, block } = leaderBlock();
    const twinHeader = { ...block.header, payload: 'other' };
    const twin: SignedBlock = { header: twinHeader, signature: keys.signerFor('p0').sign(blockSigningBytes(blockId(twinHeader))) };
    node.step('p0', { type: 'block', block });
    node.step('p0', { type: 'block', block: twin });
    expect(node.evidence).toHaveLength(1);
    expect(node.evidence[0]).toMatchObject({ producer: 'p0', kind: 'block', term: 0 });
    // Rule 2: it prepared only the first of the two.
    expect(node.ready().messages.filter((m) => m.message.type === 'prepare')).toHaveLength(1);
  });
});

describe('catching up', () => {
  it('asks a candidate that is ahead for its head, and serves its own head when asked', () => {
    const p1 = makeNode('p1', 'cft', ['p0', 'p1', 'p2']);
    p1.ready();
    const rv = { type: 'requestVote', term: 3, producer: 'p0', lastTerm: 2, lastNum: 9, signature: '' } as const;
    p1.step('p0', { ...rv, signature: keys.signerFor('p0').sign(messageSigningBytes(rv)) });
    const ask = p1.ready().messages.find((m) => m.message.type === 'requestBlocks');
    expect(ask).toEqual({ to: 'p0', message: { type: 'requestBlocks', id: NULL_ID, count: 8 } });

    const p0 = makeNode('p0', 'bft', ['p0']);
    for (let t = 0; t <= 300; t += 50) p0.tick(t);
    p0.ready();
    p0.step('p1', ask!.message);
    const sent = p0.ready().messages.map((m) => (m.message as { block: SignedBlock }).block.header.num);
    expect(sent.at(-1)).toBe(p0.head.header.num);
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => p0.head.header.num - sent.length + 1 + i));
  });
});

describe('restart', () => {
  it('comes back with what it persisted and does not prepare twice in a term', () => {
    const p0 = makeNode('p0', 'bft', ['p0', 'p1', 'p2', 'p3']);
    p0.tick(100);
    const block = (p0.ready().messages.find((m) => m.message.type === 'block')!.message as { block: SignedBlock }).block;
    const p1 = makeNode('p1', 'bft', ['p0', 'p1', 'p2', 'p3']);
    p1.step('p0', { type: 'block', block });
    const r = p1.ready();
    expect(r.hardState?.lastPrepared?.id).toBe(blockId(block.header));
    const again = makeNode('p1', 'bft', ['p0', 'p1', 'p2', 'p3'], { hardState: r.hardState, blocks: r.blocks });
    expect(again.head.id).toBe(blockId(block.header));
    again.ready();
    again.step('p0', { type: 'block', block });
    expect(again.ready().messages).toHaveLength(0);
  });
});

describe('view-change certificate of a term\'s first block (bft.md rule 4)', () => {
  const producers = ['p0', 'p1', 'p2', 'p3'];
  const signed = <M extends VoteMessage | ViewChangeMessage>(m: M): M => ({ ...m, signature: keys.signerFor(m.producer).sign(messageSigningBytes(m)) });

  /** Block 2 of term 0 by p0, prepared by p0–p2, on a node of p3 that has it; and p1, leader of term 1, opening term 1 on it. */
  function setup() {
    const p0 = makeNode('p0', 'bft', producers);
    p0.tick(100);
    const b2 = (p0.ready().messages.find((m) => m.message.type === 'block')!.message as { block: SignedBlock }).block;
    const id2 = blockId(b2.header);
    const cert: PreparedCertificate = {
      blockId: id2,
      term: 0,
      num: 2,
      prepares: ['p0', 'p1', 'p2'].map((p) => signed<VoteMessage>({ type: 'prepare', term: 0, producer: p, subject: id2, value: 2, signature: '' })),
    };
    const vc = (producer: string, prepared?: PreparedCertificate) =>
      signed<ViewChangeMessage>({ type: 'viewChange', term: 1, producer, ...(prepared ? { prepared } : {}), signature: '' });
    const opening = (viewChanges: ViewChangeMessage[]): SignedBlock => {
      const header: BlockHeader = { num: 3, previous: id2, producer: 'p1', term: 1, time: 200, commitNum: 0, payload: 'b3' };
      return { header, signature: keys.signerFor('p1').sign(blockSigningBytes(blockId(header))), proof: { viewChanges } };
    };
    const node = makeNode('p3', 'bft', producers);
    node.step('p0', { type: 'block', block: b2 });
    node.ready();
    return { node, cert, vc, opening };
  }

  it("rejects a certificate in which a view change names a better block than the leader's", () => {
    const { node, cert, vc, opening } = setup();
    node.step('p1', { type: 'block', block: opening([vc('p1'), vc('p2', cert), vc('p3')]) });
    expect(node.ready().dropped.map((d) => d.reason)).toEqual(["invalid block 3 by p1: a view change names a better block than the leader's"]);
    expect(node.head.header.num).toBe(2);
  });

  it("rejects a certificate without the leader's view change", () => {
    const { node, cert, vc, opening } = setup();
    node.step('p1', { type: 'block', block: opening([vc('p0', cert), vc('p2', cert), vc('p3')]) });
    expect(node.ready().dropped.map((d) => d.reason)).toEqual(["invalid block 3 by p1: view-change certificate lacks the leader's view change"]);
  });

  it("checks only the leader's prepared certificate: another may name a block lost below irreversibility", () => {
    const { node, cert, vc, opening } = setup();
    // A block 1 of term 0 that lost to genesis: this node cannot have it, nor check its prepares.
    const lost: PreparedCertificate = { blockId: `00000001${'e'.repeat(56)}`, term: 0, num: 1, prepares: [] };
    node.step('p1', { type: 'block', block: opening([vc('p1', cert), vc('p2', cert), vc('p3', lost)]) });
    expect(node.ready().dropped).toEqual([]);
    expect(node.head.header).toMatchObject({ num: 3, term: 1 });
  });

  it("accepts the block once the leader's (second) view change names the best block", () => {
    const { node, cert, vc, opening } = setup();
    node.step('p1', { type: 'block', block: opening([vc('p1', cert), vc('p2', cert), vc('p3')]) });
    expect(node.ready().dropped).toEqual([]);
    expect(node.head.header).toMatchObject({ num: 3, term: 1 });
    expect(node.term).toBe(1);
  });
});


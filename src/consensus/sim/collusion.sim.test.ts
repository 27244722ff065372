import { describe, expect, it } from 'vitest';
import { blockId, blockSigningBytes } from '../block.ts';
import type { ConsensusMessage, SignedBlock, VoteMessage } from '../types.ts';
import { BYZANTINE_BEHAVIOURS } from './byzantine.ts';
import { Collusion } from './collusion.ts';
import { SimKeyring } from './keys.ts';
import { Prng } from './prng.ts';
import { failLine, runSeed, unsafeQuorum, type RunOptions } from './run.ts';
import { simulate, type SimResult } from './simulator.ts';
import { jsonWire, type SimWire } from './wire.ts';

const CONFLICT = 'conflicting irreversible blocks';

/** Seeds `first`, `first+1`, … up to `max` of them until one breaks safety: the seed and what the checker said. */
function hunt(opts: RunOptions, max: number, first = 1): { seed: number; violation: string } | undefined {
  for (let seed = first; seed < first + max; seed++) {
    const r = runSeed(opts, seed);
    const v = r.violations.find((x) => x.startsWith(CONFLICT));
    if (v) return { seed, violation: v };
  }
  return undefined;
}

/** `count` seeds from `first`: the failures, and in how many seeds the colluders made twins. */
function sweep(opts: RunOptions, first: number, count: number): { failed: string[]; attacked: number } {
  const failed: string[] = [];
  let attacked = 0;
  for (let seed = first; seed < first + count; seed++) {
    const r: SimResult = runSeed(opts, seed);
    if (r.violations.length > 0) failed.push(failLine(r));
    if ((r.collusion?.twins ?? 0) > 0) attacked++;
  }
  return { failed, attacked };
}

describe('colluding Byzantine nodes, at most f', () => {
  // The controller equivocates whenever a colluder leads and double-votes on every
  // fork; with f of 3f+1 neither half of the honest nodes plus the colluders is a quorum
  // on both sides, so safety and liveness must hold.
  for (const first of [1, 1001]) {
    it(`f = 1 of 4 colluding break neither safety nor liveness (seeds ${first}–${first + 999})`, () => {
      const { failed, attacked } = sweep({ mode: 'bft', nodes: 4, byzantine: 1, behaviour: 'collude' }, first, 1000);
      expect(failed).toEqual([]);
      // The attack ran: a colluder led and split its blocks in a good share of the seeds.
      expect(attacked).toBeGreaterThan(200);
    }, 120_000);
  }

  it('f = 2 of 7 colluding break neither safety nor liveness (500 seeds)', () => {
    const { failed, attacked } = sweep({ mode: 'bft', nodes: 7, byzantine: 2, behaviour: 'collude' }, 7001, 500);
    expect(failed).toEqual([]);
    expect(attacked).toBeGreaterThan(100);
  }, 120_000);
});

describe('the simulator catches a real attack', () => {
  // f+1 colluders of 3f+1: each half of the 2f honest nodes plus the colluders is a
  // quorum of 2f+1, so both twins become irreversible, one per half.
  for (const nodes of [4, 7]) {
    const f = (nodes - 1) / 3;
    it(`f+1 = ${f + 1} of ${nodes} colluding break safety within 500 seeds`, () => {
      const found = hunt({ mode: 'bft', nodes, byzantine: f + 1, behaviour: 'collude' }, 500);
      expect(found, 'no seed of 500 broke safety').toBeDefined();
      console.info(`f+1 = ${f + 1} of ${nodes} colluding: seed ${found!.seed}: ${found!.violation}`);
    }, 60_000);
  }

  it('lone Byzantine nodes at f+1 = 2 of 4 (the old adversary) break nothing in as many seeds', () => {
    // The contrast that makes the test above mean something: same seeds, the old
    // rewrite-only adversary, no safety violation.
    const found = hunt({ mode: 'bft', nodes: 4, byzantine: 2, behaviour: 'collude' }, 500)!;
    const upTo = Math.max(found.seed, 100);
    for (const behaviour of BYZANTINE_BEHAVIOURS) {
      expect(hunt({ mode: 'bft', nodes: 4, byzantine: 2, behaviour }, upTo), behaviour).toBeUndefined();
    }
  }, 120_000);

  // A quorum of 2f (one short): with f colluders the bigger honest half plus them is
  // 2f+1 ≥ 2f and the smaller half plus them is 2f: both twins become irreversible.
  for (const nodes of [4, 7]) {
    const f = (nodes - 1) / 3;
    it(`a quorum of 2f instead of 2f+1 falls to f = ${f} of ${nodes} colluding within 500 seeds`, () => {
      const found = hunt({ mode: 'bft', nodes, byzantine: f, behaviour: 'collude', unsafeQuorum: unsafeQuorum('2f') }, 500);
      expect(found, 'no seed of 500 broke safety').toBeDefined();
      console.info(`quorum 2f, f = ${f} of ${nodes} colluding: seed ${found!.seed}: ${found!.violation}`);
    }, 60_000);
  }

  it('unsafeQuorum: 2f for BFT sets of 3f+1, ⌊n/2⌋ for CFT sets, the other algorithm untouched', () => {
    const bft = (n: number) => ({ mode: 'bft' as const, producers: Array.from({ length: n }, (_, i) => `p${i}`) });
    const cft = (n: number) => ({ mode: 'cft' as const, producers: Array.from({ length: n }, (_, i) => `p${i}`) });
    expect([4, 7, 10].map((n) => unsafeQuorum('2f')(bft(n)))).toEqual([2, 4, 6]);
    expect([3, 4, 5].map((n) => unsafeQuorum('2f')(cft(n)))).toEqual([2, 3, 3]);
    expect([3, 4, 5].map((n) => unsafeQuorum('n/2')(cft(n)))).toEqual([1, 2, 2]);
    expect([4, 7].map((n) => unsafeQuorum('n/2')(bft(n)))).toEqual([3, 5]);
  });
});

describe('the colluding controller', () => {
  const keys = new SimKeyring(1);
  const members = ['p2', 'p3'].map((name) => ({ name, signer: keys.signerFor(name) }));
  const peers = ['p0', 'p1', 'p3'];
  const genesisId = 'ab'.repeat(32);

  function leaderBlock(num: number, previous: string, payload = `b${num}`): SignedBlock {
    const header = { num, previous, producer: 'p2', term: 2, time: num, commitNum: 1, payload };
    return { header, signature: keys.signerFor('p2').sign(blockSigningBytes(blockId(header))) };
  }

  function setup() {
    const c = new Collusion(members, ['p0', 'p1'], new Prng(3), () => true);
    return { c, leader: c.member('p2'), other: c.member('p3') };
  }

  it("sends one half a member's block and the other a correctly signed twin at the same height, and chains twins", () => {
    const { c, leader } = setup();
    const b2 = leaderBlock(2, genesisId);
    const out = leader.rewrite({ to: '*', message: { type: 'block', block: b2 } }, peers);
    const blocks = new Map(out.filter((d) => (d.message as ConsensusMessage).type === 'block').map((d) => [d.to, (d.message as { block: SignedBlock }).block]));
    expect(blocks.get('p3')).toBe(b2);
    const [a, b] = [blocks.get('p0')!, blocks.get('p1')!];
    const twin = a === b2 ? b : a;
    expect(new Set([a, b])).toEqual(new Set([b2, twin]));
    expect(twin.header.num).toBe(2);
    expect(blockId(twin.header)).not.toBe(blockId(b2.header));
    expect(keys.verify('p2', blockSigningBytes(blockId(twin.header)), twin.signature)).toBe(true);
    // The next block of the term continues each chain.
    const b3 = leaderBlock(3, blockId(b2.header));
    const out3 = leader.rewrite({ to: '*', message: { type: 'block', block: b3 } }, peers);
    const twinSide = a === b2 ? 'p1' : 'p0';
    const twin3 = out3.find((d) => d.to === twinSide && (d.message as ConsensusMessage).type === 'block')!.message as { block: SignedBlock };
    expect(twin3.block.header.previous).toBe(blockId(twin.header));
    expect(c.stats.twins).toBe(2);
  });

  it('every member prepares and commits each side, each vote only to the half holding its block', () => {
    const { leader } = setup();
    const b2 = leaderBlock(2, genesisId);
    const out = leader.rewrite({ to: '*', message: { type: 'block', block: b2 } }, peers);
    const votes = out.filter((d) => (d.message as VoteMessage).type === 'prepare' || (d.message as VoteMessage).type === 'commit');
    // 2 members × 2 phases × 2 sides, one honest node a side.
    expect(votes).toHaveLength(8);
    const id = blockId(b2.header);
    for (const d of votes) {
      const v = d.message as VoteMessage;
      expect(d.from).toBe(v.producer);
      expect(keys.verify(v.producer, new TextEncoder().encode(`${v.type}|${v.term}|${v.producer}|${v.subject}|${v.value}`), v.signature)).toBe(true);
      const original = out.find((x) => x.to === d.to && (x.message as ConsensusMessage).type === 'block')!.message as { block: SignedBlock };
      expect(v.subject).toBe(blockId(original.block.header));
    }
    // The member's own prepare of the original is rerouted: the twin's half gets a prepare of the twin.
    const own = { type: 'prepare' as const, term: 2, producer: 'p2', subject: id, value: 2, signature: 'x' };
    const routed = leader.rewrite({ to: '*', message: own }, peers);
    expect(routed.filter((d) => d.message === own).map((d) => d.to).sort()).toHaveLength(2);
    expect(routed.filter((d) => d.message !== own).map((d) => (d.message as VoteMessage).subject)).not.toContain(id);
  });

  it('serves the twin chain to an honest node that asks a member for it', () => {
    const { leader, other } = setup();
    const b2 = leaderBlock(2, genesisId);
    const out = leader.rewrite({ to: '*', message: { type: 'block', block: b2 } }, peers);
    const twin = out.map((d) => d.message as ConsensusMessage).find((m) => m.type === 'block' && m.block !== b2) as { block: SignedBlock };
    const got = other.receive!('p0', { type: 'requestBlocks', id: blockId(twin.block.header), count: 4 });
    expect(got.pass).toBe(false);
    expect(got.deliveries).toEqual([{ to: 'p0', from: 'p3', message: { type: 'block', block: twin.block } }]);
    // Anything else reaches the member's state machine.
    expect(other.receive!('p0', { type: 'requestBlocks', id: genesisId, count: 4 }).pass).toBe(true);
  });

  it('refuses a name that is not a member', () => {
    expect(() => setup().c.member('p0')).toThrow(RangeError);
  });
});

describe('the simulated wire', () => {
  it('carries every message: a codec that loses the vote signatures stops all finality', () => {
    const lossy: SimWire = {
      name: 'lossy',
      encode: (m) => jsonWire.encode(m),
      decode: (b) => {
        const m = jsonWire.decode(b) as Record<string, unknown>;
        if (m.type === 'prepare' || m.type === 'commit') m.signature = '0'.repeat(16);
        return m;
      },
    };
    const base = { seed: 5, mode: 'bft' as const, nodes: 4, chaosMs: 500, livenessMs: 2000 };
    expect(simulate(base).violations).toEqual([]);
    const r = simulate({ ...base, wire: lossy });
    expect(r.violations[0]).toMatch(/^liveness/);
    expect(r.irreversible).toBe(1);
  });

  it('each receiver decodes its own copy of the bytes', () => {
    let encodes = 0;
    let decodes = 0;
    const counting: SimWire = {
      name: 'counting',
      encode: (m) => (encodes++, jsonWire.encode(m)),
      decode: (b) => (decodes++, jsonWire.decode(b)),
    };
    const r = simulate({ seed: 6, mode: 'bft', nodes: 4, chaosMs: 300, wire: counting });
    expect(r.violations).toEqual([]);
    // A broadcast is encoded once and decoded by each of the three peers.
    expect(encodes).toBeGreaterThan(0);
    expect(decodes).toBeGreaterThan(2 * encodes);
    expect(decodes).toBeLessThanOrEqual(r.messages);
  });

  it('a message the codec cannot read back is a violation, not a crash', () => {
    const broken: SimWire = { name: 'broken', encode: (m) => jsonWire.encode(m), decode: () => JSON.parse('{') };
    const r = simulate({ seed: 7, mode: 'cft', nodes: 3, chaosMs: 300, wire: broken });
    expect(r.violations[0]).toMatch(/^broken wire could not decode a message it encoded/);
  });
});

import { describe, expect, it } from 'vitest';
import { accountName, accountNumber } from '../../protocol/names.ts';
import type { SignedBlock } from '../../protocol/types.ts';
import { blockId, blockSigningData, hexOf, idBytes } from '../block.ts';
import { blockMessage, signVote, voteMessage, votePreimage } from '../messages.ts';
import type { WireMessage } from '../types.ts';
import { marker, signBlock } from './blocks.ts';
import { BYZANTINE_BEHAVIOURS, blockIn } from './byzantine.ts';
import { Collusion } from './collusion.ts';
import { SimKeyring, simClaim } from './keys.ts';
import { Prng } from './prng.ts';
import { failLine, runSeed, unsafeQuorum, type RunOptions } from './run.ts';
import { simulate, type SimResult } from './simulator.ts';
import { psibaseWire, type SimWire } from './wire.ts';

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
    const bft = (n: number) => ({ mode: 'bft' as const, producers: Array.from({ length: n }, (_, i) => `p${i}`), claims: [] });
    const cft = (n: number) => ({ mode: 'cft' as const, producers: Array.from({ length: n }, (_, i) => `p${i}`), claims: [] });
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
  const genesisId = `00000001${'ab'.repeat(28)}`;
  const isBlock = (m: unknown) => (m as WireMessage).kind === 'BlockMessage';
  const voteIn = (m: unknown) => {
    const w = m as WireMessage;
    if (w.kind !== 'SignedMessage<PrepareMessage>' && w.kind !== 'SignedMessage<CommitMessage>') return undefined;
    const kind = w.kind === 'SignedMessage<PrepareMessage>' ? ('prepare' as const) : ('commit' as const);
    return { kind, blockId: hexOf(w.message.block_id), producer: accountName(w.message.producer), signer: w.message.signer, signature: w.value.signature };
  };

  function leaderBlock(num: number, previous: string): SignedBlock {
    const z = new Uint8Array(32);
    return signBlock(
      {
        header: { previous: idBytes(previous), blockNum: num, time: BigInt(num), producer: accountNumber('p2'), term: 2, commitNum: 1, consensusState: z, trxMerkleRoot: marker(num), eventMerkleRoot: z, newConsensus: null, authCode: null },
        transactions: [],
      },
      keys.signerFor('p2'),
    );
  }

  function setup() {
    const c = new Collusion(members, ['p0', 'p1'], new Prng(3), () => true);
    return { c, leader: c.member('p2'), other: c.member('p3') };
  }

  it("sends one half a member's block and the other a correctly signed twin at the same height, and chains twins", () => {
    const { c, leader } = setup();
    const b2 = leaderBlock(2, genesisId);
    const m2 = blockMessage(b2);
    const out = leader.rewrite({ to: '*', message: m2 }, peers);
    const blocks = new Map(out.filter((d) => isBlock(d.message)).map((d) => [d.to, d.message as WireMessage]));
    expect(blocks.get('p3')).toBe(m2);
    const [a, b] = [blocks.get('p0')!, blocks.get('p1')!];
    const twinMessage = a === m2 ? b : a;
    expect(new Set([a, b])).toEqual(new Set([m2, twinMessage]));
    const twin = blockIn(twinMessage)!;
    expect(twin.block.header.blockNum).toBe(2);
    expect(blockId(twin)).not.toBe(blockId(b2));
    expect(keys.verify('p2', blockSigningData(blockId(twin)), twin.signature)).toBe(true);
    // The next block of the term continues each chain.
    const b3 = leaderBlock(3, blockId(b2));
    const out3 = leader.rewrite({ to: '*', message: blockMessage(b3) }, peers);
    const twinSide = a === m2 ? 'p1' : 'p0';
    const twin3 = blockIn(out3.find((d) => d.to === twinSide && isBlock(d.message))!.message as WireMessage)!;
    expect(hexOf(twin3.block.header.previous)).toBe(blockId(twin));
    expect(c.stats.twins).toBe(2);
  });

  it('every member prepares and commits each side, each vote only to the half holding its block', () => {
    const { leader } = setup();
    const b2 = leaderBlock(2, genesisId);
    const out = leader.rewrite({ to: '*', message: blockMessage(b2) }, peers);
    const votes = out.filter((d) => voteIn(d.message));
    // 2 members × 2 phases × 2 sides, one honest node a side.
    expect(votes).toHaveLength(8);
    const id = blockId(b2);
    for (const d of votes) {
      const v = voteIn(d.message)!;
      expect(d.from).toBe(v.producer);
      expect(keys.verify(v.producer, votePreimage(v), v.signature)).toBe(true);
      const original = blockIn(out.find((x) => x.to === d.to && isBlock(x.message))!.message as WireMessage)!;
      expect(v.blockId).toBe(blockId(original));
    }
    // The member's own prepare of the original is rerouted: the twin's half gets a prepare of the twin.
    const own = voteMessage(signVote('prepare', id, 'p2', simClaim('p2'), keys.signerFor('p2')));
    const routed = leader.rewrite({ to: '*', message: own }, peers);
    expect(routed.filter((d) => d.message === own).map((d) => d.to).sort()).toHaveLength(2);
    expect(routed.filter((d) => d.message !== own).map((d) => voteIn(d.message)!.blockId)).not.toContain(id);
  });

  it('serves the twin chain to an honest node of the twin half that asks a member for blocks', () => {
    const { leader, other } = setup();
    const b2 = leaderBlock(2, genesisId);
    const m2 = blockMessage(b2);
    const out = leader.rewrite({ to: '*', message: m2 }, peers);
    const twinTo = out.find((d) => isBlock(d.message) && d.message !== m2)!;
    const twin = blockIn(twinTo.message as WireMessage)!;
    const hello = (num: number): WireMessage => ({ kind: 'HelloRequest', value: { xid: { _id: idBytes(genesisId), _num: num }, committed: true } });
    const got = other.receive!(twinTo.to, hello(1));
    expect(got.pass).toBe(false);
    expect(got.deliveries.map((d) => ({ to: d.to, from: d.from, block: blockId(blockIn(d.message as WireMessage)!) }))).toEqual([
      { to: twinTo.to, from: 'p3', block: blockId(twin) },
    ]);
    // Anything else reaches the member's state machine: the other half's hello, or one past the twins.
    const originalSide = twinTo.to === 'p0' ? 'p1' : 'p0';
    expect(other.receive!(originalSide, hello(1)).pass).toBe(true);
    expect(other.receive!(twinTo.to, hello(2)).pass).toBe(true);
  });

  it('refuses a name that is not a member', () => {
    expect(() => setup().c.member('p0')).toThrow(RangeError);
  });
});

describe('the simulated wire', () => {
  it('carries every message: a codec that loses the vote signatures stops all finality', () => {
    const lossy: SimWire = {
      name: 'lossy',
      encode: (m) => psibaseWire.encode(m),
      decode: (b) => {
        const m = psibaseWire.decode(b);
        if (m.kind === 'SignedMessage<PrepareMessage>' || m.kind === 'SignedMessage<CommitMessage>') m.value.signature = new Uint8Array(8);
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
      encode: (m) => (encodes++, psibaseWire.encode(m)),
      decode: (b) => (decodes++, psibaseWire.decode(b)),
    };
    const r = simulate({ seed: 6, mode: 'bft', nodes: 4, chaosMs: 300, wire: counting });
    expect(r.violations).toEqual([]);
    // A broadcast is encoded once and decoded by each of the three peers.
    expect(encodes).toBeGreaterThan(0);
    expect(decodes).toBeGreaterThan(2 * encodes);
    expect(decodes).toBeLessThanOrEqual(r.messages);
  });

  it('a message the codec cannot read back is a violation, not a crash', () => {
    const broken: SimWire = { name: 'broken', encode: (m) => psibaseWire.encode(m), decode: (b) => psibaseWire.decode(b.subarray(0, b.length - 1)) };
    const r = simulate({ seed: 7, mode: 'cft', nodes: 3, chaosMs: 300, wire: broken });
    expect(r.violations[0]).toMatch(/^broken wire could not decode a message it encoded/);
  });
});

import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../chain/executor.ts';
import { devKeyScalar, generateKeyPair, parsePublicKey, sign, type KeyPair } from '../crypto/keys.ts';
import { candidateTransactions, readCandidates, setProducersTransaction } from './browser/producer-set.ts';
import { p256PublicFromScalar, signP256Hash, verifyP256Hash } from '../crypto/p256.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { bootDevnet, loadDevnet, type Devnet } from './devnet.ts';
import { signedTransfer } from './browser/tx.ts';
import { CoreNode, RELAY_AGAIN_INTERVALS, RELAY_AGAIN_LIMIT, type Transport } from '../core/node.ts';
import { claimVerifier, withPreverify } from '../core/claim-verifier.ts';
import type { HardState } from '../consensus/types.ts';
import { systemClock } from './node.ts';
import { followProducerSet } from './peer.ts';
import { taposRef } from '../protocol/tapos.ts';
import { accountName, accountNumber } from '../protocol/names.ts';
import { Router } from '../http/router.ts';
import { toHex } from '../state/bytes.ts';
import { encodeMessage } from '../net/wire/messages.ts';
import { packSignedBlock, unpackSignedTransaction } from '../protocol/types.ts';
import { blockId } from '../protocol/ids.ts';
import { blockSignatureData, producersOf } from '../chain/block-context.ts';
import { blockId as consensusBlockId } from '../consensus/block.ts';
import { votePreimage } from '../consensus/messages.ts';
import { unpackBlockConfirm } from '../net/wire/messages.ts';

const BUILD_TIMEOUT_MS = 300_000;
const INTERVAL_MS = 100;

let devnet: Devnet;
beforeAll(async () => {
  devnet = await loadDevnet('a');
}, BUILD_TIMEOUT_MS);

/** Hard states written asynchronously, by producer; who sent a message while its write was under way. */
interface Persisting {
  saved: Map<string, HardState>;
  writing: Set<string>;
  early: string[];
}

interface Net {
  /** Told of each message a node sends. */
  sending?: (from: string) => void;
  nodes: Map<string, CoreNode>;
  /** What each node reported as misbehaviour: [reporter, peer, reason]. */
  reports: [string, string, string][];
  /** Names cut off from everyone (a crashed process or a partition). */
  down: Set<string>;
}

const running: CoreNode[] = [];
afterEach(async () => {
  for (const n of running.splice(0)) await n.stop();
});

function transport(net: Net, self: string): Transport {
  const deliver = (to: string, bytes: Uint8Array) => {
    net.sending?.(self);
    if (net.down.has(self) || net.down.has(to)) return false;
    const node = net.nodes.get(to);
    if (!node) return false;
    const copy = bytes.slice();
    setTimeout(() => {
      if (!net.down.has(self) && !net.down.has(to)) node.receive(`#${self}`, copy);
    }, 1);
    return true;
  };
  return {
    sendToProducer: (p, bytes) => deliver(p, bytes),
    sendToPeer: (peer, bytes) => deliver(peer.slice(1), bytes),
    broadcast: (bytes) => {
      for (const name of net.nodes.keys()) if (name !== self) deliver(name, bytes);
    },
    misbehaved: (peer, reason) => void net.reports.push([self, peer, reason]),
  };
}

/** How the producers run: signing as a browser does (asynchronously), on chains that cannot take blocks back (IndexedDB's). */
interface NetOptions {
  asBrowsers?: boolean;
  /** Drops the first relay of each transaction from each producer (a relay lost on the way). */
  loseFirstRelay?: boolean;
  /** Drops every relay, counting them by transaction (hex). */
  loseEveryRelay?: Map<string, number>;
  blockIntervalMs?: number;
  eagerBlockMs?: number;
}

/** Four (or more) producers, each with its own chain on the same genesis, connected in memory. */
async function network(names: string[], mode: 'cft' | 'bft', options: NetOptions = {}): Promise<Net> {
  const net: Net = { nodes: new Map(), down: new Set(), reports: [] };
  const t0 = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n;
  const booter = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers, reversible: true });
  const genesis = await bootDevnet(booter, devnet, t0, { producers: { names, mode } });
  expect(genesis.rejected).toEqual([]);
  const relayedOnce = new Set<string>();
  for (const name of names) {
    const reversible = !options.asBrowsers;
    const chain = name === names[0] && reversible ? booter : await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers, reversible });
    if (chain !== booter) await chain.applyBlock(genesis.bytes);
    const scalar = devKeyScalar('p256', name);
    const node = await CoreNode.open({
      platform: {
        clock: systemClock,
        chain,
        transport: transport(net, name),
        log: process.env.PSIWEB_TEST_LOG ? (line) => console.log(`[${name}] ${line}`) : undefined,
      },
      name,
      ...(options.asBrowsers
        ? {
            // As WebCrypto does: a signature comes later, after a varying while.
            signAsync: async (data: Uint8Array) => {
              await new Promise((r) => setTimeout(r, Math.random() * 4));
              return signP256Hash(scalar, sha256(data));
            },
          }
        : { sign: (data: Uint8Array) => signP256Hash(scalar, sha256(data)) }),
      // As a browser checks: WebCrypto ahead of each signed message's turn, noble at it.
      ...(options.asBrowsers ? withPreverify(claimVerifier()) : { verify: (der: Uint8Array, data: Uint8Array, sig: Uint8Array) => verifyP256Hash(parsePublicKey(der).point, sha256(data), sig) }),
      relay: (packed) => {
        const key = toHex(packed);
        if (options.loseFirstRelay && !relayedOnce.has(key)) return void relayedOnce.add(key);
        if (options.loseEveryRelay) return void options.loseEveryRelay.set(key, (options.loseEveryRelay.get(key) ?? 0) + 1);
        for (const [other, n] of net.nodes) if (other !== name && !net.down.has(other) && !net.down.has(name)) n.hold(packed).catch(() => undefined);
      },
      blockIntervalMs: options.blockIntervalMs ?? INTERVAL_MS,
      ...(options.eagerBlockMs !== undefined && { eagerBlockMs: options.eagerBlockMs }),
    });
    net.nodes.set(name, node);
  }
  for (const n of net.nodes.values()) {
    running.push(n);
    n.start();
  }
  for (const [name, n] of net.nodes) for (const other of net.nodes.keys()) if (other !== name) n.connected(`#${other}`);
  return net;
}

/**
 * A network grown as a browser's is: `names[0]` boots it as its sole producer and owner
 * of `producers`; the others join as candidates (each a non-extractable WebCrypto key,
 * signing asynchronously, on a chain that cannot take blocks back) and register through
 * it; then it names all of them in `mode`.
 */
async function grownNetwork(names: string[], mode: 'cft' | 'bft', hard?: Persisting, beforeSet?: (net: Net) => void): Promise<Net> {
  const net: Net = { nodes: new Map(), down: new Set(), reports: [] };
  const t0 = BigInt(Math.floor(Date.now() / 1000) - 5) * 1_000_000n;
  const booter = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  const genesis = await bootDevnet(booter, devnet, t0, { producersOwner: names[0]! });
  expect(genesis.rejected).toEqual([]);
  const keys = new Map<string, KeyPair>();
  for (const name of names) {
    const key = name === names[0] ? devnet.producerKey : await generateKeyPair('p256');
    keys.set(name, key);
    const chain = name === names[0] ? booter : await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
    if (chain !== booter) await chain.applyBlock(genesis.bytes);
    const node = await CoreNode.open({
      platform: { clock: systemClock, chain, transport: transport(net, name), log: process.env.PSIWEB_TEST_LOG ? (line) => console.log(`[${name}] ${line}`) : undefined },
      name,
      signAsync: (data) => sign(key, data),
      verify: (der, data, sig) => verifyP256Hash(parsePublicKey(der).point, sha256(data), sig),
      relay: (packed) => {
        for (const [other, n] of net.nodes) if (other !== name && !net.down.has(other) && !net.down.has(name)) n.hold(packed).catch(() => undefined);
      },
      blockIntervalMs: INTERVAL_MS,
      // As IndexedDB writes: later, after a while.
      ...(hard && {
        persist: async (h: HardState) => {
          hard.writing.add(name);
          await new Promise((r) => setTimeout(r, 3));
          hard.saved.set(name, structuredClone(h));
          hard.writing.delete(name);
        },
      }),
    });
    net.nodes.set(name, node);
  }
  if (hard) net.sending = (from) => void (hard.writing.has(from) && hard.early.push(from));
  for (const n of net.nodes.values()) {
    running.push(n);
    n.start();
  }
  for (const [name, n] of net.nodes) for (const other of net.nodes.keys()) if (other !== name) n.connected(`#${other}`);
  const first = net.nodes.get(names[0]!)!;
  for (const name of names.slice(1)) {
    for (const t of await candidateTransactions(first.chain, name, keys.get(name)!)) expect((await first.submit(t, { waitFor: 'applied' })).error ?? null).toBeNull();
  }
  await until('the candidates committed', () => readCandidates(first.chain).length === names.length - 1);
  beforeSet?.(net);
  const set = await setProducersTransaction(first.chain, mode, names, names[0]!, keys.get(names[0]!)!);
  expect((await first.submit(set, { waitFor: 'applied' })).error ?? null).toBeNull();
  return net;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 45_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A balance as tokens answers GET /balances/<account> on the node's head state. */
async function balanceOf(node: CoreNode, account: string): Promise<bigint> {
  const router = new Router({ rootHost: 'psiweb.localhost', chain: node.chain });
  const res = await router.handle(new Request(`http://tokens.psiweb.localhost/balances/${account}`, { headers: { host: 'tokens.psiweb.localhost' } }));
  return BigInt(((await res.json()) as { balance: string }).balance);
}

/** Producers of the blocks on a node's chain, from `from` up to its head. */
async function producersOfChain(node: CoreNode, from: number): Promise<string[]> {
  const out: string[] = [];
  for (let n = from; n <= node.chain.head!.num; n++) out.push(accountName((await node.chain.blockByNum(n))!.block.header.producer));
  return out;
}

async function transfer(node: CoreNode, amount: string) {
  const head = node.chain.head!;
  const tapos = taposRef(head.num, head.id);
  return signedTransfer({ from: 'alice', to: 'bob', amount, memo: `t ${amount}`, tapos, expiration: head.time / 1_000_000n + 60n });
}

describe('producers under consensus, in memory', () => {
  for (const mode of ['bft', 'cft'] as const) {
    it(`${mode}: four producers agree on one chain, finalise blocks, and a transfer pushed to any of them becomes final on all`, async () => {
      const net = await network(['a', 'b', 'c', 'd'], mode);
      const nodes = [...net.nodes.values()];
      await until('blocks irreversible on every node', async () => (await Promise.all(nodes.map((n) => n.status()))).every((s) => s.irreversible!.num >= 6));
      const before = await balanceOf(nodes[0]!, 'bob');
      const trace = await nodes[2]!.submit(await transfer(nodes[2]!, '7'), { waitFor: 'final' });
      expect(trace.error ?? null).toBeNull();
      // Every node holds the transfer, final, and the same state.
      await until('the transfer on every node', async () => (await Promise.all(nodes.map((n) => balanceOf(n, 'bob')))).every((b) => b === before + 7n));
      const irreversible = Math.min(...(await Promise.all(nodes.map((n) => n.status()))).map((s) => s.irreversible!.num));
      const ids = await Promise.all(nodes.map(async (n) => toHex((await n.chain.blockByNum(irreversible))!.block.header.previous)));
      expect(new Set(ids).size).toBe(1);
      // Blocks come from more than one producer (the leader is not fixed to the booter).
      const producers = new Set(await producersOfChain(nodes[0]!, 3));
      if (mode === 'bft') expect(producers.size).toBeGreaterThanOrEqual(1);
    }, 120_000);
  }

  const irreversibleOf = async (n: CoreNode) => (await n.status()).irreversible!.num;
  const leaderOf = async (n: CoreNode) => accountName((await n.chain.blockByNum(n.chain.head!.num))!.block.header.producer);

  it('bft: a transaction pushed to a producer that is not leading, its relay lost, is relayed again and becomes final on all', async () => {
    const net = await network(['a', 'b', 'c', 'd'], 'bft', { loseFirstRelay: true });
    const all = [...net.nodes.values()];
    await until('blocks irreversible', async () => (await irreversibleOf(all[0]!)) >= 4);
    const leader = await leaderOf(all[0]!);
    const follower = [...net.nodes].find(([n]) => n !== leader)![1];
    const before = await balanceOf(all[0]!, 'bob');
    const trace = await follower.submit(await transfer(follower, '3'), { waitFor: 'final' });
    expect(trace.error ?? null).toBeNull();
    await until('the transfer on every node', async () => (await Promise.all(all.map((n) => balanceOf(n, 'bob')))).every((b) => b === before + 3n));
    // It came in a block of another producer (the leader had it only from the second relay).
    expect(await leaderOf(all[0]!)).toBe(leader);
  }, 120_000);

  it(`bft: a transaction no producer takes is relayed again at most ${RELAY_AGAIN_LIMIT} times`, async () => {
    const relays = new Map<string, number>();
    const net = await network(['a', 'b', 'c', 'd'], 'bft', { loseEveryRelay: relays });
    const all = [...net.nodes.values()];
    await until('blocks irreversible', async () => (await irreversibleOf(all[0]!)) >= 4);
    const leader = await leaderOf(all[0]!);
    const follower = [...net.nodes].find(([n]) => n !== leader)![1];
    const tx = await transfer(follower, '2');
    void follower.submit(tx, { waitFor: 'final' }).catch(() => undefined);
    await until(`relayed ${1 + RELAY_AGAIN_LIMIT} times`, () => relays.get(toHex(tx)) === 1 + RELAY_AGAIN_LIMIT, 30_000);
    // Then no more, however long it waits (here: five more re-relay periods).
    await new Promise((r) => setTimeout(r, 5 * RELAY_AGAIN_INTERVALS * INTERVAL_MS));
    expect(relays.get(toHex(tx))).toBe(1 + RELAY_AGAIN_LIMIT);
    expect(await leaderOf(all[0]!)).toBe(leader);
  }, 120_000);

  it('bft with eager blocks: a transaction waiting makes the leader’s next block come early (its time a fraction of the interval after its parent’s); with none waiting, blocks keep the interval', async () => {
    const net = await network(['a', 'b', 'c', 'd'], 'bft', { blockIntervalMs: 1000, eagerBlockMs: 50 });
    const all = [...net.nodes.values()];
    await until('blocks irreversible', async () => (await irreversibleOf(all[0]!)) >= 3, 60_000);
    const gapBefore = async (n: CoreNode, num: number) => (await n.chain.blockByNum(num))!.block.header.time - (await n.chain.blockByNum(num - 1))!.block.header.time;
    // Idle: a block interval between blocks.
    const idle = all[0]!.chain.head!.num;
    expect(await gapBefore(all[0]!, idle)).toBeGreaterThanOrEqual(1_000_000n);
    // Three transfers, one after another, each pushed to another producer: at least two go in early blocks.
    for (let i = 0; i < 3; i++) {
      const n = all[(i + 1) % all.length]!;
      const trace = await n.submit(await transfer(n, String(i + 1)), { waitFor: 'final' });
      expect(trace.error ?? null).toBeNull();
    }
    const head = all[0]!.chain.head!.num;
    const gaps = await Promise.all(Array.from({ length: head - idle }, (_, i) => gapBefore(all[0]!, idle + 1 + i)));
    expect(gaps.filter((g) => g < 1_000_000n).length).toBeGreaterThanOrEqual(2);
    // Times stay on the 50 ms grid and increase.
    for (const g of gaps) expect(g > 0n).toBe(true);
  }, 120_000);

  it('bft: when the leader goes, the other three keep finalising; with two of four gone nothing finalises until one returns', async () => {
    const net = await network(['a', 'b', 'c', 'd'], 'bft');
    const all = [...net.nodes.values()];
    await until('blocks irreversible', async () => (await irreversibleOf(all[0]!)) >= 4);
    const leader = await leaderOf(all[0]!);
    net.down.add(leader);
    const rest = [...net.nodes].filter(([n]) => n !== leader).map(([, n]) => n);
    const mark = Math.max(...(await Promise.all(rest.map(irreversibleOf))));
    await until('irreversible advancing without the old leader', async () => (await Promise.all(rest.map(irreversibleOf))).every((i) => i >= mark + 3), 45_000);
    expect(await leaderOf(rest[0]!)).not.toBe(leader);
    // A second one goes: three of four are a quorum, two are not.
    const second = [...net.nodes.keys()].find((n) => n !== leader && !net.down.has(n))!;
    net.down.add(second);
    const live = [...net.nodes].filter(([n]) => !net.down.has(n)).map(([, n]) => n);
    await new Promise((r) => setTimeout(r, 500));
    const stalled = Math.max(...(await Promise.all(live.map(irreversibleOf))));
    await new Promise((r) => setTimeout(r, 1500));
    expect(Math.max(...(await Promise.all(live.map(irreversibleOf))))).toBe(stalled);
    net.down.delete(second);
    await until('irreversible advancing again once one returns', async () => (await Promise.all(live.map(irreversibleOf))).every((i) => i >= stalled + 2), 45_000);
  }, 180_000);

  it('bft, as browsers (signing asynchronously, on chains that cannot take blocks back): four producers finalise with real signatures on every block and commit, and three go on without the leader', async () => {
    const net = await network(['a', 'b', 'c', 'd'], 'bft', { asBrowsers: true });
    const nodes = [...net.nodes.values()];
    await until('blocks irreversible on every node', async () => (await Promise.all(nodes.map(irreversibleOf))).every((i) => i >= 8));
    const before = await balanceOf(nodes[0]!, 'bob');
    const trace = await nodes[1]!.submit(await transfer(nodes[1]!, '5'), { waitFor: 'final' });
    expect(trace.error ?? null).toBeNull();
    await until('the transfer on every node', async () => (await Promise.all(nodes.map((n) => balanceOf(n, 'bob')))).every((b) => b === before + 5n));
    // What a node committed: each block signed by its producer, each commit certificate's commits by theirs.
    const chain = nodes[3]!.chain;
    const keyOf = (producer: string) => p256PublicFromScalar(devKeyScalar('p256', producer));
    const claims = new Map(producersOf(chain.status!.consensus.current).map((p) => [accountName(p.name), p.auth]));
    let certificates = 0;
    for (let n = 3; n <= chain.head!.num; n++) {
      const b = (await chain.blockByNum(n))!;
      expect(verifyP256Hash(keyOf(accountName(b.block.header.producer)), sha256(blockSignatureData(blockId(b.block.header))), b.signature)).toBe(true);
      if (!b.auxConsensusData) continue;
      const confirm = unpackBlockConfirm(b.auxConsensusData);
      const confirmed = consensusBlockId((await chain.blockByNum(confirm.blockNum))!);
      expect(confirm.commits.length).toBeGreaterThanOrEqual(3);
      for (const c of confirm.commits) {
        const producer = accountName(c.producer);
        const preimage = votePreimage({ kind: 'commit', blockId: confirmed, producer, signer: claims.get(producer)! });
        expect(verifyP256Hash(keyOf(producer), sha256(preimage), c.signature), `${producer}'s commit in block ${n}`).toBe(true);
      }
      certificates++;
    }
    expect(certificates).toBeGreaterThan(0);
    // The leader goes: the other three keep finalising.
    const leader = await leaderOf(nodes[0]!);
    net.down.add(leader);
    const rest = [...net.nodes].filter(([n]) => n !== leader).map(([, n]) => n);
    const mark = Math.max(...(await Promise.all(rest.map(irreversibleOf))));
    await until('irreversible advancing without the old leader', async () => (await Promise.all(rest.map(irreversibleOf))).every((i) => i >= mark + 3), 45_000);
  }, 180_000);

  for (const mode of ['bft', 'cft'] as const) {
    it(`${mode}: a sole producer names three candidates (browsers) with setConsensus; the four go through joint consensus and finalise together`, async () => {
      const hard: Persisting = { saved: new Map(), writing: new Set(), early: [] };
      // A Node peer's routing, following the set as it grows (peer.ts followProducerSet).
      const routed: { producers: string[]; self: string | bigint | undefined }[] = [];
      let stopRouting = () => undefined as void;
      const net = await grownNetwork(['a', 'p-bbbbbbbb', 'p-cccccccc', 'p-dddddddd'], mode, hard, (n) => {
        const fake = { setProducers: (p: Iterable<string | bigint> | undefined, self?: string | bigint) => void routed.push({ producers: [...(p ?? [])].map(String), self }) };
        stopRouting = followProducerSet(n.nodes.get('a')!, fake, 'a', () => undefined, 20);
      });
      const nodes = [...net.nodes.values()];
      await until('the set of four in force on every node', async () => (await Promise.all(nodes.map((n) => n.status()))).every((s) => s.consensus === mode && s.producers.length === 4 && s.nextProducers === null));
      await until('routing to the four', () => routed.length >= 2);
      stopRouting();
      expect(routed[0]).toEqual({ producers: ['a'], self: 'a' });
      expect([...routed.at(-1)!.producers].sort()).toEqual(['a', 'p-bbbbbbbb', 'p-cccccccc', 'p-dddddddd']);
      const mark = Math.max(...(await Promise.all(nodes.map(irreversibleOf))));
      await until('blocks irreversible on every node under the new set', async () => (await Promise.all(nodes.map(irreversibleOf))).every((i) => i >= mark + 4));
      const trace = await nodes[3]!.submit(await transfer(nodes[3]!, '9'), { waitFor: 'final' });
      expect(trace.error ?? null).toBeNull();
      // Each producer's hard state was written (asynchronously, as a browser writes it), and nothing of a step went out while it was being written.
      for (const name of ['p-bbbbbbbb', 'p-cccccccc', 'p-dddddddd']) {
        const h = hard.saved.get(name);
        expect(h, name).toBeDefined();
        if (mode === 'bft') expect(h!.lastCommitted, name).toBeDefined();
        else expect(h!.term, name).toBeGreaterThan(0);
      }
      expect(hard.early).toEqual([]);
    }, 180_000);
  }

  it('cft: three producers survive losing the leader', async () => {
    const net = await network(['a', 'b', 'c'], 'cft');
    const all = [...net.nodes.values()];
    await until('blocks irreversible', async () => (await irreversibleOf(all[0]!)) >= 4);
    const leader = await leaderOf(all[0]!);
    net.down.add(leader);
    const rest = [...net.nodes].filter(([n]) => n !== leader).map(([, n]) => n);
    const mark = Math.max(...(await Promise.all(rest.map(irreversibleOf))));
    await until('irreversible advancing under a new leader', async () => (await Promise.all(rest.map(irreversibleOf))).every((i) => i >= mark + 3), 45_000);
    const before = await balanceOf(rest[0]!, 'bob');
    await rest[1]!.submit(await transfer(rest[1]!, '3'), { waitFor: 'final' });
    await until('the transfer on both', async () => (await Promise.all(rest.map((n) => balanceOf(n, 'bob')))).every((b) => b === before + 3n));
  }, 180_000);

  it('a block whose transactions do not run is refused, never applied, and its sender reported', async () => {
    const net = await network(['a', 'b', 'c', 'd'], 'bft');
    const all = [...net.nodes.values()];
    await until('blocks irreversible', async () => (await irreversibleOf(all[0]!)) >= 3);
    const victim = net.nodes.get('b')!;
    // A block on b's head, signed with a producer's real key, holding a transfer that fails (bob has too little).
    // (If b finalises past the block's height before it reads it, the block is merely old: try again on the new head.)
    let head = victim.chain.head!;
    let id: Uint8Array = new Uint8Array(0);
    const reported = () => net.reports.some(([by, peer, why]) => by === 'b' && peer === '#mallory' && /does not run/.test(why));
    for (let attempt = 0; attempt < 10 && !reported(); attempt++) {
      const at = victim.chain.head!;
      const tooMuch = await signedTransfer({ from: 'bob', to: 'alice', amount: '999999999', memo: `too much ${attempt}`, tapos: taposRef(at.num, at.id), expiration: at.time / 1_000_000n + 60n });
      // The head now (it may have moved while signing): the block goes on top of it, at once.
      head = victim.chain.head!;
      const built = victim.chain.buildOn(victim.chain.state.reader, { time: head.time + 1_000n, producer: accountNumber('c'), term: 0, irreversible: 0 }, []);
      const block = { ...built.block, transactions: [...built.block.transactions, unpackSignedTransaction(tooMuch)] };
      id = blockId(block.header);
      const signature = signP256Hash(devKeyScalar('p256', 'c'), sha256(blockSignatureData(id)));
      victim.receive('#mallory', encodeMessage({ kind: 'BlockMessage', value: { block: packSignedBlock({ block, signature, auxConsensusData: null }) } }));
      await until('the block read', async () => reported() || victim.chain.head!.num > head.num + 3, 5_000).catch(() => undefined);
    }
    expect(reported()).toBe(true);
    const headBefore = victim.chain.head!.num;
    await until('b keeps going', async () => victim.chain.head!.num > headBefore + 2);
    for (let n = head.num + 1; n <= victim.chain.head!.num; n++) expect(toHex((await victim.chain.blockByNum(n))!.block.header.previous)).not.toBe(toHex(id));
    expect(toHex(blockId((await victim.chain.blockByNum(head.num + 1))!.block.header))).not.toBe(toHex(id));
  }, 120_000);
});

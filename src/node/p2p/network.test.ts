/**
 * Node peers on one chain over psibase's peer protocol: a producer and followers,
 * each a startPeer in this process on its own loopback port, connected by the
 * WebSocket at x-peers.<root>/p2p. Fake peers (a bare WebSocket speaking the wire
 * codec) send what an honest peer never would.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreNode } from '../../core/node.ts';
import { decodeMessage, encodeMessage, type AnyMessage, type WireMessage } from '../../net/wire/index.ts';
import { packSignedBlock, unpackSignedBlock, type SignedBlock } from '../../protocol/types.ts';
import { signedTransfer } from '../browser/tx.ts';
import { startPeer, type Peer, type PeerOptions } from '../peer.ts';
import { fetchNode, serviceUrl } from '../client.ts';
import { FORWARD_HOPS_HEADER, MAX_FORWARD_HOPS } from '../forward.ts';
import { dialWebSocket, type WebSocket } from './websocket.ts';

const ROOT = 'psiweb.localhost';
const root = mkdtempSync(join(tmpdir(), 'psiweb-p2p-'));
/** A producer's data directory with a devnet and a few blocks; tests copy it. */
const template = join(root, 'template');
let n = 0;

interface Logged {
  peer: Peer;
  lines: string[];
}

async function start(dataDir: string, options: Partial<PeerOptions> = {}): Promise<Logged> {
  const lines: string[] = [];
  const peer = await startPeer({ dataDir, port: 0, rootHost: ROOT, distDir: join(root, 'no-dist'), log: (l) => lines.push(l), produce: false, ...options });
  return { peer, lines };
}

const freshDir = (name: string) => join(root, `${name}-${n++}`);
function copyOfTemplate(): string {
  const dir = freshDir('producer');
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function within<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms).unref())]);
}

async function get(peer: Peer, url: string): Promise<{ status: number; text: string }> {
  const r = await peer.router.handle(new Request(url));
  return { status: r.status, text: await r.text() };
}

const balance = async (peer: Peer, account: string) => (await get(peer, `http://tokens.${ROOT}/balances/${account}`)).text;

async function signed(peer: Peer, amount: string, memo: string): Promise<Uint8Array> {
  const tapos = JSON.parse((await get(peer, `http://tokens.${ROOT}/common/tapos/head`)).text) as { refBlockIndex: number; refBlockSuffix: number };
  return signedTransfer({ from: 'alice', to: 'bob', amount, memo, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
}

async function transfer(producer: Peer, amount: string, memo: string): Promise<void> {
  await producer.node.submit(await signed(producer, amount, memo), { waitFor: 'applied' });
}

/** Pushes to a peer over HTTP, as a client would; the reply's status and body. */
async function pushTo(peer: Peer, trx: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetchNode(serviceUrl(peer.url, 'transact', '/push_transaction?wait_for=final'), {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: trx,
    timeoutMs: 30_000,
  });
  return { status: res.status, body: res.text() };
}

/** A bare WebSocket peer: records what it is sent, sends whatever it is told to. */
interface FakePeer {
  ws: WebSocket;
  received: WireMessage[];
  closed: Promise<{ code: number; reason: string }>;
  send(msg: AnyMessage | Uint8Array): void;
}

async function fakePeer(url: string): Promise<FakePeer> {
  const ws = await dialWebSocket(url);
  const received: WireMessage[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason })));
  ws.on('message', (d) => received.push(decodeMessage(d)));
  return { ws, received, closed, send: (m) => ws.send(m instanceof Uint8Array ? m : encodeMessage(m)) };
}

/** Raw HTTP on the peer's port: the status line of the answer. */
function rawStatus(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/p2p', headers });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode!);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

const upgrade = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };

beforeAll(async () => {
  const { peer } = await start(template);
  for (let i = 0; i < 3; i++) await peer.node.produceBlock();
  await peer.close();
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('followers over the peer WebSocket', () => {
  it('a follower syncs from genesis, follows a producer at 100 ms blocks, and answers the same balances', async () => {
    const { peer: producer } = await start(copyOfTemplate(), { produce: true, blockIntervalMs: 100 });
    const followerDir = freshDir('follower');
    const { peer: follower, lines } = await start(followerDir, { follow: true, peers: [producer.url] });
    try {
      expect(follower.role).toBe('follower');
      // A follower of a sole producer's chain runs the node core, as the producer does.
      expect(follower.node).toBeInstanceOf(CoreNode);
      expect(producer.node).toBeInstanceOf(CoreNode);
      await until('the follower to reach the producer', () => (follower.node.chain.head?.num ?? 0) >= producer.node.chain.head!.num);
      expect(lines.join('\n')).toMatch(/genesis block (applied|taken from a peer)/);
      for (let i = 0; i < 3; i++) await transfer(producer, String(10 + i), `p2p ${i}`);
      const target = producer.node.chain.head!.num + 2;
      await until('the transfers to reach the follower', () => (follower.node.chain.head?.num ?? 0) >= target);
      const bob = await balance(producer, 'bob');
      expect(JSON.parse(bob)).toMatchObject({ balance: String(500_000n + 33n) });
      expect(await balance(follower, 'bob')).toBe(bob);
      expect(await balance(follower, 'alice')).toBe(await balance(producer, 'alice'));
      // Same blocks, not just the same state.
      const num = follower.node.chain.head!.num;
      expect(follower.node.chain.head!.id).toEqual((await producer.node.chain.state.store.block(num))!.id);
      // /native/status: role and peers, both ends.
      const fs = JSON.parse((await get(follower, `http://${ROOT}/native/status`)).text) as { role: string; producing: boolean; peers: { direction: string; url?: string; transport: string; head?: { num: number } }[] };
      expect(fs.role).toBe('follower');
      expect(fs.producing).toBe(false);
      expect(fs.peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'out', url: producer.url })]);
      expect(fs.peers[0]!.head!.num).toBeGreaterThanOrEqual(num);
      // Pinged on connect: the round trip is known.
      expect((fs.peers[0] as { rttMs?: number }).rttMs).toBeGreaterThanOrEqual(0);
      const ps = await producer.status();
      expect(ps.role).toBe('producer');
      expect(ps.peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'in' })]);
      // A transaction pushed to the follower is handed to the producer: final there, then here.
      const handed = await pushTo(follower, await signed(follower, '100', 'through the follower'));
      expect(handed.status).toBe(200);
      expect(JSON.parse(handed.body)).toMatchObject({ error: null });
      await until('the handed-on transfer to reach the follower', async () => JSON.parse(await balance(follower, 'bob')).balance === String(500_000n + 133n));
      // No further than MAX_FORWARD_HOPS following nodes.
      const looping = await pushTo(follower, await signed(follower, '1', 'looping'), { [FORWARD_HOPS_HEADER]: String(MAX_FORWARD_HOPS) });
      expect(looping.status).toBe(508);
    } finally {
      await follower.close();
      await producer.close();
    }
  }, 60_000);

  it('a follower restarted behind catches up; a second follower syncs from the first', async () => {
    const { peer: producer } = await start(copyOfTemplate());
    const followerDir = freshDir('follower');
    let { peer: follower } = await start(followerDir, { follow: true, peers: [producer.url] });
    await until('the first sync', () => follower.node.chain.head?.num === producer.node.chain.head!.num);
    await follower.close();
    for (let i = 0; i < 5; i++) await producer.node.produceBlock();
    await transfer(producer, '7', 'while away');
    await producer.node.produceBlock();
    ({ peer: follower } = await start(followerDir, { follow: true, peers: [producer.url] }));
    const relay = await start(freshDir('relay'), { follow: true, peers: [follower.url] });
    try {
      const head = producer.node.chain.head!;
      await until('the restarted follower to catch up', () => follower.node.chain.head?.num === head.num);
      expect(follower.node.chain.head!.id).toEqual(head.id);
      expect(await balance(follower, 'bob')).toBe(await balance(producer, 'bob'));
      // A block made now reaches the relay through the follower.
      await producer.node.produceBlock();
      await until('the relay to follow through the follower', () => relay.peer.node.chain.head?.num === producer.node.chain.head!.num);
      expect(relay.peer.node.chain.head!.id).toEqual(producer.node.chain.head!.id);
      // A push to the relay goes relay → follower → producer. (Blocks come from produceBlock here.)
      const pushed = pushTo(relay.peer, await signed(relay.peer, '3', 'two hops'));
      await new Promise((r) => setTimeout(r, 300));
      await producer.node.produceBlock();
      const answer = await pushed;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ error: null });
    } finally {
      await relay.peer.close();
      await follower.close();
      await producer.close();
    }
  }, 60_000);
});

describe('either side may dial', () => {
  it('a producer that dials a follower sends it the chain', async () => {
    const follower = await start(freshDir('dialed'), { follow: true });
    const { peer: producer } = await start(copyOfTemplate(), { peers: [follower.peer.url] });
    try {
      await until('the dialed follower to sync', () => follower.peer.node.chain.head?.num === producer.node.chain.head!.num);
      await producer.node.produceBlock();
      await until('the next block', () => follower.peer.node.chain.head?.num === producer.node.chain.head!.num);
      expect(follower.peer.network.peers()).toEqual([expect.objectContaining({ direction: 'in' })]);
      expect(producer.network.peers()).toEqual([expect.objectContaining({ direction: 'out', url: follower.peer.url })]);
    } finally {
      await producer.close();
      await follower.peer.close();
    }
  });
});

describe('a misbehaving peer is disconnected', () => {
  let producer: Peer;
  let genesis: SignedBlock;
  let block3: SignedBlock;

  beforeAll(async () => {
    ({ peer: producer } = await start(copyOfTemplate()));
    genesis = (await producer.node.chain.blockByNum(2))!;
    block3 = (await producer.node.chain.blockByNum(3))!;
  });
  afterAll(() => producer.close());

  /** A fresh follower with no peers of its own, and a fake peer connected to it that is ahead. */
  async function followerWithFake(): Promise<{ follower: Logged; fake: FakePeer }> {
    const follower = await start(freshDir('victim'), { follow: true });
    const fake = await fakePeer(follower.peer.url);
    const head = producer.node.chain.head!;
    fake.send({ kind: 'InitMessage', value: { version: 0 } });
    fake.send({ kind: 'HelloRequest', value: { xid: { _id: head.id, _num: head.num }, committed: true } });
    return { follower, fake };
  }

  it('takes at most maxInboundPeers peers that dial in, and refuses more with 1013 (try again later)', async () => {
    const node = await start(freshDir('capped'), { follow: true, maxInboundPeers: 2 });
    const fakes = [await fakePeer(node.peer.url), await fakePeer(node.peer.url)];
    try {
      await until('both to be greeted', () => fakes.every((f) => f.received.length >= 2));
      const third = await fakePeer(node.peer.url);
      fakes.push(third);
      expect(await within(third.closed)).toMatchObject({ code: 1013, reason: expect.stringMatching(/at most 2 incoming peers/) });
      expect(node.lines.join('\n')).toMatch(/refusing a peer .*2 peers are connected in already/);
      expect(node.peer.network.peers().filter((p) => p.direction === 'in')).toHaveLength(2);
      // A place frees up when one leaves.
      fakes[0]!.ws.close();
      await until('the first to be gone', () => node.peer.network.peers().filter((p) => p.direction === 'in').length === 1);
      const fourth = await fakePeer(node.peer.url);
      fakes.push(fourth);
      await until('the fourth to be greeted', () => fourth.received.length >= 2);
    } finally {
      for (const f of fakes) f.ws.destroy();
      await node.peer.close();
    }
  });

  it('speaks first as psinode does: InitMessage, then a hello for genesis when it holds no chain', async () => {
    const { follower, fake } = await followerWithFake();
    try {
      await until('two messages', () => fake.received.length >= 2);
      expect(fake.received[0]).toEqual({ kind: 'InitMessage', value: { version: 0 } });
      expect(fake.received[1]).toMatchObject({ kind: 'HelloRequest', value: { xid: { _num: 1 }, committed: true } });
    } finally {
      fake.ws.destroy();
      await follower.peer.close();
    }
  });

  for (const [name, forge, why] of [
    ['a forged signature', (b: SignedBlock) => ({ ...b, signature: b.signature.map((x, i) => (i === 10 ? x ^ 1 : x)) }), /invalid block 3: block signature/],
    ['another producer', (b: SignedBlock) => ({ ...b, block: { ...b.block, header: { ...b.block.header, producer: b.block.header.producer + 1n } } }), /invalid block 3: .*producer/i],
    ['its transactions removed', (b: SignedBlock) => ({ ...b, block: { ...b.block, transactions: [] } }), /invalid block 3/],
  ] as const) {
    it(`a block with ${name} is not applied, and its sender is dropped`, async () => {
      const { follower, fake } = await followerWithFake();
      try {
        fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(genesis) } });
        fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(forge(block3)) } });
        const closed = await within(fake.closed);
        expect(closed.code).toBe(1008);
        expect(follower.peer.node.chain.head?.num).toBe(2);
        expect(follower.lines.join('\n')).toMatch(why);
        expect(follower.peer.network.peers()).toEqual([]);
      } finally {
        await follower.peer.close();
      }
    });
  }

  it('the honest block 3 from the same fake is applied (the forgeries are what is refused)', async () => {
    const { follower, fake } = await followerWithFake();
    try {
      fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(genesis) } });
      fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(block3) } });
      await until('block 3', () => follower.peer.node.chain.head?.num === 3);
      expect(fake.ws.isOpen).toBe(true);
    } finally {
      fake.ws.destroy();
      await follower.peer.close();
    }
  });

  it('blocks sent in a burst are applied together, duplicates among them too: every block committed once, in groups', async () => {
    const { follower, fake } = await followerWithFake();
    try {
      const store = follower.peer.node.chain.state.store;
      const groups: number[][] = [];
      // Every commit: groups through commitBlocks, single blocks through commitBlock.
      const commitBlocks = store.commitBlocks!.bind(store);
      store.commitBlocks = (c) => (groups.push(c.blocks.map((b) => b.num)), commitBlocks(c));
      const commitBlock = store.commitBlock.bind(store);
      // The first commit (genesis) is held a moment, so the rest of the burst is surely
      // queued behind it, however fast or slow this machine applies blocks.
      store.commitBlock = async (c) => {
        groups.push([c.block.num]);
        if (groups.length === 1) await new Promise((r) => setTimeout(r, 300));
        return commitBlock(c);
      };
      const head = producer.node.chain.head!.num;
      const blocks = [];
      for (let num = 2; num <= head; num++) blocks.push((await producer.node.chain.blockByNum(num))!);
      // Each block after the first is followed by the one before it again, as a second
      // peer's copy would come.
      for (const [i, b] of blocks.entries()) {
        fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(b) } });
        if (i > 0) fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(blocks[i - 1]!) } });
      }
      await until(`block ${head}`, () => follower.peer.node.chain.head?.num === head);
      expect(groups.flat()).toEqual(blocks.map((b) => b.block.header.blockNum));
      expect(groups.some((g) => g.length > 1)).toBe(true);
      expect(follower.peer.node.chain.head!.id).toEqual(producer.node.chain.head!.id);
      expect(fake.ws.isOpen).toBe(true);
    } finally {
      fake.ws.destroy();
      await follower.peer.close();
    }
  });

  it('in a burst, the blocks before a forged one are applied, the forged one and those after it are not, and its sender is dropped', async () => {
    const { follower, fake } = await followerWithFake();
    try {
      const block4 = (await producer.node.chain.blockByNum(4))!;
      const block5 = (await producer.node.chain.blockByNum(5))!;
      const forged = { ...block4, signature: block4.signature.map((x, i) => (i === 10 ? x ^ 1 : x)) };
      for (const b of [genesis, block3, forged, block5]) fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(b) } });
      const closed = await within(fake.closed);
      expect(closed.code).toBe(1008);
      expect(follower.lines.join('\n')).toMatch(/invalid block 4: block signature/);
      expect(follower.peer.node.chain.head?.num).toBe(3);
      expect(await follower.peer.node.chain.state.store.block(4)).toBeUndefined();
      expect(await follower.peer.node.chain.state.store.block(5)).toBeUndefined();
    } finally {
      await follower.peer.close();
    }
  });

  it('two peers sending the same blocks, one of them forged: the forger is dropped and the honest copies take the follower to the head, whichever comes first', async () => {
    const { follower, fake } = await followerWithFake();
    const honest = await fakePeer(follower.peer.url);
    try {
      const head = producer.node.chain.head!;
      honest.send({ kind: 'InitMessage', value: { version: 0 } });
      honest.send({ kind: 'HelloRequest', value: { xid: { _id: head.id, _num: head.num }, committed: true } });
      const blocks = [];
      for (let num = 2; num <= head.num; num++) blocks.push((await producer.node.chain.blockByNum(num))!);
      // Another id than the honest block 4 (a forged signature alone would not change it), so
      // it is refused either way: as invalid, or as contradicting the honest 4 applied first.
      const forged = (b: SignedBlock) => ({ ...b, block: { ...b.block, header: { ...b.block.header, producer: b.block.header.producer + 1n } } });
      // The forger's blocks up to its forgery, then the honest peer's copies of them all:
      // the honest ones may queue up behind the forged 4, the last in the same run as it.
      for (const b of blocks.filter((b) => b.block.header.blockNum <= 4))
        fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(b.block.header.blockNum === 4 ? forged(b) : b) } });
      for (const b of blocks) honest.send({ kind: 'BlockMessage', value: { block: packSignedBlock(b) } });
      const closed = await within(fake.closed);
      expect(closed.code).toBe(1008);
      await until(`block ${head.num}`, () => follower.peer.node.chain.head?.num === head.num);
      expect(follower.peer.node.chain.head!.id).toEqual(head.id);
      expect(honest.ws.isOpen).toBe(true);
    } finally {
      honest.ws.destroy();
      await follower.peer.close();
    }
  });

  for (const [name, frame] of [
    ['an unknown type byte', new Uint8Array([0x1f])],
    ['an empty frame', new Uint8Array(0)],
    ['a truncated BlockMessage', new Uint8Array([34, 4, 0, 0])],
    // type byte, u16 fixed size, u32 offset of xid, then the bool
    ['a HelloRequest with a bad bool', encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: new Uint8Array(32), _num: 1 }, committed: true } }).map((x, i) => (i === 7 ? 7 : x))],
  ] as const) {
    it(`${name} closes the connection with the reason logged`, async () => {
      expect(() => decodeMessage(frame)).toThrow();
      const { follower, fake } = await followerWithFake();
      try {
        fake.send(frame);
        const closed = await within(fake.closed);
        expect(closed.code).toBe(1007);
        expect(follower.lines.join('\n')).toMatch(/disconnecting peer \d+: a frame that does not decode/);
        expect(follower.peer.network.peers()).toEqual([]);
      } finally {
        await follower.peer.close();
      }
    });
  }

  it('a peer on another chain is dropped at hello', async () => {
    const follower = await start(freshDir('victim'), { follow: true, peers: [producer.url] });
    try {
      await until('sync', () => follower.peer.node.chain.head?.num === producer.node.chain.head!.num);
      const fake = await fakePeer(follower.peer.url);
      const other = new Uint8Array(32).fill(7);
      other.set(new Uint8Array([0, 0, 0, 3]));
      fake.send({ kind: 'HelloRequest', value: { xid: { _id: other, _num: 3 }, committed: true } });
      expect((await within(fake.closed)).code).toBe(1008);
      expect(follower.lines.join('\n')).toMatch(/no common block: the peer's irreversible block 3/);
    } finally {
      await follower.peer.close();
    }
  });

  it('a follower of another chain is dropped by that chain\'s producer, and does not dial it again at once', async () => {
    const dir = freshDir('victim');
    const follower = await start(dir, { follow: true, peers: [producer.url] });
    // A devnet booted now: another genesis time (a later second), another chain.
    await until('a later second', () => BigInt(Date.now()) * 1000n >= genesis.block.header.time + 1_000_000n);
    const other = await start(freshDir('other-chain'));
    try {
      await until('sync', () => follower.peer.node.chain.head?.num === producer.node.chain.head!.num);
      const ours = follower.peer.node.chain.head!;
      for (let i = 0; i < ours.num; i++) await other.peer.node.produceBlock();
      expect(other.peer.node.chain.chainId).not.toEqual(follower.peer.node.chain.chainId);
      await follower.peer.close();
      const again = await start(dir, { follow: true, peers: [other.peer.url] });
      try {
        await until('the other producer to drop it', () => other.lines.some((l) => /no common block/.test(l)));
        await until('the follower to hear why', () => again.lines.some((l) => /disconnected \(1008: no common block/.test(l)));
        await new Promise((r) => setTimeout(r, 1500));
        expect(again.lines.filter((l) => /connected \(out/.test(l))).toHaveLength(1);
        expect(again.peer.node.chain.head!.id).toEqual(ours.id);
      } finally {
        await again.peer.close();
      }
    } finally {
      await other.peer.close();
    }
  });

  it("x-peers' own messages (type 64 and up) are ignored, not faults", async () => {
    const { follower, fake } = await followerWithFake();
    try {
      fake.send(new Uint8Array([64, 1, 2, 3]));
      fake.send({ kind: 'BlockMessage', value: { block: packSignedBlock(genesis) } });
      await until('genesis', () => follower.peer.node.chain.head?.num === 2);
      expect(fake.ws.isOpen).toBe(true);
    } finally {
      fake.ws.destroy();
      await follower.peer.close();
    }
  });
});

describe('the peer endpoint', () => {
  let producer: Peer;
  beforeAll(async () => {
    ({ peer: producer } = await start(copyOfTemplate()));
  });
  afterAll(() => producer.close());

  it(`is x-peers.<root>/p2p only, Host checked as for every request`, async () => {
    const port = producer.port;
    expect(await rawStatus(port, { ...upgrade, Host: `x-peers.${ROOT}:${port}` })).toBe(101);
    expect(await rawStatus(port, { ...upgrade, Host: `X-Peers.${ROOT.toUpperCase()}` })).toBe(101);
    expect(await rawStatus(port, { ...upgrade, Host: `tokens.${ROOT}:${port}` })).toBe(404);
    expect(await rawStatus(port, { ...upgrade, Host: `x-peers.example.com` })).toBe(404);
    expect(await rawStatus(port, { ...upgrade, Host: `${ROOT}` })).toBe(404);
    expect(await rawStatus(port, { ...upgrade, Host: `x-peers.${ROOT}/x` })).toBe(400);
    expect(await rawStatus(port, { ...upgrade, Host: `x-peers.${ROOT}`, Origin: 'http://evil.example' })).toBe(403);
    expect(await rawStatus(port, { ...upgrade, Host: `x-peers.${ROOT}`, 'Sec-WebSocket-Version': '8' })).toBe(426);
    // A plain GET is told to upgrade, as psinode's x-peers answers.
    expect(await rawStatus(port, { Host: `x-peers.${ROOT}` })).toBe(426);
  });
});

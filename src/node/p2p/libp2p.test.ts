/**
 * The Node peer's libp2p host (startPeer): its multiaddrs in /native/status, its key kept
 * in the data directory (the same peer id after a restart; a damaged key file refused),
 * its port checked before the data directory is touched, and libp2p peers as full
 * PeerNetwork peers: a follower dialing a multiaddr syncs over libp2p, and a raw libp2p
 * client that sends what an honest peer never would is dropped and banned by peer id.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type AnyMessage, type WireMessage } from '../../net/wire/index.ts';
import { lengthPrefix, MAX_FRAME_BYTES } from '../../net/libp2p/frames.ts';
import { startNodeHost, type NodeHost } from '../../net/libp2p/node-host.ts';
import type { Libp2pPeerSocket } from '../../net/libp2p/peer-socket.ts';
import { packSignedBlock, unpackSignedBlock, type SignedBlock } from '../../protocol/types.ts';
import { bytesEqual } from '../../state/bytes.ts';
import { fetchNode } from '../client.ts';
import { PortInUseError, startPeer, type Peer, type PeerOptions, type PeerStatus } from '../peer.ts';
import { Libp2pKeyDamagedError } from './errors.ts';
import { LIBP2P_KEY_FILE } from './libp2p-key.ts';

const ROOT = 'psiweb.localhost';
const root = mkdtempSync(join(tmpdir(), 'psiweb-libp2p-'));
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
  // Each node its own libp2p identity.
  rmSync(join(dir, LIBP2P_KEY_FILE), { force: true });
  return dir;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function within<T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

/** `/native/status` over HTTP, as a browser reads it. */
const status = async (peer: Peer) => JSON.parse((await fetchNode(`${peer.url}/native/status`)).text()) as PeerStatus;

/** A raw libp2p client's psibase stream: records what it is sent, sends whatever it is told to. */
interface RawPeer {
  socket: Libp2pPeerSocket;
  received: WireMessage[];
  closed: Promise<{ code: number; reason: string }>;
  send(msg: AnyMessage | Uint8Array): void;
}

async function rawPeer(client: NodeHost, addr: string): Promise<RawPeer> {
  const socket = await client.peers.dial(multiaddr(addr));
  const received: WireMessage[] = [];
  // The stream may be closed before this is called (a peer that refuses at once).
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (socket.closedWith ? resolve(socket.closedWith) : socket.on('close', (code, reason) => resolve({ code, reason }))));
  socket.on('message', (d) => received.push(decodeMessage(d)));
  return { socket, received, closed, send: (m) => socket.send(m instanceof Uint8Array ? m : encodeMessage(m)) };
}

const clients: NodeHost[] = [];
async function client(): Promise<NodeHost> {
  const c = await startNodeHost({ relay: false });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  const { peer } = await start(template, { libp2pPort: false });
  for (let i = 0; i < 3; i++) await peer.node.produceBlock();
  await peer.close();
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  rmSync(root, { recursive: true, force: true });
});

describe("the Node peer's libp2p host", () => {
  it('lists its multiaddrs in /native/status, keeps its key (0600) in the data directory, and has the same peer id after a restart', async () => {
    const dir = copyOfTemplate();
    const first = await start(dir);
    let peerId: string;
    let addr: string;
    try {
      const s = await status(first.peer);
      expect(s.libp2p).not.toBeNull();
      peerId = s.libp2p!.peerId;
      addr = s.libp2p!.addrs[0]!;
      expect(peerId).toMatch(/^12D3KooW/);
      expect(s.libp2p!.addrs.length).toBeGreaterThan(0);
      for (const a of s.libp2p!.addrs) expect(a).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${peerId}$`));
      expect(first.peer.libp2p!.peerId).toBe(peerId);
      expect(statSync(join(dir, LIBP2P_KEY_FILE)).mode & 0o777).toBe(0o600);
      expect(existsSync(join(dir, `${LIBP2P_KEY_FILE}.tmp`))).toBe(false);
      expect(first.lines.join('\n')).toMatch(/libp2p: a new key for this node/);
    } finally {
      await first.peer.close();
    }
    // The host stopped with the peer: its address takes no dial.
    await expect((await client()).peers.dial(multiaddr(addr), { signal: AbortSignal.timeout(5_000) })).rejects.toThrow(/cannot open a psibase peer stream/);
    const key = readFileSync(join(dir, LIBP2P_KEY_FILE));
    const second = await start(dir);
    try {
      const s = await status(second.peer);
      expect(s.libp2p!.peerId).toBe(peerId);
      expect(s.libp2p!.addrs.every((a) => a.endsWith(`/p2p/${peerId}`))).toBe(true);
      expect(readFileSync(join(dir, LIBP2P_KEY_FILE))).toEqual(key);
      expect(second.lines.join('\n')).not.toMatch(/a new key/);
    } finally {
      await second.peer.close();
    }
  });

  it('runs no host with libp2pPort false: libp2p is null and no key is made', async () => {
    const dir = copyOfTemplate();
    const { peer } = await start(dir, { libp2pPort: false });
    try {
      expect((await status(peer)).libp2p).toBeNull();
      expect(peer.libp2p).toBeUndefined();
      expect(existsSync(join(dir, LIBP2P_KEY_FILE))).toBe(false);
    } finally {
      await peer.close();
    }
  });

  for (const [name, damage] of [
    ['not a key at all', () => new TextEncoder().encode('hello, world')],
    ['an empty file', () => new Uint8Array(0)],
    ['cut short', (k: Uint8Array) => k.subarray(0, 40)],
    ['bytes after the key', (k: Uint8Array) => Uint8Array.of(...k, 0, 0)],
    ['a bit flipped in its seed', (k: Uint8Array) => k.map((x, i) => (i === 10 ? x ^ 1 : x))],
    ['a bit flipped in its public half', (k: Uint8Array) => k.map((x, i) => (i === 60 ? x ^ 1 : x))],
  ] as const) {
    it(`a key file that is ${name} is refused with a Libp2pKeyDamagedError, and left as it is`, async () => {
      const dir = copyOfTemplate();
      const { peer } = await start(dir);
      await peer.close();
      const bad = damage(readFileSync(join(dir, LIBP2P_KEY_FILE)));
      writeFileSync(join(dir, LIBP2P_KEY_FILE), bad);
      const e = await start(dir).then(
        (p) => p.peer.close().then(() => undefined),
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(Libp2pKeyDamagedError);
      expect((e as Error).message).toMatch(/libp2p\.key is not a libp2p private key .*restore it from a backup .* or remove it/);
      expect(new Uint8Array(readFileSync(join(dir, LIBP2P_KEY_FILE)))).toEqual(new Uint8Array(bad));
      // The directory is free again (the lock was released, the store closed): a good key starts it.
      rmSync(join(dir, LIBP2P_KEY_FILE));
      const again = await start(dir);
      await again.peer.close();
    });
  }

  it('a libp2p port in use fails before the data directory is touched', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const dir = join(root, 'never-created');
    try {
      const e = await start(dir, { libp2pPort: port }).then(
        (p) => p.peer.close().then(() => undefined),
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(PortInUseError);
      expect((e as Error).message).toBe(`the libp2p port ${port} on 127.0.0.1 is in use: stop what uses it, pick another --libp2p-port (0: any free port), or run with --no-libp2p`);
      expect(existsSync(dir)).toBe(false);
    } finally {
      busy.close();
    }
    // A given free port is the one it listens on; the HTTP port + 1 by default.
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const freePort = (free.address() as { port: number }).port;
    await new Promise<void>((r) => free.close(() => r()));
    const { peer } = await start(copyOfTemplate(), { libp2pPort: freePort });
    try {
      expect(peer.libp2p!.addresses().map(String)).toEqual([`/ip4/127.0.0.1/tcp/${freePort}/ws/p2p/${peer.libp2p!.peerId}`]);
    } finally {
      await peer.close();
    }
  });
});

describe('libp2p peers are PeerNetwork peers', () => {
  it('a follower dialing the producer at its multiaddr syncs from genesis over libp2p and follows; both list the other with its peer id', async () => {
    const { peer: producer } = await start(copyOfTemplate(), { produce: true, blockIntervalMs: 100 });
    const addr = (await status(producer)).libp2p!.addrs[0]!;
    const { peer: follower, lines } = await start(freshDir('follower'), { follow: true, peers: [addr] });
    try {
      await until('the follower to reach block 10 and the producer', () => (follower.node.chain.head?.num ?? 0) >= Math.max(10, producer.node.chain.head!.num - 3));
      expect(lines.join('\n')).toMatch(/genesis block applied/);
      const [p, f] = await Promise.all([status(producer), status(follower)]);
      expect(f.chainId).toBe(p.chainId);
      expect(p.peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'in', peerId: f.libp2p!.peerId })]);
      expect(p.peers[0]!.url).toBeUndefined();
      expect(f.peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'out', peerId: p.libp2p!.peerId, addr })]);
      // Over the libp2p connection: libp2p's ping gives the round trip.
      await until('a round trip', async () => (await status(follower)).peers[0]?.rttMs !== undefined);
    } finally {
      await follower.close();
      await producer.close();
    }
    // The hosts stopped with their peers: the producer's address takes no dial.
    const c = await client();
    await expect(c.peers.dial(multiaddr(addr), { signal: AbortSignal.timeout(5_000) })).rejects.toThrow(/cannot open a psibase peer stream/);
  }, 60_000);

  describe('a raw libp2p client', () => {
    let producer: Logged;
    let genesis: SignedBlock;
    let block3: SignedBlock;
    let addr: string;

    beforeAll(async () => {
      producer = await start(copyOfTemplate());
      genesis = (await producer.peer.node.chain.blockByNum(2))!;
      block3 = (await producer.peer.node.chain.blockByNum(3))!;
      addr = (await status(producer.peer)).libp2p!.addrs[0]!;
    });
    afterAll(() => producer.peer.close());

    it('is sent the chain after a hello for genesis, as over the peer WebSocket', async () => {
      const c = await client();
      const raw = await rawPeer(c, addr);
      try {
        await until('InitMessage', () => raw.received.length >= 1);
        expect(raw.received[0]).toEqual({ kind: 'InitMessage', value: { version: 0 } });
        raw.send({ kind: 'InitMessage', value: { version: 0 } });
        raw.send({ kind: 'HelloRequest', value: { xid: { _id: new Uint8Array(32), _num: 1 }, committed: true } });
        // Genesis (block 2) to the head, each once, in order (the head may also come first, as the node core shows it on connect).
        const nums = () => raw.received.flatMap((m) => (m.kind === 'BlockMessage' ? [unpackSignedBlock(m.value.block).block.header.blockNum] : []));
        const head = () => producer.peer.node.chain.head!.num;
        const fromGenesis = () => nums().slice(nums().indexOf(2));
        await until('every block', () => fromGenesis().length === head() - 1);
        expect(fromGenesis()).toEqual(Array.from({ length: head() - 1 }, (_, i) => i + 2));
        const genesisMessage = raw.received.find((m) => m.kind === 'BlockMessage' && unpackSignedBlock(m.value.block).block.header.blockNum === 2);
        expect(genesisMessage?.kind === 'BlockMessage' && bytesEqual(genesisMessage.value.block, packSignedBlock(genesis))).toBe(true);
        await producer.peer.node.produceBlock();
        await until('the new block', () => fromGenesis().length === head() - 1 && nums().at(-1) === head());
        expect((await status(producer.peer)).peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'in', peerId: c.peerId })]);
      } finally {
        raw.socket.close();
      }
    });

    /** A libp2p client's stream to a fresh follower with no peers, the client ahead of it. */
    async function victimWithRaw(): Promise<{ victim: Logged; c: NodeHost; raw: RawPeer }> {
      const victim = await start(freshDir('victim'), { follow: true });
      const c = await client();
      const raw = await rawPeer(c, (await status(victim.peer)).libp2p!.addrs[0]!);
      const head = producer.peer.node.chain.head!;
      raw.send({ kind: 'InitMessage', value: { version: 0 } });
      raw.send({ kind: 'HelloRequest', value: { xid: { _id: head.id, _num: head.num }, committed: true } });
      await until('the victim to take the peer', () => victim.peer.network.peers().length === 1);
      return { victim, c, raw };
    }

    /** The client is banned by its peer id: listed, and its next stream is closed at once. */
    async function expectBanned(victim: Logged, c: NodeHost, raw: RawPeer, why: RegExp): Promise<void> {
      await within('the stream to close', raw.closed);
      await until('the peer to be gone', () => victim.peer.network.peers().length === 0);
      const bans = (await status(victim.peer)).bans;
      expect(bans).toEqual([expect.objectContaining({ key: `libp2p:${c.peerId}`, message: expect.stringMatching(why) })]);
      const again = await rawPeer(c, (await status(victim.peer)).libp2p!.addrs[0]!);
      await within('the next stream to be refused', again.closed);
      expect(again.received).toEqual([]);
      expect(victim.lines.join('\n')).toMatch(new RegExp(`refusing a peer from .*: libp2p:${c.peerId} is banned until`));
      expect(victim.peer.network.peers()).toEqual([]);
    }

    it('sending a type byte psibase does not define: dropped and banned by its peer id', async () => {
      const { victim, c, raw } = await victimWithRaw();
      try {
        raw.send(Uint8Array.of(2, 0, 0, 0, 0));
        await expectBanned(victim, c, raw, /does not decode/);
        expect(victim.lines.join('\n')).toMatch(new RegExp(`disconnecting peer \\d+ \\(libp2p ${c.peerId}\\): a frame that does not decode`));
      } finally {
        await victim.peer.close();
      }
    });

    it('a frame longer than any psibase message, refused at its length prefix: dropped and banned by its peer id', async () => {
      const { victim, c, raw } = await victimWithRaw();
      try {
        raw.socket.stream.send(lengthPrefix(MAX_FRAME_BYTES + 1));
        await expectBanned(victim, c, raw, /a bad frame: a frame of \d+ bytes is larger than this stream accepts/);
      } finally {
        await victim.peer.close();
      }
    });

    it('a forged block is not applied, and its sender is dropped and banned by its peer id', async () => {
      const { victim, c, raw } = await victimWithRaw();
      try {
        raw.send({ kind: 'BlockMessage', value: { block: packSignedBlock(genesis) } });
        raw.send({ kind: 'BlockMessage', value: { block: packSignedBlock({ ...block3, signature: block3.signature.map((x, i) => (i === 10 ? x ^ 1 : x)) }) } });
        await expectBanned(victim, c, raw, /invalid block 3: block signature/);
        expect(victim.peer.node.chain.head?.num).toBe(2);
      } finally {
        await victim.peer.close();
      }
    });
  });
});

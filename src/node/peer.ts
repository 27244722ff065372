/**
 * The Node peer as `psiweb start` runs it: an lmdb store in a data directory (a devnet
 * booted into it when it never held a chain; see data-dir.ts), the producing node, the
 * peer network (src/node/p2p: psibase's peer protocol over a WebSocket at
 * `x-peers.<root>/p2p`, and dialing `peers`), and the router behind an HTTP server on
 * 127.0.0.1, beside a libp2p host (src/net/libp2p/node-host.ts: WebSockets on 127.0.0.1,
 * by default on the HTTP port + 1, and a circuit relay v2 server for browsers) whose
 * psibase peer streams are PeerNetwork peers too, its key kept in the data directory
 * (p2p/libp2p-key.ts). A follower (`follow`) boots nothing and produces nothing: it takes its
 * chain, genesis first, from its peers, validating each block as it applies it.
 * `close()` stops in order: no new peers or requests, the block being applied or in
 * production commits, then the store closes, so a stop never tears a write.
 */
import { mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { startNodeHost, type NodeHost } from '../net/libp2p/node-host.ts';
import { CloseCode } from '../net/libp2p/peer-socket.ts';
import { loadLibp2pKey } from './p2p/libp2p-key.ts';
import { PsiwebError } from '../errors.ts';
import { MAX_BODY_BYTES } from '../http/constants.ts';
import { normalizeRootHost } from '../http/hosts.ts';
import { Router } from '../http/router.ts';
import { toHex } from '../state/bytes.ts';
import { LmdbStore } from '../state/lmdb-store.ts';
import { GENESIS_BLOCK_NUM } from '../chain/constants.ts';
import { LOOPBACK } from './constants.ts';
import { lockDataDir, openDataDir, writeIdentity, type DataDirLock } from './data-dir.ts';
import { bootDevnet, loadDevnet } from './devnet.ts';
import { createHttpServer } from './http-server.ts';
import { ChainFollower, systemClock, type NodeStatus } from './node.ts';
import type { Clock } from '../core/platform.ts';
import { genesisResponse, GENESIS_PATH, isGenesisUrl, isP2pUrl, isPeerListUrl, isRelayUrl, P2P_PATH, P2P_SERVICE, p2pUpgradeHandler, peerListResponse, RELAY_PATH } from './p2p/accept.ts';
import { isMultiaddr, LIBP2P_DIAL_TIMEOUT_MS, PeerNetwork, type BanInfo, type PeerInfo, type Role } from './p2p/network.ts';
import { nodeSigVerifier } from './node-sig-verifier.ts';
import { distSite } from './static-server.ts';
import { forwardHops, forwardingSubmitter, hopsOf } from './forward.ts';
import { Chain } from '../chain/executor.ts';
import { TransactionRejectedError } from '../chain/errors.ts';
import { knownBody } from '../http/known-body.ts';
import { decodeRelayBatch, encodeRelayBatch, RelayBatchError } from './p2p/relay.ts';
import { producersOf } from '../chain/block-context.ts';
import type { JointConsensus } from '../protocol/types.ts';
import type { TransactionSubmitter } from '../http/push.ts';
import { devKeyScalar } from '../crypto/keys.ts';
import { fetchNode, serviceUrl } from './client.ts';
import { DEVNET_PRODUCER } from './constants.ts';
import { CoreNode, FOLLOWER_NAME } from '../core/node.ts';
import { p256ClaimVerifier, p256Signer } from './producer-keys.ts';
import { hardStateWriter, loadHardState } from './consensus-state.ts';

export { DataDirInUseError } from './data-dir.ts';

/** The port `psiweb start` was asked to listen on is taken. */
export class PortInUseError extends PsiwebError {
  override name = 'PortInUseError';
}

export interface PeerOptions {
  dataDir: string;
  port: number;
  rootHost: string;
  /** The PWA build to serve on the root host. */
  distDir: string;
  log: (line: string) => void;
  /** Block production on the timer (default true); tests may drive it themselves. */
  produce?: boolean;
  /** Milliseconds between blocks (default psinode's 1,000); test devnets may go faster. */
  blockIntervalMs?: number;
  maxBodyBytes?: number;
  /** Peers to dial (root URLs such as http://psiweb.localhost:8080), kept connected. */
  peers?: readonly string[];
  /** Most peers that dialed in, connected at once (default MAX_INBOUND_PEERS). */
  maxInboundPeers?: number;
  /** Follow the chain of the peers instead of producing: boot nothing, sync from genesis. */
  follow?: boolean;
  /**
   * Boot a devnet with these block producers (psibase's setConsensus in genesis) when
   * the directory holds no chain: the node then runs multi-producer consensus.
   */
  producers?: readonly string[];
  /** The consensus of `producers` (default cft). */
  mode?: 'cft' | 'bft';
  /**
   * The producer this node signs as (its devnet key): default `prod`, or the first of
   * `producers`. With no chain here and no `producers`, the node joins the network of
   * its peers, taking the genesis block from the first.
   */
  producer?: string;
  /**
   * The libp2p host's WebSocket port on 127.0.0.1 (default `port` + 1; 0 when `port` is
   * 0: any free port); false: no libp2p host. `peers` may then name no multiaddr.
   */
  libp2pPort?: number | false;
  /**
   * The node's clock (default the system's). Benchmarks give one set back to build a
   * chain whose blocks are in the past, as a network that has been running has.
   */
  clock?: Clock;
}

/** The libp2p host in `/native/status`: its peer id and the multiaddrs to dial it at, each ending in `/p2p/<peerId>`. */
export interface Libp2pStatus {
  peerId: string;
  addrs: string[];
}

/**
 * `/native/status`: the node's status, its role, its peers, the peers it refuses for
 * misbehaving, and its libp2p host (null when it runs none).
 */
export type PeerStatus = NodeStatus & { role: Role; peers: PeerInfo[]; bans: BanInfo[]; libp2p: Libp2pStatus | null };

export interface Peer {
  url: string;
  port: number;
  role: Role;
  /**
   * The node core (src/core), producing (a sole producer, or one of several) or
   * following a chain under multi-producer consensus; a follower of a chain with one
   * producer (or of none yet) is applied to by the peer network and shows its chain here.
   */
  node: CoreNode | ChainFollower;
  network: PeerNetwork;
  /** The libp2p host, unless started with `libp2pPort: false`. */
  libp2p: NodeHost | undefined;
  router: Router;
  status(): Promise<PeerStatus>;
  close(): Promise<void>;
}

export async function startPeer(options: PeerOptions): Promise<Peer> {
  const rootHost = normalizeRootHost(options.rootHost);
  const clock = options.clock ?? systemClock;
  const libp2pPort = options.libp2pPort ?? defaultLibp2pPort(options.port);
  if (libp2pPort !== false && (!Number.isInteger(libp2pPort) || libp2pPort < 0 || libp2pPort > 65535))
    throw new PsiwebError(`the libp2p port must be a number from 0 to 65535, got ${libp2pPort}${options.libp2pPort === undefined ? ` (the HTTP port ${options.port} + 1): pick one, or run without libp2p` : ''}`);
  const peerUrls = (options.peers ?? []).filter((p) => !isMultiaddr(p));
  if (libp2pPort === false && peerUrls.length < (options.peers ?? []).length)
    throw new PsiwebError(`a multiaddr peer (${(options.peers ?? []).find(isMultiaddr)}) needs the libp2p host, which this node is told not to run`);
  // The port first: a port in use fails before the data directory is touched. Until
  // the chain is open, requests get 503.
  let handler: (r: Request) => Promise<Response> = async () => new Response('the node is starting', { status: 503, headers: { 'Retry-After': '1' } });
  let network: PeerNetwork | undefined;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const server = createHttpServer((r) => handler(r), {
    maxBodyBytes,
    onError: (e) => options.log(`http: ${(e as Error).message}`),
    onUpgrade: p2pUpgradeHandler(rootHost, () => network, options.log),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new PortInUseError(`port ${options.port} on ${LOOPBACK} is in use: stop what uses it, or pick another --port`, { details: { port: options.port } }) : e),
    );
    // A deep accept queue: block production holds the event loop for a while, and a burst
    // of new connections past the default 511 would be reset by the kernel.
    server.listen({ port: options.port, host: LOOPBACK, backlog: 4096 }, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  // The libp2p port too, before the data directory is touched: held by a plain listener
  // until the host (whose key is in the directory) takes it over.
  let reserved: Server | undefined;
  if (libp2pPort !== false && libp2pPort !== 0) {
    try {
      reserved = await reservePort(libp2pPort);
    } catch (e) {
      await closeServer();
      throw e;
    }
  }
  let lock: DataDirLock | undefined;
  let store: LmdbStore | undefined;
  let host: NodeHost | undefined;
  /** The chain once open: the host's discovery answers name it. */
  let hostChain: Chain | undefined;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    lock = await lockDataDir(options.dataDir);
    if (libp2pPort !== false) {
      const privateKey = await loadLibp2pKey(options.dataDir, options.log);
      await closeReserved(reserved);
      reserved = undefined;
      try {
        host = await startNodeHost({
          host: LOOPBACK,
          port: libp2pPort,
          privateKey,
          // PeerNetwork decodes every message itself (and bans a peer whose message does not decode).
          validate: false,
          log: options.log,
          chainId: () => (hostChain?.chainId ? toHex(hostChain.chainId).toLowerCase() : null),
          onPeer: (socket) => {
            if (network) network.acceptLibp2p(socket);
            else socket.close(CloseCode.tryAgainLater, 'the node is starting');
          },
        });
      } catch (e) {
        if (/EADDRINUSE/.test(String((e as Error).message))) throw libp2pPortInUse(libp2pPort, e);
        throw e;
      }
    }
    const libp2pHost = host;
    const producerName = options.producer ?? options.producers?.[0] ?? DEVNET_PRODUCER;
    if (options.producers && !options.producers.includes(producerName))
      throw new PsiwebError(`--producer ${producerName} is not one of --producers ${options.producers.join(',')}: the booting node must be one of them`);
    const devnet = await loadDevnet(producerName);
    // devnet.nativeVerifiers is verify-sig's twin; on Node its P-256 checks go to node:crypto.
    const nativeVerifiers = devnet.nativeVerifiers.map(nodeSigVerifier);
    const opened = await openDataDir(options.dataDir, { nativeVerifiers, log: options.log });
    store = opened.store;
    let chain = opened.chain;
    const role: Role = options.follow ? 'follower' : 'producer';
    if (role === 'follower') {
      if (chain.head) options.log(`following chain ${toHex(chain.chainId!)} from block ${chain.head.num}`);
      else {
        // The genesis block first (x-peers.<root>/genesis), so a chain under consensus is
        // known for one before any block arrives; a peer without it (psinode) syncs it over p2p.
        try {
          await chain.applyBlock(await fetchGenesis(peerUrls));
          writeIdentity(options.dataDir, chain.chainId!);
          options.log(`following chain ${toHex(chain.chainId!)}: genesis block taken from a peer, the rest comes over p2p`);
        } catch (e) {
          options.log(`following: no chain here yet, taking it from peers from genesis (${(e as Error).message})`);
        }
      }
    } else if (!chain.head && !options.producers && options.producer && (options.peers ?? []).length > 0) {
      // A producer joining a network: the genesis block from a peer, then consensus syncs the rest.
      const genesis = await fetchGenesis(peerUrls);
      await chain.applyBlock(genesis);
      writeIdentity(options.dataDir, chain.chainId!);
      options.log(`joining chain ${toHex(chain.chainId!)} as producer ${producerName}: genesis block taken from ${options.peers![0]}`);
    } else if (!chain.head) {
      const producers = options.producers && { names: options.producers, mode: options.mode ?? 'cft' };
      const genesis = await bootDevnet(chain, devnet, BigInt(Math.floor(clock.now() / 1000)) * 1_000_000n, producers ? { producers } : {});
      writeIdentity(options.dataDir, chain.chainId!);
      options.log(`booted a devnet: chain ${toHex(chain.chainId!)}, genesis block ${genesis.block.block.header.blockNum} with ${genesis.traces.length} transactions${producers ? `, producers ${producers.names.join(',')} (${producers.mode})` : ''}`);
    } else {
      options.log(`resuming chain ${toHex(chain.chainId!)} at block ${chain.head.num}`);
    }
    // Several producers: consensus decides the head, so blocks must be able to be taken back.
    // A follower of such a chain runs consensus too, without a vote (psibase's non-producer nodes).
    // A sole producer runs the same core: its blocks are irreversible at once, so nothing is
    // ever taken back and its chain commits without undo records.
    // A follower of either runs the core too, taking blocks back should its peers switch forks.
    const multi = chain.status?.head != null && isMultiProducer(chain.status.consensus);
    const core = multi || chain.head !== undefined;
    if (multi || (core && role === 'follower')) chain = await Chain.open({ state: chain.state, nativeVerifiers, reversible: true });
    hostChain = chain;
    const dataDir = options.dataDir;
    const net = new PeerNetwork({
      ...(options.maxInboundPeers !== undefined && { maxInbound: options.maxInboundPeers }),
      chain,
      role,
      log: options.log,
      selfUrl: `http://${rootHost}:${(server.address() as AddressInfo).port}`,
      ...(libp2pHost && {
        libp2p: {
          peerId: libp2pHost.peerId,
          dial: (addr: string) => libp2pHost.peers.dial(multiaddr(addr), { signal: AbortSignal.timeout(LIBP2P_DIAL_TIMEOUT_MS) }),
        },
      }),
      onApplied: (num) => {
        if (num === GENESIS_BLOCK_NUM) {
          writeIdentity(dataDir, chain.chainId!);
          options.log(`following chain ${toHex(chain.chainId!)}: genesis block applied`);
        }
      },
    });
    const node: CoreNode | ChainFollower = core
      ? await startCoreNode(chain, role === 'follower' ? FOLLOWER_NAME : producerName, net, options, role, multi)
      : new ChainFollower(chain, producerName);
    // Routing follows the producer set consensus holds as setConsensus changes it.
    const stopRouting = node instanceof CoreNode ? followProducerSet(node, net, role === 'follower' ? FOLLOWER_NAME : producerName, options.log) : () => undefined;
    const libp2pStatus = (): Libp2pStatus | null => (libp2pHost ? { peerId: libp2pHost.peerId, addrs: libp2pHost.addresses().map(String) } : null);
    const status = async (): Promise<PeerStatus> => ({ ...(await node.status()), role, peers: net.peers(), bans: net.bans(), libp2p: libp2pStatus() });
    const submitter: TransactionSubmitter = node;
    const router = new Router({
      rootHost,
      chain,
      // A follower hands transactions on to a peer it dialed.
      submitter: role === 'producer' ? submitter : forwardingSubmitter(() => peerUrls),
      nativeStatus: status,
      site: distSite(options.distDir),
      onError: (e) => options.log(`request failed: ${(e as Error).stack ?? String(e)}`),
    });
    handler = (r) => {
      if (isPeerListUrl(new URL(r.url), rootHost)) return Promise.resolve(peerListResponse(r, net));
      if (isGenesisUrl(new URL(r.url), rootHost)) return genesisResponse(r, async () => (await chain.state.store.block(GENESIS_BLOCK_NUM))?.bytes);
      if (isRelayUrl(new URL(r.url), rootHost)) return node instanceof CoreNode ? relayResponse(r, node) : Promise.resolve(new Response('this node does not take relayed transactions (it is not under multi-producer consensus)\n', { status: 404, headers: { 'Content-Type': 'text/plain' } }));
      if (isP2pUrl(new URL(r.url), rootHost))
        return Promise.resolve(new Response(`${P2P_PATH} is a websocket endpoint\n`, { status: 426, headers: { Upgrade: 'websocket', 'Content-Type': 'text/plain' } }));
      // A follower hands transactions on and producers under consensus relay them, so their requests carry a hop count.
      return role === 'follower' ? forwardHops.run(hopsOf(r), () => router.handle(r)) : router.handle(r);
    };
    network = net;
    for (const url of options.peers ?? []) net.connect(url);
    const port = (server.address() as AddressInfo).port;
    if (role === 'producer' && (options.produce ?? true)) node.start();
    if (node instanceof CoreNode && role === 'producer') options.log(`producing as ${producerName} under ${(await node.status()).consensus} consensus with ${(await node.status()).producers.join(',')}`);
    const openStore = store;
    const heldLock = lock;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${rootHost}:${port}`,
      port,
      role,
      node,
      network: net,
      libp2p: libp2pHost,
      router,
      status,
      close: () =>
        (closing ??= (async () => {
          stopRouting();
          await net.close();
          await libp2pHost?.stop();
          await closeServer();
          await node.stop();
          await openStore.close();
          await heldLock.release();
        })()),
    };
  } catch (e) {
    await closeReserved(reserved);
    await host?.stop();
    await closeServer();
    await store?.close();
    await lock?.release();
    throw e;
  }
}

/** The libp2p port when none is given: the HTTP port + 1 (`npm start`: 8081), or any free port beside an HTTP port 0. */
export function defaultLibp2pPort(httpPort: number): number {
  return httpPort === 0 ? 0 : httpPort + 1;
}

function libp2pPortInUse(port: number, cause?: unknown): PortInUseError {
  return new PortInUseError(`the libp2p port ${port} on ${LOOPBACK} is in use: stop what uses it, pick another --libp2p-port (0: any free port), or run with --no-libp2p`, {
    cause,
    details: { port, libp2p: true },
  });
}

/** Listens on `port` so nothing else takes it; a PortInUseError when something holds it. */
function reservePort(port: number): Promise<Server> {
  const s = createServer();
  return new Promise((resolve, reject) => {
    s.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? libp2pPortInUse(port, e) : e));
    s.listen({ port, host: LOOPBACK, exclusive: true }, () => {
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

function closeReserved(s: Server | undefined): Promise<void> {
  return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
}

/** Whether a chain's consensus (in force or pending) has more than one producer. */
function isMultiProducer(c: JointConsensus): boolean {
  return producersOf(c.current).length > 1 || (c.next !== null && c.next !== undefined && producersOf(c.next.consensus).length > 1);
}

/** The genesis block of the network of `peers` (x-peers.<root>/genesis of the first that answers). */
async function fetchGenesis(peers: readonly string[]): Promise<Uint8Array> {
  const failures: string[] = [];
  for (const peer of peers) {
    try {
      const res = await fetchNode(serviceUrl(peer, P2P_SERVICE, GENESIS_PATH), { timeoutMs: 10_000 });
      if (res.status === 200) return res.body;
      failures.push(`${peer}: ${res.status} ${res.text().slice(0, 200)}`);
    } catch (e) {
      failures.push(`${peer}: ${(e as Error).message}`);
    }
  }
  throw new PsiwebError(`no peer gave this node the genesis block to join with (${peers.length === 0 ? 'no peer URL to read it from: it is read over HTTP, and multiaddr peers are not asked' : failures.join('; ')})`);
}

/** A producer under multi-producer consensus, its blocks and votes on the peer network. */
/** Connections that carry relayed pushes between producers, kept alive. */
const relayAgent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 3_000 });

async function startCoreNode(chain: Chain, name: string, net: PeerNetwork, options: PeerOptions, role: Role, multi: boolean): Promise<CoreNode> {
  let batch: Uint8Array[] = [];
  let relayTimer: ReturnType<typeof setTimeout> | undefined;
  const flushRelay = () => {
    relayTimer = undefined;
    const body = encodeRelayBatch(batch);
    batch = [];
    for (const url of net.peerUrls().slice(1)) {
      fetchNode(serviceUrl(url, P2P_SERVICE, RELAY_PATH), { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body, timeoutMs: 30_000, agent: relayAgent }).then(
        (res) => {
          if (res.status !== 202) noteRelayFailure(url, `${res.status} ${res.text().slice(0, 200)}`);
        },
        (e: unknown) => noteRelayFailure(url, (e as Error).message),
      );
    }
  };
  // One line per peer and minute when relaying fails, not one per transaction.
  const lastNoted = new Map<string, number>();
  const noteRelayFailure = (url: string, why: string) => {
    const now = Date.now();
    if ((lastNoted.get(url) ?? 0) > now - 60_000) return;
    lastNoted.set(url, now);
    options.log(`relay to ${url} failed: ${why}`);
  };
  const label = (peer: number) => `#${peer}`;
  const peerOf = (labelled: string) => Number(labelled.slice(1));
  // A producer's votes survive a restart (consensus.json in the data directory).
  const hardState = role === 'producer' ? loadHardState(options.dataDir) : undefined;
  // The Node platform: the system clock, the lmdb-backed chain, and the peer network.
  const node = await CoreNode.open({
    platform: {
      clock: options.clock ?? systemClock,
      chain,
      transport: {
        sendToProducer: (producer, bytes) => net.sendToProducer(producer, bytes),
        sendToPeer: (peer, bytes) => net.sendToPeer(peerOf(peer), bytes),
        broadcast: (bytes) => net.broadcast(bytes),
        misbehaved: (peer, reason) => void net.misbehaved(peerOf(peer), reason),
      },
      log: options.log,
    },
    name,
    sign:
      role === 'follower'
        ? () => {
            throw new PsiwebError('a follower does not sign');
          }
        : p256Signer(devKeyScalar('p256', name)),
    verify: p256ClaimVerifier(),
    // What is pushed here goes to the other producers too, whichever leads next: in
    // batches (x-peers.<root>/relay, kept-alive connections; answered once held there).
    // A sole producer has no one to pass it to.
    ...(multi && {
      relay: (packed: Uint8Array) => {
        batch.push(packed);
        relayTimer ??= setTimeout(flushRelay, RELAY_BATCH_MS);
      },
    }),
    ...(options.blockIntervalMs !== undefined && { blockIntervalMs: options.blockIntervalMs }),
    ...(hardState && { restore: { hardState, blocks: [] } }),
    ...(role === 'producer' && { persist: hardStateWriter(options.dataDir) }),
  });
  const status = chain.status!;
  net.setProducers([...producersOf(status.consensus.current).map((p) => p.name), ...(status.consensus.next ? producersOf(status.consensus.next.consensus).map((p) => p.name) : [])], name);
  net.attachConsensus({ receive: (peer, bytes) => node.receive(label(peer), bytes), connected: (peer) => node.connected(label(peer)) });
  return node;
}

/** How often the producers routed to are compared with the set consensus holds. */
export const ROUTE_PRODUCERS_MS = 1_000;

/**
 * Keeps the peer network's routing on the producers consensus holds — the set in force
 * and one named by a block not yet irreversible (votes must reach producers that are
 * new before that block can commit) — looking every `intervalMs`. Returns a stop.
 */
export function followProducerSet(node: CoreNode, net: Pick<PeerNetwork, 'setProducers'>, self: string, log: (line: string) => void, intervalMs = ROUTE_PRODUCERS_MS): () => void {
  let routed: string | undefined;
  const route = () => {
    const joint = node.consensus.activeJoint();
    const names = [...new Set([...joint.current.producers, ...(joint.next?.set.producers ?? [])])];
    const key = names.join();
    if (key === routed) return;
    if (routed !== undefined) log(`routing to producers ${key}`);
    routed = key;
    net.setProducers(names, self);
  };
  route();
  const timer = setInterval(route, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}

/** Pushes collected this long go to the other producers in one request. */
const RELAY_BATCH_MS = 5;
/**
 * `POST x-peers.<root>/relay`: transactions another producer was pushed, held here too.
 * 202 with how many were held and why the others were not; 400 for a body that is not a batch.
 */
async function relayResponse(request: Request, node: CoreNode): Promise<Response> {
  const text = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (request.method !== 'POST') return new Response(`${RELAY_PATH} answers POST only\n`, { status: 405, headers: { ...text, Allow: 'POST' } });
  // The Node server hands request bodies over beside the Request (src/http/known-body.ts).
  const known = knownBody(request);
  const body = known === undefined ? new Uint8Array(await request.arrayBuffer()) : typeof known === 'string' ? new TextEncoder().encode(known) : known;
  let trxs: Uint8Array[];
  try {
    trxs = decodeRelayBatch(body);
  } catch (e) {
    if (e instanceof RelayBatchError) return new Response(`${e.message}\n`, { status: 400, headers: text });
    throw e;
  }
  const results = await Promise.allSettled(trxs.map((t) => node.hold(t)));
  const refused: Record<string, number> = {};
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    if (!(r.reason instanceof TransactionRejectedError)) throw r.reason;
    refused[r.reason.reason] = (refused[r.reason.reason] ?? 0) + 1;
  }
  const held = results.filter((r) => r.status === 'fulfilled').length;
  return new Response(JSON.stringify({ held, refused }), { status: 202, headers: { 'Content-Type': 'application/json' } });
}

/**
 * The Node peer as `psiweb start` runs it: an lmdb store in a data directory (a devnet
 * booted into it when it never held a chain; see data-dir.ts), the producing node, the
 * peer network (src/node/p2p: psibase's peer protocol over a WebSocket at
 * `x-peers.<root>/p2p`, and dialing `peers`), and the router behind an HTTP server on
 * 127.0.0.1. A follower (`follow`) boots nothing and produces nothing: it takes its
 * chain, genesis first, from its peers, validating each block as it applies it.
 * `close()` stops in order: no new peers or requests, the block being applied or in
 * production commits, then the store closes, so a stop never tears a write.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
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
import { PsiwebNode, type NodeStatus } from './node.ts';
import { isP2pUrl, isPeerListUrl, P2P_PATH, p2pUpgradeHandler, peerListResponse } from './p2p/accept.ts';
import { PeerNetwork, type BanInfo, type PeerInfo, type Role } from './p2p/network.ts';
import { nodeSigVerifier } from './node-sig-verifier.ts';
import { distSite } from './static-server.ts';
import { forwardHops, forwardingSubmitter, hopsOf } from './forward.ts';

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
}

/** `/native/status`: the node's status, its role, its peers and the peers it refuses for misbehaving. */
export type PeerStatus = NodeStatus & { role: Role; peers: PeerInfo[]; bans: BanInfo[] };

export interface Peer {
  url: string;
  port: number;
  role: Role;
  node: PsiwebNode;
  network: PeerNetwork;
  router: Router;
  status(): Promise<PeerStatus>;
  close(): Promise<void>;
}

export async function startPeer(options: PeerOptions): Promise<Peer> {
  const rootHost = normalizeRootHost(options.rootHost);
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
  let lock: DataDirLock | undefined;
  let store: LmdbStore | undefined;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    lock = await lockDataDir(options.dataDir);
    const devnet = await loadDevnet();
    // devnet.nativeVerifiers is verify-sig's twin; on Node its P-256 checks go to node:crypto.
    const opened = await openDataDir(options.dataDir, { nativeVerifiers: devnet.nativeVerifiers.map(nodeSigVerifier), log: options.log });
    store = opened.store;
    const chain = opened.chain;
    const role: Role = options.follow ? 'follower' : 'producer';
    if (role === 'follower') {
      if (chain.head) options.log(`following chain ${toHex(chain.chainId!)} from block ${chain.head.num}`);
      else options.log('following: no chain here yet, taking it from peers from genesis');
    } else if (!chain.head) {
      const genesis = await bootDevnet(chain, devnet, BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n);
      writeIdentity(options.dataDir, chain.chainId!);
      options.log(`booted a devnet: chain ${toHex(chain.chainId!)}, genesis block ${genesis.block.block.header.blockNum} with ${genesis.traces.length} transactions`);
    } else {
      options.log(`resuming chain ${toHex(chain.chainId!)} at block ${chain.head.num}`);
    }
    const dataDir = options.dataDir;
    const net = new PeerNetwork({
      ...(options.maxInboundPeers !== undefined && { maxInbound: options.maxInboundPeers }),
      chain,
      role,
      log: options.log,
      selfUrl: `http://${rootHost}:${(server.address() as AddressInfo).port}`,
      onApplied: (num) => {
        if (num === GENESIS_BLOCK_NUM) {
          writeIdentity(dataDir, chain.chainId!);
          options.log(`following chain ${toHex(chain.chainId!)}: genesis block applied`);
        }
      },
    });
    const node = new PsiwebNode({
      chain,
      producer: devnet.producer,
      prover: devnet.prover,
      log: options.log,
      // Peers hear of each block this node commits.
      onBlock: () => net.headChanged(),
      ...(options.blockIntervalMs !== undefined && { blockIntervalMs: options.blockIntervalMs }),
    });
    const status = async (): Promise<PeerStatus> => ({ ...(await node.status()), role, peers: net.peers(), bans: net.bans() });
    const router = new Router({
      rootHost,
      chain,
      // A follower hands transactions on to a peer it dialed.
      submitter: role === 'producer' ? node : forwardingSubmitter(() => options.peers ?? []),
      nativeStatus: status,
      site: distSite(options.distDir),
      onError: (e) => options.log(`request failed: ${(e as Error).stack ?? String(e)}`),
    });
    handler = (r) => {
      if (isPeerListUrl(new URL(r.url), rootHost)) return Promise.resolve(peerListResponse(r, net));
      if (isP2pUrl(new URL(r.url), rootHost))
        return Promise.resolve(new Response(`${P2P_PATH} is a websocket endpoint\n`, { status: 426, headers: { Upgrade: 'websocket', 'Content-Type': 'text/plain' } }));
      // Only a follower hands transactions on, so only its requests carry a hop count.
      return role === 'follower' ? forwardHops.run(hopsOf(r), () => router.handle(r)) : router.handle(r);
    };
    network = net;
    for (const url of options.peers ?? []) net.connect(url);
    const port = (server.address() as AddressInfo).port;
    if (role === 'producer' && (options.produce ?? true)) node.start();
    const openStore = store;
    const heldLock = lock;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${rootHost}:${port}`,
      port,
      role,
      node,
      network: net,
      router,
      status,
      close: () =>
        (closing ??= (async () => {
          await net.close();
          await closeServer();
          await node.stop();
          await openStore.close();
          await heldLock.release();
        })()),
    };
  } catch (e) {
    await closeServer();
    await store?.close();
    await lock?.release();
    throw e;
  }
}

/**
 * Where peers connect: psinode's `x-peers.<root>/p2p` (packages/local/XPeers serveSys),
 * a WebSocket upgrade on the Node peer's HTTP server. The Host is checked as every
 * request's is (src/http/target.ts, then src/http/hosts.ts routeHost): only the
 * x-peers subdomain of this node's root host, path /p2p. As psinode, a request from a
 * web page of another site (an Origin that is not the root or one of its subdomains)
 * is refused, and a plain GET is told to upgrade (426).
 */
import type { IncomingMessage } from 'node:http';
import { routeHost } from '../../http/hosts.ts';
import { refuseUpgrade, type UpgradeHandler } from '../http-server.ts';
import { PEER_URL_HEADER, PEERS_PATH } from './discovery.ts';
import { WebSocketHandshakeError } from './errors.ts';
import type { PeerNetwork } from './network.ts';
import { acceptWebSocket, isWebSocketUpgrade } from './websocket.ts';

export const P2P_SERVICE = 'x-peers';
export const P2P_PATH = '/p2p';

/** Whether a request URL is this node's list of peer URLs, `x-peers.<root>/peers` (discovery.ts). */
export function isPeerListUrl(url: URL, rootHost: string): boolean {
  const route = routeHost(url.hostname, rootHost);
  return route.kind === 'service' && route.name === P2P_SERVICE && url.pathname === PEERS_PATH;
}

/** `GET x-peers.<root>/peers`: a JSON array of root URLs, this node's first (discovery.ts). */
export function peerListResponse(request: Request, network: PeerNetwork): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return new Response(`${PEERS_PATH} answers GET only\n`, { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' } });
  return new Response(JSON.stringify(network.peerUrls()), { headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } });
}

/** psiweb's: the chain's genesis block, packed, at `x-peers.<root>/genesis` (a producer joining a network starts from it). */
export const GENESIS_PATH = '/genesis';

/** Whether a request URL is `x-peers.<root>/genesis`. */
export function isGenesisUrl(url: URL, rootHost: string): boolean {
  const route = routeHost(url.hostname, rootHost);
  return route.kind === 'service' && route.name === P2P_SERVICE && url.pathname === GENESIS_PATH;
}

/** `GET x-peers.<root>/genesis`: the genesis block as a packed SignedBlock (404 while the node holds no chain). */
export async function genesisResponse(request: Request, genesis: () => Promise<Uint8Array | undefined>): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return new Response(`${GENESIS_PATH} answers GET only\n`, { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' } });
  const bytes = await genesis();
  if (!bytes) return new Response('this node holds no chain yet\n', { status: 404, headers: { 'Content-Type': 'text/plain' } });
  return new Response(bytes.slice().buffer, { headers: { "Content-Type": "application/octet-stream", "Cache-Control": "no-store" } });
}

/** psiweb's: a producer under consensus hands a pushed transaction to the others at `x-peers.<root>/relay` (POST, the packed SignedTransaction). */
export const RELAY_PATH = '/relay';

/** Whether a request URL is `x-peers.<root>/relay`. */
export function isRelayUrl(url: URL, rootHost: string): boolean {
  const route = routeHost(url.hostname, rootHost);
  return route.kind === 'service' && route.name === P2P_SERVICE && url.pathname === RELAY_PATH;
}

/** Whether a checked request URL is this node's peer endpoint. */
export function isP2pUrl(url: URL, rootHost: string): boolean {
  const route = routeHost(url.hostname, rootHost);
  return route.kind === 'service' && route.name === P2P_SERVICE && url.pathname === P2P_PATH;
}

function sameSite(origin: string, rootHost: string): boolean {
  try {
    const kind = routeHost(new URL(origin).hostname, rootHost).kind;
    return kind === 'root' || kind === 'service';
  } catch {
    return false;
  }
}

/** The upgrade handler of the Node peer's server: p2p WebSockets go to the network once it runs. */
export function p2pUpgradeHandler(rootHost: string, network: () => PeerNetwork | undefined, log: (line: string) => void): UpgradeHandler {
  return (req: IncomingMessage, socket, head, target) => {
    if (!isP2pUrl(new URL(target.url), rootHost)) {
      refuseUpgrade(socket, 404, `no WebSocket here: peers connect to ${P2P_SERVICE}.${rootHost}${P2P_PATH}`);
      return;
    }
    if (!isWebSocketUpgrade(req)) {
      refuseUpgrade(socket, 400, `${P2P_PATH} is a WebSocket endpoint`);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !sameSite(origin, rootHost)) {
      refuseUpgrade(socket, 403, 'Cross-origin request refused');
      return;
    }
    const net = network();
    if (!net) {
      refuseUpgrade(socket, 503, 'the node is starting', { 'Retry-After': '1' });
      return;
    }
    // The URL the peer says it is reachable at (discovery.ts), and its address: a banned one is refused here.
    const said = req.headers[PEER_URL_HEADER];
    const url = typeof said === 'string' ? said : undefined;
    const address = req.socket.remoteAddress;
    const remote = `${address}:${req.socket.remotePort}`;
    const banned = net.refusal(url, address);
    if (banned) {
      log(`p2p: refused a connection from ${remote}${url ? ` (${url})` : ''}: ${banned.message}`);
      refuseUpgrade(socket, 403, banned.message);
      return;
    }
    try {
      const ws = acceptWebSocket(req, socket, head);
      net.accept(ws, remote, url, address);
    } catch (e) {
      if (!(e instanceof WebSocketHandshakeError)) throw e;
      log(`p2p: refused a connection: ${e.message}`);
    }
  };
}

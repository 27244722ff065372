/**
 * How Node peers learn each other's addresses. psibase's peer protocol has no
 * address-exchange message (psinode's x-peers only reports a peer's own host names), so
 * psiweb adds two small things beside it:
 *
 *  - a node that dials says the URL it can be reached at in the WebSocket handshake,
 *    `X-Psiweb-Peer-Url: http://host:port` (psinode sends no such header; such a peer
 *    simply has no URL on the inbound side);
 *  - `GET x-peers.<root>/peers` answers a JSON array of root URLs: this node's own
 *    first (when it knows it), then those of its connected peers (the URLs it dialed and
 *    the ones that dialed in said). A node asks each peer for this list now and then,
 *    and dials the addresses it does not have yet, up to its outbound cap.
 */
import { request as httpRequest } from 'node:http';
import { isLocalhostName } from '../client.ts';
import { LOOPBACK } from '../constants.ts';
import { PeerListError } from './errors.ts';

export const PEER_URL_HEADER = 'x-psiweb-peer-url';
export const PEERS_PATH = '/peers';
/** At most this many URLs are read from one peer's list. */
export const MAX_PEER_LIST = 256;
const MAX_LIST_BYTES = 64 * 1024;

/**
 * The form URLs are compared in: `http://host:port` (lower-case host, default port
 * dropped, no path). undefined for what is not an http:// or ws:// URL.
 */
export function peerUrlKey(url: string): string | undefined {
  try {
    const u = new URL(url.includes('://') ? url : `http://${url}`);
    if (u.protocol !== 'http:' && u.protocol !== 'ws:') return undefined;
    if (u.username || u.password) return undefined;
    return `http://${u.host}`;
  } catch {
    return undefined;
  }
}

/** Reads a peer's list of URLs (`GET x-peers.<host>/peers`); a list that is not one is a PeerListError. */
export function fetchPeerList(url: string, timeoutMs = 5_000): Promise<string[]> {
  const key = peerUrlKey(url);
  if (!key) return Promise.reject(new PeerListError(`not a peer URL: ${JSON.stringify(url)}`));
  const u = new URL(key);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: isLocalhostName(u.hostname) ? LOOPBACK : u.hostname,
      port: u.port === '' ? 80 : Number(u.port),
      path: PEERS_PATH,
      method: 'GET',
      headers: { Host: `x-peers.${u.host}`, Accept: 'application/json' },
      timeout: timeoutMs,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_LIST_BYTES) req.destroy(new PeerListError(`${url}: the peer list is over ${MAX_LIST_BYTES} bytes`));
        else chunks.push(d);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new PeerListError(`${url}: GET ${PEERS_PATH} answered ${res.statusCode}`, { details: { status: res.statusCode } }));
        try {
          resolve(parsePeerList(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(e instanceof PeerListError ? new PeerListError(`${url}: ${e.message}`) : e);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new PeerListError(`${url}: no answer to GET ${PEERS_PATH}`)));
    req.on('error', (e) => reject(e instanceof PeerListError ? e : new PeerListError(`${url}: ${e.message}`, { cause: e })));
    req.end();
  });
}

/** A peer list's body: a JSON array of URL strings; entries that are not peer URLs are left out. */
export function parsePeerList(text: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new PeerListError('the peer list is not JSON');
  }
  if (!Array.isArray(v)) throw new PeerListError('the peer list is not a JSON array');
  const out: string[] = [];
  for (const x of v.slice(0, MAX_PEER_LIST)) {
    const key = typeof x === 'string' ? peerUrlKey(x) : undefined;
    if (key && !out.includes(key)) out.push(key);
  }
  return out;
}

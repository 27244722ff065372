/**
 * Peer discovery through the peers you know (issue 11 §1): a small libp2p protocol,
 * `/psiweb/peers/1.0.0`. The side that opens a stream writes nothing; the answerer
 * writes one JSON document and closes:
 *
 *   { "chainId": "<64 hex>" | null, "peers": [{ "id": "<peer id>", "addrs": ["<multiaddr>/p2p/<id>", …] }, …] }
 *
 * `chainId` is the chain the answerer follows (null: it does not know or say); `peers`
 * are the peers it is connected to, each with the addresses it can be dialed on — a
 * browser's `<relay>/p2p-circuit/webrtc/p2p/<id>` addresses (learned through identify), a
 * Node peer's WebSocket ones. A browser asks each peer it has, and opens psibase's peer
 * stream only to peers whose own answer names its chain.
 *
 * Every answer is size-limited and validated before anything of it is used; a bad one
 * aborts the stream with a DiscoveryError (`fault`) and changes nothing.
 */
import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
// libp2p's own dependency (not listed in package.json; hoisted): the one parser of peer ids.
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { WebRTC, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { PsiwebError } from '../../errors.ts';

export const DISCOVERY_PROTOCOL = '/psiweb/peers/1.0.0';
/** Largest answer read (bytes): 32 peers of 8 addresses of ~200 characters fit 3 times over. */
export const MAX_DISCOVERY_BYTES = 64 * 1024;
/** Most peers one answer may list. */
export const MAX_DISCOVERY_PEERS = 32;
/** Most addresses one peer may have in an answer. */
export const MAX_PEER_ADDRS = 8;
/** Longest multiaddr accepted, in characters. */
export const MAX_ADDR_CHARS = 512;
/** How long an answer may take (ms). */
export const DISCOVERY_TIMEOUT_MS = 5_000;

export type DiscoveryFault = 'oversize' | 'bad-json' | 'bad-shape' | 'bad-chain-id' | 'bad-peer-id' | 'bad-addr' | 'timeout' | 'stream';

/** A discovery answer that was refused (or never came): the stream was aborted with it. */
export class DiscoveryError extends PsiwebError {
  override name = 'DiscoveryError';
  constructor(
    readonly fault: DiscoveryFault,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, { ...options, details: { fault } });
  }
}

export interface DiscoveredPeer {
  id: string;
  addrs: string[];
}

export interface DiscoveryAnswer {
  chainId: string | null;
  peers: DiscoveredPeer[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks an answer's bytes; a DiscoveryError for anything out of shape or limits. */
export function parseDiscoveryAnswer(bytes: Uint8Array): DiscoveryAnswer {
  if (bytes.length > MAX_DISCOVERY_BYTES) throw new DiscoveryError('oversize', `a discovery answer of ${bytes.length} bytes (at most ${MAX_DISCOVERY_BYTES})`);
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new DiscoveryError('bad-json', `a discovery answer that is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DiscoveryError('bad-shape', 'a discovery answer that is not an object');
  const o = v as Record<string, unknown>;
  const chainId = o.chainId;
  if (chainId !== null && (typeof chainId !== 'string' || !HEX64.test(chainId))) throw new DiscoveryError('bad-chain-id', `a discovery answer with chainId ${JSON.stringify(chainId)?.slice(0, 80)}: not 64 lowercase hex digits or null`);
  if (!Array.isArray(o.peers)) throw new DiscoveryError('bad-shape', 'a discovery answer without a peers array');
  if (o.peers.length > MAX_DISCOVERY_PEERS) throw new DiscoveryError('oversize', `a discovery answer listing ${o.peers.length} peers (at most ${MAX_DISCOVERY_PEERS})`);
  const peers: DiscoveredPeer[] = [];
  for (const p of o.peers as unknown[]) {
    if (typeof p !== 'object' || p === null) throw new DiscoveryError('bad-shape', 'a discovered peer that is not an object');
    const { id, addrs } = p as Record<string, unknown>;
    if (typeof id !== 'string' || id.length > 128) throw new DiscoveryError('bad-peer-id', 'a discovered peer without a peer id');
    try {
      if (peerIdFromString(id).toString() !== id) throw new Error('not in its canonical form');
    } catch (e) {
      throw new DiscoveryError('bad-peer-id', `a discovered peer id that does not parse: ${JSON.stringify(id)}`, { cause: e });
    }
    if (!Array.isArray(addrs) || addrs.length > MAX_PEER_ADDRS) throw new DiscoveryError('bad-shape', `peer ${id}: addrs must be an array of at most ${MAX_PEER_ADDRS}`);
    for (const a of addrs as unknown[]) {
      if (typeof a !== 'string' || a.length > MAX_ADDR_CHARS) throw new DiscoveryError('bad-addr', `peer ${id}: an address that is not a string of at most ${MAX_ADDR_CHARS} characters`);
      let ma;
      try {
        ma = multiaddr(a);
      } catch (e) {
        throw new DiscoveryError('bad-addr', `peer ${id}: ${JSON.stringify(a.slice(0, 80))} is no multiaddr`, { cause: e });
      }
      if (ma.getComponents().findLast((c) => c.name === 'p2p')?.value !== id) throw new DiscoveryError('bad-addr', `peer ${id}: ${a.slice(0, 80)} does not end in /p2p/${id}`);
    }
    peers.push({ id, addrs: addrs as string[] });
  }
  return { chainId: chainId as string | null, peers };
}

export function encodeDiscoveryAnswer(a: DiscoveryAnswer): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ chainId: a.chainId, peers: a.peers }));
}

/** Whether `addr` is one a peer can dial: a WebRTC one (through a relay) or a WebSocket one. */
export function isDialable(addr: string): boolean {
  try {
    const ma = multiaddr(addr);
    return WebRTC.matches(ma) || WebSockets.matches(ma) || WebSocketsSecure.matches(ma);
  } catch {
    return false;
  }
}

/** `addr` ending in /p2p/<id> (addresses in the peer store come without it). */
function withPeer(addr: string, id: string): string {
  return addr.endsWith(`/p2p/${id}`) ? addr : `${addr}/p2p/${id}`;
}

/**
 * The peers `node` is connected to (not through a relay's limits alone), each with the
 * dialable addresses its peer store holds (identify fills it), at most
 * MAX_DISCOVERY_PEERS of them, `exclude` left out.
 */
export async function connectedPeers(node: Libp2p, exclude: ReadonlySet<string> = new Set()): Promise<DiscoveredPeer[]> {
  const out: DiscoveredPeer[] = [];
  const seen = new Set<string>();
  for (const c of node.getConnections()) {
    const id = c.remotePeer.toString();
    if (seen.has(id) || exclude.has(id) || c.status !== 'open') continue;
    seen.add(id);
    let addrs: string[] = [];
    try {
      const p = await node.peerStore.get(c.remotePeer);
      addrs = p.addresses.map((a) => withPeer(a.multiaddr.toString(), id)).filter((a) => a.length <= MAX_ADDR_CHARS && isDialable(a));
    } catch {
      // Not in the peer store (yet): nothing to tell of it.
    }
    if (addrs.length === 0) continue;
    out.push({ id, addrs: addrs.slice(0, MAX_PEER_ADDRS) });
    if (out.length >= MAX_DISCOVERY_PEERS) break;
  }
  return out;
}

/**
 * Answers DISCOVERY_PROTOCOL on `node` with `answer()` (for the peer that asked: left
 * out of its own answer). Returns a function that stops answering.
 */
export async function serveDiscovery(node: Libp2p, answer: (asker: string) => DiscoveryAnswer | Promise<DiscoveryAnswer>): Promise<() => Promise<void>> {
  await node.handle(
    DISCOVERY_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      try {
        const a = await answer(connection.remotePeer.toString());
        const bytes = encodeDiscoveryAnswer({ chainId: a.chainId, peers: a.peers.slice(0, MAX_DISCOVERY_PEERS) });
        stream.send(bytes);
        await stream.close();
      } catch (e) {
        stream.abort(e as Error);
      }
    },
    { runOnLimitedConnection: false },
  );
  return () => node.unhandle(DISCOVERY_PROTOCOL).catch(() => undefined);
}

/** How readAnswer says what went wrong: an error of the protocol reading (DiscoveryError by default). */
export type ReadFailure = (fault: 'oversize' | 'timeout' | 'stream', message: string, cause?: Error) => Error;

const discoveryFailure: ReadFailure = (fault, message, cause) => new DiscoveryError(fault, message, cause && { cause });

/** Reads `stream` to its end (at most `limit` bytes); a DiscoveryError ('oversize', 'timeout', 'stream') otherwise (or `fail`'s), the stream aborted. */
export function readAnswer(stream: Stream, limit = MAX_DISCOVERY_BYTES, timeoutMs = DISCOVERY_TIMEOUT_MS, what = 'discovery answer', fail: ReadFailure = discoveryFailure): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        stream.abort(err);
        reject(err);
        return;
      }
      const all = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      resolve(all);
    };
    const timer = setTimeout(() => finish(fail('timeout', `no ${what} within ${timeoutMs} ms`)), timeoutMs);
    stream.addEventListener('message', (evt) => {
      if (done) return;
      const chunk = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
      size += chunk.length;
      if (size > limit) return finish(fail('oversize', `a ${what} over ${limit} bytes`));
      chunks.push(chunk);
    });
    stream.addEventListener('remoteCloseWrite', () => finish());
    stream.addEventListener('close', (evt) => {
      if (evt.error && !done) {
        done = true;
        clearTimeout(timer);
        reject(fail('stream', `the stream closed before the whole ${what}: ${evt.error.message}`, evt.error));
      } else finish();
    });
    // The answerer may have written and closed its side before these listeners were
    // there: its answer is still delivered from the stream's buffer, but the
    // remoteCloseWrite event has passed. Finish after the buffered answer (a macrotask
    // runs after the microtasks that deliver it).
    if (stream.remoteWriteStatus === 'closed' || stream.status === 'closed') setTimeout(() => finish(), 0);
  });
}

/**
 * Asks `peer` (connected already, not only through a relay's limits) which chain it
 * follows and which peers it has. A DiscoveryError when the answer is bad (the stream
 * is aborted with it) or does not come.
 */
export async function askPeers(node: Libp2p, peer: PeerId, options: AbortOptions & { timeoutMs?: number } = {}): Promise<DiscoveryAnswer> {
  let stream: Stream;
  try {
    stream = await node.dialProtocol(peer, DISCOVERY_PROTOCOL, { ...options, runOnLimitedConnection: false });
  } catch (e) {
    throw new DiscoveryError('stream', `cannot ask ${peer.toString()} for peers: ${(e as Error).message}`, { cause: e });
  }
  const bytes = await readAnswer(stream, MAX_DISCOVERY_BYTES, options.timeoutMs ?? DISCOVERY_TIMEOUT_MS);
  try {
    const answer = parseDiscoveryAnswer(bytes);
    void stream.close().catch(() => undefined);
    return answer;
  } catch (e) {
    if (e instanceof DiscoveryError) stream.abort(e);
    throw e;
  }
}

/**
 * libp2p in the leader tab's page (ARCHITECTURE.md §5–7: RTCPeerConnection exists only
 * in windows). Loaded with a dynamic import once this tab's worker leads, so other tabs
 * and the dashboard's first chunk never load libp2p.
 *
 * - Asks the Node peer's `/native/status` for its libp2p addresses (it is a circuit relay
 *   v2 server), adds the bootstrap of a stored invite (invite.ts), and starts a browser
 *   peer (WebRTC + WebSockets + circuit relay) with them as relays.
 * - Every psibase peer stream goes into one Libp2pTransport; the transport's peers reach
 *   the worker's core over the bridge (peer-bridge.ts).
 * - Opens psibase's peer stream to the Node peer: once it speaks, the worker is told
 *   libp2p is on (the x-peers WebSocket is then not used); when libp2p cannot start or
 *   the Node peer offers none, off (the worker keeps the x-peers WebSocket).
 * - Discovery (src/net/libp2p/discovery.ts): answers `/psiweb/peers/1.0.0` with its
 *   chain and its peers; asks its peers, dials up to MAX_BROWSER_PEERS browsers of its
 *   chain over WebRTC (a peer's own answer must name this chain before psibase's stream
 *   is opened to it, and before an inbound one is taken).
 * - Tells the worker its peers, addresses and invite link every NET_VIEW_MS.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { Connection, PrivateKey } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { WebRTC, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { startBrowserPeer, type BrowserPeer } from '../../net/libp2p/browser-peer.ts';
import { askPeers, connectedPeers, serveDiscovery, type DiscoveredPeer } from '../../net/libp2p/discovery.ts';
import { pushTo, servePush, type PushAnswer } from '../../net/libp2p/push.ts';
import { TxRelay } from '../../net/libp2p/relay.ts';
import type { Libp2pPeerSocket } from '../../net/libp2p/peer-socket.ts';
import { Libp2pTransport, PeerRefusedError } from '../../net/libp2p/transport.ts';
import { inviteLink, storedJoin } from './invite.ts';
import { PagePeerBridge, type BridgePort, type NetPeerView, type NetView, type PageToWorker, type WorkerToPage } from './peer-bridge.ts';
import { PeerRetry } from './peer-retry.ts';

/** node.ts's UPSTREAM_HEADER (not imported: node.ts brings the chain executor): the root service worker lets it through. */
const UPSTREAM_HEADER = 'x-psiweb-upstream';

/** Browser peers dialed at most (issue 11: "up to ~8"). */
export const MAX_BROWSER_PEERS = 8;
/** How often peers are asked for theirs. */
export const DISCOVERY_INTERVAL_MS = 3_000;
/** How often the worker hears the peers and the invite. */
export const NET_VIEW_MS = 1_000;
/** How long the Node peer's psibase stream may stay silent before libp2p is declared off for it. */
export const NODE_PEER_SILENCE_MS = 8_000;
/**
 * A peer whose dial failed is tried again after this long, twice as long after each
 * failure in a row, up to RETRY_PEER_MAX_MS (a peer of another chain: at once that).
 */
export const RETRY_PEER_MS = 2_000;
export const RETRY_PEER_MAX_MS = 30_000;
/** A browser's dial, chain check and psibase stream, all in all (and an inbound stream's chain check). */
export const DIAL_TIMEOUT_MS = 20_000;
/** How often each psibase peer's round trip is measured. */
export const PING_MS = 5_000;

export interface LeaderNetInit {
  peerUrl: string;
  /** The page's end of the bridge (the worker has the other). */
  port: BridgePort<WorkerToPage, PageToWorker>;
  log?: (line: string) => void;
}

export interface LeaderNet {
  peer: BrowserPeer | undefined;
  transport: Libp2pTransport;
  view(): NetView;
  stop(): Promise<void>;
}

/** Loopback and private hosts: tests on one machine (no STUN; the browser's gater must allow them). */
function isLocal(url: string): boolean {
  const h = new URL(url).hostname;
  return h === 'localhost' || h.endsWith('.localhost') || h === '127.0.0.1' || h === '[::1]' || /^(10|192\.168|172\.(1[6-9]|2\d|3[01]))\./.test(h);
}

async function nodePeerLibp2p(peerUrl: string): Promise<{ peerId: string; addrs: string[] } | null> {
  const sameOrigin = new URL(peerUrl).origin === location.origin;
  const r = await fetch(`${peerUrl}/native/status`, { cache: 'no-store', ...(sameOrigin && { headers: { [UPSTREAM_HEADER]: '1' } }) });
  if (!r.ok) throw new Error(`the Node peer's /native/status answered ${r.status}`);
  const s = (await r.json()) as { libp2p?: { peerId?: unknown; addrs?: unknown } | null };
  const l = s.libp2p;
  if (!l || typeof l.peerId !== 'string' || !Array.isArray(l.addrs)) return null;
  return { peerId: l.peerId, addrs: l.addrs.filter((a): a is string => typeof a === 'string') };
}

/** localStorage switch: 'off' keeps libp2p off in this profile (the x-peers WebSocket to the Node peer only). */
export const LIBP2P_SETTING = 'psiweb.libp2p';

/** localStorage key of this profile's libp2p key: the peer id (and invite links naming it) outlive a reload. */
export const LIBP2P_KEY_SETTING = 'psiweb.libp2p.key';

/** This profile's libp2p key: the stored one, else a new Ed25519 key, stored. */
async function profileKey(log: (l: string) => void): Promise<PrivateKey> {
  try {
    const stored = localStorage.getItem(LIBP2P_KEY_SETTING);
    if (stored) return privateKeyFromProtobuf(Uint8Array.from(atob(stored), (c) => c.charCodeAt(0)));
  } catch (e) {
    log(`the stored libp2p key is unreadable, a new one is made: ${(e as Error).message}`);
  }
  const key = await generateKeyPair('Ed25519');
  try {
    localStorage.setItem(LIBP2P_KEY_SETTING, btoa(String.fromCharCode(...privateKeyToProtobuf(key))));
  } catch {
    // No storage: a new peer id per start.
  }
  return key;
}

function parse(addr: string): Multiaddr | undefined {
  try {
    return multiaddr(addr);
  } catch {
    return undefined;
  }
}

const isWs = (a: Multiaddr) => WebSockets.matches(a) || WebSocketsSecure.matches(a);
const peerOf = (a: Multiaddr) => a.getComponents().findLast((c) => c.name === 'p2p')?.value;

export async function startLeaderNet(init: LeaderNetInit): Promise<LeaderNet> {
  const log = init.log ?? ((l: string) => console.info(`[psiweb libp2p] ${l}`));
  const transport = new Libp2pTransport({ log });
  const sockets = new Map<string, Libp2pPeerSocket>();
  let peer: BrowserPeer | undefined;
  let libp2p: NetView['libp2p'] = 'starting';
  let reason: string | undefined;
  let nodePeerId: string | undefined;
  const relayAddrs: string[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  const retry = new PeerRetry(RETRY_PEER_MS, RETRY_PEER_MAX_MS);
  const dialing = new Set<string>();
  let stopped = false;
  let stopDiscovery: (() => Promise<void>) | undefined;
  let stopPush: (() => Promise<void>) | undefined;
  /** The held transactions this producer relays to its browser peers, and theirs to it (relay.ts). */
  let txRelay: TxRelay | undefined;
  /** Runs discovery now (set once it can run): the chain just became known. */
  let discoverNow: () => void = () => undefined;

  const bridge = new PagePeerBridge(init.port, transport, {
    log,
    // Its psibase stream is closed and its id banned by the transport; its connection goes
    // too (not the Node peer's: it is this page's relay).
    onDropped: (peerId) => {
      if (peerId === nodePeerId) return;
      const c = peer?.node.getConnections().find((x) => x.remotePeer.toString() === peerId);
      if (c) void peer!.node.hangUp(c.remotePeer).catch(() => undefined);
    },
    // A joined network's transactions go to its producer through the browser peers.
    push: (tx) => pushToPeers(tx),
    // A producer's held transactions go to every browser peer (the producers among them hold them).
    relay: (tx) => relayToPeers(tx),
    // A network the Node peer is not of: its psibase stream goes; it stays the relay.
    onChain: (_chainId, nodePeer) => {
      // A joiner's node knows its chain once it holds the genesis block: the invite's
      // inviter is dialed then, not at the next discovery round (up to 3 s later).
      discoverNow();
      if (nodePeer) return;
      for (const s of sockets.values()) if (s.peerId === nodePeerId) s.close(1000, 'not a peer of this network');
      if (peer) setMode(true, undefined);
    },
  });
  const setMode = (on: boolean, why?: string) => {
    libp2p = on ? 'on' : 'off';
    reason = why;
    if (why) log(`libp2p ${libp2p}: ${why}`);
    bridge.setMode(on, why);
  };

  const view = (): NetView => {
    const peers: NetPeerView[] = [];
    for (const p of transport.peers()) {
      const s = sockets.get(p.label);
      if (!s) continue;
      peers.push({
        id: p.peerId,
        transport: s.transport,
        direction: s.direction,
        ...(p.peerId === nodePeerId && { url: init.peerUrl }),
        ...(s.rttMs !== undefined && { rttMs: Math.round(s.rttMs * 100) / 100 }),
        stream: p.label,
      });
    }
    const addrs = peer ? peer.webrtcAddresses().map(String) : [];
    const chainId = bridge.chainId;
    const invite = peer && chainId && relayAddrs.length > 0 ? inviteLink(location.origin, { chainId, bootstrap: [...relayAddrs, ...addrs].slice(0, 16), inviter: peer.peerId }) : null;
    return { libp2p, ...(reason !== undefined && { reason }), peerId: peer?.peerId ?? null, addrs, peers, invite };
  };

  const adoptedAt = new WeakMap<Libp2pPeerSocket, number>();
  /**
   * Takes a psibase peer stream into the transport, one per peer. Of two, the one the
   * lower peer id dialed stays (both ends agree when both dialed at once), unless the
   * peer dialed in over a new connection while ours is older than any dial takes: it
   * has lost ours (it reloaded, or the connection died where only this end still holds
   * it), so ours is the one to go.
   */
  const adopt = (s: Libp2pPeerSocket): void => {
    const self = peer!.peerId;
    const existing = [...sockets.entries()].find(([, o]) => o.peerId === s.peerId);
    if (existing) {
      const [, old] = existing;
      const dialerOf = (x: Libp2pPeerSocket) => (x.direction === 'out' ? self : x.peerId);
      const lostByPeer = s.direction === 'in' && s.connection !== old.connection && Date.now() - (adoptedAt.get(old) ?? 0) > DIAL_TIMEOUT_MS;
      const keepNew = lostByPeer || dialerOf(s) < dialerOf(old);
      if (!keepNew) {
        s.close(1000, 'a stream to this peer is open already');
        return;
      }
      old.close(1000, 'a stream to this peer is open already');
    }
    let label: string;
    try {
      label = transport.add(s);
    } catch (e) {
      if (e instanceof PeerRefusedError) return;
      throw e;
    }
    sockets.set(label, s);
    adoptedAt.set(s, Date.now());
    s.ping();
  };
  transport.onPeer((e) => {
    if (e.type !== 'closed') return;
    const s = sockets.get(e.peer);
    if (s) log(`psibase stream ${e.peer} to ${s.peerId} closed${s.closedWith ? ` (${s.closedWith.code}${s.closedWith.reason ? `: ${s.closedWith.reason}` : ''})` : ''}`);
    sockets.delete(e.peer);
    // A direct WebRTC connection left without a psibase stream goes too: its other end may
    // be gone without a word (a closed RTCPeerConnection is not seen here until ICE gives
    // up, ~30 s), and each one left open holds resources; a dial makes a new one.
    if (s && s.transport === 'webrtc' && s.connection.status === 'open' && ![...sockets.values()].some((o) => o.connection === s.connection)) {
      void s.connection.close().catch(() => undefined);
    }
  });

  const psibasePeerIds = () => new Set([...sockets.values()].map((s) => s.peerId));

  /**
   * Pushes a transaction to the browser peers (/psiweb/push/1.0.0), the invite's inviter
   * first (it created the network, or is nearer its producer), until one takes it.
   */
  async function pushToPeers(tx: Uint8Array): Promise<PushAnswer> {
    if (!peer) return { status: 'unavailable', error: 'libp2p is not running in this browser' };
    const inviter = storedJoin()?.inviter;
    const ids = [...psibasePeerIds()].filter((id) => id !== nodePeerId).sort((x, y) => (x === inviter ? -1 : y === inviter ? 1 : 0));
    const why: string[] = [];
    for (const id of ids) {
      const c = unlimited(id);
      if (!c) continue;
      try {
        const answer = await pushTo(peer.node, c.remotePeer, tx);
        if (answer.status !== 'unavailable') return answer;
        why.push(`${id.slice(-8)}: ${answer.error}`);
      } catch (e) {
        why.push(`${id.slice(-8)}: ${(e as Error).message}`);
      }
    }
    return { status: 'unavailable', error: ids.length === 0 ? 'no browser peer is connected' : `no browser peer took it (${why.join('; ')})` };
  }
  /** Relays a transaction to every browser peer of this network (/psiweb/relay/2.0.0, one stream each); nothing is waited for. */
  function relayToPeers(tx: Uint8Array): void {
    if (!peer || !txRelay) return;
    for (const id of psibasePeerIds()) {
      if (id === nodePeerId) continue;
      const c = unlimited(id);
      if (c) txRelay.send(c, tx);
    }
  }
  const unlimited = (id: string): Connection | undefined => peer?.node.getConnections().find((c) => c.remotePeer.toString() === id && c.limits == null && c.status === 'open');

  /** Whether `id`'s own discovery answer names this node's chain ('unknown': it names none yet, or this node knows none). */
  const sameChain = async (c: Connection, signal: AbortSignal): Promise<boolean | 'unknown'> => {
    const ours = bridge.chainId;
    if (!ours || !peer) return 'unknown';
    const answer = await askPeers(peer.node, c.remotePeer, { signal });
    return answer.chainId === null ? 'unknown' : answer.chainId === ours;
  };

  const inbound = (s: Libp2pPeerSocket): void => {
    if (stopped || !peer) return void s.close(1001, 'the node is stopping');
    // The Node peer (our relay) is of our chain (it served this page), unless the node
    // follows a network created here or joined by a browser's invite.
    if (s.peerId === nodePeerId) return bridge.nodePeer ? adopt(s) : s.close(1000, 'not a peer of this network');
    const refuse = (why: string) => {
      log(`psibase stream from ${s.peerId} refused: ${why}`);
      s.close(1008, why.slice(0, 120));
    };
    void sameChain(s.connection, AbortSignal.timeout(DIAL_TIMEOUT_MS)).then(
      (ok) => (ok === true ? adopt(s) : refuse(ok === 'unknown' ? 'no chain known yet' : 'another chain')),
      (e: unknown) => refuse(`no discovery answer: ${(e as Error).message}`),
    );
  };

  /** Dials a browser found through discovery: WebRTC, its chain checked, then psibase's stream. */
  const dialBrowser = async (p: DiscoveredPeer): Promise<void> => {
    if (!peer || dialing.has(p.id)) return;
    const addr = p.addrs.map(parse).find((a): a is Multiaddr => a !== undefined && WebRTC.matches(a));
    if (!addr) return;
    dialing.add(p.id);
    // One deadline for every step: a step that hangs would keep the peer in `dialing`,
    // and so never dialed again.
    const signal = AbortSignal.timeout(DIAL_TIMEOUT_MS);
    try {
      const c = await peer.node.dial(addr, { signal });
      if (c.limits != null || !WebRTC.matches(c.remoteAddr)) throw new Error(`not a direct WebRTC connection: ${c.remoteAddr.toString()}`);
      const same = await sameChain(c, signal);
      if (same !== true) {
        // Not yet knowing a chain is soon over: asked again at the next round.
        if (same === 'unknown') retry.later(p.id, DISCOVERY_INTERVAL_MS - 100);
        else retry.failed(p.id, RETRY_PEER_MAX_MS);
        log(`${p.id} ${same === 'unknown' ? 'names no chain yet' : 'follows another chain'}: no psibase stream`);
        return;
      }
      if (psibasePeerIds().has(p.id)) return;
      adopt(await peer.peers.dial(c.remotePeer, { signal }));
      retry.succeeded(p.id);
      log(`connected to ${p.id} over WebRTC`);
    } catch (e) {
      const wait = retry.failed(p.id);
      log(`cannot reach ${p.id}: ${(e as Error).message} (tried again in ${wait / 1000} s)`);
    } finally {
      dialing.delete(p.id);
    }
  };

  const discover = async (): Promise<void> => {
    if (!peer || stopped || !bridge.chainId) return;
    const self = peer.peerId;
    const have = psibasePeerIds();
    const browsers = [...have].filter((id) => id !== nodePeerId).length;
    if (browsers + dialing.size >= MAX_BROWSER_PEERS) return;
    const candidates = new Map<string, DiscoveredPeer>();
    // The invite's inviter and bootstrap browsers first.
    const join = storedJoin();
    if (join && join.chainId === bridge.chainId) {
      const byPeer = new Map<string, string[]>();
      for (const a of join.bootstrap) {
        const m = parse(a);
        const id = m && peerOf(m);
        if (m && id && WebRTC.matches(m)) byPeer.set(id, [...(byPeer.get(id) ?? []), a]);
      }
      for (const [id, addrs] of byPeer) candidates.set(id, { id, addrs });
    }
    const asked = peer.node.getConnections().filter((c) => c.limits == null && c.status === 'open');
    const seen = new Set<string>();
    for (const c of asked) {
      const id = c.remotePeer.toString();
      if (seen.has(id)) continue;
      seen.add(id);
      try {
        const a = await askPeers(peer.node, c.remotePeer, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
        for (const p of a.peers) if (!candidates.has(p.id)) candidates.set(p.id, p);
      } catch (e) {
        log(`discovery from ${id}: ${(e as Error).message ?? String(e)}`);
      }
    }
    let room = MAX_BROWSER_PEERS - browsers - dialing.size;
    for (const p of candidates.values()) {
      if (room <= 0) break;
      if (p.id === self || p.id === nodePeerId || have.has(p.id) || transport.isBanned(p.id) || retry.waiting(p.id)) continue;
      room--;
      void dialBrowser(p);
    }
  };
  discoverNow = () => void discover();

  /** The Node peer's psibase stream; dialed again while it is gone. */
  const dialNodePeer = async (addr: Multiaddr): Promise<boolean> => {
    if (!peer || !bridge.nodePeer) return false;
    try {
      adopt(await peer.peers.dial(addr));
      return true;
    } catch (e) {
      log(`psibase stream to the Node peer: ${(e as Error).message}`);
      return false;
    }
  };

  try {
    if (localStorage.getItem(LIBP2P_SETTING) === 'off') {
      setMode(false, `libp2p is switched off (localStorage ${LIBP2P_SETTING})`);
      timers.push(setInterval(() => bridge.sendNet(view()), NET_VIEW_MS));
      return { peer: undefined, transport, view, stop: async () => bridge.close() };
    }
    const fromNode = await nodePeerLibp2p(init.peerUrl).catch((e: unknown) => {
      log(`the Node peer's libp2p addresses: ${(e as Error).message}`);
      return null;
    });
    const join = storedJoin();
    const bootstrapWs = (join?.bootstrap ?? []).filter((a) => {
      const m = parse(a);
      return m !== undefined && isWs(m);
    });
    if (fromNode) {
      nodePeerId = fromNode.peerId;
      relayAddrs.push(...fromNode.addrs.filter((a) => parse(a) !== undefined));
    }
    for (const a of bootstrapWs) if (!relayAddrs.includes(a)) relayAddrs.push(a);
    if (relayAddrs.length === 0) {
      setMode(false, 'the Node peer offers no libp2p address and no invite names a relay');
      timers.push(setInterval(() => bridge.sendNet(view()), NET_VIEW_MS));
      return { peer: undefined, transport, view, stop: async () => bridge.close() };
    }
    const local = isLocal(init.peerUrl);
    // The Node peer's relay first; a stored invite's relays only when it offers none.
    const relays = fromNode ? fromNode.addrs.slice(0, 1) : bootstrapWs.slice(0, 1);
    peer = await startBrowserPeer({
      relays,
      privateKey: await profileKey(log),
      ...(local && { rtcConfiguration: { iceServers: [] }, allowPrivateAddresses: true }),
      onPeer: (s) => inbound(s),
      log,
    });
    log(`libp2p started as ${peer.peerId} through ${relays.join(', ')}`);
    peer.node.addEventListener('connection:open', (e) => log(`connection ${e.detail.direction} ${e.detail.remotePeer.toString()} ${e.detail.remoteAddr.toString()}${e.detail.limits ? ' (limited)' : ''}`));
    const p = peer;
    stopDiscovery = await serveDiscovery(p.node, async (asker) => ({ chainId: bridge.chainId ?? null, peers: await connectedPeers(p.node, new Set([asker])) }));
    // Transactions browser peers of this network push (its producer takes them).
    stopPush = await servePush(p.node, async (tx, from) => (psibasePeerIds().has(from) ? bridge.pushIn(tx, from) : { status: 'unavailable', error: 'not a peer of this network' }));
    // … and what the other producers hold, relayed for this one to hold too.
    txRelay = new TxRelay(p.node, { accept: (from) => psibasePeerIds().has(from), onTx: (tx, from) => bridge.relayIn(tx, from), log });
    await txRelay.start();

    let relayMa = multiaddr(relays[0]!);
    nodePeerId ??= peerOf(relayMa);
    // libp2p is on for the Node peer while its psibase stream is open and has spoken;
    // when it closes, off (the worker dials the x-peers WebSocket) until it is back.
    let spoke = false;
    transport.onMessage((m) => {
      if (spoke) return;
      const s = sockets.get(m.peer);
      if (s?.peerId === nodePeerId) {
        spoke = true;
        if (libp2p !== 'on') setMode(true, undefined);
      }
    });
    transport.onPeer((e) => {
      if (e.type !== 'closed' || e.peerId !== nodePeerId || stopped || !bridge.nodePeer) return;
      if ([...sockets.entries()].some(([label, s]) => label !== e.peer && s.peerId === nodePeerId)) return;
      spoke = false;
      if (libp2p === 'on') setMode(false, "the Node peer's psibase stream closed: the x-peers WebSocket until it is back");
    });
    // A network the Node peer is not of: libp2p is on with browser peers only.
    if (!bridge.nodePeer) setMode(true, undefined);
    else if (await dialNodePeer(relayMa)) {
      timers.push(
        setTimeout(() => {
          if (!spoke) setMode(false, `the Node peer's psibase stream said nothing in ${NODE_PEER_SILENCE_MS / 1000} s`);
        }, NODE_PEER_SILENCE_MS),
      );
    } else if (bridge.nodePeer) setMode(false, "cannot open psibase's peer stream to the Node peer");
    else setMode(true, undefined);
    let redialing = false;
    /** The Node peer again (it may have restarted on another libp2p port: its /native/status says). */
    const redialNodePeer = async () => {
      if (redialing) return;
      redialing = true;
      try {
        const again = await nodePeerLibp2p(init.peerUrl).catch(() => null);
        const addr = again?.addrs.map(parse).find((a): a is Multiaddr => a !== undefined);
        if (again && addr) {
          nodePeerId = again.peerId;
          relayMa = addr;
          for (const a of again.addrs) if (!relayAddrs.includes(a)) relayAddrs.unshift(a);
          relayAddrs.splice(16);
        }
        await dialNodePeer(relayMa);
      } finally {
        redialing = false;
      }
    };
    // Keep the Node peer's stream, discover, ping.
    timers.push(
      setInterval(() => {
        if (stopped) return;
        if (nodePeerId && bridge.nodePeer && !psibasePeerIds().has(nodePeerId)) void redialNodePeer();
        void discover();
      }, DISCOVERY_INTERVAL_MS),
      setInterval(() => {
        for (const s of sockets.values()) s.ping();
      }, PING_MS),
    );
    void discover();
  } catch (e) {
    setMode(false, `libp2p cannot start: ${(e as Error).message}`);
  }
  timers.push(setInterval(() => bridge.sendNet(view()), NET_VIEW_MS));
  bridge.sendNet(view());

  return {
    get peer() {
      return peer;
    },
    transport,
    view,
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await stopDiscovery?.();
      await stopPush?.();
      await txRelay?.stop();
      transport.close();
      bridge.close();
      await peer?.stop();
    },
  };
}

/**
 * The browser node's sync on the node core (src/core): the leader-tab worker runs the
 * same CoreNode as the Node peer, as a follower without a vote (FOLLOWER_NAME),
 * connected to its Node peer over psibase's peer protocol on a WebSocket to
 * `x-peers.<root>/p2p` (one type byte + fracpack per frame, src/net/wire). The core
 * says hello with its head, the peer answers with the blocks after it, and each block
 * is validated before consensus sees it (producer signature, transaction proofs,
 * re-execution, merkle root and id; a BFT block's commit certificate by consensus).
 *
 * The browser platform: IndexedDB cannot take blocks back, so the chain is not
 * reversible and the core commits only irreversible blocks (on a single-producer
 * chain every block is irreversible at once); the blocks above them wait in memory.
 * The genesis block comes first over HTTP (`genesis`), since the core needs a root.
 *
 * A block that does not validate (or any message the core reports) closes the
 * connection; it is dialed again after MISBEHAVIOUR_RETRY_MS, and the core remembers
 * the invalid block, so nothing of it is ever committed. Dials that fail in a row
 * P2P_FALLBACK_FAILURES times before one ever succeeded set `gaveUp`: the browser
 * node then syncs over HTTP (BlockSync) instead.
 *
 * `peersOnly`: a network the Node peer is not of (created in another browser, joined by
 * its invite) comes from the page's libp2p peers alone, its genesis block too
 * (genesisFromPeers); nothing is dialed or fetched from the Node peer, and there is no
 * HTTP fallback.
 */
import type { Chain } from '../../chain/executor.ts';
import { claimVerifier, withPreverify } from '../../core/claim-verifier.ts';
import { CoreNode, FOLLOWER_NAME, type CommittedBlock } from '../../core/node.ts';
import type { Clock, Transport } from '../../core/platform.ts';
import { PsiwebError } from '../../errors.ts';
import { GENESIS_BLOCK_NUM } from '../../chain/constants.ts';
import { headerIdBytes } from '../../consensus/block.ts';
import { blockOf, decodeMessage, encodeMessage, MESSAGE_TYPES } from '../../net/wire/index.ts';
import type { SignedBlock } from '../../protocol/types.ts';
import { toHex } from '../../state/bytes.ts';
import { MISBEHAVIOUR_RETRY_MS, P2P_FALLBACK_FAILURES, P2P_RETRY_MAX_MS, P2P_RETRY_MIN_MS } from './constants.ts';
import { bridgeTransport, coreListener, isCoreFrame } from './bridge-core.ts';
import { isBridgeLabel, type WorkerPeerBridge } from './peer-bridge.ts';
import { SyncError } from './errors.ts';
import { PeerHeads } from './peer-heads.ts';

/**
 * With a bridge (libp2p in the leader tab's page), how long the core waits for the page
 * to say whether the Node peer is reached over libp2p before it dials the x-peers
 * WebSocket anyway (the page answers within a request to the peer's /native/status).
 */
export const BRIDGE_DECISION_MS = 4_000;
/** A network joined over peers: how long the first genesis block may take before the run loop is told (and tries again). */
export const GENESIS_WAIT_MS = 15_000;
/** … and how often the peers are asked again meanwhile. */
export const GENESIS_ASK_MS = 2_000;

/** psibase's routing_base protocol_version. */
const PROTOCOL_VERSION = 0;

/** The WebSocket to the peer could not be opened. */
export class P2pConnectError extends PsiwebError {
  override name = 'P2pConnectError';
}

/** An open connection to the peer. */
export interface PeerLink {
  send(bytes: Uint8Array): void;
  close(reason: string): void;
}

export interface LinkEvents {
  message(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** Opens a binary WebSocket to `url`; rejects with P2pConnectError when it does not open. */
export type Dial = (url: string, events: LinkEvents) => Promise<PeerLink>;

/** The peer's p2p endpoint of its root URL: http://psiweb.localhost:8080 → ws://x-peers.psiweb.localhost:8080/p2p. */
export function p2pUrl(peerUrl: string): string {
  const u = new URL(peerUrl);
  return `${u.protocol === 'https:' ? 'wss' : 'ws'}://x-peers.${u.host}/p2p`;
}

/** The platform's WebSocket (browsers and workers have one). */
export const webSocketDial: Dial = (url, events) =>
  new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      reject(new P2pConnectError(`${url}: ${(e as Error).message}`, { cause: e }));
      return;
    }
    ws.binaryType = 'arraybuffer';
    let open = false;
    ws.onopen = () => {
      open = true;
      resolve({
        send: (bytes) => ws.send(bytes as Uint8Array<ArrayBuffer>),
        // Browsers let a page close with 1000 or 3000–4999 only.
        close: (reason) => ws.close(1000, new TextEncoder().encode(reason).length > 120 ? reason.slice(0, 40) : reason),
      });
    };
    ws.onmessage = (e: MessageEvent) => {
      if (e.data instanceof ArrayBuffer) events.message(new Uint8Array(e.data));
    };
    ws.onclose = (e: CloseEvent) => {
      if (open) events.close(e.code, e.reason);
      else reject(new P2pConnectError(`${url}: the WebSocket did not open (${e.code}${e.reason ? `: ${e.reason}` : ''})`));
    };
  });

export interface CoreSyncInit {
  /** Not reversible: the core commits irreversible blocks only. */
  chain: Chain;
  /** The peer's root URL, e.g. http://psiweb.localhost:8080. */
  peerUrl: string;
  /** Applies the genesis block (from the peer, over HTTP) when the chain holds none (not used with `peersOnly`). */
  genesis: () => Promise<void>;
  /**
   * A network the Node peer is not of (created in another browser, joined by its invite):
   * no x-peers WebSocket and no HTTP; the genesis block, whose id is `chainId` (hex), comes
   * from the bridge's peers too. Needs `bridge`.
   */
  peersOnly?: { chainId: string };
  /** Told of each block the core committed, in order. */
  onCommitted: (block: CommittedBlock) => void | Promise<void>;
  clock: Clock;
  dial?: Dial;
  log?: (line: string) => void;
  random?: () => number;
  /**
   * The leader page's libp2p peers (peer-bridge.ts): the core follows over each of them
   * as well; while the page reaches the Node peer over libp2p, the x-peers WebSocket is
   * not dialed (it is the fallback when the page says libp2p is off, or says nothing
   * within BRIDGE_DECISION_MS).
   */
  bridge?: WorkerPeerBridge;
}

export class CoreSync {
  readonly url: string;
  private readonly chain: Chain;
  private readonly dial: Dial;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private _core: CoreNode | undefined;
  private link: PeerLink | undefined;
  /** The label of the open connection (a new one per connection: consensus meets it afresh). */
  private label: string | undefined;
  private seq = 0;
  private running = false;
  private dialing = false;
  private timer: unknown;
  /** Dials that failed in a row. */
  private failures = 0;
  private everConnected = false;
  /** Why the peer was last disconnected for misbehaving, or null (cleared once a later connection commits a block). */
  misbehaviour: string | null = null;
  /** The connection (seq) the misbehaviour came on. */
  private badSeq = 0;
  /** The open connection's seq. */
  private linkSeq = 0;
  private readonly bridge: WorkerPeerBridge | undefined;
  /** When the x-peers WebSocket may be dialed without the page's word on libp2p. */
  private decisionAt = 0;
  /** Why bridge peers were dropped for misbehaving, most recent last (at most 8). */
  readonly dropped: { peer: string; reason: string }[] = [];
  /** Each peer's newest block, by the core's label. */
  readonly heads = new PeerHeads();
  /** Ends the wait for a network's genesis block from peers (peersOnly), while one runs. */
  private cancelGenesis: ((e: Error) => void) | undefined;

  constructor(private readonly init: CoreSyncInit) {
    this.chain = init.chain;
    this.url = p2pUrl(init.peerUrl);
    this.dial = init.dial ?? webSocketDial;
    this.clock = init.clock;
    this.log = init.log ?? (() => undefined);
    this.bridge = init.bridge;
  }

  /** Whether the x-peers WebSocket is wanted now: no bridge, or the page says libp2p is off, or said nothing in time. */
  private get xpeersWanted(): boolean {
    if (this.init.peersOnly) return false;
    const b = this.bridge;
    // No page at the other end (a page that does not run libp2p): nothing to wait for.
    if (!b?.attached) return true;
    if (b.libp2p !== undefined) return !b.libp2p;
    return this.clock.now() >= this.decisionAt;
  }

  /** The core, while running. */
  get core(): CoreNode | undefined {
    return this._core;
  }

  /** Whether the WebSocket to the peer is open, or a libp2p peer is connected through the bridge. */
  get connected(): boolean {
    return this.link !== undefined || (this.bridge?.peers.size ?? 0) > 0;
  }

  /** Whether the x-peers WebSocket is open. */
  get xpeersConnected(): boolean {
    return this.link !== undefined;
  }

  /** The WebSocket never opened after P2P_FALLBACK_FAILURES tries (and libp2p does not reach the peer): sync over HTTP instead. */
  get gaveUp(): boolean {
    return !this.everConnected && this.failures >= P2P_FALLBACK_FAILURES && this.xpeersWanted;
  }

  /** Whether the core is running. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Opens the core on the chain (the genesis block first, if the chain has none) and
   * dials the peer. Resolves once the core runs; the connection follows. Idempotent.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const peersOnly = this.init.peersOnly;
    if (!this.chain.head) {
      const t0 = performance.now();
      await (peersOnly ? this.genesisFromPeers(peersOnly.chainId) : this.init.genesis());
      this.log(`p2p: took the genesis block ${peersOnly ? 'from browser peers' : 'over HTTP'} in ${(performance.now() - t0).toFixed(0)} ms`);
    }
    const bridge = this.bridge;
    const peers =
      bridge &&
      bridgeTransport(bridge, (peer, reason) => {
        this.log(`p2p: dropped the libp2p peer ${peer}: ${reason}`);
        this.dropped.push({ peer, reason });
        if (this.dropped.length > 8) this.dropped.shift();
        this.heads.forget(peer);
      });
    const transport: Transport = {
      // The x-peers WebSocket is one peer: nothing is routed to producers through it; the page's libp2p routing may.
      sendToProducer: (producer, bytes) => peers?.sendToProducer(producer, bytes) ?? false,
      sendToPeer: (peer, bytes) => {
        if (peers && isBridgeLabel(peer)) return peers.sendToPeer(peer, bytes);
        if (peer !== this.label || !this.link) return false;
        this.link.send(bytes);
        return true;
      },
      broadcast: (bytes) => {
        this.link?.send(bytes);
        peers?.broadcast(bytes);
      },
      misbehaved: (peer, reason) => {
        if (peers && isBridgeLabel(peer)) return peers.misbehaved!(peer, reason);
        if (peer !== this.label) return;
        this.misbehaviour = reason;
        this.badSeq = this.linkSeq;
        this.log(`p2p: disconnecting the peer: ${reason}`);
        this.drop(reason, MISBEHAVIOUR_RETRY_MS);
      },
    };
    const core = await CoreNode.open({
      platform: { clock: this.clock, chain: this.chain, transport, log: this.log, ...(this.init.random && { random: this.init.random }) },
      name: FOLLOWER_NAME,
      sign: () => {
        throw new PsiwebError('a follower does not sign');
      },
      // Consensus checks signatures synchronously (noble, in JS); WebCrypto checks each arriving message's first.
      ...withPreverify(claimVerifier()),
      onCommitted: (b) => {
        if (this.misbehaviour !== null && this.link && this.linkSeq > this.badSeq) this.misbehaviour = null;
        return this.init.onCommitted(b);
      },
    });
    this._core = core;
    this.running = true;
    core.start();
    const chainId = this.chain.chainId;
    if (bridge && chainId) bridge.tellChain(toHex(chainId), !peersOnly);
    bridge?.listen(
      coreListener(
        () => this._core,
        this.heads,
        (libp2p) => {
          if (libp2p && this.link) {
            this.log('p2p: the Node peer is reached over libp2p: closing the x-peers WebSocket');
            this.drop('reached over libp2p', undefined);
          } else if (!libp2p) void this.connect();
        },
      ),
    );
    this.decisionAt = this.clock.now() + BRIDGE_DECISION_MS - 10;
    if (bridge?.attached && bridge.libp2p === undefined) this.retry(BRIDGE_DECISION_MS);
    void this.connect();
  }

  /**
   * The genesis block of a network joined over peers: every bridge peer is asked with
   * the hello of an empty node (the block before genesis, psibase numbers genesis 2),
   * which a peer holding the chain answers from its block log. The first block 2 whose id
   * is the network's chain id is applied (with every check a follower makes); a peer that
   * sends another is dropped. A SyncError when none came within GENESIS_WAIT_MS (the run
   * loop tries again).
   */
  private genesisFromPeers(chainId: string): Promise<void> {
    const bridge = this.bridge;
    if (!bridge) return Promise.reject(new SyncError('a network joined over peers needs libp2p peers (no bridge to the page)'));
    bridge.tellChain(chainId, false);
    const want = chainId.toLowerCase();
    // A new one each time: the bridge hands its buffer over to the page.
    const hello = () => encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: new Uint8Array(32), _num: GENESIS_BLOCK_NUM - 1 }, committed: false } });
    return new Promise<void>((resolve, reject) => {
      let applying = false;
      let done = false;
      const finish = (e?: Error) => {
        if (done) return;
        done = true;
        this.cancelGenesis = undefined;
        this.clock.clearTimeout(timer);
        this.clock.clearTimeout(again);
        bridge.listen(undefined);
        if (e) reject(e);
        else resolve();
      };
      const askAll = () => {
        for (const label of bridge.peers.keys()) bridge.sendToPeer(label, hello());
      };
      let again: unknown;
      const repeat = () => {
        askAll();
        again = this.clock.setTimeout(repeat, GENESIS_ASK_MS);
      };
      const timer = this.clock.setTimeout(() => finish(new SyncError(`no peer has sent this network's genesis block within ${GENESIS_WAIT_MS / 1000} s (${bridge.peers.size} connected)`)), GENESIS_WAIT_MS);
      this.cancelGenesis = finish;
      bridge.listen({
        connected: (label) => bridge.sendToPeer(label, hello()),
        message: (label, bytes) => {
          if (applying || done || bytes[0] !== MESSAGE_TYPES.BlockMessage) return;
          let signed: SignedBlock;
          try {
            const m = decodeMessage(bytes);
            if (m.kind !== 'BlockMessage') return;
            signed = blockOf(m.value);
          } catch (e) {
            bridge.misbehaved(label, `a block that does not decode: ${(e as Error).message}`);
            return;
          }
          if (signed.block.header.blockNum !== GENESIS_BLOCK_NUM) return;
          const id = toHex(headerIdBytes(signed.block.header));
          if (id !== want) {
            bridge.misbehaved(label, `its genesis block ${id.slice(0, 16)}… is not this network's (${want.slice(0, 16)}…)`);
            return;
          }
          applying = true;
          this.chain.applyBlock(signed).then(
            () => {
              this.log(`p2p: genesis block of ${want.slice(0, 16)}… from ${label}`);
              finish();
            },
            (e: unknown) => {
              applying = false;
              bridge.misbehaved(label, `its genesis block does not apply: ${(e as Error).message}`);
            },
          );
        },
        closed: () => undefined,
        mode: () => undefined,
      });
      repeat();
    });
  }

  /** Closes the connection and stops the core once the block it is on is done (its irreversible blocks committed). */
  async stop(): Promise<void> {
    this.cancelGenesis?.(new SyncError('the node is stopping'));
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.drop('the node is stopping', undefined);
    this.bridge?.listen(undefined);
    await this._core?.stop();
    this._core = undefined;
  }

  private drop(reason: string, retryMs: number | undefined): void {
    const link = this.link;
    if (this.label !== undefined) this.heads.forget(this.label);
    this.link = undefined;
    this.label = undefined;
    this.seq++;
    link?.close(reason);
    if (retryMs !== undefined) this.retry(retryMs);
  }

  private retry(ms: number): void {
    if (!this.running || this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, ms);
  }

  private backoff(): number {
    const full = Math.min(P2P_RETRY_MAX_MS, P2P_RETRY_MIN_MS * 2 ** Math.min(this.failures, 16));
    return Math.round(full / 2 + ((this.init.random ?? Math.random)() * full) / 2);
  }

  private async connect(): Promise<void> {
    if (!this.running || this.link || this.dialing || !this.xpeersWanted) return;
    this.dialing = true;
    const seq = ++this.seq;
    const label = `#${seq}`;
    try {
      const link = await this.dial(this.url, {
        message: (bytes) => {
          if (seq === this.seq) this.onFrame(label, bytes);
        },
        close: (code, reason) => {
          if (seq !== this.seq) return;
          this.log(`p2p: the peer closed the connection (${code}${reason ? `: ${reason}` : ''})`);
          this.drop('closed', this.backoff());
        },
      });
      if (!this.running || seq !== this.seq || !this.xpeersWanted) {
        link.close('not needed');
        return;
      }
      this.link = link;
      this.label = label;
      this.linkSeq = seq;
      this.failures = 0;
      this.everConnected = true;
      link.send(encodeMessage({ kind: 'InitMessage', value: { version: PROTOCOL_VERSION } }));
      this._core?.connected(label);
      // Our head, so the peer sends what follows it (a Node peer without consensus waits for it).
      this._core?.hello(label);
      this.log(`p2p: connected to ${this.url}`);
    } catch (e) {
      this.failures++;
      this.log(`p2p: cannot connect to ${this.url}: ${(e as Error).message}`);
      if (!this.gaveUp) this.retry(this.backoff());
    } finally {
      this.dialing = false;
    }
  }

  private onFrame(label: string, bytes: Uint8Array): void {
    const type = bytes[0];
    if (type === MESSAGE_TYPES.InitMessage) {
      let version: number | undefined;
      try {
        const m = decodeMessage(bytes);
        if (m.kind === 'InitMessage') version = m.value.version;
      } catch {
        version = undefined;
      }
      if (version !== PROTOCOL_VERSION) {
        this.misbehaviour = `the peer speaks protocol version ${version ?? '(undecodable)'}; psiweb speaks ${PROTOCOL_VERSION}`;
        this.badSeq = this.linkSeq;
        this.drop(this.misbehaviour, MISBEHAVIOUR_RETRY_MS);
      }
      return;
    }
    if (!isCoreFrame(type)) return;
    // Hellos, blocks and consensus messages: the core decodes, validates and answers.
    this.heads.note(label, bytes);
    this._core?.receive(label, bytes);
  }
}

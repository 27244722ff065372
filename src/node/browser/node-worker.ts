/// <reference lib="webworker" />
/**
 * The node's dedicated worker, one per tab. Each asks for the NODE_LOCK Web Lock; the
 * one holding it is this profile's node, the others wait, and when the leader's tab
 * closes its worker dies with it, the lock is released and the next tab's worker takes
 * over. Block execution runs here, off the tab's main thread (ARCHITECTURE.md §5).
 *
 * The leader runs the node core (src/core) as a follower of its Node peer over
 * psibase's peer protocol on a WebSocket (BrowserNode sync 'p2p', core-sync.ts),
 * falling back to HTTP block ranges when that WebSocket never opens.
 *
 * A profile holds several networks (networks.ts): the worker runs the active one's —
 * following the peer's, or producing one created here (network-host.ts) — and opens
 * another when told on the channel (create a network, switch).
 *
 * Once it leads, its page may start libp2p (libp2p-leader.ts) and send { type: 'bridge',
 * port }: the core then follows over the page's libp2p peers too (peer-bridge.ts).
 *
 * Messages from the tab: { type: 'init', peerUrl }, { type: 'bridge', port }. To the tab: { type: 'role', role }.
 */
import { NODE_CHANNEL, NODE_LOCK, SYNC_RETRY_MS } from './constants.ts';
import { StateLostError } from './errors.ts';
import type { NodeMessage } from './messages.ts';
import { NetworkHost } from './network-host.ts';
import { isNetworkMessage, NetworkRegistry } from './networks.ts';
import { BrowserNode, UPSTREAM_HEADER } from './node.ts';
import { Outbox } from './outbox.ts';
import { WorkerPeerBridge } from './peer-bridge.ts';
import { BrowserServiceHost } from './service-host.ts';
import { fetchServiceWasm } from './service-wasm.ts';
import { browserNativeVerifiers } from './verifiers.ts';

declare const self: DedicatedWorkerGlobalScope;

export type WorkerRole = 'waiting' | 'leader' | 'failed';
export type FromWorker = { type: 'role'; role: WorkerRole; error?: string };
export type ToWorker = { type: 'init'; peerUrl: string } | { type: 'bridge'; port: MessagePort } | { type: 'visibility'; hidden: boolean };

/** The leader page's libp2p peers, once it sends its end of the bridge. */
const bridge = new WorkerPeerBridge();

const tell = (m: FromWorker) => self.postMessage(m);

/** Whether this worker's tab is hidden, as the page last said (null until it does). A producer reports it: it keeps producing from here. */
let pageHidden: boolean | null = null;

/** The core's log in the worker's console: connections, refusals and halts, not a line per block. */
const coreLog = (line: string) => {
  if (!/^block \d+ [0-9a-f]+ \d+ transactions?$/.test(line)) console.info(`[psiweb node] ${line}`);
};

/** The chain id of the Node peer that served the page (its /native/status), null when it does not answer. */
async function peerChainId(peerUrl: string): Promise<string | null> {
  const r = await fetch(`${peerUrl}/native/status`, { cache: 'no-store', headers: { [UPSTREAM_HEADER]: '1' } });
  if (!r.ok) return null;
  const s = (await r.json()) as { chainId?: unknown };
  return typeof s.chainId === 'string' && /^[0-9A-Fa-f]{64}$/.test(s.chainId) ? s.chainId : null;
}

async function lead(peerUrl: string): Promise<void> {
  const channel = new BroadcastChannel(NODE_CHANNEL);
  const post = (m: NodeMessage) => channel.postMessage(m);
  const outbox = await Outbox.open();
  let node: { onMessage(m: NodeMessage): void; pumpOutbox(): Promise<void>; run(): Promise<void> } | undefined;
  let networks: NetworkHost | undefined;
  channel.onmessage = (e: MessageEvent<unknown>) => {
    if (isNetworkMessage(e.data)) void networks?.handle(e.data);
    else node?.onMessage(e.data as NodeMessage);
  };
  self.addEventListener('online', () => void node?.pumpOutbox());
  // Outside the loop: it starts the signature checker's worker, which outlives a reopen.
  const nativeVerifiers = await browserNativeVerifiers();
  networks = new NetworkHost({
    registry: await NetworkRegistry.open(),
    outbox,
    post: (m) => channel.postMessage(m),
    host: () => new BrowserServiceHost(),
    nativeVerifiers,
    wasm: fetchServiceWasm,
    log: coreLog,
    follower: (chain, state, network) =>
      new BrowserNode({
        chain,
        outbox,
        peerUrl,
        post,
        online: () => navigator.onLine,
        settled: () => state.settled(),
        sync: 'p2p',
        log: coreLog,
        bridge,
        ...(network.joined && network.chainId && { peersOnly: { chainId: network.chainId.toLowerCase() } }),
      }),
    peerChainId: () => peerChainId(peerUrl),
    bridge,
    pageHidden: () => pageHidden,
  });
  for (;;) {
    node = (await networks.open()).node;
    tell({ type: 'role', role: 'leader' });
    try {
      await node.run();
      await networks.close();
      // Stopped to open another network (create, switch): the loop opens the active one.
      if (!networks.switched) return;
    } catch (e) {
      await networks.close();
      if (!(e instanceof StateLostError)) throw e;
      // A block commit failed after execution moved on: start again from what
      // IndexedDB holds (the node told the tabs why), after a pause in case storage
      // is full and stays so.
      await new Promise((r) => setTimeout(r, SYNC_RETRY_MS * 5));
    }
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  if (e.data?.type === 'bridge') {
    bridge.attach(e.data.port);
    return;
  }
  if (e.data?.type === 'visibility') {
    pageHidden = e.data.hidden === true;
    return;
  }
  if (e.data?.type !== 'init') return;
  const { peerUrl } = e.data;
  tell({ type: 'role', role: 'waiting' });
  // Held for as long as this worker lives: the lock is the node's identity.
  void navigator.locks
    .request(NODE_LOCK, () => lead(peerUrl))
    .catch((err: unknown) => tell({ type: 'role', role: 'failed', error: (err as Error).message ?? String(err) }));
};

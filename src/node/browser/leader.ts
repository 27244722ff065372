/**
 * The page's side of the node: starts this tab's node worker (which becomes the node
 * if it wins the Web Lock), and follows the node's status on the channel, whichever
 * tab runs it. Also the pause handshake an update waits for.
 */
import { NODE_CHANNEL, NODE_LOCK, PEER_URL_SETTING } from './constants.ts';
import type { NodeMessage, NodeStatusView } from './messages.ts';
import type { FromWorker, ToWorker, WorkerRole } from './node-worker.ts';

export interface NodeHandle {
  /** This tab's role: the node, or waiting to take over. */
  readonly role: WorkerRole | 'starting';
  readonly status: NodeStatusView | undefined;
  /** Called on every role or status change. */
  subscribe(fn: () => void): () => void;
  /**
   * Asks the node (in any tab) to stop at a block boundary; resolves when it has, or
   * at once when no node runs. Used before a new service worker takes over.
   */
  pauseForUpdate(timeoutMs?: number): Promise<void>;
}

/** The Node peer to sync from: the setting, else the origin that served the page. */
export function peerUrl(): string {
  try {
    const v = localStorage.getItem(PEER_URL_SETTING);
    if (v) return new URL(v).origin;
  } catch {
    // No storage or a bad URL: the default applies.
  }
  return location.origin;
}

export function startNode(): NodeHandle {
  const channel = new BroadcastChannel(NODE_CHANNEL);
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((fn) => fn());
  let role: NodeHandle['role'] = 'starting';
  let status: NodeStatusView | undefined;
  const pauses = new Map<string, () => void>();

  const worker = new Worker(new URL('./node-worker.ts', import.meta.url), { type: 'module', name: 'psiweb-node' });
  // The bridge to the worker's core, for libp2p in this page once its worker leads (libp2p-leader.ts).
  const bridge = new MessageChannel();
  worker.postMessage({ type: 'bridge', port: bridge.port2 } satisfies ToWorker, [bridge.port2]);
  let net: Promise<unknown> | undefined;
  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    if (e.data.type === 'role') {
      role = e.data.role;
      // A dynamic import: tabs that do not lead never load libp2p.
      if (role === 'leader' && !net)
        net = import('./libp2p-leader.ts')
          .then((m) => m.startLeaderNet({ peerUrl: peerUrl(), port: bridge.port1 }))
          .catch((err: unknown) => {
            console.error('psiweb libp2p failed:', err);
            bridge.port1.postMessage({ type: 'mode', libp2p: false, reason: `libp2p failed to load: ${(err as Error).message}` });
          });
      if (e.data.error) console.error('psiweb node failed:', e.data.error);
      notify();
    }
  };
  worker.postMessage({ type: 'init', peerUrl: peerUrl() } satisfies ToWorker);
  // A producing worker says on the dashboard whether its tab is hidden (it keeps producing: timers in a worker are not throttled as the tab's are).
  const tellVisibility = () => worker.postMessage({ type: 'visibility', hidden: document.visibilityState === 'hidden' } satisfies ToWorker);
  document.addEventListener('visibilitychange', tellVisibility);
  tellVisibility();

  const onNodeMessage = (m: NodeMessage) => {
    if (m.type === 'status') {
      status = m.status;
      notify();
    } else if (m.type === 'paused') {
      pauses.get(m.nonce)?.();
    }
  };
  channel.onmessage = (e: MessageEvent<NodeMessage>) => onNodeMessage(e.data);
  // The leader's own posts do not come back on its channel object, but the leader is a
  // worker, so every tab (its own included) hears it here.
  channel.postMessage({ type: 'status?' } satisfies NodeMessage);

  return {
    get role() {
      return role;
    },
    get status() {
      return status;
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async pauseForUpdate(timeoutMs = 10_000) {
      const held = (await navigator.locks.query()).held?.some((l) => l.name === NODE_LOCK);
      if (!held) return;
      const nonce = crypto.randomUUID();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        pauses.set(nonce, () => {
          clearTimeout(t);
          resolve();
        });
        channel.postMessage({ type: 'pause', nonce } satisfies NodeMessage);
      });
      pauses.delete(nonce);
    },
  };
}

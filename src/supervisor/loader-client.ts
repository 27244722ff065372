/**
 * The app page's end of the bridge (sw/bridge-protocol.ts). Runs first in every page
 * of an app origin — the loader, and each app page, into which the app service worker
 * injects it as `/_psiweb/app-client.js` — and:
 *  - embeds the hidden root-origin frame `/bridge.html` and connects to it;
 *  - takes the requests the app service worker sends it and hands them, with their
 *    reply ports, to the bridge, which answers the service worker directly.
 * Requests that arrive before the bridge is connected wait for it: the page's own
 * scripts are among them, so the frame is created at once, not on DOMContentLoaded.
 */
import { BRIDGE_PATH, rootOriginOf, type BridgeConnect, type BridgeFetch, type BridgeFetchFromWorker, type BridgeHello, type BridgeReply } from '../../sw/bridge-protocol.ts';

/**
 * How long the bridge may take to connect before requests are answered "unavailable"
 * (the app SW then goes to the network): a root origin that cannot be reached at all
 * (offline, never visited) loads an error page that never answers.
 */
const CONNECT_TIMEOUT_MS = 10_000;

export type BridgeState = { port: MessagePort; rootServed: boolean } | { port: undefined; reason: string };

function connect(): Promise<BridgeState> {
  const rootOrigin = rootOriginOf(new URL(location.href));
  const frame = document.createElement('iframe');
  frame.src = rootOrigin + BRIDGE_PATH;
  frame.hidden = true;
  frame.tabIndex = -1;
  frame.setAttribute('aria-hidden', 'true');
  frame.setAttribute('data-psiweb-bridge', '');
  return new Promise<BridgeState>((resolve) => {
    const timer = setTimeout(() => resolve({ port: undefined, reason: 'the bridge did not answer' }), CONNECT_TIMEOUT_MS);
    frame.addEventListener('load', () => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (e: MessageEvent<BridgeHello>) => {
        clearTimeout(timer);
        channel.port1.onmessage = null;
        resolve(e.data.kind === 'ready' ? { port: channel.port1, rootServed: e.data.rootServed } : { port: undefined, reason: e.data.message });
      };
      const hello: BridgeConnect = { type: 'psiweb-bridge-connect' };
      frame.contentWindow?.postMessage(hello, rootOrigin, [channel.port2]);
    });
    // While the page is still parsing there is no body; the frame sits on <html> so
    // that pages replacing their body's content do not tear the bridge down.
    document.documentElement.appendChild(frame);
  });
}

/** The connected bridge of this page (connects on first use). */
let state: Promise<BridgeState> | undefined;
export function bridge(): Promise<BridgeState> {
  return (state ??= connect());
}

function forward(message: BridgeFetchFromWorker, reply: MessagePort): void {
  const accepted: BridgeReply = { kind: 'accepted' };
  reply.postMessage(accepted);
  void bridge().then((b) => {
    if (!b.port) {
      const unavailable: BridgeReply = { kind: 'unavailable' };
      reply.postMessage(unavailable);
      return;
    }
    const out: BridgeFetch = { kind: 'fetch', request: message.request };
    const transfer: Transferable[] = [reply];
    if (message.request.body) transfer.push(message.request.body);
    b.port.postMessage(out, transfer);
  });
}

/** Starts the bridge and answers the app service worker's requests. */
export function startLoaderClient(): void {
  if (!('serviceWorker' in navigator)) return;
  void bridge();
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const data = e.data as BridgeFetchFromWorker | undefined;
    const reply = e.ports[0];
    if (data?.type === 'psiweb-fetch' && reply) forward(data, reply);
  });
  // Messages from the worker wait in a queue until this is called (addEventListener
  // does not start it, unlike onmessage).
  navigator.serviceWorker.startMessages();
}

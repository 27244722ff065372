/**
 * The bridge: the script of `/bridge.html` on the root origin, which every app page
 * embeds as a hidden frame (protocol: sw/bridge-protocol.ts). It is the root's end of
 * the app loader: it answers a connected app's requests with
 * `fetch('/_svc/<service>/<target>')`, which the root service worker serves from the
 * browser's chain state, and streams the reply to the app's service worker. It checks
 * who connects and what they ask (sw/bridge-policy.ts) and exposes nothing else of the
 * root origin.
 */
import { appServiceOfOrigin, judgeBridgeRequest } from '../../sw/bridge-policy.ts';
import type { BridgeConnect, BridgeFetch, BridgeHello, BridgeReply } from '../../sw/bridge-protocol.ts';

const root = new URL(location.href);

function send(port: MessagePort, reply: BridgeReply, transfer: Transferable[] = []): void {
  port.postMessage(reply, transfer);
}

/** Whether the root service worker (and so local chain state) answers this frame. */
function rootServed(): boolean {
  return Boolean(navigator.serviceWorker?.controller);
}

async function answer(app: string, message: BridgeFetch, reply: MessagePort): Promise<void> {
  const verdict = judgeBridgeRequest(app, message.request, root);
  if (!verdict.ok) {
    send(reply, { kind: 'refused', status: verdict.status, message: verdict.message });
    return;
  }
  if (!rootServed()) {
    send(reply, { kind: 'unavailable' });
    return;
  }
  const { method, headers, body } = message.request;
  const response = await fetch(verdict.url, {
    method,
    headers,
    ...(body && method !== 'GET' && method !== 'HEAD' && { body }),
    // The app gets the service's answer, never the root origin's cookies riding along.
    credentials: 'omit',
    cache: 'no-store',
  });
  send(reply, { kind: 'head', status: response.status, statusText: response.statusText, headers: [...response.headers] });
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // A chunk that owns its whole buffer moves; a view into a larger one is copied.
      const bytes = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
      send(reply, { kind: 'chunk', bytes }, [bytes.buffer]);
    }
  }
  send(reply, { kind: 'end' });
}

addEventListener('message', (event: MessageEvent) => {
  // Only the page that embeds this frame, and only from an app origin of this root.
  if (window.parent === window || event.source !== window.parent) return;
  if ((event.data as BridgeConnect | undefined)?.type !== 'psiweb-bridge-connect') return;
  const port = event.ports[0];
  if (!port) return;
  const app = appServiceOfOrigin(event.origin, root);
  if (app === undefined) {
    const refused: BridgeHello = { kind: 'refused', message: `${event.origin} is not an app origin of ${root.host}` };
    port.postMessage(refused);
    port.close();
    return;
  }
  port.onmessage = (m: MessageEvent) => {
    const reply = m.ports[0];
    const data = m.data as BridgeFetch | undefined;
    if (!reply || data?.kind !== 'fetch') return;
    answer(app, data, reply).catch((e: unknown) => send(reply, { kind: 'error', message: (e as Error)?.message ?? String(e) }));
  };
  const hello: BridgeHello = { kind: 'ready', rootServed: rootServed() };
  port.postMessage(hello);
});

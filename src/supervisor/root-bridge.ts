/**
 * Service HTTP for the supervisor through the root origin's bridge (sw/bridge-protocol.ts),
 * as app pages reach services: the hidden root-origin frame `/bridge.html` runs
 * `fetch('/_svc/<service>/<path>')`, answered by the root service worker from the
 * browser's own node — so a pushed transaction goes into the browser node's outbox and
 * is queued when offline, as the PWA's pushes are. The bridge lets any origin GET and
 * POST transact's /push_transaction. Without a bridge (the root origin's worker is not
 * installed), the request goes to the network instead.
 */
import type { BridgeFetch, BridgeReply, BridgeRequest } from '../../sw/bridge-protocol.ts';
import { bridge } from './loader-client.ts';
import { appUrl, type HostEnv } from './host.ts';

/** How the last service request went: 'bridge' or 'network'. */
export let lastRoute: 'bridge' | 'network' | undefined;

export async function serviceFetch(env: HostEnv, service: string, target: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Response> {
  const b = await bridge();
  if (b.port && b.rootServed) {
    const r = await viaBridge(b.port, { service, target, method: init.method ?? 'GET', headers: Object.entries(init.headers ?? {}), body: init.body ? (init.body.slice().buffer as ArrayBuffer) : null });
    if (r) {
      lastRoute = 'bridge';
      return r;
    }
  }
  lastRoute = 'network';
  return fetch(appUrl(env, service) + target, { method: init.method, headers: init.headers, body: init.body as BodyInit | undefined });
}

/** The bridge's answer, or undefined when it has none ('unavailable'). */
function viaBridge(port: MessagePort, request: BridgeRequest): Promise<Response | undefined> {
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    let head: Extract<BridgeReply, { kind: 'head' }> | undefined;
    const chunks: Uint8Array[] = [];
    channel.port1.onmessage = (e: MessageEvent<BridgeReply>) => {
      const m = e.data;
      switch (m.kind) {
        case 'accepted':
          return;
        case 'head':
          head = m;
          return;
        case 'chunk':
          chunks.push(m.bytes);
          return;
        case 'end': {
          channel.port1.close();
          const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
          let o = 0;
          for (const c of chunks) {
            body.set(c, o);
            o += c.length;
          }
          const status = head?.status ?? 500;
          const nullBody = status === 204 || status === 304;
          resolve(new Response(nullBody ? null : body, { status, statusText: head?.statusText ?? '', headers: head?.headers ?? [] }));
          return;
        }
        case 'unavailable':
          channel.port1.close();
          resolve(undefined);
          return;
        case 'refused':
          channel.port1.close();
          reject(new Error(`the root origin refused ${request.method} ${request.service}${request.target}: ${m.message}`));
          return;
        case 'error':
          channel.port1.close();
          reject(new Error(`${request.method} ${request.service}${request.target} through the root origin failed: ${m.message}`));
          return;
      }
    };
    const out: BridgeFetch = { kind: 'fetch', request };
    const transfer: Transferable[] = [channel.port2];
    if (request.body) transfer.push(request.body);
    port.postMessage(out, transfer);
  });
}

/**
 * What the bridge (the root-origin frame inside every app page) lets an app ask for.
 *
 * Who may connect: only a page whose origin is `<service>.<root>` with the root's own
 * scheme and port, `<service>` a canonical account name. Another site, another port,
 * a nested subdomain or the root itself gets nothing: the bridge is the one door from
 * an app origin into the root origin, and what stays behind it (chain state, keys,
 * plugin data in the root's IndexedDB) is kept there by the browser's origin rules.
 *
 * What a connected app may ask for, always as `/_svc/<service>/<path>` on the root
 * origin and never anything else there:
 *  - its own service: any method psinode accepts. This is exactly what the app could
 *    ask of its own origin over the network.
 *  - any service: GET, HEAD and OPTIONS. psibase services publish their read APIs to
 *    every origin (psibase's allowCors answers `Access-Control-Allow-Origin: *`), and
 *    apps read each other's data this way (a wallet reading balances).
 *  - any service: POST to `/graphql` and `/common/…`. psibase's query convention is
 *    POST /graphql, and common-api's pack endpoints are POSTs; every service request
 *    runs as a read-only query at the head, so none of these can change state.
 *  - `transact`: POST `/push_transaction`, the one write path. A transaction carries
 *    its own signatures, so pushing one gives an app no power it lacks over the
 *    network; the bridge adds no credentials (its fetches omit cookies).
 * Everything else (POST/PUT/DELETE to another service's own endpoints) is refused:
 * those are the other app's private surface, which psibase only expects from that
 * app's own pages.
 */
import { isValidAccountName } from '../src/protocol/names.ts';
import { SVC_PREFIX, type BridgeRequest } from './bridge-protocol.ts';

/** The methods psinode passes to services (handle_request.cpp). */
const METHODS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The service of the app origin `origin` (an event.origin string), or undefined when
 * that origin is not an app origin of the root at `root` (the bridge's own URL).
 */
export function appServiceOfOrigin(origin: string, root: URL): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (url.origin !== origin) return undefined;
  if (url.protocol !== root.protocol || url.port !== root.port) return undefined;
  const suffix = `.${root.hostname}`;
  if (!url.hostname.endsWith(suffix)) return undefined;
  const name = url.hostname.slice(0, -suffix.length);
  // Canonical account names only: no dots (nested subdomains), no "+" spellings.
  if (name.includes('.') || name.includes('+') || !isValidAccountName(name)) return undefined;
  return name;
}

export type BridgeVerdict =
  | { ok: true; url: URL }
  | { ok: false; status: number; message: string };

/** Whether `app` may make `request`, and the root-origin URL that answers it. */
export function judgeBridgeRequest(app: string, request: BridgeRequest, root: URL): BridgeVerdict {
  const refuse = (status: number, message: string): BridgeVerdict => ({ ok: false, status, message });
  if (typeof request?.service !== 'string' || !isValidAccountName(request.service) || request.service.includes('+')) {
    return refuse(400, `"${String(request?.service)}" is not a service name`);
  }
  if (typeof request.target !== 'string' || !request.target.startsWith('/') || request.target.startsWith('//')) {
    return refuse(400, 'the request target must be a path starting with "/"');
  }
  const method = String(request.method).toUpperCase();
  if (!METHODS.has(method)) return refuse(405, `the method ${method} is not supported`);
  const prefix = `${SVC_PREFIX}${request.service}`;
  const url = new URL(prefix + request.target, root.origin);
  // The URL parser resolves "..", "%2e%2e" and backslashes; what it resolved to must
  // still be this service's HTTP, never another root-origin path.
  if (url.origin !== root.origin || !url.pathname.startsWith(`${prefix}/`)) {
    return refuse(400, 'the request target leaves the service');
  }
  const path = url.pathname.slice(prefix.length);
  if (request.service === app || READ_METHODS.has(method)) return { ok: true, url };
  if (method === 'POST' && (path === '/graphql' || path.startsWith('/common/'))) return { ok: true, url };
  if (method === 'POST' && request.service === 'transact' && path === '/push_transaction') return { ok: true, url };
  return refuse(403, `the app ${app} may not ${method} ${path} of the service ${request.service}`);
}

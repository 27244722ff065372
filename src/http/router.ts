/**
 * Host/path → service routing, shared by the Node server (src/node/http-server.ts) and
 * the service workers: a fetch Request in, a fetch Response out, no platform I/O.
 *
 * Order, as psinode's handle_request and psibase's http service decide it:
 *  0. A Host header, when the request has one (the Node adapter's do; a service
 *     worker's never), must be a plain authority naming the URL's host (400).
 *  1. `localhost` and loopback addresses redirect to the root host; other hosts are
 *     not ours (421).
 *  2. `/native/…` on any of our hosts is answered by the node itself (status, the
 *     block ranges other nodes sync from: blocks.ts, the query cache's counters),
 *     CORS-open with preflights.
 *  3. `transact.<root>/push_transaction` goes to the producing node, into the block it is building (push.ts).
 *  3a. `/graphql` on `producers.<root>`, `accounts.<root>`, `transact.<root>` and
 *     `explorer.<root>` is answered by the node from chain state at the head
 *     (graphql/chain-queries.ts), as psibase's RProducers, RAccounts, RTransact and
 *     Explorer services answer it.
 *  3b. `packages.<root>/schema?service=NAME` answers a built-in service's schema
 *     (service-schemas.ts), as psibase's packages service answers it.
 *  4. `<service>.<root>` runs the http service's `serve` as a read-only query at the
 *     head, which routes to the service's registered server, sites or common-api.
 *     Successful GET/HEAD answers are kept per (state, request) (query-cache.ts).
 *  4a. On `<service>.<root>`, with a PWA build to serve: `/app-sw.js` is the app
 *     origins' service worker, and a browser's top-level navigation gets the app
 *     loader, which installs that worker (a first visit: once it runs, navigations
 *     never reach the server). Other clients (curl, the CLI) get the service's content.
 *  5. The root host is the PWA (node dashboard and supervisor): psibase's http service
 *     would redirect it to `homepage`, which in psiweb is the PWA itself, so root
 *     requests serve the PWA build, except `/common/…`, which common-api answers on
 *     every origin. Its `/common/pack/…` refusing the JSON it was sent is a 400.
 */
import { accountNumber } from '../protocol/names.ts';
import type { HttpHeader, HttpRequest } from '../protocol/types.ts';
import { APP_LOADER_FILE, APP_SW_PATH, COMMON_API_PACK_PREFIX, COMMON_API_PREFIX, MAX_BODY_BYTES, NATIVE_PREFIX } from './constants.ts';
import { BLOCKS_PATH, blockRangeResponse } from './blocks.ts';
import { BadRequestTargetError, HttpError, QueryReplyError } from './errors.ts';
import { CHAIN_GRAPHQL, chainRunner } from './graphql/chain-queries.ts';
import { GRAPHQL_PATH, serveGraphql } from './graphql/serve.ts';
import { normalizeRootHost, parseAuthority, routeHost } from './hosts.ts';
import { PACKAGES, SCHEMA_PATH, serveSchema } from './service-schemas.ts';
import { PUSH_TRANSACTION_PATH, pushTransaction, type TransactionSubmitter } from './push.ts';
import { SUPERVISOR_SERVICE, serveCommonLib, serveSupervisorOrigin } from './supervisor-origin.ts';
import { HTTP, ServiceQuery, type QueryChain } from './query.ts';
import { QueryCache, type QueryCacheOptions } from './query-cache.ts';
import { corsHeaders, errorResponse, jsonResponse, preflightResponse, replyToResponse } from './responses.ts';
import { knownBody } from './known-body.ts';

const TRANSACT = accountNumber('transact');
const COMMON_API = accountNumber('common-api');

/** How the VM reports common-api's aborts; its JSON decoders abort with `json: …`. */
const COMMON_API_ABORT = "service 'common-api' aborted with message: ";

/** The query cache's counters as JSON (QueryCacheStats; null when the router keeps none). */
export const QUERY_CACHE_PATH = '/native/query-cache';

/** The methods the node's own /native/ resources answer. */
const NATIVE_METHODS = 'GET, HEAD, OPTIONS';

/** The methods psinode passes to services (handle_request.cpp); others are 405. */
const METHODS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** Headers never shown to services (psinode's private_headers). */
const PRIVATE_HEADERS = new Set(['proxy-authorization']);

/** The PWA build (dist/): a file, or the app shell for paths that are not files. */
export interface StaticSite {
  /** Undefined when there is no build to serve. */
  fetch(path: string, request: Request): Promise<Response | undefined>;
}

export interface RouterInit {
  /** The root host name, e.g. psiweb.localhost (no port). */
  rootHost: string;
  /** The chain state queries run against (the executor's Chain). */
  chain: QueryChain;
  /** Where push_transaction submits; without it the endpoint answers 503. */
  submitter?: TransactionSubmitter;
  /** `/native/status`: the node's status as JSON. */
  nativeStatus?: () => Promise<unknown>;
  /** The PWA build served on the root host. */
  site?: StaticSite;
  maxBodyBytes?: number;
  /**
   * The answers of GET/HEAD queries kept per (state, request) (query-cache.ts), bounded
   * as given; false keeps none. On by default.
   */
  queryCache?: QueryCacheOptions | false;
  /** Told about failures that are not the client's fault (a 500 is sent regardless). */
  onError?: (error: unknown, request: Request) => void;
}

export class Router {
  readonly rootHost: string;
  readonly query: ServiceQuery;
  private readonly maxBodyBytes: number;

  constructor(private readonly init: RouterInit) {
    this.rootHost = normalizeRootHost(init.rootHost);
    const cache = init.queryCache === false ? undefined : new QueryCache(init.queryCache);
    this.query = new ServiceQuery(init.chain, { rootHost: this.rootHost, ...(cache && { cache }) });
    this.maxBodyBytes = init.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  /** Answers one request; never throws (every failure is a response). */
  async handle(request: Request): Promise<Response> {
    try {
      return await this.route(request);
    } catch (e) {
      if (e instanceof HttpError) return errorResponse(e);
      if (e instanceof QueryReplyError) return errorResponse(new HttpError(500, e.message));
      this.init.onError?.(e, request);
      return errorResponse(new HttpError(500, `internal error: ${(e as Error).message ?? String(e)}`));
    }
  }

  private async route(request: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch (e) {
      throw new HttpError(400, 'invalid request URL', { cause: e });
    }
    const hostHeader = checkedHost(request, url);
    const route = routeHost(url.hostname, this.rootHost);
    if (route.kind === 'alias') {
      const location = `${url.protocol}//${this.rootHost}${url.port ? `:${url.port}` : ''}${url.pathname}${url.search}`;
      return new Response(null, { status: 308, headers: { Location: location } });
    }
    if (route.kind === 'foreign') {
      throw new HttpError(421, `this node serves ${this.rootHost} and its subdomains, not ${url.hostname}`);
    }
    if (!METHODS.has(request.method)) {
      throw new HttpError(405, `the method ${request.method} is not supported`, { headers: { Allow: 'GET, POST, OPTIONS' } });
    }
    const body = await this.readBody(request);

    if (url.pathname.startsWith(NATIVE_PREFIX)) return this.native(request, url);
    if (route.kind === 'badService') throw new HttpError(404, `"${route.name}" is not an account name, so no service answers on ${url.hostname}`);

    if (route.kind === 'service' && route.service === TRANSACT && url.pathname === PUSH_TRANSACTION_PATH) {
      if (!this.init.submitter) throw new HttpError(503, 'this node does not accept transactions');
      return pushTransaction(request, url, this.init.submitter, body);
    }

    if (route.kind === 'service' && url.pathname === GRAPHQL_PATH) {
      const schema = CHAIN_GRAPHQL.get(route.service);
      if (schema) return serveGraphql(request, url, body, schema, chainRunner(schema, this.init.chain.state));
    }

    if (route.kind === 'service' && route.service === PACKAGES && url.pathname === SCHEMA_PATH) {
      return serveSchema(request, url, (service) => this.query.hasCode(service));
    }

    // The supervisor's origin and the app-side client (supervisor-origin.ts).
    if (route.kind === 'service' && route.name === SUPERVISOR_SERVICE) {
      const page = await serveSupervisorOrigin(this.init.site, request, url);
      if (page) return page;
    }
    const commonLib = await serveCommonLib(this.init.site, request, url);
    if (commonLib) return commonLib;

    if (route.kind === 'service') {
      const shell = await this.appShell(request, url);
      if (shell) return shell;
    }

    const httpRequest = toHttpRequest(request, url, hostHeader, body);
    if (route.kind === 'root') return this.root(request, url, httpRequest);
    return this.service(route.service, httpRequest, url);
  }

  /** The body, at most maxBodyBytes (413 beyond, told before reading when the length is declared). */
  private async readBody(request: Request): Promise<Uint8Array> {
    const declared = request.headers.get('content-length');
    if (declared !== null && Number(declared) > this.maxBodyBytes) throw tooLarge(this.maxBodyBytes);
    const known = knownBody(request);
    if (known !== undefined) {
      const bytes = typeof known === 'string' ? new TextEncoder().encode(known) : known;
      if (bytes.length > this.maxBodyBytes) throw tooLarge(this.maxBodyBytes);
      return bytes;
    }
    if (request.body === null) return new Uint8Array(0);
    const reader = request.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > this.maxBodyBytes) {
        await reader.cancel();
        throw tooLarge(this.maxBodyBytes);
      }
      chunks.push(value);
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** The app origin's worker and first-visit loader from the PWA build (step 4a). */
  private async appShell(request: Request, url: URL): Promise<Response | undefined> {
    if (!this.init.site || (request.method !== 'GET' && request.method !== 'HEAD')) return undefined;
    if (url.pathname === APP_SW_PATH) return this.init.site.fetch(APP_SW_PATH, request);
    // Sec-Fetch-* are set by browsers only and cannot be forged by page scripts; a
    // service worker's own fetch of a navigation goes out as "same-origin", so the
    // app worker's network fallback gets the app's real page.
    const navigation = request.headers.get('sec-fetch-mode') === 'navigate' && request.headers.get('sec-fetch-dest') === 'document';
    if (navigation) return this.init.site.fetch(APP_LOADER_FILE, request);
    return undefined;
  }

  private async native(request: Request, url: URL): Promise<Response> {
    const status = url.pathname === '/native/status' && this.init.nativeStatus !== undefined;
    if (!status && url.pathname !== BLOCKS_PATH && url.pathname !== QUERY_CACHE_PATH) throw new HttpError(404, `the resource '${url.pathname}' was not found`);
    // CORS-open, so a node on another origin may sync from this one: a preflight
    // (sent for any request a page adds headers to) is answered for every resource.
    if (request.method === 'OPTIONS') return preflightResponse(NATIVE_METHODS);
    if (url.pathname === BLOCKS_PATH) return blockRangeResponse(request, url, this.init.chain.state.store);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HttpError(405, `${url.pathname} does not accept the method ${request.method}`, { headers: { ...corsHeaders(), Allow: NATIVE_METHODS } });
    }
    if (url.pathname === QUERY_CACHE_PATH) return jsonResponse(this.query.cache?.stats ?? null, 200, corsHeaders());
    return jsonResponse(await this.init.nativeStatus!(), 200, corsHeaders());
  }

  private async root(request: Request, url: URL, httpRequest: HttpRequest): Promise<Response> {
    if (url.pathname.startsWith(COMMON_API_PREFIX) && (await this.query.hasCode(COMMON_API))) {
      const r = await this.query.serveSysReply(COMMON_API, httpRequest);
      if (r.error !== undefined) throw serviceFailure(r.error, url);
      if (r.reply) return replyToResponse(r.reply);
    }
    const page = await this.init.site?.fetch(url.pathname, request);
    if (page) return page;
    throw new HttpError(404, `the resource '${url.pathname}' was not found (this node has no PWA build to serve)`);
  }

  private async service(service: bigint, httpRequest: HttpRequest, url: URL): Promise<Response> {
    // On one state a request always takes the same route below, so a kept answer is
    // looked up first, under the route's own entry; it is kept only when the run that
    // computed it saw the route taken (the `holds` checks, on that run's state).
    const entry = `route ${service}`;
    const kept = await this.query.cached(entry, httpRequest);
    if (kept) return replyToResponse(kept);
    // A chain without the http service (a bare test chain) still serves each service's
    // own serveSys on its subdomain; with it, psibase's routing applies.
    if (!(await this.query.hasCode(HTTP))) {
      if (!(await this.query.hasCode(service))) throw new HttpError(404, `no service is deployed on ${httpRequest.host}`);
      const r = await this.query.serveSysReply(service, httpRequest, HTTP, entry, (reader) => !this.query.codeOrNone(reader, HTTP));
      if (r.error !== undefined) throw new HttpError(500, r.error);
      if (!r.reply) throw new HttpError(404, `the resource '${httpRequest.target}' was not found`);
      return replyToResponse(r.reply);
    }
    const r = await this.query.serveReply(httpRequest, entry, (reader) => this.query.codeOrNone(reader, HTTP));
    if (r.error !== undefined) throw serviceFailure(r.error, url);
    return replyToResponse(r.reply!);
  }
}

/**
 * A service abort as the error it answers with: 500 (psinode's answer), except for
 * common-api's pack endpoints refusing the JSON they were sent, which is the client's
 * bad input (400; psinode answers 500 there too).
 */
function serviceFailure(error: string, url: URL): HttpError {
  if (url.pathname.startsWith(COMMON_API_PACK_PREFIX) && error.startsWith(`${COMMON_API_ABORT}json: `)) {
    const why = error.slice(COMMON_API_ABORT.length);
    return new HttpError(400, `${url.pathname} could not pack the request body: ${why}`, { headers: corsHeaders() });
  }
  return new HttpError(500, error);
}

/**
 * The Host header a request carries, if any, checked against the URL the router
 * routes (the Node adapter builds that URL from the same checked header; service
 * workers never see a Host header): one plain authority, naming the URL's host.
 */
function checkedHost(request: Request, url: URL): string {
  const value = request.headers.get('host');
  if (value === null) return url.host;
  // Repeated Host headers arrive joined by ", ", which parseAuthority refuses.
  const authority = parseAuthority(value.trim());
  let same = false;
  try {
    same = new URL(`${url.protocol}//${authority.host}/`).host === url.host;
  } catch {
    same = false;
  }
  if (!same) throw new BadRequestTargetError(`the Host header "${authority.host}" does not name the request's host "${url.host}"`);
  return value.trim();
}

function tooLarge(max: number): HttpError {
  return new HttpError(413, `request body is larger than the ${max}-byte limit`);
}

/** psibase's HttpRequest for a fetch Request (handle_request.cpp builds the same). */
export function toHttpRequest(request: Request, url: URL, hostHeader: string, body: Uint8Array): HttpRequest {
  const headers: HttpHeader[] = [];
  let sawHost = false;
  for (const [name, value] of request.headers) {
    if (PRIVATE_HEADERS.has(name)) continue;
    if (name === 'host') sawHost = true;
    headers.push({ name, value });
  }
  // Service workers never see Host; services read the port from it (getSiblingUrl).
  if (!sawHost) headers.push({ name: 'host', value: hostHeader });
  return {
    host: url.hostname,
    method: request.method,
    target: url.pathname + url.search,
    contentType: request.headers.get('content-type') ?? '',
    headers,
    body,
  };
}

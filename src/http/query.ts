/**
 * Queries: one action run read-only against the head state, as psinode runs HTTP
 * requests (handle_request.cpp: a BlockContext on the head, a TransactionContext in
 * DbMode::rpc, `x-http` entering the http service). Writes go to an overlay that is
 * dropped; node-local databases get a fresh overlay per query too, so a query never
 * changes anything. Every run goes through StateDb.run, so over IndexedDB a read that
 * misses the range cache loads the range and runs the query again from the start.
 */
import { FracSchema } from '../protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { protocolSchema, type Action, type ActionTrace, type HttpReply, type HttpRequest } from '../protocol/types.ts';
import { MemoryKv, WriteOverlay, type KvReader, type StateDb } from '../state/index.ts';
import { statusKey } from '../chain/native-tables.ts';
import { DbId, dbKey } from '../vm/dbs.ts';
import type { Clock, Limits, ServiceCode, ServiceHost } from '../vm/index.ts';
import { QUERY_SOCKET } from './constants.ts';
import { QueryReplyError } from './errors.ts';
import { requestKey, type QueryCache } from './query-cache.ts';
import { xHttpService } from './x-http.ts';

/** What a query needs from the chain: the executor's Chain has exactly this. */
export interface QueryChain {
  readonly state: StateDb;
  readonly host: ServiceHost;
  readonly codeFor: (state: KvReader, service: bigint) => ServiceCode | undefined;
}

export interface QueryResult {
  trace: ActionTrace;
  retval: Uint8Array;
  /** The message psibase would report when the action failed. */
  error?: string;
}

export const X_HTTP = accountNumber('x-http');
export const HTTP = accountNumber('http');
const SERVE = methodNumber('serve');
const SERVE_SYS = methodNumber('serveSys');
/** The native status row: its bytes name the block the state is at (query-cache.ts). */
const STATUS_ROW_KEY = dbKey(DbId.native, statusKey());

const schema = new FracSchema(
  {
    ...protocolSchema,
    i32: { Int: { bits: 32, isSigned: true } },
    // HttpServer::serve(std::int32_t socket, HttpRequest req)
    ServeArgs: { Object: { socket: 'i32', req: 'HttpRequest' } },
    // serveSys(HttpRequest request, optional<int32_t> socket, optional<AccountNumber> user)
    ServeSysArgs: { Object: { request: 'HttpRequest', socket: { Option: 'i32' }, user: { Option: 'AccountNumber' } } },
    OptionalReply: { Option: 'HttpReply' },
  },
  { mode: 'native' },
);

/** A query's answer without its trace: what the router needs, and what the cache keeps. */
export interface ReplyResult<R> {
  reply?: R;
  error?: string;
}

export class ServiceQuery {
  private readonly xHttp: ServiceCode;
  private readonly limits: Partial<Limits> | undefined;
  /** Answers of serveReply and serveSysReply (query-cache.ts); undefined: none kept. */
  readonly cache: QueryCache | undefined;

  constructor(
    private readonly chain: QueryChain,
    init: { rootHost: string; limits?: Partial<Limits>; cache?: QueryCache },
  ) {
    this.xHttp = xHttpService(init.rootHost);
    this.limits = init.limits;
    this.cache = init.cache;
  }

  /** Whether `service` has code at the head. */
  async hasCode(service: bigint): Promise<boolean> {
    const state = this.chain.state;
    return state.run(() => this.codeOrNone(state.reader, service));
  }

  /** Whether `service` has code in the state `reader` shows (synchronous: inside a state run). */
  codeOrNone(reader: KvReader, service: bigint): boolean {
    try {
      return this.chain.codeFor(reader, service) !== undefined;
    } catch (e) {
      // An account whose code was cleared is "no code", not a broken request.
      if ((e as Error).name === 'ServiceError') return false;
      throw e;
    }
  }

  /** Runs `action` against the head state; its effects are thrown away. */
  async run(action: Action): Promise<QueryResult> {
    const state = this.chain.state;
    return state.run(() => {
      const tx = this.transaction(state.reader);
      try {
        const { trace, error } = tx.runAction(action);
        const result: QueryResult = { trace, retval: trace.rawRetval };
        if (error) result.error = error.message;
        return result;
      } finally {
        tx.close();
      }
    });
  }

  /** A read-only transaction on `reader`; `outside` is told when the run reads the clock or randomness. */
  private transaction(reader: KvReader, outside?: () => void) {
    return this.chain.host.transaction({
      state: new WriteOverlay(reader),
      subjective: new WriteOverlay(new MemoryKv()),
      codeFor: (s) => (s === X_HTTP ? this.xHttp : this.chain.codeFor(reader, s)),
      mode: 'rpc',
      producing: true,
      ...(this.limits && { limits: this.limits }),
      ...(outside && { clock: watchedClock(outside), random: watchedRandom(outside) }),
    });
  }

  /**
   * The reply kept for `request` answered by `entry` on the state queries run on now,
   * if any (only GET and HEAD are kept). The router looks here before anything else,
   * since on one state the route a request takes is always the same.
   */
  async cached(entry: string, request: HttpRequest): Promise<HttpReply | undefined> {
    const cache = this.cache;
    if (!cache || (request.method !== 'GET' && request.method !== 'HEAD') || !cache.fits(request)) return undefined;
    const key = requestKey(entry, request);
    const state = this.chain.state;
    return state.run(() => {
      cache.observe(state.reader.get(STATUS_ROW_KEY));
      return cache.get(key);
    });
  }

  /**
   * `action`'s decoded reply, from the cache when `request` was answered by `entry` on
   * the same state before and its answer could be kept (query-cache.ts). Only GET and
   * HEAD are looked up; the state's identity is read in the same synchronous run as the
   * query itself, so an answer always belongs to the state the query saw. `holds`, run
   * on that state too, must agree for the answer to be kept (the router's route).
   */
  private async cachedReply<R extends HttpReply | null>(
    action: () => Action,
    request: HttpRequest,
    type: 'HttpReply' | 'OptionalReply',
    entry: string,
    holds?: (reader: KvReader) => boolean,
  ): Promise<ReplyResult<R>> {
    const cache = this.cache;
    const state = this.chain.state;
    if (!cache || (request.method !== 'GET' && request.method !== 'HEAD') || !cache.fits(request)) {
      const r = await this.run(action());
      if (r.error !== undefined) return { error: r.error };
      return { reply: decodeReply(type, r.retval) as R };
    }
    const key = requestKey(entry, request);
    return state.run(() => {
      const reader = state.reader;
      cache.observe(reader.get(STATUS_ROW_KEY));
      // The router looked (and counted the miss) already when it passes `holds`.
      const hit = cache.get(key, holds === undefined);
      if (hit) return { reply: hit as R };
      let outside = false;
      const tx = this.transaction(reader, () => (outside = true));
      try {
        const { trace, error } = tx.runAction(action());
        if (error) return { error: error.message };
        const reply = decodeReply(type, trace.rawRetval) as R;
        if (reply !== null && !outside && (holds?.(reader) ?? true)) cache.put(key, reply);
        return { reply };
      } finally {
        tx.close();
      }
    });
  }

  /** serve's reply alone (the router's path), answered from the cache where it may be (kept under `entry`). */
  async serveReply(request: HttpRequest, entry = 'serve', holds?: (reader: KvReader) => boolean): Promise<ReplyResult<HttpReply>> {
    const action = (): Action => ({ sender: X_HTTP, service: HTTP, method: SERVE, rawData: schema.type('ServeArgs').encode({ socket: QUERY_SOCKET, req: request }) });
    return this.cachedReply<HttpReply>(action, request, 'HttpReply', entry, holds);
  }

  /** serveSys's reply alone (the router's path), answered from the cache where it may be (kept under `entry`). */
  async serveSysReply(
    service: bigint,
    request: HttpRequest,
    sender = HTTP,
    entry = `serveSys ${service} ${sender}`,
    holds?: (reader: KvReader) => boolean,
  ): Promise<ReplyResult<HttpReply | null>> {
    const action = (): Action => ({
      sender,
      service,
      method: SERVE_SYS,
      rawData: schema.type('ServeSysArgs').encode({ request, socket: QUERY_SOCKET, user: null }),
    });
    return this.cachedReply<HttpReply | null>(action, request, 'OptionalReply', entry, holds);
  }

  /**
   * psibase's route for every HTTP request: `x-http` hands it to the http service's
   * `serve(socket, req)`, which picks the server (registered one, then sites,
   * common-api for `/common/…`, a redirect for the root host) and returns its reply.
   */
  async serve(request: HttpRequest): Promise<{ reply?: HttpReply; error?: string; trace: ActionTrace }> {
    const rawData = schema.type('ServeArgs').encode({ socket: QUERY_SOCKET, req: request });
    const r = await this.run({ sender: X_HTTP, service: HTTP, method: SERVE, rawData });
    if (r.error !== undefined) return { error: r.error, trace: r.trace };
    return { reply: decodeReply('HttpReply', r.retval) as HttpReply, trace: r.trace };
  }

  /**
   * A service's own `serveSys(request, socket, user)`, sent by `sender` (psibase's http
   * service sends it). No reply (null) means the service does not handle the request.
   */
  async serveSys(
    service: bigint,
    request: HttpRequest,
    sender = HTTP,
  ): Promise<{ reply?: HttpReply | null; error?: string; trace: ActionTrace }> {
    const rawData = schema.type('ServeSysArgs').encode({ request, socket: QUERY_SOCKET, user: null });
    const r = await this.run({ sender, service, method: SERVE_SYS, rawData });
    if (r.error !== undefined) return { error: r.error, trace: r.trace };
    return { reply: decodeReply('OptionalReply', r.retval) as HttpReply | null, trace: r.trace };
  }
}

/** The host's clock (as the VM's default), telling `seen` whenever it is read. */
function watchedClock(seen: () => void): Clock {
  return {
    realtimeNs: () => {
      seen();
      return BigInt(Date.now()) * 1_000_000n;
    },
    monotonicNs: () => {
      seen();
      return BigInt(Math.round(performance.now() * 1e6));
    },
  };
}

/** Random bytes (as the VM's default), telling `seen` whenever they are drawn. */
function watchedRandom(seen: () => void): (out: Uint8Array) => void {
  return (out) => {
    seen();
    for (let i = 0; i < out.length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(out.length, i + 65536)) as Uint8Array<ArrayBuffer>);
  };
}

/** A reply that does not decode is the service's fault, reported like an abort. */
function decodeReply(type: 'HttpReply' | 'OptionalReply', bytes: Uint8Array): unknown {
  try {
    return schema.type(type).decode(bytes);
  } catch (e) {
    throw new QueryReplyError(`service returned a malformed ${type === 'HttpReply' ? 'HttpReply' : 'optional<HttpReply>'}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

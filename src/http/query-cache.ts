/**
 * Answers of read-only HTTP queries, kept per (state, request) (issue 12: "read-only
 * query answers may be cached per (block, request) where the result cannot depend on
 * anything else").
 *
 * What a query's answer can depend on, and how each is part of the key:
 *  - The state it runs on. Queries run on the committed state (StateDb.reader: a sole
 *    producer's open block lives in an overlay of its own that queries never see), and
 *    every change of that state — a block committed, several at once, blocks taken back
 *    — writes the native status row, whose `head` names the block the state is at
 *    (BlockContext.finish puts the block's id there). The query reads that row from the
 *    very reader it runs on, in the same synchronous run, and when its bytes differ from
 *    the last ones seen the cache is emptied and its generation moves on: an answer is
 *    only ever served on the exact state it was computed on.
 *  - Everything the services see of the request: the whole HttpRequest the action packs
 *    (host, method, target, content type, the headers the router passes on, body),
 *    compared exactly (requestKey), and which entry point answers it (the http service's
 *    serve, or a service's serveSys and its sender).
 *  - The clock and randomness, which rpc-mode queries may read (clockTimeGet, getRandom):
 *    a run that read either is not kept (ServiceQuery watches both).
 *  - Everything else a query reads is fixed per ServiceQuery (root host, limits) or
 *    fresh per run (subjective and node-local databases start empty).
 *
 * Only successful (2xx) GET/HEAD answers without Set-Cookie are kept, each at most
 * `maxEntryBytes`, all together at most `maxBytes` (least recently used first out).
 */
import type { HttpReply, HttpRequest } from '../protocol/types.ts';
import { bytesEqual } from '../state/bytes.ts';

export interface QueryCacheOptions {
  /** All entries together, counted as key + body + header bytes + a fixed overhead each (default 4 MiB). */
  maxBytes?: number;
  /** One entry at most (default 256 KiB); larger answers are not kept. */
  maxEntryBytes?: number;
}

export interface QueryCacheStats {
  hits: number;
  misses: number;
  /** Answers kept. */
  stores: number;
  /** Entries dropped to stay within maxBytes. */
  evictions: number;
  /** Times the state changed (every entry dropped). */
  clears: number;
  entries: number;
  bytes: number;
  /** hits / (hits + misses), 0 before any lookup. */
  hitRate: number;
}

export const DEFAULT_QUERY_CACHE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_QUERY_CACHE_ENTRY_BYTES = 256 * 1024;
/** What an entry costs beyond its bytes (Map slot, objects, header strings' headers). */
const ENTRY_OVERHEAD = 256;

/**
 * An entry's key: how the request is answered (`entry`, e.g. the router's route for a
 * service) and every field of the HttpRequest the services get (the action's argument
 * packs exactly these), each length-prefixed so no two requests share a key; the body
 * as latin1 (byte n → code unit n).
 */
export function requestKey(entry: string, r: HttpRequest): string {
  let s = `${entry}\n${r.method.length}:${r.method}${r.host.length}:${r.host}${r.target.length}:${r.target}${r.contentType.length}:${r.contentType}${r.headers.length}\n`;
  for (const h of r.headers) s += `${h.name.length}:${h.name}${h.value.length}:${h.value}`;
  s += `${r.body.length}:`;
  for (let at = 0; at < r.body.length; at += 8192) {
    s += String.fromCharCode.apply(null, r.body.subarray(at, at + 8192) as unknown as number[]);
  }
  return s;
}

interface Entry {
  reply: HttpReply;
  bytes: number;
}

export class QueryCache {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private size = 0;
  /** The status row of the state the entries were computed on (undefined: an unbooted state, or none seen yet). */
  private state: Uint8Array | undefined;
  private seen = false;
  private generationNo = 0;
  private counts = { hits: 0, misses: 0, stores: 0, evictions: 0, clears: 0 };

  constructor(options: QueryCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_QUERY_CACHE_BYTES;
    this.maxEntryBytes = Math.min(options.maxEntryBytes ?? DEFAULT_QUERY_CACHE_ENTRY_BYTES, this.maxBytes);
  }

  /** Moves on whenever the state queries run on changes. */
  get generation(): number {
    return this.generationNo;
  }

  /**
   * The state a query is about to run on, as the bytes of its status row (read in the
   * same synchronous run): different bytes from the last ones empty the cache.
   */
  observe(statusRow: Uint8Array | undefined): void {
    if (this.seen && (statusRow === undefined ? this.state === undefined : this.state !== undefined && bytesEqual(this.state, statusRow))) return;
    // A copy: a store may hand out a buffer it reuses.
    this.state = statusRow?.slice();
    this.seen = true;
    this.generationNo++;
    if (this.entries.size > 0 || this.size > 0) this.counts.clears++;
    this.entries.clear();
    this.size = 0;
  }

  /** Whether a request this large (its body and headers) could be kept at all (no point building its key otherwise). */
  fits(r: HttpRequest): boolean {
    let n = r.body.length + r.target.length;
    for (const h of r.headers) n += h.name.length + h.value.length;
    return n + ENTRY_OVERHEAD <= this.maxEntryBytes;
  }

  /** The answer kept for `key`; `countMiss` false when this request's miss was counted already (a second look, in the run that computes it). */
  get(key: string, countMiss = true): HttpReply | undefined {
    const e = this.entries.get(key);
    if (!e) {
      if (countMiss) this.counts.misses++;
      return undefined;
    }
    this.counts.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.reply;
  }

  /** Keeps `reply` for `key` when it may be kept (see cacheable) and fits; returns whether it was kept. */
  put(key: string, reply: HttpReply): boolean {
    if (!cacheable(reply)) return false;
    // Key strings may hold two-byte characters (header values): counted as such.
    let bytes = 2 * key.length + reply.body.length + reply.contentType.length + ENTRY_OVERHEAD;
    for (const h of reply.headers) bytes += h.name.length + h.value.length + 32;
    if (bytes > this.maxEntryBytes) return false;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.size -= old.bytes;
    }
    // Answers are shared by every later hit: the body is kept as a copy nobody else holds.
    this.entries.set(key, { reply: { ...reply, body: reply.body.slice(), headers: reply.headers.map((h) => ({ ...h })) }, bytes });
    this.size += bytes;
    this.counts.stores++;
    for (const [k, e] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.entries.delete(k);
      this.size -= e.bytes;
      this.counts.evictions++;
    }
    return true;
  }

  get stats(): QueryCacheStats {
    const { hits, misses } = this.counts;
    return { ...this.counts, entries: this.entries.size, bytes: this.size, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) };
  }
}

/** A successful answer that sets no cookie (a cookie is meant for one client). */
export function cacheable(reply: HttpReply): boolean {
  if (!Number.isInteger(reply.status) || reply.status < 200 || reply.status > 299) return false;
  return !reply.headers.some((h) => h.name.toLowerCase() === 'set-cookie');
}

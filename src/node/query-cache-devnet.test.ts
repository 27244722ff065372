/**
 * The query cache (query-cache.ts): answers kept per (state, request), on the real
 * devnet services (tokens' `/balances/…` through the http service) and on WAT
 * stand-ins for the answers that must not be kept.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Chain, openTransaction } from '../chain/executor.ts';
import { bootDevnet, loadDevnet, type Devnet } from './devnet.ts';
import { signedTransfer } from './browser/tx.ts';
import { accountNumber } from '../protocol/names.ts';
import { taposRef } from '../protocol/tapos.ts';
import type { HttpReply, HttpRequest } from '../protocol/types.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { wat2wasm } from '../vm/test-kit.ts';
import { QueryCache, requestKey } from '../http/query-cache.ts';
import { QUERY_CACHE_PATH, Router } from '../http/router.ts';
import { constantService, packOptionalReply, textReply } from '../http/test-kit.ts';

const ROOT = 'psiweb.localhost';
const TOKENS = `tokens.${ROOT}`;
const GENESIS_TIME = 1_700_000_000_000_000n;
// A cold services/build compiles every service first.
const BUILD_TIMEOUT_MS = 300_000;

let devnet: Devnet;
let chain: Chain;
let tapos: { refBlockIndex: number; refBlockSuffix: number };
/** With the cache (the default) and without it, over the same chain. */
let cached: Router;
let plain: Router;

beforeAll(async () => {
  devnet = await loadDevnet();
  chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  const genesis = await bootDevnet(chain, devnet, GENESIS_TIME);
  tapos = taposRef(genesis.block.block.header.blockNum, genesis.id);
  cached = new Router({ rootHost: ROOT, chain });
  plain = new Router({ rootHost: ROOT, chain, queryCache: false });
}, BUILD_TIMEOUT_MS);

const get = (router: Router, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  router.handle(new Request(`http://${TOKENS}${path}`, { method, headers: { host: TOKENS, ...headers } }));

/** Alice's balance as both routers answer it (they must agree). */
async function balances(): Promise<{ cached: string; plain: string }> {
  const a = await get(cached, '/balances/alice');
  const b = await get(plain, '/balances/alice');
  expect(a.status).toBe(200);
  expect(b.status).toBe(200);
  return { cached: await a.text(), plain: await b.text() };
}

let memo = 0;
async function transfer(amount: string) {
  const bytes = await signedTransfer({ from: 'alice', to: 'bob', amount, memo: `cache ${memo++}`, tapos, expiration: GENESIS_TIME / 1_000_000n + 600n });
  return openTransaction(bytes);
}

const stats = () => cached.query.cache!.stats;

describe('query cache on a devnet', () => {
  it('serves the same request on the same state from the cache, with the uncached answer', async () => {
    const before = stats();
    const first = await get(cached, '/balances/alice');
    const second = await get(cached, '/balances/alice');
    expect(second.status).toBe(200);
    expect(await second.text()).toBe(await first.text());
    expect(await (await get(plain, '/balances/alice')).text()).toBe(await (await get(cached, '/balances/alice')).text());
    const after = stats();
    expect(after.hits - before.hits).toBeGreaterThanOrEqual(2);
    expect(after.stores - before.stores).toBeLessThanOrEqual(1);
    // Exposed on the node's own resource too.
    const res = await cached.handle(new Request(`http://${ROOT}${QUERY_CACHE_PATH}`, { headers: { host: ROOT } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { hits: number; hitRate: number };
    expect(body.hits).toBe(after.hits);
    expect(body.hitRate).toBeGreaterThan(0);
  });

  it('misses for a different target, header or body, and hits when only a header services never see differs', async () => {
    await get(cached, '/balances/alice');
    const misses = () => stats().misses;
    let m = misses();
    const bob = await get(cached, '/balances/bob');
    expect(bob.status).toBe(200);
    expect(await bob.text()).toContain('"account":"bob"');
    expect(misses()).toBe(++m);
    await get(cached, '/balances/alice', { 'x-extra': '1' });
    expect(misses()).toBe(++m);
    await get(cached, '/balances/alice', { 'x-extra': '2' });
    expect(misses()).toBe(++m);
    await get(cached, '/balances/alice', { 'x-extra': '2' });
    expect(misses()).toBe(m);
    await get(cached, '/balances/alice?x=1');
    expect(misses()).toBe(++m);
    // HEAD is its own request.
    await get(cached, '/balances/alice', {}, 'HEAD');
    expect(misses()).toBe(++m);
    // proxy-authorization is filtered out before the services see the request: the same key.
    const hits = stats().hits;
    await get(cached, '/balances/alice', { 'proxy-authorization': 'Basic eDp5' });
    expect(stats().hits).toBe(hits + 1);
    // A body (fetch's GET cannot carry one; the HttpRequest can).
    const request = { host: TOKENS, method: 'GET', target: '/balances/alice', contentType: '', headers: [{ name: 'host', value: TOKENS }], body: new Uint8Array(0) };
    await cached.query.serveReply(request);
    m = misses();
    await cached.query.serveReply({ ...request, body: new Uint8Array([1]) });
    expect(misses()).toBe(++m);
    await cached.query.serveReply({ ...request, body: new Uint8Array([2]) });
    expect(misses()).toBe(++m);
    await cached.query.serveReply({ ...request, body: new Uint8Array([2]) });
    expect(misses()).toBe(m);
  });

  it('keeps an answer only when the run computing it saw the route it is kept under', async () => {
    const request = { host: TOKENS, method: 'GET', target: '/balances/alice', contentType: '', headers: [{ name: 'host', value: TOKENS }], body: new Uint8Array(0) };
    const stores = stats().stores;
    for (let i = 0; i < 2; i++) expect((await cached.query.serveReply(request, 'route elsewhere', () => false)).reply?.status).toBe(200);
    expect(stats().stores).toBe(stores);
    expect(await cached.query.cached('route elsewhere', request)).toBeUndefined();
    await cached.query.serveReply(request, 'route here', () => true);
    expect(stats().stores).toBe(stores + 1);
    expect((await cached.query.cached('route here', request))?.status).toBe(200);
  });

  it('answers on the state it runs on: a push in the open block changes nothing queries see, its commit does', async () => {
    const start = await balances();
    expect(start.cached).toBe(start.plain);
    // Twice, so the answer is in the cache.
    expect((await balances()).cached).toBe(start.cached);
    const generation = cached.query.cache!.generation;

    // The lone producer's open block: its writes are its own overlay's until it commits.
    const builder = await chain.startBlock({ producer: devnet.producer, prover: devnet.prover });
    try {
      const trace = await builder.push(await transfer('7'));
      expect(trace.error).toBeNull();
      const open = await balances();
      expect(open.plain).toBe(start.plain);
      expect(open.cached).toBe(open.plain);
    } finally {
      await builder.finish();
    }
    const committed = await balances();
    expect(committed.plain).not.toBe(start.plain);
    expect(committed.cached).toBe(committed.plain);
    expect(cached.query.cache!.generation).toBeGreaterThan(generation);

    // A block that moves no balance still changes the state (status row): the cache starts again.
    const g = cached.query.cache!.generation;
    await chain.produceBlock({ producer: devnet.producer, prover: devnet.prover });
    expect((await balances()).cached).toBe(committed.plain);
    expect(cached.query.cache!.generation).toBe(g + 1);
    expect(stats().entries).toBe(1);

    // And a block that does.
    await chain.produceBlock({ producer: devnet.producer, prover: devnet.prover, transactions: [await transfer('5')] });
    const again = await balances();
    expect(again.plain).not.toBe(committed.plain);
    expect(again.cached).toBe(again.plain);
  });
});

/** A service that reads `import` (clockTimeGet or getRandom) before returning `retval`. */
function readingService(importName: 'clockTimeGet' | 'getRandom', retval: Uint8Array): Promise<Uint8Array> {
  const bytes = Array.from(retval, (x) => `\\${x.toString(16).padStart(2, '0')}`).join('');
  const sig = importName === 'clockTimeGet' ? '(param i32 i32) (result i32)' : '(param i32 i32)';
  const call = importName === 'clockTimeGet' ? '(drop (call $read (i32.const 0) (i32.const 4096)))' : '(call $read (i32.const 4096) (i32.const 8))';
  return wat2wasm(`
(module
  (import "env" "setRetval" (func $setRetval (param i32 i32)))
  (import "env" "${importName}" (func $read ${sig}))
  (memory (export "memory") 1)
  (data (i32.const 16) "${bytes}")
  (func (export "start") (param i64))
  (func (export "called") (param i64 i64) ${call} (call $setRetval (i32.const 16) (i32.const ${retval.length}))))
`);
}

describe('query cache: what is not kept', () => {
  let router: Router;
  beforeAll(async () => {
    const ok = packOptionalReply(textReply(200, 'ok'));
    const services: Record<string, Uint8Array> = {
      ok: await constantService({ retval: ok }),
      broken: await constantService({ abort: 'broken on purpose' }),
      missing: await constantService({ retval: packOptionalReply(textReply(404, 'no such thing')) }),
      nothing: await constantService({ retval: packOptionalReply(null) }),
      cookie: await constantService({ retval: packOptionalReply(textReply(200, 'hi', [{ name: 'Set-Cookie', value: 'session=1' }])) }),
      clock: await readingService('clockTimeGet', ok),
      random: await readingService('getRandom', ok),
    };
    const bare = await Chain.open({ state: new StateDb(new MemoryStore()) });
    await bare.boot({
      services: Object.entries(services).map(([name, code]) => ({ service: accountNumber(name), flags: 0n, vmType: 0, vmVersion: 0, code })),
      producer: accountNumber('prod'),
    });
    router = new Router({ rootHost: ROOT, chain: bare });
  });

  const ask = (service: string, init: RequestInit = {}) =>
    router.handle(new Request(`http://${service}.${ROOT}/x`, { ...init, headers: { host: `${service}.${ROOT}` } }));

  it('keeps a plain success (the control case)', async () => {
    const before = router.query.cache!.stats;
    expect((await ask('ok')).status).toBe(200);
    expect((await ask('ok')).status).toBe(200);
    const after = router.query.cache!.stats;
    expect(after.stores - before.stores).toBe(1);
    expect(after.hits - before.hits).toBe(1);
  });

  it('keeps no error, non-2xx, null, Set-Cookie, POST, clock- or randomness-dependent answer', async () => {
    const cases: [string, number, RequestInit?][] = [
      ['broken', 500],
      ['missing', 404],
      ['nothing', 404],
      ['cookie', 200],
      ['clock', 200],
      ['random', 200],
      ['ok', 200, { method: 'POST', body: 'x' }],
    ];
    for (const [service, status, init] of cases) {
      const before = router.query.cache!.stats;
      for (let i = 0; i < 2; i++) expect((await ask(service, init)).status, service).toBe(status);
      const after = router.query.cache!.stats;
      expect(after.stores - before.stores, service).toBe(0);
      expect(after.hits - before.hits, service).toBe(0);
    }
  });
});

describe('QueryCache bounds', () => {
  const reply = (size: number): HttpReply => ({ status: 200, contentType: 'text/plain', headers: [], body: new Uint8Array(size) });
  const request = (body: Uint8Array, headers: HttpRequest['headers'] = []): HttpRequest => ({ host: 'h', method: 'GET', target: '/', contentType: '', headers, body });
  const key = (i: number) => requestKey('e', request(new Uint8Array([i & 255, i >> 8])));

  it('stays within maxBytes, dropping the least recently used first', () => {
    const cache = new QueryCache({ maxBytes: 10_000, maxEntryBytes: 2_000 });
    cache.observe(new Uint8Array([1]));
    for (let i = 0; i < 100; i++) {
      expect(cache.put(key(i), reply(700))).toBe(true);
      expect(cache.stats.bytes).toBeLessThanOrEqual(10_000);
      // Entry 0 is used after every put, so it stays.
      expect(cache.get(key(0))).toBeDefined();
    }
    const s = cache.stats;
    expect(s.entries).toBeGreaterThan(5);
    expect(s.evictions).toBe(100 - s.entries);
    expect(cache.get(key(1))).toBeUndefined();
    expect(cache.get(key(99))).toBeDefined();
  });

  it('keeps no entry larger than maxEntryBytes, and no key that could not fit', () => {
    const cache = new QueryCache({ maxBytes: 10_000, maxEntryBytes: 2_000 });
    expect(cache.put(key(1), reply(1_900))).toBe(false);
    expect(cache.get(key(1))).toBeUndefined();
    expect(cache.stats.bytes).toBe(0);
    expect(cache.fits(request(new Uint8Array(1_000)))).toBe(true);
    expect(cache.fits(request(new Uint8Array(1_900)))).toBe(false);
    expect(cache.fits(request(new Uint8Array(0), [{ name: 'x', value: 'y'.repeat(1_900) }]))).toBe(false);
  });

  it('empties on a different state, and only then', () => {
    const cache = new QueryCache();
    cache.observe(new Uint8Array([1, 2]));
    cache.put(key(1), reply(10));
    cache.observe(new Uint8Array([1, 2]));
    expect(cache.get(key(1))).toBeDefined();
    cache.observe(new Uint8Array([1, 3]));
    expect(cache.get(key(1))).toBeUndefined();
    expect(cache.stats).toMatchObject({ entries: 0, bytes: 0, clears: 1 });
    cache.put(key(1), reply(10));
    cache.observe(undefined);
    expect(cache.get(key(1))).toBeUndefined();
  });

  it('gives different requests different keys', () => {
    const base = request(new Uint8Array([1]), [{ name: 'a', value: 'b' }]);
    const variants: HttpRequest[] = [
      { ...base, method: 'HEAD' },
      { ...base, host: 'g' },
      { ...base, target: '/x' },
      { ...base, contentType: 'text/plain' },
      { ...base, headers: [{ name: 'a', value: 'c' }] },
      { ...base, headers: [{ name: 'ab', value: '' }] },
      { ...base, headers: [] },
      { ...base, body: new Uint8Array([2]) },
      { ...base, body: new Uint8Array([1, 0]) },
    ];
    const keys = new Set([requestKey('e', base), requestKey('f', base), ...variants.map((v) => requestKey('e', v))]);
    expect(keys.size).toBe(variants.length + 2);
    expect(requestKey('e', { ...base })).toBe(requestKey('e', base));
  });

  it('hands out a copy of the body, not the caller’s bytes', () => {
    const cache = new QueryCache();
    cache.observe(undefined);
    const r = reply(4);
    cache.put(key(1), r);
    r.body[0] = 9;
    expect(cache.get(key(1))!.body[0]).toBe(0);
  });
});

/**
 * How long the supervisor trusts a cached plugin without the network (supervisor.ts,
 * FRESH_MS), in Node with the AssemblyScript tinyplugin. Each `Supervisor` below is a
 * page load sharing one transpile cache:
 *  - a load within FRESH_MS of the server's last confirmation answers before the fetch
 *    does, and the fetch then renews the confirmation;
 *  - a plugin changed on the server is used stale by such a load only: its background
 *    fetch sees the new bytes, forgets the confirmation and drops the plugin from the
 *    page, so the page's next call and the next page load both fetch and transpile the
 *    new bytes; and once FRESH_MS has passed since the last confirmation, a load waits
 *    for the network whatever the cache holds;
 *  - a cached entry that fails to compile is dropped and the plugin is loaded from the
 *    fetched bytes (transpiled again), in the fresh path and in the plain one.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryTranspileCache } from './cache.ts';
import type { TranspiledComponent } from './component.ts';
import { PluginLoadError } from './errors.ts';
import { FRESH_MS, Supervisor } from './supervisor.ts';
import { memoryStore } from './testing/memory-store.ts';
import { env, importData, TINY_URL, tinyPlugins } from './testing/tiny-plugin.ts';

const URL_ = TINY_URL;

let tiny: Uint8Array;
let tiny2: Uint8Array;
beforeAll(async () => {
  ({ tiny, tiny2 } = await tinyPlugins());
}, 120_000);

/** A server whose answers the test releases one by one (or at once when `auto`). */
class Server {
  bytes: Uint8Array | undefined;
  auto = true;
  asked = 0;
  private held: (() => void)[] = [];
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  fetch = (url: string): Promise<Uint8Array | undefined> => {
    expect(url).toBe(URL_);
    this.asked++;
    if (this.auto) return Promise.resolve(this.bytes);
    return new Promise((resolve) => this.held.push(() => resolve(this.bytes)));
  };
  /** Answers the requests held so far, once there is one. */
  async release(): Promise<void> {
    await vi.waitFor(() => expect(this.held.length).toBeGreaterThan(0));
    for (const r of this.held.splice(0)) r();
  }
}

function page(server: Server, cache: MemoryTranspileCache, now: number): Supervisor {
  return new Supervisor({ ...env, cache, fetchPlugin: server.fetch, importModule: importData, clientdata: memoryStore(), now: () => now, freshMs: FRESH_MS });
}

const greet = (s: Supervisor, name = 'x') => s.call('someapp', { service: 'tinyplugin', plugin: 'plugin', intf: 'api', method: 'greet', params: [name] });
const settle = () => new Promise((r) => setTimeout(r, 20));

/** True when `p` has settled by the next macrotask turns. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done;
}

describe('fresh loads', () => {
  it('answer within FRESH_MS of the last confirmation without waiting for the network, which then renews it', async () => {
    const cache = new MemoryTranspileCache();
    const server = new Server(tiny);
    const first = page(server, cache, 1_000_000);
    expect(await greet(first)).toBe('Hello, x, from the tiny plugin');
    await settle();
    expect(first.stats).toMatchObject({ transpiles: 1, freshLoads: 0 });
    expect((await cache.lastSeen(URL_))?.checkedAt).toBe(1_000_000);

    server.auto = false;
    const later = page(server, cache, 1_000_000 + FRESH_MS - 1);
    // The fetch is held: the call still answers.
    expect(await greet(later)).toBe('Hello, x, from the tiny plugin');
    expect(later.stats).toMatchObject({ transpiles: 0, freshLoads: 1, cacheHits: 1, revalidations: [] });
    expect(later.stats.loads[0]).toMatchObject({ fresh: true, cached: true, bytes: 0 });
    // The revalidation is asked for once the call has run.
    await vi.waitFor(() => expect(server.asked).toBe(2));
    await server.release();
    await vi.waitFor(() => expect(later.stats.revalidations).toEqual([{ plugin: 'tinyplugin:plugin', changed: false }]));
    expect((await cache.lastSeen(URL_))?.checkedAt).toBe(1_000_000 + FRESH_MS - 1);
  }, 60_000);

  it('use a plugin changed on the server at most until their own fetch returns: the page and the next load then take the new bytes', async () => {
    const cache = new MemoryTranspileCache();
    const server = new Server(tiny);
    await greet(page(server, cache, 1_000_000));
    await settle();
    const oldHash = (await cache.lastSeen(URL_))!.hash;

    // The service replaces its plugin.
    server.bytes = tiny2;
    server.auto = false;
    const stale = page(server, cache, 1_000_000 + 1000);
    expect(await greet(stale)).toBe('Hello, x, from the tiny plugin');
    expect(stale.stats).toMatchObject({ transpiles: 0, freshLoads: 1 });
    await server.release();
    await vi.waitFor(() => expect(stale.stats.revalidations).toEqual([{ plugin: 'tinyplugin:plugin', changed: true }]));
    expect(await cache.lastSeen(URL_)).toBeUndefined();

    // The same page's next call loads the plugin again, from the network.
    server.auto = true;
    expect(await greet(stale, 'y')).toBe('Hello, y, from the tiny plugin');
    expect(stale.stats).toMatchObject({ transpiles: 1, freshLoads: 1 });
    expect(server.asked).toBe(3);
    await settle();
    const newHash = (await cache.lastSeen(URL_))!.hash;
    expect(newHash).not.toBe(oldHash);

    // A new page soon after uses the new bytes (fresh again, confirmed by that load).
    const next = page(server, cache, 1_000_000 + 2000);
    await greet(next);
    expect(next.stats.loads[0]).toMatchObject({ fresh: true });
    expect(next.stats.transpiles).toBe(0);
    await settle();
    expect((await cache.lastSeen(URL_))!.hash).toBe(newHash);
  }, 60_000);

  it('stop FRESH_MS after the last confirmation: the load waits for the network and uses what it serves', async () => {
    const cache = new MemoryTranspileCache();
    const server = new Server(tiny);
    await greet(page(server, cache, 1_000_000));
    await settle();
    server.bytes = tiny2;
    server.auto = false;
    const expired = page(server, cache, 1_000_000 + FRESH_MS);
    const call = greet(expired);
    expect(await settled(call)).toBe(false);
    await server.release();
    expect(await call).toBe('Hello, x, from the tiny plugin');
    expect(expired.stats).toMatchObject({ transpiles: 1, freshLoads: 0 });
    expect(expired.stats.loads[0]).toMatchObject({ fresh: false, cached: false, bytes: tiny2.length });

    // A clock set back before the confirmation does not make it fresh either.
    const cache2 = new MemoryTranspileCache();
    await greet(page(new Server(tiny), cache2, 1_000_000));
    await settle();
    const held = new Server(tiny);
    held.auto = false;
    const past = page(held, cache2, 999_000);
    const call2 = greet(past);
    expect(await settled(call2)).toBe(false);
    await held.release();
    await call2;
    expect(past.stats.freshLoads).toBe(0);
  }, 60_000);

  it('stop when the plugin is gone from the server: the next load fails as a missing plugin', async () => {
    const cache = new MemoryTranspileCache();
    const server = new Server(tiny);
    await greet(page(server, cache, 1_000_000));
    await settle();
    server.bytes = undefined;
    const s = page(server, cache, 1_000_000 + 1000);
    await greet(s);
    await vi.waitFor(() => expect(s.stats.revalidations).toEqual([{ plugin: 'tinyplugin:plugin', changed: true }]));
    const e = await greet(s).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PluginLoadError);
    expect((e as Error).message).toBe('Plugin download failed.');
  }, 60_000);

  it('are never made with freshMs 0', async () => {
    const cache = new MemoryTranspileCache();
    const server = new Server(tiny);
    await greet(page(server, cache, 1_000_000));
    await settle();
    const s = new Supervisor({ ...env, cache, fetchPlugin: server.fetch, importModule: importData, clientdata: memoryStore(), now: () => 1_000_001, freshMs: 0 });
    await greet(s);
    expect(s.stats).toMatchObject({ freshLoads: 0, cacheHits: 1, transpiles: 0 });
  }, 60_000);
});

describe('a damaged cache entry', () => {
  /** The entry with its largest core module replaced by bytes that are not wasm. */
  async function damage(cache: MemoryTranspileCache, hash: string): Promise<void> {
    const t = (await cache.get(hash))!;
    const cores = t.cores.map(([n, c], i): [string, Uint8Array] => [n, i === 0 ? new Uint8Array([1, 2, 3, 4]) : (c as Uint8Array)]);
    await cache.put({ ...t, cores } satisfies TranspiledComponent);
  }

  it('is refused on a fresh load, dropped, and the plugin transpiled again from the network', async () => {
    const cache = new MemoryTranspileCache();
    const server = new Server(tiny);
    await greet(page(server, cache, 1_000_000));
    await settle();
    const hash = (await cache.lastSeen(URL_))!.hash;
    await damage(cache, hash);
    const s = page(server, cache, 1_000_000 + 1000);
    expect(await greet(s)).toBe('Hello, x, from the tiny plugin');
    expect(s.stats).toMatchObject({ refusedEntries: 1, freshLoads: 0, transpiles: 1 });
    expect(server.asked).toBe(2);
    // The new entry replaced the damaged one.
    await settle();
    expect(await greet(page(server, cache, 1_000_000 + 2000))).toBe('Hello, x, from the tiny plugin');
  }, 60_000);

  it('is refused on a plain load too (the URL not seen before, the hash cached)', async () => {
    const cache = new MemoryTranspileCache();
    const server = new Server(tiny);
    await greet(page(server, cache, 1_000_000));
    await settle();
    const hash = (await cache.lastSeen(URL_))!.hash;
    await cache.forget(URL_);
    await damage(cache, hash);
    const s = page(server, cache, 1_000_000 + 1000);
    expect(await greet(s)).toBe('Hello, x, from the tiny plugin');
    expect(s.stats).toMatchObject({ refusedEntries: 1, transpiles: 1, freshLoads: 0 });
  }, 60_000);
});

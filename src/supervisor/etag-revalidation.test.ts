/**
 * A warm load asks the server whether the bytes it cached are still the plugin (the
 * ETag they came with): when they are, nothing is read or hashed and the cached entry
 * is used; other bytes are loaded (transpiled) as on a cold load; and an "unchanged"
 * whose entry is gone fetches the bytes again. Each `Supervisor` is a page load sharing
 * one transpile cache (freshMs 0, as the shipped supervisor runs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryTranspileCache, toUrlRecord } from './cache.ts';
import type { PluginDownload } from './plugin-fetch.ts';
import { Supervisor } from './supervisor.ts';
import { memoryStore } from './testing/memory-store.ts';
import { env, importData, TINY_URL, tinyPlugins } from './testing/tiny-plugin.ts';

const URL_ = TINY_URL;

let tiny: Uint8Array;
let tiny2: Uint8Array;
beforeAll(async () => {
  ({ tiny, tiny2 } = await tinyPlugins());
}, 120_000);

/** A server with an ETag per version of the plugin, which says "unchanged" when asked with the current one. */
class EtagServer {
  bytes: Uint8Array;
  etag: string;
  /** The ETag each request was asked with. */
  asked: (string | undefined)[] = [];
  bodies = 0;
  constructor(bytes: Uint8Array, etag: string) {
    this.bytes = bytes;
    this.etag = etag;
  }
  fetch = async (url: string, knownEtag?: string): Promise<PluginDownload> => {
    expect(url).toBe(URL_);
    this.asked.push(knownEtag);
    if (knownEtag === this.etag) return { unchanged: true, etag: this.etag };
    this.bodies++;
    return { bytes: this.bytes, etag: this.etag };
  };
}

const page = (server: EtagServer, cache: MemoryTranspileCache) =>
  new Supervisor({ ...env, cache, fetchPlugin: server.fetch, importModule: importData, clientdata: memoryStore() });
const greet = (s: Supervisor, name = 'x') => s.call('someapp', { service: 'tinyplugin', plugin: 'plugin', intf: 'api', method: 'greet', params: [name] });

describe('warm loads revalidate by ETag', () => {
  it('use the cached entry without reading the body when the server confirms the ETag', async () => {
    const cache = new MemoryTranspileCache();
    const server = new EtagServer(tiny, 'v1');
    const first = page(server, cache);
    expect(await greet(first)).toBe('Hello, x, from the tiny plugin');
    expect(first.stats.transpiles).toBe(1);
    await expect.poll(() => cache.lastSeen(URL_)).toMatchObject({ etag: 'v1' });

    const second = page(server, cache);
    expect(await greet(second, 'y')).toBe('Hello, y, from the tiny plugin');
    expect(server.asked).toEqual([undefined, 'v1']);
    expect(server.bodies).toBe(1);
    expect(second.stats.transpiles).toBe(0);
    expect(second.stats.loads[0]).toMatchObject({ cached: true, bytes: 0, hashMs: 0 });
  });

  it('load new bytes (transpiled) when the plugin was replaced, and remember their ETag', async () => {
    const cache = new MemoryTranspileCache();
    const server = new EtagServer(tiny, 'v1');
    await greet(page(server, cache));
    await expect.poll(() => cache.lastSeen(URL_)).toMatchObject({ etag: 'v1' });
    server.bytes = tiny2;
    server.etag = 'v2';
    const after = page(server, cache);
    expect(await greet(after)).toBe('Hello, x, from the tiny plugin');
    expect(after.stats.transpiles).toBe(1);
    expect(server.asked).toEqual([undefined, 'v1']);
    await expect.poll(() => cache.lastSeen(URL_)).toMatchObject({ etag: 'v2' });
    const third = page(server, cache);
    await greet(third);
    expect(third.stats.transpiles).toBe(0);
    expect(server.bodies).toBe(2);
  });

  it('fetch the bytes again when the server confirms an ETag whose entry is gone', async () => {
    const cache = new MemoryTranspileCache();
    const server = new EtagServer(tiny, 'v1');
    await greet(page(server, cache));
    await expect.poll(() => cache.lastSeen(URL_)).toMatchObject({ etag: 'v1' });
    await cache.delete((await cache.lastSeen(URL_))!.hash);
    const after = page(server, cache);
    expect(await greet(after)).toBe('Hello, x, from the tiny plugin');
    expect(server.asked).toEqual([undefined, 'v1', undefined]);
    expect(after.stats.transpiles).toBe(1);
  });

  it('refuse an "unchanged" for an ETag the load did not ask about', async () => {
    const cache = new MemoryTranspileCache();
    const liar = async (): Promise<PluginDownload> => ({ unchanged: true, etag: 'v9' });
    const s = new Supervisor({ ...env, cache, fetchPlugin: liar, importModule: importData, clientdata: memoryStore() });
    await expect(greet(s)).rejects.toThrow(/unchanged/);
  });
});

describe('URL records', () => {
  it('keep a well-formed ETag and drop a malformed one', () => {
    expect(toUrlRecord('abc 5 "e1"')).toEqual({ hash: 'abc', checkedAt: 5, etag: '"e1"' });
    expect(toUrlRecord({ hash: 'abc', checkedAt: 5, etag: 'has space' })).toEqual({ hash: 'abc', checkedAt: 5 });
    expect(toUrlRecord({ hash: 'abc', checkedAt: 5, etag: 'x'.repeat(300) })).toEqual({ hash: 'abc', checkedAt: 5 });
  });
});

/**
 * The transpile cache (cache.ts) on fake-indexeddb: an entry goes in as jco gives it
 * (JS text, core module bytes) and comes back as Blobs with the same content, which
 * compile (a large core through streaming compilation) and import; the last hash of a
 * URL is remembered; a database of the old layout (version 2) is upgraded, its entries
 * of the old shape dropped and the URLs kept.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { IdbTranspileCache, toUrlRecord } from './cache.ts';
import { compileCores, type TranspiledComponent } from './component.ts';
import { coreModule } from './testing/core-module.ts';

const small = coreModule(100);
const large = coreModule(100_000);
const fresh = (hash: string): TranspiledComponent => ({
  hash,
  js: 'export function instantiate() { return {}; }',
  cores: [
    ['plugin.core.wasm', small],
    ['plugin.core2.wasm', large],
  ],
  imports: ['host:common/client'],
  exports: [['api', 'instance']],
});

async function bytesOf(core: Uint8Array | Blob): Promise<Uint8Array> {
  return core instanceof Blob ? new Uint8Array(await core.arrayBuffer()) : core;
}

describe('IdbTranspileCache', () => {
  it('gives an entry back as Blobs with the bytes and text it was given, which compile', async () => {
    const cache = new IdbTranspileCache();
    await cache.put(fresh('aa11'));
    const got = await new IdbTranspileCache().get('aa11');
    expect(got).toBeDefined();
    expect(got!.js).toBeInstanceOf(Blob);
    const js = await (got!.js as Blob).text();
    expect(js.startsWith('export function instantiate() { return {}; }\n//# sourceURL=plugin-aa11.js')).toBe(true);
    expect(got!.cores.map(([n]) => n)).toEqual(['plugin.core.wasm', 'plugin.core2.wasm']);
    expect(got!.cores.every(([, c]) => c instanceof Blob)).toBe(true);
    expect(await bytesOf(got!.cores[0]![1])).toEqual(small);
    expect(await bytesOf(got!.cores[1]![1])).toEqual(large);
    expect(got!.imports).toEqual(['host:common/client']);
    expect(got!.exports).toEqual([['api', 'instance']]);
    const modules = await compileCores(got!);
    expect([...modules.keys()].sort()).toEqual(['plugin.core.wasm', 'plugin.core2.wasm']);
    expect(WebAssembly.Module.customSections(modules.get('plugin.core2.wasm')!, 'pad')[0]!.byteLength).toBe(100_000);
    expect(await cache.get('nosuchhash')).toBeUndefined();
  });

  it('remembers the hash a URL served last and when it was confirmed, and forgets it', async () => {
    const cache = new IdbTranspileCache();
    const url = 'http://x.psiweb.localhost/plugin.wasm';
    expect(await cache.lastSeen(url)).toBeUndefined();
    await cache.setLastSeen(url, { hash: 'bb22', checkedAt: 1234 });
    expect(await new IdbTranspileCache().lastSeen(url)).toEqual({ hash: 'bb22', checkedAt: 1234 });
    await cache.forget(url);
    expect(await new IdbTranspileCache().lastSeen(url)).toBeUndefined();
  });

  it('reads a bare hash (older pages) as never confirmed, and nonsense as nothing', () => {
    expect(toUrlRecord('bb22')).toEqual({ hash: 'bb22', checkedAt: 0 });
    expect(toUrlRecord('bb22 1234')).toEqual({ hash: 'bb22', checkedAt: 1234 });
    expect(toUrlRecord('bb22 -5')).toEqual({ hash: 'bb22', checkedAt: 0 });
    expect(toUrlRecord('bb22 soon')).toEqual({ hash: 'bb22', checkedAt: 0 });
    expect(toUrlRecord({ hash: 'bb22', checkedAt: 'x' })).toEqual({ hash: 'bb22', checkedAt: 0 });
    expect(toUrlRecord('')).toBeUndefined();
    expect(toUrlRecord(null)).toBeUndefined();
    expect(toUrlRecord({ checkedAt: 5 })).toBeUndefined();
  });

  it('refuses and drops a malformed entry, and deletes one on request', async () => {
    const cache = new IdbTranspileCache();
    await cache.put(fresh('dd44'));
    const db = await openDB('psiweb-supervisor', 3);
    // A core index pointing past the end of the stored modules.
    const stored = await db.get('components', 'dd44');
    await db.put('components', { ...stored, coreIndex: [['plugin.core.wasm', 0, stored.cores.size + 1]] });
    expect(await cache.get('dd44')).toBeUndefined();
    expect(await db.get('components', 'dd44')).toBeUndefined();
    // No JS Blob.
    await db.put('components', { ...stored, js: 'text' });
    expect(await cache.get('dd44')).toBeUndefined();
    await cache.put(fresh('dd44'));
    expect(await cache.get('dd44')).toBeDefined();
    await cache.delete('dd44');
    expect(await cache.get('dd44')).toBeUndefined();
    db.close();
  });

  it('upgrades the version 2 layout: old entries dropped, URLs kept', async () => {
    // A browser that never opened the version 3 layout (the other tests' connections stay open).
    globalThis.indexedDB = new IDBFactory();
    const old = await openDB('psiweb-supervisor', 2, {
      upgrade(db) {
        db.createObjectStore('transpiled', { keyPath: 'hash' });
        db.createObjectStore('urls');
      },
    });
    await old.put('transpiled', { hash: 'cc33', js: 'old', cores: [['plugin.core.wasm', small]], imports: [], exports: [] });
    await old.put('urls', 'cc33', 'http://y.psiweb.localhost/plugin.wasm');
    old.close();
    const cache = new IdbTranspileCache();
    expect(await cache.get('cc33')).toBeUndefined();
    expect(await cache.lastSeen('http://y.psiweb.localhost/plugin.wasm')).toEqual({ hash: 'cc33', checkedAt: 0 });
    await cache.put(fresh('cc33'));
    expect(await bytesOf((await cache.get('cc33'))!.cores[1]![1])).toEqual(large);
  });
});

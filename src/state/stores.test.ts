import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDB } from 'idb';
import { IDB_STORE_FORMAT, IdbStore } from './idb-store.ts';
import { LmdbStore } from './lmdb-store.ts';
import { MemoryStore } from './memory-store.ts';
import { commitOf, storeCases } from './testing/store-suite.ts';
import { b } from './testing/reference.ts';
import type { KvStore } from './store.ts';
import { StateError, StoreFormatError } from '../errors.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

let dbCounter = 0;
const openers: Record<string, () => Promise<KvStore>> = {
  memory: async () => new MemoryStore(),
  'idb (fake-indexeddb)': async () => {
    const s = await IdbStore.open(`psiweb-test-${dbCounter++}`);
    cleanups.push(() => s.close());
    return s;
  },
  lmdb: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-lmdb-'));
    const s = LmdbStore.open(dir);
    cleanups.push(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return s;
  },
};

for (const [name, openStore] of Object.entries(openers)) {
  describe(`KvStore: ${name}`, () => {
    for (const c of storeCases) it(c.name, async () => c.run(await openStore()));

    it('refuses use after close with a StateError', async () => {
      const s = await openStore();
      await s.close();
      await expect(s.get(b(1))).rejects.toThrow(StateError);
      await expect(s.commitBlock(commitOf(1, []))).rejects.toThrow(StateError);
    });
  });
}

describe('persistence across reopen', () => {
  it('lmdb keeps state, blocks and head', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-lmdb-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const s1 = LmdbStore.open(dir);
    await s1.commitBlock(commitOf(5, [[b(), b(1)], [b(0xff), b(2)]]));
    await s1.close();
    const s2 = LmdbStore.open(dir);
    expect((await s2.head())?.num).toBe(5);
    expect(await s2.getRange(b(), undefined)).toEqual([
      { key: b(), value: b(1) },
      { key: b(0xff), value: b(2) },
    ]);
    expect(s2.syncReader.max(b())).toEqual({ key: b(0xff), value: b(2) });
    await s2.close();
  });

  it('idb keeps state, blocks and head', async () => {
    const s1 = await IdbStore.open('psiweb-reopen');
    await s1.commitBlock(commitOf(5, [[b(), b(1)], [b(0xff), b(2)]]));
    await s1.close();
    const s2 = await IdbStore.open('psiweb-reopen');
    cleanups.push(() => s2.close());
    expect((await s2.head())?.num).toBe(5);
    expect((await s2.block(5))?.bytes).toEqual(b(5, 1, 2, 3));
    expect(await s2.getRange(b(), undefined)).toEqual([
      { key: b(), value: b(1) },
      { key: b(0xff), value: b(2) },
    ]);
  });
});

describe('IndexedDB store format', () => {
  it('a new database is stamped with the current format; an unstamped (format 0) one is stamped on open', async () => {
    const s = await IdbStore.open('psiweb-format-new');
    expect(await s.format()).toBe(IDB_STORE_FORMAT);
    await s.close();
    // Format 0: the same object stores without the record.
    const raw = await openDB('psiweb-format-0', 1, {
      upgrade(db) {
        for (const n of ['state', 'blocks', 'meta']) db.createObjectStore(n);
      },
    });
    await raw.put('meta', { num: 7, id: new Uint8Array(32) }, 'head');
    raw.close();
    const old = await IdbStore.open('psiweb-format-0');
    expect(await old.format()).toBe(IDB_STORE_FORMAT);
    expect((await old.head())?.num).toBe(7);
    await old.close();
  });

  it('a database from a newer psiweb (record format or schema) is refused, not misread', async () => {
    const s = await IdbStore.open('psiweb-format-newer');
    await s.close();
    const raw = await openDB('psiweb-format-newer', 1);
    await raw.put('meta', IDB_STORE_FORMAT + 1, 'format');
    raw.close();
    await expect(IdbStore.open('psiweb-format-newer')).rejects.toBeInstanceOf(StoreFormatError);
    await expect(IdbStore.open('psiweb-format-newer')).rejects.toThrow(/newer psiweb \(record format 2/);
    const upgraded = await openDB('psiweb-schema-newer', 5, {
      upgrade(db) {
        for (const n of ['state', 'blocks', 'meta']) db.createObjectStore(n);
      },
    });
    upgraded.close();
    await expect(IdbStore.open('psiweb-schema-newer')).rejects.toThrow(/newer psiweb \(schema newer than 1\)/);
  });
});

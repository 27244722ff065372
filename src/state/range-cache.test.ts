import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from './bytes.ts';
import { IdbStore } from './idb-store.ts';
import { LmdbStore } from './lmdb-store.ts';
import { MemoryStore } from './memory-store.ts';
import { WriteOverlay, type KvWrite } from './overlay.ts';
import { RangeCache, RangeMissError } from './range-cache.ts';
import { findMiss, runWithRetry } from './retry.ts';
import { StateDb } from './state-db.ts';
import type { KvStore } from './store.ts';
import { b, keyArb, lookupArb, ReferenceKv, runLookup, valueArb, type Lookup } from './testing/reference.ts';
import { commitOf } from './testing/store-suite.ts';
import { CacheMissError, PsiwebError, StateError } from '../errors.ts';

const writesArb = fc.array(fc.tuple(keyArb(), fc.option(valueArb, { nil: undefined })), { maxLength: 12 });

type Step =
  | { kind: 'read'; lookup: Lookup }
  | { kind: 'commit'; writes: [Uint8Array, Uint8Array | undefined][] }
  | { kind: 'commitDuringLoad'; lookup: Lookup; writes: [Uint8Array, Uint8Array | undefined][] }
  | { kind: 'clear' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: lookupArb.map((lookup) => ({ kind: 'read' as const, lookup })) },
  { weight: 2, arbitrary: writesArb.map((writes) => ({ kind: 'commit' as const, writes })) },
  {
    weight: 2,
    arbitrary: fc.tuple(lookupArb, writesArb).map(([lookup, writes]) => ({ kind: 'commitDuringLoad' as const, lookup, writes })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

function applyRef(ref: ReferenceKv, writes: readonly KvWrite[]) {
  for (const [k, v] of writes) (v === undefined ? ref.remove(k) : ref.put(k, v));
}

describe('RangeCache', () => {
  it('answers like the committed state through misses, loads, commits and concurrent loads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: keyArb(), value: valueArb }), { maxLength: 40 }),
        fc.constantFrom(0, 1, 2, 3),
        fc.constantFrom(1, 2, 3, 1000),
        fc.array(stepArb, { maxLength: 40 }),
        // Small bounds make loads drop ranges all the time; answers must not change.
        fc.constantFrom(1, 4, 16, Infinity),
        async (entries, prefixBytes, maxLoadEntries, steps, maxEntries) => {
          const store = new MemoryStore();
          const ref = new ReferenceKv(entries);
          let num = 1;
          // Reads the store at call time but answers only when the gate opens, like an
          // IndexedDB read that is overtaken by a block commit.
          let gate: Promise<void> = Promise.resolve();
          const slowStore: KvStore = {
            syncReader: undefined,
            get: (key) => store.get(key),
            getRange: async (...args) => {
              const read = store.getRange(...args);
              await gate;
              return read;
            },
            head: () => store.head(),
            block: (n) => store.block(n),
            commitBlock: (c) => store.commitBlock(c),
            close: () => store.close(),
          };
          const db = { store, cache: new RangeCache(slowStore, { prefixBytes, maxLoadEntries, maxEntries }) };
          await store.commitBlock(commitOf(num++, entries.map((e) => [e.key, e.value] as const)));
          const commit = async (writes: KvWrite[]) => {
            await store.commitBlock(commitOf(num++, writes));
            db.cache.applyCommitted(writes);
            applyRef(ref, writes);
          };
          for (const s of steps) {
            if (s.kind === 'read') {
              expect(await runWithRetry(() => runLookup(db.cache, s.lookup), db.cache)).toEqual(runLookup(ref, s.lookup));
            } else if (s.kind === 'commit') {
              await commit(s.writes);
            } else if (s.kind === 'clear') {
              db.cache.clear();
            } else {
              // The load reads the store before the block commits and lands after it.
              let miss: CacheMissError | undefined;
              try {
                runLookup(db.cache, s.lookup);
              } catch (e) {
                miss = findMiss(e);
              }
              let open!: () => void;
              gate = new Promise((resolve) => (open = resolve));
              const loading = miss && db.cache.load(miss);
              await commit(s.writes);
              open();
              await loading;
              expect(await runWithRetry(() => runLookup(db.cache, s.lookup), db.cache)).toEqual(runLookup(ref, s.lookup));
            }
          }
          // Everything loaded so far must still equal the store.
          for (const e of ref.sorted()) {
            expect(await runWithRetry(() => db.cache.get(e.key), db.cache)).toEqual(e.value);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('stays within maxEntries by dropping the least recently read ranges, which load again on a miss', async () => {
    const store = new MemoryStore();
    // 20 tables (2-byte prefix) of 10 entries each.
    const entries = Array.from({ length: 200 }, (_, i) => [b(Math.floor(i / 10), 0, i % 10), b(i)] as const);
    await store.commitBlock(commitOf(1, entries));
    const cache = new RangeCache(store, { prefixBytes: 2, maxEntries: 35 });
    const read = (t: number, k: number) => runWithRetry(() => cache.get(b(t, 0, k)), cache);
    for (let t = 0; t < 20; t++) {
      expect(await read(t, 3)).toEqual(b(t * 10 + 3));
      // Table 0 is read again every time, so it is never the least recently read.
      expect(await read(0, t % 10)).toEqual(b(t % 10));
      expect(cache.stats.entries).toBeLessThanOrEqual(35);
    }
    const after = cache.stats;
    expect(after.evictions).toBeGreaterThanOrEqual(16);
    expect(after.evictedEntries).toBe(after.evictions * 10);
    // Table 0 stayed; table 1 was dropped and comes back with one more load.
    const loads = after.loads;
    expect(await read(0, 9)).toEqual(b(9));
    expect(cache.stats.loads).toBe(loads);
    expect(await read(1, 1)).toEqual(b(11));
    expect(cache.stats.loads).toBe(loads + 1);
    expect(cache.stats.reads).toBeGreaterThan(cache.stats.misses);
  });

  it('names the table prefix on a get miss and then serves the table without misses', async () => {
    const store = new MemoryStore();
    const table = b(0, 0, 0, 0, 0, 0, 0, 42, 0, 7);
    const writes: KvWrite[] = [];
    for (let i = 0; i < 100; i++) writes.push([b(...table, i), b(i)]);
    writes.push([b(0, 0, 0, 0, 0, 0, 0, 42, 0, 8), b(1)]);
    await store.commitBlock(commitOf(1, writes));
    const cache = new RangeCache(store);
    let miss: unknown;
    try {
      cache.get(b(...table, 5));
    } catch (e) {
      miss = e;
    }
    expect(miss).toBeInstanceOf(CacheMissError);
    expect(miss).toBeInstanceOf(PsiwebError);
    expect((miss as CacheMissError).rangeStart).toEqual(table);
    expect((miss as CacheMissError).rangeEnd).toEqual(b(0, 0, 0, 0, 0, 0, 0, 42, 0, 8));
    await cache.load(miss as CacheMissError);
    const before = cache.stats.misses;
    for (let i = 0; i < 100; i++) expect(cache.get(b(...table, i))).toEqual(b(i));
    expect(cache.get(b(...table, 200))).toBeUndefined();
    expect(cache.greaterEqual(b(...table, 50), 10)?.key).toEqual(b(...table, 50));
    expect(cache.max(table)?.key).toEqual(b(...table, 99));
    expect(cache.lessThan(b(...table, 0), 10)).toBeUndefined();
    expect(cache.stats.misses).toBe(before);
    expect(cache.stats).toMatchObject({ entries: 100, ranges: 1, loads: 1 });
  });

  it('loads a table larger than one batch in several rounds', async () => {
    const store = new MemoryStore();
    const writes: KvWrite[] = [];
    for (let i = 0; i < 10_000; i++) writes.push([b(1, i >> 8, i & 0xff), b(i & 0xff)]);
    await store.commitBlock(commitOf(1, writes));
    const cache = new RangeCache(store, { prefixBytes: 1, maxLoadEntries: 4096 });
    expect(await runWithRetry(() => cache.get(b(1, 9999 >> 8, 9999 & 0xff)), cache)).toEqual(b(9999 & 0xff));
    expect(cache.stats.loads).toBe(3);
    expect(cache.stats.ranges).toBe(1);
    // max scans from the end: loaded already, no further load.
    expect(await runWithRetry(() => cache.max(b(1))?.key, cache)).toEqual(b(1, 9999 >> 8, 9999 & 0xff));
    expect(cache.stats.loads).toBe(3);
  });

  it('finds the next key across many empty tables in one load', async () => {
    const store = new MemoryStore();
    await store.commitBlock(commitOf(1, [[b(0, 0), b(1)], [b(200, 0), b(2)]]));
    const cache = new RangeCache(store, { prefixBytes: 1 });
    expect(await runWithRetry(() => cache.greaterEqual(b(0, 1), 0)?.key, cache)).toEqual(b(200, 0));
    expect(await runWithRetry(() => cache.lessThan(b(200, 0), 0)?.key, cache)).toEqual(b(0, 0));
    expect(cache.stats.loads).toBeLessThanOrEqual(2);
  });

  it('drops a load that read before clear() once another context committed', async () => {
    const store = new MemoryStore();
    await store.commitBlock(commitOf(1, [[b(1), b(1)]]));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow: KvStore = {
      syncReader: undefined,
      get: (k) => store.get(k),
      getRange: async (...args) => {
        const read = store.getRange(...args);
        await gate;
        return read;
      },
      head: () => store.head(),
      block: (n) => store.block(n),
      commitBlock: (c) => store.commitBlock(c),
      close: () => store.close(),
    };
    const cache = new RangeCache(slow, { prefixBytes: 1 });
    const loading = cache.load(new RangeMissError(b(1), b(2), false));
    // Another tab commits; this context only hears about it and clears.
    await store.commitBlock(commitOf(2, [[b(1), b(2)]]));
    cache.clear();
    open();
    await loading;
    expect(await runWithRetry(() => cache.get(b(1)), cache)).toEqual(b(2));
  });
});

describe('runWithRetry', () => {
  it('gives up with a StateError when reads do not converge', async () => {
    const cache = new RangeCache(new MemoryStore());
    const noLoad = { load: async () => undefined };
    const err = await runWithRetry(() => cache.get(b(1)), noLoad, { maxRounds: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(StateError);
    expect(err.details).toEqual({ rounds: 5 });
    expect(err.cause).toBeInstanceOf(RangeMissError);
  });

  it('rolls back failed attempts in the overlay and keeps the successful one', async () => {
    const store = new MemoryStore();
    await store.commitBlock(commitOf(1, [[b(5), b(50)]]));
    const cache = new RangeCache(store, { prefixBytes: 1 });
    const overlay = new WriteOverlay(cache);
    let attempts = 0;
    const result = await runWithRetry(
      () => {
        attempts++;
        overlay.put(b(1, attempts), b(attempts));
        return overlay.get(b(5));
      },
      cache,
      { overlay },
    );
    expect(result).toEqual(b(50));
    expect(attempts).toBe(2);
    expect([...overlay.writes()]).toEqual([[b(1, 2), b(2)]]);
    expect(overlay.depth).toBe(0);
  });

  it('rethrows other errors after rolling back, and finds a miss wrapped as a cause', async () => {
    const cache = new RangeCache(new MemoryStore(), { prefixBytes: 1 });
    const overlay = new WriteOverlay(cache);
    const boom = new Error('service aborted');
    await expect(
      runWithRetry(
        () => {
          overlay.put(b(1), b(1));
          throw boom;
        },
        cache,
        { overlay },
      ),
    ).rejects.toBe(boom);
    expect(overlay.writeCount).toBe(0);
    let calls = 0;
    const r = await runWithRetry(() => {
      calls++;
      try {
        return cache.get(b(3));
      } catch (e) {
        throw new Error('wasm trap', { cause: e });
      }
    }, cache);
    expect(r).toBeUndefined();
    expect(calls).toBe(2);
    expect(findMiss(new Error('x'))).toBeUndefined();
  });
});

describe('StateDb', () => {
  it('reads lmdb straight through, with no cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-lmdb-'));
    const store = LmdbStore.open(dir);
    try {
      const db = new StateDb(store);
      expect(db.cache).toBeUndefined();
      await db.commitBlock(commitOf(1, [[b(1, 2), b(3)]]));
      expect(await db.run(() => db.reader.max(b(1)))).toEqual({ key: b(1, 2), value: b(3) });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads IndexedDB through the range cache and keeps it current across commits', async () => {
    const store = await IdbStore.open('psiweb-statedb');
    try {
      const db = new StateDb(store, { prefixBytes: 1 });
      expect(db.cache).toBeInstanceOf(RangeCache);
      await db.commitBlock(commitOf(1, [[b(1, 1), b(1)], [b(1, 2), b(2)]]));
      expect(await db.run(() => db.reader.get(b(1, 2)))).toEqual(b(2));
      const loads = db.cache!.stats.loads;
      function* block2(): Generator<KvWrite> {
        yield [b(1, 2), undefined];
        yield [b(1, 3), b(3)];
      }
      await db.commitBlock(commitOf(2, block2()));
      expect(await db.run(() => db.reader.max(b(1)))).toEqual({ key: b(1, 3), value: b(3) });
      expect(await db.run(() => db.reader.get(b(1, 2)))).toBeUndefined();
      expect(db.cache!.stats.loads).toBe(loads);
      expect((await db.head())?.num).toBe(2);
      db.invalidate();
      expect(await db.run(() => toHex(db.reader.greaterEqual(b(1), 1)!.key))).toBe('0101');
      function* failing(): Generator<KvWrite> {
        yield [b(9), b(9)];
        throw new Error('bad');
      }
      await expect(db.commitBlock(commitOf(3, failing()))).rejects.toThrow(StateError);
    } finally {
      await store.close();
    }
  });
});

/**
 * State engine figures: a 10,000-key block commit on IndexedDB (Chromium) and lmdb
 * (Node), and the latency of a range-cache hit, the read every host call makes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { measure } from '../../test/measure.ts';
import { LmdbStore } from './lmdb-store.ts';
import { MemoryStore } from './memory-store.ts';
import { RangeCache } from './range-cache.ts';
import { runWithRetry } from './retry.ts';
import { benchBlock as blockOf } from './testing/bench-block.ts';

const BLOCK_KEYS = 10_000;
const COMMIT_TARGET = { op: '>=' as const, value: 8000, text: '≥ 8,000 keys/s' };

const bench: BenchFile = async (ctx) => {
  const figures: Figure[] = [];

  // lmdb in Node: best of five 10k-key blocks.
  const dir = mkdtempSync(join(tmpdir(), 'psiweb-bench-'));
  const lmdb = LmdbStore.open(dir);
  let best = 0;
  for (let num = 1; num <= 5; num++) {
    const c = blockOf(num, BLOCK_KEYS);
    const t0 = performance.now();
    await lmdb.commitBlock(c);
    best = Math.max(best, BLOCK_KEYS / ((performance.now() - t0) / 1000));
  }
  await lmdb.close();
  rmSync(dir, { recursive: true, force: true });
  figures.push(figure('commit 10,000-key block (lmdb)', 'node', best, 'keys/s', COMMIT_TARGET));

  // Range-cache hit in Node.
  const store = new MemoryStore();
  await store.commitBlock(blockOf(1, 1000));
  const cache = new RangeCache(store);
  const keys = blockOf(1, 1000).writes.map(([k]) => k);
  for (const k of keys) await runWithRetry(() => cache.get(k), cache);
  let i = 0;
  const hit = await measure(() => cache.get(keys[i++ % keys.length]!));
  figures.push(figure('range-cache hit (get)', 'node', hit.usPerOp, 'µs/get'));

  const page = await ctx.page();
  const browser = await page.evaluate(
    async ({ blockKeys }) => {
      const imp = (globalThis as any).__psiwebImport;
      const { IdbStore } = await imp('/src/state/idb-store.ts');
      const { RangeCache } = await imp('/src/state/range-cache.ts');
      const { runWithRetry } = await imp('/src/state/retry.ts');
      const { measure } = await imp('/test/measure.ts');
      const { benchBlock: blockOf } = await imp('/src/state/testing/bench-block.ts');
      const name = `bench-${Date.now()}`;
      const store = await IdbStore.open(name);
      let best = 0;
      for (let num = 1; num <= 5; num++) {
        const c = blockOf(num, blockKeys);
        const t0 = performance.now();
        await store.commitBlock(c);
        best = Math.max(best, blockKeys / ((performance.now() - t0) / 1000));
      }
      const cache = new RangeCache(store);
      const keys = blockOf(1, 1000).writes.map((w: [Uint8Array, Uint8Array]) => w[0]);
      for (const k of keys) await runWithRetry(() => cache.get(k), cache);
      let i = 0;
      const hit = await measure(() => cache.get(keys[i++ % keys.length]));
      await store.close();
      indexedDB.deleteDatabase(name);
      return { commit: best, hitUs: hit.usPerOp };
    },
    { blockKeys: BLOCK_KEYS },
  );
  figures.push(figure('commit 10,000-key block (IndexedDB)', 'chromium', browser.commit, 'keys/s', COMMIT_TARGET));
  figures.push(figure('range-cache hit (get)', 'chromium', browser.hitUs, 'µs/get'));
  return figures;
};

export default bench;

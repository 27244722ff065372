import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { openSourcePage, type TestPage } from '../../test/browser/page-server.ts';

/** Opens another page of the same browser context, so it shares IndexedDB. */
async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/test/browser/blank.html`);
  return page;
}

describe('state engine in Chromium (real IndexedDB)', () => {
  let t: TestPage;
  beforeAll(async () => {
    t = await openSourcePage();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('IndexedDB orders binary keys exactly as compareBytes does', async () => {
    const mismatches = await t.page.evaluate(async () => {
      const { compareBytes } = await (globalThis as any).__psiwebImport('/src/state/bytes.ts');
      const { rng } = await (globalThis as any).__psiwebImport('/src/state/testing/store-suite.ts');
      const rand = rng(3);
      const edge = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
      const key = () => Uint8Array.from({ length: Math.floor(rand() * 5) }, () => edge[Math.floor(rand() * edge.length)]!);
      const bad: string[] = [];
      for (let i = 0; i < 5000; i++) {
        const a = key();
        const b = key();
        if (Math.sign(indexedDB.cmp(a, b)) !== Math.sign(compareBytes(a, b))) bad.push(`${a} vs ${b}`);
      }
      return bad;
    });
    expect(mismatches).toEqual([]);
  });

  it('passes the shared store suite on IdbStore', async () => {
    const results = await t.page.evaluate(async () => {
      const { IdbStore } = await (globalThis as any).__psiwebImport('/src/state/idb-store.ts');
      const { storeCases } = await (globalThis as any).__psiwebImport('/src/state/testing/store-suite.ts');
      const out: { name: string; error: string | null }[] = [];
      let n = 0;
      for (const c of storeCases) {
        const store = await IdbStore.open(`suite-${n++}`);
        try {
          await c.run(store);
          out.push({ name: c.name, error: null });
        } catch (e) {
          out.push({ name: c.name, error: String((e as Error).stack ?? e) });
        } finally {
          await store.close();
        }
      }
      return out;
    });
    expect(results.length).toBeGreaterThan(5);
    for (const r of results) expect(r, r.name).toEqual({ name: r.name, error: null });
  });

  it('runs reads through the range cache with miss-and-retry over IndexedDB', async () => {
    const r = await t.page.evaluate(async () => {
      const s = await (globalThis as any).__psiwebImport('/src/state/index.ts');
      const { IdbStore } = await (globalThis as any).__psiwebImport('/src/state/idb-store.ts');
      const { commitOf } = await (globalThis as any).__psiwebImport('/src/state/testing/store-suite.ts');
      const store = await IdbStore.open('cache-retry');
      const db = new s.StateDb(store, { prefixBytes: 2 });
      const writes = [];
      for (let i = 0; i < 300; i++) writes.push([Uint8Array.of(1, i % 3, i), Uint8Array.of(i & 0xff)]);
      await db.commitBlock(commitOf(1, writes));
      const overlay = new s.WriteOverlay(db.reader);
      let attempts = 0;
      const found = await db.run(() => {
        attempts++;
        overlay.put(Uint8Array.of(9), Uint8Array.of(attempts));
        const a = overlay.get(Uint8Array.of(1, 0, 3));
        const last = overlay.max(Uint8Array.of(1, 2));
        const next = overlay.greaterEqual(Uint8Array.of(1, 1, 200), 2);
        return [Array.from(a), Array.from(last.key), next && Array.from(next.key)];
      }, overlay);
      const loads = db.cache.stats.loads;
      const again = await db.run(() => Array.from(db.reader.get(Uint8Array.of(1, 0, 6))));
      await store.close();
      return { found, attempts, loads, after: db.cache.stats.loads, again, writes: [...overlay.writes()].map(([k, v]: any) => [Array.from(k), Array.from(v)]) };
    });
    expect(r.found).toEqual([[3], [1, 2, 254], [1, 1, 202]]);
    expect(r.attempts).toBe(4);
    expect(r.after).toBe(r.loads);
    expect(r.again).toEqual([6]);
    expect(r.writes).toEqual([[[9], [4]]]);
  });

  it('leaves state and head consistent when the page dies in the middle of a block commit', async () => {
    // A context of its own: pages come and go, its IndexedDB stays until it closes.
    const context = await t.browser.newContext();
    const N = 10_000;
    const setup = await openPage(context, t.url);
    await setup.evaluate(async (n) => {
      const { IdbStore } = await (globalThis as any).__psiwebImport('/src/state/idb-store.ts');
      const { commitOf } = await (globalThis as any).__psiwebImport('/src/state/testing/store-suite.ts');
      const store = await IdbStore.open('crash');
      const writes = [];
      for (let i = 0; i < n; i++) writes.push([Uint8Array.of(2, i >> 8, i & 0xff), Uint8Array.of(1)]);
      await store.commitBlock(commitOf(1, writes));
      await store.close();
    }, N);
    await setup.close();

    const outcomes: number[] = [];
    for (const [i, delayMs] of [0, 20, 80, 200, 500, 1000, 2000, 4000].entries()) {
      const page = await openPage(context, t.url);
      // Block k+1 rewrites every key with its number and adds one key of its own.
      await page.evaluate(async (n) => {
        const { IdbStore } = await (globalThis as any).__psiwebImport('/src/state/idb-store.ts');
        const { commitOf } = await (globalThis as any).__psiwebImport('/src/state/testing/store-suite.ts');
        const store = await IdbStore.open('crash');
        const next = ((await store.head()).num as number) + 1;
        const writes = [];
        for (let i = 0; i < n; i++) writes.push([Uint8Array.of(2, i >> 8, i & 0xff), Uint8Array.of(next)]);
        writes.push([Uint8Array.of(3, next), Uint8Array.of(next)]);
        (globalThis as any).pending = store.commitBlock(commitOf(next, writes));
      }, N);
      await new Promise((r) => setTimeout(r, delayMs));
      if (i % 2 === 0) await page.close();
      else await page.reload();
      const check = i % 2 === 0 ? await openPage(context, t.url) : page;
      const state = await check.evaluate(async () => {
        const { IdbStore } = await (globalThis as any).__psiwebImport('/src/state/idb-store.ts');
        const store = await IdbStore.open('crash');
        const head = (await store.head()).num as number;
        const values = new Set<number>();
        for (const e of await store.getRange(Uint8Array.of(2), Uint8Array.of(3))) values.add(e.value[0]);
        const markers = (await store.getRange(Uint8Array.of(3), Uint8Array.of(4))).map((e: any) => e.key[1]);
        const count = (await store.getRange(Uint8Array.of(2), Uint8Array.of(3))).length;
        const block = (await store.block(head))?.num;
        await store.close();
        return { head, values: [...values], markers, count, block };
      });
      await check.close();
      // Either the whole block is there with its head, or none of it.
      expect(state.count).toBe(N);
      expect(state.values).toEqual([state.head]);
      expect(state.markers).toEqual(Array.from({ length: state.head - 1 }, (_, k) => k + 2));
      expect(state.block).toBe(state.head);
      outcomes.push(state.head);
    }
    // Each attempt either committed (head moved by one) or was cut off (head stayed).
    for (let i = 1; i < outcomes.length; i++) expect(outcomes[i]! - outcomes[i - 1]!).toBeLessThanOrEqual(1);
    console.log('heads after each interrupted commit:', outcomes.join(' '));
    await context.close();
  });
});

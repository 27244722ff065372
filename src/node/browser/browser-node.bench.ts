/**
 * The browser node in Chromium against a production build served by the Node peer:
 *  - root service worker query latency for `GET /_svc/tokens/balances/alice`, warm
 *    (worker running, ranges cached) and cold (after CDP ServiceWorker.stopAllWorkers:
 *    a new worker opens IndexedDB, compiles the services and loads the ranges);
 *  - requests/s with 50 queries in flight;
 *  - sync: blocks/s and signed transfers/s applied (producer signature, WebCrypto proof
 *    checks in the node's verify worker, re-execution, IndexedDB commits (blocks caught up
 *    on commit together),
 *    durability 'relaxed') from a devnet with many transfers, timed from the node's own
 *    events: the leader posts a `block` message on the node channel once each block is
 *    stored, and a listener installed before the page loads stamps each one.
 * Every timed request's status and body are checked; a wrong answer fails the bench.
 * Uses its own Chromium (the service worker needs the peer's origin, not the source server).
 */
import { figure, type BenchFile, type Figure } from '../../../test/bench-kit.ts';
import { launchChromium } from '../../../test/browser/chromium.ts';
import { clockSetBack, ensureProductionBuild, startDevnetPeer } from '../../../test/browser/devnet.ts';
import { percentile } from '../../../test/measure.ts';
import { DEVNET_TOKEN_SUPPLY } from '../devnet.ts';
import { NODE_CHANNEL } from './constants.ts';
import { openApp, produceTransferBlocks } from './testing.ts';

const BLOCKS = 100;
const PER_BLOCK = 50;
const WARM_QUERIES = 300;
const COLD_SAMPLES = 8;
const CONCURRENCY = 50;
const RUN_MS = 3000;
const QUERY = '/_svc/tokens/balances/alice';

/** Checks timed replies: anything but alice's balance after the bench's transfers fails the bench. */
function checkReplies(what: string, replies: { status: number; body: string }[], expectedBody: string): void {
  const bad = replies.filter((r) => r.status !== 200 || r.body !== expectedBody);
  if (replies.length === 0 || bad.length > 0) {
    throw new Error(`${what}: ${bad.length} of ${replies.length} replies were not 200 ${expectedBody}; first: ${bad[0]?.status} ${bad[0]?.body.slice(0, 200)}`);
  }
}

const bench: BenchFile = async () => {
  await ensureProductionBuild();
  // The blocks lie in the past (the producer's clock set back while it makes them), as a
  // running network's do: a browser catching up commits them in batches.
  const clock = clockSetBack((BLOCKS + 10) * 1000);
  const peer = await startDevnetPeer({ produce: false, clock });
  const browser = await launchChromium();
  const figures: Figure[] = [];
  try {
    const transfers = await produceTransferBlocks(peer.peer, BLOCKS, PER_BLOCK);
    clock.catchUp();
    const target = peer.peer.node.chain.head!.num;
    const aliceBalance = String(DEVNET_TOKEN_SUPPLY / 2n - BigInt(transfers));
    const context = await browser.newContext();
    // Before any page script: stamp every block the node reports stored.
    await context.addInitScript((channel) => {
      const w = window as unknown as { __psiwebStored?: { num: number; from: number; at: number }[] };
      if (window !== window.top || w.__psiwebStored) return;
      const stored: { num: number; from: number; at: number }[] = (w.__psiwebStored = []);
      new BroadcastChannel(channel).onmessage = (e: MessageEvent<{ type: string; num: number; from?: number; status?: unknown }>) => {
        // Blocks committed together come as one message, `from` the first of them.
        if (e.data?.type === 'block') stored.push({ num: e.data.num, from: e.data.from ?? e.data.num, at: performance.now() });
        if (e.data?.type === 'status') (w as { __psiwebStatus?: unknown }).__psiwebStatus = e.data.status;
      };
    }, NODE_CHANNEL);
    const page = await openApp(context, peer.url);
    await page.waitForFunction((t) => (window as any).__psiwebStored?.some((b: { num: number }) => b.num === t), target, { timeout: 300_000, polling: 100 });
    const stored = await page.evaluate(() => (window as any).__psiwebStored as { num: number; from: number; at: number }[]);
    // The figure says the proofs were checked by the node's verify worker: it must be running.
    if (!page.workers().some((w) => /verify-worker/.test(w.url()))) throw new Error(`no verify worker runs: ${page.workers().map((w) => w.url()).join(', ')}`);
    // From the first block this document's node stored to the last (page load,
    // compiling and genesis are not in it; the page may have reloaded once as its
    // service worker took control, and the node of the first load stored the first
    // blocks). Every block after genesis holds PER_BLOCK transfers, and alice's balance
    // below shows every one of them applied.
    const first = stored[0];
    const last = stored.at(-1);
    if (!first || last?.num !== target || stored.some((b, i) => b.from > b.num || (i > 0 && b.from !== stored[i - 1]!.num + 1))) {
      throw new Error(`the node did not report each block once, in order, up to ${target}: ${stored.map((b) => (b.from === b.num ? b.num : `${b.from}–${b.num}`)).join(',')}`);
    }
    const blocks = target - Math.max(first.num, 2);
    if (blocks < BLOCKS / 2) throw new Error(`only ${blocks} blocks were synced by the timed node`);
    const seconds = (last.at - first.at) / 1000;
    const syncHow = `one fresh sync of ${BLOCKS} blocks × ${PER_BLOCK} transfers, timed from the node's block-stored events (block ${first.num} → ${target}), native verify in a worker, IndexedDB durability relaxed`;
    const settled = await page.evaluate(async (q) => {
      const r = await fetch(q);
      return { status: r.status, body: await r.text() };
    }, QUERY);
    // Every transfer applied; the timed queries below must answer exactly this.
    const parsed = settled.status === 200 ? (JSON.parse(settled.body) as { account?: string; balance?: string }) : {};
    if (parsed.balance !== aliceBalance || parsed.account !== 'alice') {
      throw new Error(`after sync, ${QUERY} answered ${settled.status} ${settled.body.slice(0, 200)}, not alice's balance ${aliceBalance}`);
    }
    const aliceBody = settled.body;
    // The node's own count of its range-cache reads over the sync (asked for now, so it is current).
    const cache = await page.evaluate(async (channel) => {
      const w = window as unknown as { __psiwebStatus?: { cache: { reads: number; misses: number } | null; updatedAt: number } };
      const asked = Date.now();
      new BroadcastChannel(channel).postMessage({ type: 'status?' });
      for (let i = 0; i < 100 && !(w.__psiwebStatus && w.__psiwebStatus.updatedAt >= asked - 1000); i++) await new Promise((r) => setTimeout(r, 50));
      return w.__psiwebStatus?.cache ?? null;
    }, NODE_CHANNEL);
    if (!cache || cache.reads === 0) throw new Error(`the node reported no range-cache reads: ${JSON.stringify(cache)}`);
    figures.push(figure('browser node sync: blocks applied', 'chromium', blocks / seconds, 'blocks/s', undefined, syncHow));
    figures.push(
      figure(
        'browser node sync: signed transfers applied (native verify)',
        'chromium',
        (blocks * PER_BLOCK) / seconds,
        'transfers/s',
        { op: '>=', value: 2000, text: '≥ 2,000/s' },
        syncHow,
      ),
      figure('browser node sync: range-cache hit rate', 'chromium', (1 - cache.misses / cache.reads) * 100, '%', undefined, `${cache.reads.toLocaleString('en-US')} state reads by the node during the sync and queries before it, ${cache.misses.toLocaleString('en-US')} of them misses (each loads a range from IndexedDB and re-runs its step)`),
    );

    const warm = await page.evaluate(
      async ([n, q]) => {
        const out: { ms: number; status: number; body: string }[] = [];
        for (let i = 0; i < n! + 20; i++) {
          const t0 = performance.now();
          const r = await fetch(q as string);
          const body = await r.text();
          const ms = performance.now() - t0;
          if (i >= 20) out.push({ ms, status: r.status, body });
        }
        return out;
      },
      [WARM_QUERIES, QUERY] as const,
    );
    checkReplies('warm queries', warm, aliceBody);
    const warmMs = warm.map((r) => r.ms);
    const warmHow = `${WARM_QUERIES} sequential queries after 20 untimed, one warm worker (running, ranges cached)`;
    figures.push(figure('root SW query GET /balances/alice, warm: p50', 'chromium', percentile(warmMs, 50), 'ms', { op: '<=', value: 5, text: '≤ 5 ms' }, warmHow));
    figures.push(figure('root SW query GET /balances/alice, warm: p95', 'chromium', percentile(warmMs, 95), 'ms', undefined, warmHow));

    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    const cold: { ms: number; status: number; body: string }[] = [];
    for (let i = 0; i < COLD_SAMPLES; i++) {
      await cdp.send('ServiceWorker.stopAllWorkers');
      cold.push(
        await page.evaluate(async (q) => {
          const t0 = performance.now();
          const r = await fetch(q);
          const body = await r.text();
          return { ms: performance.now() - t0, status: r.status, body };
        }, QUERY),
      );
    }
    checkReplies('cold queries', cold, aliceBody);
    const coldMs = cold.map((r) => r.ms);
    const coldHow = `${COLD_SAMPLES} samples, each the first query after CDP ServiceWorker.stopAllWorkers (a new worker opens IndexedDB, compiles the services, loads the ranges)`;
    figures.push(figure('root SW query GET /balances/alice, cold worker: p50', 'chromium', percentile(coldMs, 50), 'ms', undefined, coldHow));
    figures.push(figure('root SW query GET /balances/alice, cold worker: p95', 'chromium', percentile(coldMs, 95), 'ms', undefined, coldHow));

    const concurrent = await page.evaluate(
      async ([c, ms, q, expected]) => {
        let done = 0;
        const bad: { status: number; body: string }[] = [];
        const end = performance.now() + (ms as number);
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: c as number }, async () => {
            while (performance.now() < end) {
              const r = await fetch(q as string);
              const body = await r.text();
              if (r.status === 200 && body === expected) done++;
              else bad.push({ status: r.status, body });
            }
          }),
        );
        return { rps: done / ((performance.now() - t0) / 1000), done, bad };
      },
      [CONCURRENCY, RUN_MS, QUERY, aliceBody] as const,
    );
    if (concurrent.bad.length > 0 || concurrent.done === 0) {
      throw new Error(`concurrent queries: ${concurrent.bad.length} wrong replies of ${concurrent.done + concurrent.bad.length}; first: ${concurrent.bad[0]?.status} ${concurrent.bad[0]?.body.slice(0, 200)}`);
    }
    figures.push(
      figure(`root SW queries, ${CONCURRENCY} in flight`, 'chromium', concurrent.rps, 'requests/s', undefined, `${CONCURRENCY} loops of sequential queries for ${RUN_MS / 1000} s, warm worker; only correct replies counted`),
    );
    await context.close();
  } finally {
    await browser.close();
    await peer.dispose();
  }
  return figures;
};

export default bench;

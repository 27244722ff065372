/**
 * The browser node in Chromium against a production build served by the Node peer:
 *  - root service worker query latency for `GET /_svc/tokens/balances/alice`, warm
 *    (worker running, ranges cached) and cold (after CDP ServiceWorker.stopAllWorkers:
 *    a new worker opens IndexedDB, compiles the services and loads the ranges);
 *  - requests/s with 50 queries in flight;
 *  - sync: blocks/s and signed transfers/s applied (producer signature, WebCrypto proof
 *    checks, re-execution, one IndexedDB commit per block) from a devnet with many
 *    transfers.
 * Uses its own Chromium (the service worker needs the peer's origin, not the source server).
 */
import { figure, type BenchFile, type Figure } from '../../../test/bench-kit.ts';
import { launchChromium } from '../../../test/browser/chromium.ts';
import { ensureProductionBuild, startDevnetPeer } from '../../../test/browser/devnet.ts';
import { percentile } from '../../../test/measure.ts';
import { dashboardHead, openApp, produceTransferBlocks, until } from './testing.ts';

const BLOCKS = 100;
const PER_BLOCK = 50;
const WARM_QUERIES = 300;
const COLD_SAMPLES = 8;
const CONCURRENCY = 50;
const RUN_MS = 3000;

const bench: BenchFile = async () => {
  await ensureProductionBuild();
  const peer = await startDevnetPeer({ produce: false });
  const browser = await launchChromium();
  const figures: Figure[] = [];
  try {
    const transfers = await produceTransferBlocks(peer.peer, BLOCKS, PER_BLOCK);
    const target = peer.peer.node.chain.head!.num;
    const context = await browser.newContext();
    const page = await openApp(context, peer.url);
    // From the first synced block to the last, so page load and compiling are not in it.
    const first = await until(async () => {
      const h = (await dashboardHead(page)) ?? 0;
      return h >= 3 ? { at: performance.now(), head: h } : undefined;
    }, 120_000, 'sync to start');
    await until(async () => (await dashboardHead(page)) === target, 300_000, 'sync to finish');
    const seconds = (performance.now() - first.at) / 1000;
    const blocks = target - first.head;
    figures.push(figure('browser node sync: blocks applied', 'chromium', blocks / seconds, 'blocks/s'));
    figures.push(
      figure('browser node sync: signed transfers applied', 'chromium', ((blocks / BLOCKS) * transfers) / seconds, 'transfers/s', {
        op: '>=',
        value: 2000,
        text: '≥ 2,000/s',
      }),
    );

    const warm = await page.evaluate(async (n) => {
      const out: number[] = [];
      for (let i = 0; i < n + 20; i++) {
        const t0 = performance.now();
        const r = await fetch('/_svc/tokens/balances/alice');
        await r.text();
        if (i >= 20) out.push(performance.now() - t0);
      }
      return out;
    }, WARM_QUERIES);
    figures.push(figure('root SW query GET /balances/alice, warm: p50', 'chromium', percentile(warm, 50), 'ms', { op: '<=', value: 5, text: '≤ 5 ms' }));
    figures.push(figure('root SW query GET /balances/alice, warm: p95', 'chromium', percentile(warm, 95), 'ms'));

    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    const cold: number[] = [];
    for (let i = 0; i < COLD_SAMPLES; i++) {
      await cdp.send('ServiceWorker.stopAllWorkers');
      cold.push(
        await page.evaluate(async () => {
          const t0 = performance.now();
          await (await fetch('/_svc/tokens/balances/alice')).text();
          return performance.now() - t0;
        }),
      );
    }
    figures.push(figure('root SW query GET /balances/alice, cold worker: p50', 'chromium', percentile(cold, 50), 'ms'));
    figures.push(figure('root SW query GET /balances/alice, cold worker: p95', 'chromium', percentile(cold, 95), 'ms'));

    const rps = await page.evaluate(
      async ([c, ms]) => {
        let done = 0;
        const end = performance.now() + ms!;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: c! }, async () => {
            while (performance.now() < end) {
              await (await fetch('/_svc/tokens/balances/alice')).text();
              done++;
            }
          }),
        );
        return done / ((performance.now() - t0) / 1000);
      },
      [CONCURRENCY, RUN_MS],
    );
    figures.push(figure(`root SW queries, ${CONCURRENCY} in flight`, 'chromium', rps, 'requests/s'));
    await context.close();
  } finally {
    await browser.close();
    await peer.dispose();
  }
  return figures;
};

export default bench;

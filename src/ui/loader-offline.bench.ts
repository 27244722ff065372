/**
 * Offline start-to-interactive of an app (issue 4 §5): the tokens app at
 * `tokens.<root>`, visited once online, then opened with the browser offline and the
 * Node peer stopped, until its UI shows a balance read from this browser's chain
 * state. Two ways in: a reload of the app's tab (the app worker asks the page that is
 * unloading for the new page) and a new tab (the worker serves the loader, which
 * connects a bridge and reloads once). Both with warm workers: the root and app
 * service workers stay running between runs (one lifetime), which is what a user
 * coming back to a recently used app sees. A third, cold: a reload after CDP
 * ServiceWorker.stopAllWorkers, so both workers start again (the root one opens
 * IndexedDB and compiles the services); reported without a target.
 */
import type { Page } from 'playwright-core';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { percentile } from '../../test/measure.ts';
import { primeRoot, showBalance, startAppPeer } from '../../test/browser/app-harness.ts';
import { launchChromium } from '../../test/browser/chromium.ts';

/** Runs of each way in, after one warm-up each, all in one root worker lifetime. */
const RUNS = 15;
/** Cold reloads (each restarts both workers). */
const COLD_RUNS = 8;
const TARGET = { op: '<=' as const, value: 1000, text: '≤ 1 s' };

async function timeToBalance(page: Page, open: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await open();
  await page.locator('#lookup').waitFor();
  const shown = await showBalance(page, 'alice');
  if (shown !== 'alice: 500000') {
    const body = await page.evaluate(async () => (await fetch('/balances/alice')).text());
    throw new Error(`the tokens UI showed "${shown}"; /balances/alice now answers ${body.slice(0, 500)}`);
  }
  return performance.now() - t0;
}

const bench: BenchFile = async () => {
  const peer = await startAppPeer({ fakeRoot: false });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    await primeRoot(context, peer);
    const app = await context.newPage();
    await app.goto(peer.appUrl('tokens'));
    await showBalance(app, 'alice');
    await context.setOffline(true);
    await peer.stop();

    const reload: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const ms = await timeToBalance(app, () => app.reload());
      if (i >= 1) reload.push(ms);
    }
    const cdp = await context.newCDPSession(app);
    let starts = 0;
    cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
      for (const v of e.versions) if (v.runningStatus === 'starting') starts++;
    });
    await cdp.send('ServiceWorker.enable');
    const cold: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      await cdp.send('ServiceWorker.stopAllWorkers');
      starts = 0;
      cold.push(await timeToBalance(app, () => app.reload()));
      // Cold means both the app's worker and the root worker (behind the bridge) started again.
      if (starts < 2) throw new Error(`cold reload ${i}: ${starts} service worker(s) started, not the app's and the root's`);
    }
    await cdp.detach();
    await app.close();
    const newTab: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const page = await context.newPage();
      const ms = await timeToBalance(page, () => page.goto(peer.appUrl('tokens')));
      await page.close();
      if (i >= 1) newTab.push(ms);
    }
    const out: Figure[] = [];
    const warmHow = `${RUNS} runs after 1 untimed, warm root and app workers (one lifetime), offline with the peer stopped`;
    for (const [way, samples] of [['reload', reload], ['new tab (loader)', newTab]] as const) {
      out.push(figure(`tokens app offline start→balance shown, ${way}, warm workers, p50`, 'chromium', percentile(samples, 50), 'ms', TARGET, warmHow));
      out.push(figure(`tokens app offline start→balance shown, ${way}, warm workers, p95`, 'chromium', percentile(samples, 95), 'ms', TARGET, warmHow));
    }
    const coldHow = `${COLD_RUNS} reloads, each after CDP ServiceWorker.stopAllWorkers (root and app workers start again), offline with the peer stopped`;
    out.push(figure('tokens app offline start→balance shown, reload, cold workers, p50', 'chromium', percentile(cold, 50), 'ms', undefined, coldHow));
    out.push(figure('tokens app offline start→balance shown, reload, cold workers, p95', 'chromium', percentile(cold, 95), 'ms', undefined, coldHow));
    return out;
  } finally {
    await browser.close();
    await peer.dispose();
  }
};
export default bench;

/**
 * Offline start-to-interactive of an app (issue 4 §5): the tokens app at
 * `tokens.<root>`, visited once online, then opened with the browser offline and the
 * Node peer stopped, until its UI shows a balance read from this browser's chain
 * state. Two ways in: a reload of the app's tab (the app worker asks the page that is
 * unloading for the new page) and a new tab (the worker serves the loader, which
 * connects a bridge and reloads once).
 */
import type { Page } from 'playwright-core';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { percentile } from '../../test/measure.ts';
import { primeRoot, showBalance, startAppPeer } from '../../test/browser/app-harness.ts';
import { launchChromium } from '../../test/browser/chromium.ts';

/** Runs of each way in, after one warm-up each, all in one root worker lifetime. */
const RUNS = 15;
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
    await app.close();
    const newTab: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const page = await context.newPage();
      const ms = await timeToBalance(page, () => page.goto(peer.appUrl('tokens')));
      await page.close();
      if (i >= 1) newTab.push(ms);
    }
    const out: Figure[] = [];
    for (const [how, samples] of [['reload', reload], ['new tab (loader)', newTab]] as const) {
      out.push(figure(`tokens app offline start→balance shown, ${how}, p50`, 'chromium', percentile(samples, 50), 'ms', TARGET));
      out.push(figure(`tokens app offline start→balance shown, ${how}, p95`, 'chromium', percentile(samples, 95), 'ms', TARGET));
    }
    return out;
  } finally {
    await browser.close();
    await peer.dispose();
  }
};
export default bench;

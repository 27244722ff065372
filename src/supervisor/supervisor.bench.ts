/**
 * Plugin load times in the supervisor (issue 10's benchmarks), Chromium on the
 * production build, the greetings plugin (QuickJS component, ~1.6 MB):
 *  - cold: the supervisor's transpile cache (IndexedDB) and the browser's HTTP cache
 *    cleared, the app page reloaded (a new supervisor frame), one functionCall:
 *    download + hash + transpile (jco in the page) + compile + import + instantiate,
 *    as the supervisor times them;
 *  - warm: the page reloaded with the cache in place: the same minus transpiling (the
 *    download is a revalidation).
 * Medians over runs after one warm-up. The end-to-end time of the call (from the app's
 * functionCall to its answer, including the supervisor frame's own start) is reported
 * beside each, without a target.
 */
import type { Page } from 'playwright-core';
import { figure, type BenchFile } from '../../test/bench-kit.ts';
import { percentile } from '../../test/measure.ts';
import { call, clearTranspileCache, GREETINGS, startGreetingsDevnet, supervisorStats } from './testing/harness.ts';

const COLD_RUNS = 5;
const WARM_RUNS = 10;
const greet = { service: GREETINGS, intf: 'api', method: 'greet', params: ['bench'] };

const bench: BenchFile = async () => {
  const devnet = await startGreetingsDevnet();
  try {
    const page = await devnet.open();
    const cdp = await devnet.context.newCDPSession(page);
    await cdp.send('Network.enable');
    const one = async (p: Page) => {
      const r = await call(p, greet);
      if (!r.ok) throw new Error(`greet failed: ${JSON.stringify(r.error)}`);
      const s = await supervisorStats(p, devnet.rootHost);
      const load = s.loads[0]!;
      const inst = s.instantiateMs[load.plugin] ?? 0;
      return { load: load.totalMs + inst, e2e: r.ms, cached: load.cached, bytes: load.bytes, steps: { ...load, instantiateMs: inst } };
    };
    const cold: number[] = [];
    const coldE2e: number[] = [];
    const coldSteps: Record<string, number>[] = [];
    let bytes = 0;
    await one(page);
    for (let i = 0; i < COLD_RUNS + 1; i++) {
      await clearTranspileCache(page, devnet.rootHost);
      await cdp.send('Network.clearBrowserCache');
      await page.reload();
      const r = await one(page);
      if (r.cached) throw new Error('a cold run found the plugin in the cache');
      bytes = r.bytes;
      if (i > 0) {
        coldSteps.push(r.steps as unknown as Record<string, number>);
        cold.push(r.load);
        coldE2e.push(r.e2e);
      }
    }
    const warm: number[] = [];
    const warmE2e: number[] = [];
    const warmSteps: Record<string, number>[] = [];
    for (let i = 0; i < WARM_RUNS + 1; i++) {
      await page.reload();
      const r = await one(page);
      if (!r.cached) throw new Error('a warm run transpiled');
      if (i > 0) {
        warmSteps.push(r.steps as unknown as Record<string, number>);
        warm.push(r.load);
        warmE2e.push(r.e2e);
      }
    }
    const size = `${(bytes / 1e6).toFixed(2)} MB QuickJS component`;
    // Median of each step (they overlap on a warm load: the fetch runs beside cache + compile + import).
    const steps = (runs: Record<string, number>[]) =>
      ['fetchMs', 'hashMs', 'transpileMs', 'cacheMs', 'compileMs', 'importMs', 'instantiateMs']
        .map((k) => `${k.replace('Ms', '')} ${percentile(runs.map((r) => r[k]!), 50).toFixed(1)}`)
        .join(', ');
    return [
      figure('plugin cold load (download + transpile + instantiate)', 'chromium', percentile(cold, 50), 'ms', { op: '<=', value: 500, text: '≤ 500 ms' }, `greetings plugin, ${size}; median of ${COLD_RUNS} after a warm-up; IndexedDB and HTTP cache cleared, page reloaded; supervisor's own timing; step medians (ms): ${steps(coldSteps)}`),
      figure('plugin warm load (cached transpile)', 'chromium', percentile(warm, 50), 'ms', { op: '<=', value: 30, text: '≤ 30 ms' }, `greetings plugin, ${size}; median of ${WARM_RUNS} after a warm-up; page reloaded, transpiled output from IndexedDB; step medians (ms): ${steps(warmSteps)}`),
      figure('first functionCall end to end, cold', 'chromium', percentile(coldE2e, 50), 'ms', undefined, 'from the app calling functionCall to its answer, supervisor frame start included; median'),
      figure('first functionCall end to end, warm', 'chromium', percentile(warmE2e, 50), 'ms', undefined, 'as above, with the transpiled plugin cached; median'),
    ];
  } finally {
    await devnet.close();
  }
};

export default bench;

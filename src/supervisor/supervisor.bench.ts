/**
 * Plugin load times in the supervisor (issue 10's benchmarks), Chromium on the
 * production build, for two plugins: greetings (a QuickJS component, ~1.6 MB) and
 * tinyplugin (AssemblyScript through jco embed + jco new, ~2.4 KB):
 *  - cold: the supervisor's transpile cache (IndexedDB) and the browser's HTTP cache
 *    cleared, the app page reloaded (a new supervisor frame), one functionCall:
 *    download + hash + transpile (jco in the page) + compile + import + instantiate,
 *    as the supervisor times them;
 *  - warm: the page reloaded with the cache in place: the same minus transpiling (the
 *    download is a revalidation, overlapped with reading the cache).
 * Medians over runs after one warm-up. The end-to-end time of the first call (from the
 * app's functionCall to its answer, including the supervisor frame's own start) is
 * reported beside, without a target.
 */
import type { Page } from 'playwright-core';
import type { AppDevnet } from '../../playwright/devnet.ts';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { percentile } from '../../test/measure.ts';
import { builtPlugin, call, clearTranspileCache, GREETINGS, pluginApp, startGreetingsDevnet, supervisorStats } from './testing/harness.ts';

const COLD_RUNS = 5;
const WARM_RUNS = 10;
const COLD = { op: '<=' as const, value: 500, text: '≤ 500 ms' };
const WARM = { op: '<=' as const, value: 30, text: '≤ 30 ms' };
const STEPS = ['fetchMs', 'hashMs', 'transpileMs', 'cacheMs', 'compileMs', 'importMs', 'instantiateMs'];

type Run = { load: number; e2e: number; cached: boolean; bytes: number; steps: Record<string, number> };

async function measure(devnet: AppDevnet, service: string, what: string): Promise<Figure[]> {
  const page = await devnet.open(service);
  const cdp = await devnet.context.newCDPSession(page);
  await cdp.send('Network.enable');
  const one = async (p: Page): Promise<Run> => {
    const r = await call(p, { service, intf: 'api', method: 'greet', params: ['bench'] });
    if (!r.ok) throw new Error(`${service} greet failed: ${JSON.stringify(r.error)}`);
    const s = await supervisorStats(p, devnet.rootHost);
    const load = s.loads[0]!;
    const inst = s.instantiateMs[load.plugin] ?? 0;
    return { load: load.totalMs + inst, e2e: r.ms, cached: load.cached, bytes: load.bytes, steps: { ...(load as unknown as Record<string, number>), instantiateMs: inst } };
  };
  const runs = async (n: number, cold: boolean): Promise<Run[]> => {
    const out: Run[] = [];
    for (let i = 0; i < n + 1; i++) {
      if (cold) {
        await clearTranspileCache(page, devnet.rootHost);
        await cdp.send('Network.clearBrowserCache');
      }
      await page.reload();
      const r = await one(page);
      if (r.cached === cold) throw new Error(`a ${cold ? 'cold' : 'warm'} run of ${service} ${cold ? 'found its plugin in the cache' : 'transpiled'}`);
      if (i > 0) out.push(r);
    }
    return out;
  };
  await one(page);
  const cold = await runs(COLD_RUNS, true);
  const warm = await runs(WARM_RUNS, false);
  await page.close();
  const median = (xs: number[]) => percentile(xs, 50);
  const steps = (rs: Run[]) => STEPS.map((k) => `${k.replace('Ms', '')} ${median(rs.map((r) => r.steps[k]!)).toFixed(1)}`).join(', ');
  const size = `${what}, ${cold[0]!.bytes.toLocaleString('en-US')} bytes`;
  return [
    figure(`plugin cold load (download + transpile + instantiate), ${service}`, 'chromium', median(cold.map((r) => r.load)), 'ms', COLD, `${size}; median of ${COLD_RUNS} after a warm-up; IndexedDB and HTTP cache cleared, page reloaded; supervisor's own timing; step medians (ms): ${steps(cold)}`),
    figure(`plugin warm load (cached transpile), ${service}`, 'chromium', median(warm.map((r) => r.load)), 'ms', WARM, `${size}; median of ${WARM_RUNS} after a warm-up; page reloaded, transpiled output from IndexedDB (fetch overlaps cache + compile + import); step medians (ms): ${steps(warm)}`),
    figure(`first functionCall end to end, cold, ${service}`, 'chromium', median(cold.map((r) => r.e2e)), 'ms', undefined, 'from the app calling functionCall to its answer, supervisor frame start included; median'),
    figure(`first functionCall end to end, warm, ${service}`, 'chromium', median(warm.map((r) => r.e2e)), 'ms', undefined, 'as above, with the transpiled plugin cached; median'),
  ];
}

const bench: BenchFile = async () => {
  const devnet = await startGreetingsDevnet();
  try {
    await devnet.deploy(pluginApp('tinyplugin', await builtPlugin('tinyplugin')));
    return [...(await measure(devnet, GREETINGS, 'QuickJS component')), ...(await measure(devnet, 'tinyplugin', 'AssemblyScript component'))];
  } finally {
    await devnet.close();
  }
};

export default bench;

/**
 * GraphQL reads in the root service worker (issue 14's target: a typical table query,
 * first: 20, p50 ≤ 5 ms): Chromium against a production build served by a devnet Node
 * peer with BLOCKS blocks, synced by the page's node into IndexedDB; then the page POSTs
 * `/_svc/explorer/graphql` `blocks(first: 20 ge: N)` (N varies, so no answer repeats
 * the last one) and `/_svc/producers/graphql`, one at a time, to the warm worker. Each
 * figure is the median of SAMPLES requests after WARMUP untimed ones, timed in the page
 * from fetch to the parsed JSON; every answer is checked (20 edges in order from N, no
 * `errors`, answered by the worker: x-psiweb-block set). Run alone:
 * `npx tsx test/bench.ts graphql-sw`.
 */
import { figure, type BenchFile, type Figure } from '../../../test/bench-kit.ts';
import { launchChromium } from '../../../test/browser/chromium.ts';
import { ensureProductionBuild, startDevnetPeer } from '../../../test/browser/devnet.ts';
import { percentile } from '../../../test/measure.ts';
import { openApp, produceTransferBlocks } from './testing.ts';

const BLOCKS = 120;
const PAGE = 20;
const WARMUP = 50;
const SAMPLES = 400;

const LAST_QUERY = 'query { blocks(last: 1) { edges { node { header { blockNum } } } } }';

const bench: BenchFile = async () => {
  await ensureProductionBuild();
  const peer = await startDevnetPeer({ produce: false });
  const browser = await launchChromium();
  try {
    await produceTransferBlocks(peer.peer, BLOCKS, 1);
    const head = peer.peer.node.chain.head!.num;
    const context = await browser.newContext();
    const page = await openApp(context, peer.url);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const num = await page
        .evaluate(async (q) => {
          const r = await fetch('/_svc/explorer/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query: q }) });
          return ((await r.json()) as any)?.data?.blocks?.edges?.[0]?.node?.header?.blockNum as number | undefined;
        }, LAST_QUERY)
        .catch(() => undefined);
      if (num === head) break;
      if (Date.now() > deadline) throw new Error(`the browser node did not reach block ${head} (last seen ${num})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const first = head - BLOCKS;

    const run = (service: string, kind: 'blocks' | 'producers' | 'floor') =>
      page.evaluate(
        async ([svc, k, warmup, samples, page, first, span]) => {
          const ms: number[] = [];
          const bad: string[] = [];
          for (let i = 0; i < (warmup as number) + (samples as number); i++) {
            const ge = (first as number) + (i % (span as number));
            const query =
              k === 'blocks'
                ? `query { blocks(first: ${page} ge: ${ge}) { edges { cursor node { header { blockNum previous time producer term commitNum } } } pageInfo { hasNextPage endCursor } } }`
                : 'query { producers { name } nextProducers { name } }';
            const t0 = performance.now();
            if (k === 'floor') {
              // The worker's round trip with no chain read: a schema the node does not have.
              const r = await fetch('/_svc/packages/schema?service=nosuchsvc');
              const text = await r.text();
              const t = performance.now() - t0;
              if (i >= (warmup as number)) ms.push(t);
              if (r.status !== 404 && bad.length < 3) bad.push(`${r.status} ${text.slice(0, 200)}`);
              continue;
            }
            const r = await fetch(`/_svc/${svc}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query }) });
            const json = (await r.json()) as any;
            const t = performance.now() - t0;
            if (i >= (warmup as number)) ms.push(t);
            let ok = r.status === 200 && json.errors === undefined && r.headers.get('x-psiweb-block') !== null;
            if (ok && k === 'blocks') {
              const edges = json.data.blocks.edges as { node: { header: { blockNum: number; producer: string } } }[];
              ok = edges.length === page && edges.every((e, n) => e.node.header.blockNum === ge + n && e.node.header.producer === 'prod');
            } else if (ok) ok = json.data.producers[0]?.name === 'prod' && json.data.nextProducers.length === 0;
            if (!ok && bad.length < 3) bad.push(`${r.status} ${JSON.stringify(json).slice(0, 200)}`);
          }
          return { ms, bad };
        },
        [service, kind, WARMUP, SAMPLES, PAGE, first, BLOCKS - PAGE] as const,
      );

    const blocks = await run('explorer', 'blocks');
    if (blocks.bad.length > 0) throw new Error(`blocks queries answered wrong: ${blocks.bad.join(' | ')}`);
    const producers = await run('producers', 'producers');
    if (producers.bad.length > 0) throw new Error(`producers queries answered wrong: ${producers.bad.join(' | ')}`);
    const floor = await run('packages', 'floor');
    if (floor.bad.length > 0) throw new Error(`floor requests answered wrong: ${floor.bad.join(' | ')}`);
    await context.close();
    const how = `median (p95 alongside) of ${SAMPLES} sequential requests after ${WARMUP} warm-up, page fetch → parsed JSON, one warm root worker, devnet of ${head + 1} blocks synced into IndexedDB, every answer checked`;
    const figures: Figure[] = [
      figure(`graphql: explorer blocks(first: ${PAGE}) with headers, p50 (root service worker)`, 'chromium', percentile(blocks.ms, 50), 'ms', { op: '<=', value: 5, text: '≤ 5 ms' }, how),
      figure(`graphql: explorer blocks(first: ${PAGE}) with headers, p95 (root service worker)`, 'chromium', percentile(blocks.ms, 95), 'ms', undefined, how),
      figure('graphql: producers { name } nextProducers { name }, p50 (root service worker)', 'chromium', percentile(producers.ms, 50), 'ms', undefined, how),
      figure('root service worker round trip without chain reads (GET /_svc/packages/schema, 404), p50', 'chromium', percentile(floor.ms, 50), 'ms', undefined, how.replace('every answer checked', 'the floor under the figures above')),
    ];
    return figures;
  } finally {
    await browser.close();
    await peer.dispose();
  }
};

export default bench;

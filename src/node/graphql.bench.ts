/**
 * GraphQL reads in the Node peer (issue 14's target: a typical table query, first: 20,
 * p50 ≤ 2 ms): a devnet on lmdb (the Node peer's store) with BLOCKS blocks, queried
 * in-process through the Router as the Node server hands it requests (a fetch Request
 * in, the JSON answer read out). Each figure is the median of SAMPLES timed requests
 * after WARMUP untimed ones; every answer is parsed and checked (20 edges, ascending
 * block numbers from the requested start, no `errors`). The clock spans router.handle
 * and reading the body. Run alone: `npx tsx test/bench.ts graphql`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { Chain } from '../chain/executor.ts';
import { Router } from '../http/router.ts';
import { LmdbStore } from '../state/lmdb-store.ts';
import { StateDb } from '../state/state-db.ts';
import { bootDevnet, loadDevnet } from './devnet.ts';

const ROOT = 'psiweb.localhost';
const T0 = 1_700_000_000_000_000n;
const BLOCKS = 120;
const PAGE = 20;
const WARMUP = 50;
const SAMPLES = 400;
const TARGET = { op: '<=' as const, value: 2, text: '≤ 2 ms' };

const BLOCKS_QUERY = (ge: number) =>
  `query { blocks(first: ${PAGE} ge: ${ge}) { edges { cursor node { header { blockNum previous time producer term commitNum } } } pageInfo { hasNextPage endCursor } } }`;
const PRODUCERS_QUERY = 'query { producers { name } nextProducers { name } }';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(router: Router, service: string, query: (i: number) => string, check: (data: any, i: number) => void): Promise<number> {
  const host = `${service}.${ROOT}`;
  const one = async (i: number) => {
    const body = JSON.stringify({ query: query(i) });
    const t0 = performance.now();
    const res = await router.handle(new Request(`http://${host}/graphql`, { method: 'POST', body, headers: { host, 'content-type': 'application/json' } }));
    const json = (await res.json()) as { data?: unknown; errors?: unknown };
    const ms = performance.now() - t0;
    if (res.status !== 200 || json.errors !== undefined) throw new Error(`bench query failed: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    check(json.data, i);
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await one(i);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) samples.push(await one(i));
  return median(samples);
}

const bench: BenchFile = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'psiweb-graphql-bench-'));
  try {
    const devnet = await loadDevnet();
    const store = LmdbStore.open(dir);
    const state = new StateDb(store);
    const chain = await Chain.open({ state, nativeVerifiers: devnet.nativeVerifiers });
    await bootDevnet(chain, devnet, T0);
    for (let i = 0; i < BLOCKS; i++) await chain.produceBlock({ producer: devnet.producer, prover: devnet.prover });
    const router = new Router({ rootHost: ROOT, chain });
    const first = chain.head!.num - BLOCKS;
    // Pages start at different blocks, so no answer is a copy of the last one.
    const start = (i: number) => first + (i % (BLOCKS - PAGE));

    const blocksMs = await time(
      router,
      'explorer',
      (i) => BLOCKS_QUERY(start(i)),
      (data, i) => {
        const edges = data.blocks.edges as { node: { header: { blockNum: number; producer: string } } }[];
        if (edges.length !== PAGE) throw new Error(`expected ${PAGE} edges, got ${edges.length}`);
        edges.forEach((e, k) => {
          if (e.node.header.blockNum !== start(i) + k || e.node.header.producer !== 'prod') throw new Error(`unexpected edge ${k}: ${JSON.stringify(e)}`);
        });
      },
    );
    const producersMs = await time(
      router,
      'producers',
      () => PRODUCERS_QUERY,
      (data) => {
        if (data.producers[0]?.name !== 'prod' || data.nextProducers.length !== 0) throw new Error(`unexpected producers ${JSON.stringify(data)}`);
      },
    );
    await store.close();
    const how = `median of ${SAMPLES} requests after ${WARMUP} warm-up, in-process through Router.handle (request → parsed JSON), devnet on lmdb with ${BLOCKS + 1} blocks, every answer checked`;
    const figures: Figure[] = [
      figure(`graphql: explorer blocks(first: ${PAGE}) with headers, p50 (Node peer)`, 'node', blocksMs, 'ms', TARGET, how),
      figure('graphql: producers { name } nextProducers { name }, p50 (Node peer)', 'node', producersMs, 'ms', undefined, how),
    ];
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;

/**
 * The Node peer serving queries: `GET tokens.<root>/balances/alice` with 50 requests in
 * flight over loopback keep-alive connections, against a `psiweb start` in its own
 * process (so client and server each have a core), and the same query through the
 * router in-process (no sockets), which is what a request costs the node itself.
 *
 * Signed token transfers per second on the real AssemblyScript services are measured
 * by the chain benchmark: `PSIWEB_CHAIN_BENCH=as npm run bench -- chain`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { measure, percentile } from '../../test/measure.ts';
import { Chain } from '../chain/executor.ts';
import { Router } from '../http/router.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { fetchNode, serviceUrl } from './client.ts';
import { bootDevnet, loadDevnet } from './devnet.ts';

const CONCURRENCY = 50;
const WARMUP_MS = 1000;
const RUN_MS = 4000;
const QUERY = '/balances/alice';

async function startNode(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/psiweb.ts', 'start', '--port', '0', '--data', dataDir, '--dist', join(dataDir, 'no-dist')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const m = output.match(/serving (http:\/\/[^\s]+?)\/ /);
    if (m) return { url: m[1]!, stop: () => (proc.kill('SIGTERM'), exited) };
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`psiweb start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Keeps `CONCURRENCY` requests in flight for `ms`; returns completions and latencies. */
async function load(url: string, agent: Agent, ms: number): Promise<{ count: number; latencies: number[]; elapsed: number }> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      const res = await fetchNode(url, { agent });
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${res.text().slice(0, 200)}`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { count: latencies.length, latencies, elapsed: performance.now() - t0 };
}

const bench: BenchFile = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'psiweb-node-bench-'));
  const figures: Figure[] = [];
  try {
    // Build the services here, once, rather than inside the node's start-up.
    const devnet = await loadDevnet();

    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const node = await startNode(dataDir);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    try {
      const url = serviceUrl(node.url, 'tokens', QUERY);
      await load(url, agent, WARMUP_MS);
      const r = await load(url, agent, RUN_MS);
      figures.push(
        figure(`node: HTTP queries/s, GET ${QUERY} on tokens, ${CONCURRENCY} concurrent over loopback (psiweb start, lmdb)`, 'node', (r.count / r.elapsed) * 1000, '/s'),
        figure(`node: HTTP query latency p50, ${CONCURRENCY} concurrent`, 'node', percentile(r.latencies, 50), 'ms'),
        figure(`node: HTTP query latency p99, ${CONCURRENCY} concurrent`, 'node', percentile(r.latencies, 99), 'ms'),
      );
    } finally {
      agent.destroy();
      await node.stop();
    }

    // The same query without sockets: the router on an in-memory devnet.
    const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
    await bootDevnet(chain, devnet, BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n);
    const router = new Router({ rootHost: 'psiweb.localhost', chain });
    const request = () => new Request(`http://tokens.psiweb.localhost${QUERY}`, { headers: { host: 'tokens.psiweb.localhost' } });
    const probe = await router.handle(request());
    if (probe.status !== 200) throw new Error(`router answered ${probe.status}: ${(await probe.text()).slice(0, 200)}`);
    const m = await measure(async () => (await router.handle(request())).arrayBuffer(), { isAsync: true, minMs: 2000 });
    figures.push(figure(`node: router queries/s in-process, GET ${QUERY} (no sockets, memory store)`, 'node', m.opsPerSec, '/s'));
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;

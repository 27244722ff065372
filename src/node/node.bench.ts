/**
 * The Node peer, against a `psiweb start` in its own process (so client and server
 * each have a core), over loopback:
 *
 *  - `GET tokens.<root>/balances/alice` with 50 requests in flight on keep-alive
 *    connections, and the same query through the router in-process (no sockets), which
 *    is what a request costs the node itself;
 *  - the same GETs again after a soak of 10,000 varied requests (paths, headers up to
 *    ~16 KB, bodies): a node must serve as fast after any request mix as before it
 *    (issue 8: grown wasm memories once filled the host's pool for good);
 *  - signed alice → bob transfers pushed to `transact.<root>/push_transaction`, 2,000 in
 *    flight (2,000 warm-up and 16,000 measured, each answer letting the next one go), each answered with its
 *    trace once applied; every one must succeed and the balances must move by exactly
 *    the amount sent.
 *
 * Every timed answer is checked (status and body), so a fast wrong answer cannot pass.
 * PSIWEB_BENCH_PROFILE=DIR runs the node with `--cpu-prof` into DIR; PSIWEB_BENCH_PUSH_ONLY=1
 * measures only the pushes; PSIWEB_BENCH_GET_ONLY=1 only the GETs before the soak.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
import { signedTransfer } from './browser/tx.ts';
import { spawnPsiwebStart, type SpawnedNode } from './testing/spawn-start.ts';
import { RawConnection, rawRequest } from '../../test/raw-http.ts';
import { ran } from './testing/node-client.ts';

const CONCURRENCY = 50;
/** Long enough for V8 to have optimized the query path, so before and after compare like with like. */
const WARMUP_MS = 4000;
const RUN_MS = 3000;
const QUERY = '/balances/alice';
const SOAK_REQUESTS = 10_000;
/** Node's default limit on a request's whole header block is 16 KiB. */
const SOAK_MAX_HEADER = 15_500;
const SOAK_MAX_BODY = 64 * 1024;
const PUSH_IN_FLIGHT = 2000;
/** Eight rounds of what is in flight, so the figure covers block cadence rather than one block's wait. */
const PUSH_TOTAL = 16_000;
const PUSH_WARMUP = 2000;
/** New push connections waiting for their first answer at any time (see push). */
const PUSH_OPENING = 2000;

/**
 * Keep-alive sockets that the client drops after 3 s idle: the server closes them after
 * 5 s, and a socket reused just as the server closes it fails the request (ECONNRESET).
 */
function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, timeout: 3000 });
}

function startNode(dataDir: string): Promise<SpawnedNode> {
  const profile = process.env.PSIWEB_BENCH_PROFILE;
  return spawnPsiwebStart(dataDir, { nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [] });
}

/** Keeps `CONCURRENCY` requests in flight for `ms`, each answer checked; returns completions and latencies. */
async function load(url: string, agent: Agent, ms: number, expected: string): Promise<{ count: number; latencies: number[]; elapsed: number }> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      const res = await fetchNode(url, { agent });
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${res.text().slice(0, 200)}`);
      if (res.text() !== expected) throw new Error(`${url} answered ${res.text().slice(0, 200)}, expected ${expected}`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { count: latencies.length, latencies, elapsed: performance.now() - t0 };
}

/** The node's query cache counters (src/http/query-cache.ts), from its /native/query-cache. */
async function queryCacheStats(rootUrl: string): Promise<{ hits: number; misses: number; clears: number; entries: number; bytes: number }> {
  const res = await fetchNode(new URL('/native/query-cache', rootUrl).href);
  if (res.status !== 200) throw new Error(`/native/query-cache answered ${res.status}: ${res.text().slice(0, 200)}`);
  return JSON.parse(res.text()) as { hits: number; misses: number; clears: number; entries: number; bytes: number };
}

/**
 * GET throughput: the best of `runs` runs after a warm-up; over all the measured runs
 * together, the node's CPU (all threads, /proc) and this process's per answer, and the
 * node's query cache hit rate.
 */
async function throughput(url: string, agent: Agent, expected: string, runs: number, warmUpMs: number, node: { url: string; pid: number | undefined }) {
  await load(url, agent, warmUpMs, expected);
  let best: Awaited<ReturnType<typeof load>> | undefined;
  let total = 0;
  const cache0 = await queryCacheStats(node.url);
  const nodeCpu0 = cpuSeconds(node.pid);
  const clientCpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const r = await load(url, agent, RUN_MS, expected);
    total += r.count;
    if (!best || r.count / r.elapsed > best.count / best.elapsed) best = r;
  }
  const clientCpu = process.cpuUsage(clientCpu0);
  const nodeCpuUsPerGet = ((cpuSeconds(node.pid) - nodeCpu0) * 1e6) / total;
  const cache = await queryCacheStats(node.url);
  const hits = cache.hits - cache0.hits;
  const looked = hits + cache.misses - cache0.misses;
  return {
    ...best!,
    perSec: (best!.count / best!.elapsed) * 1000,
    nodeCpuUsPerGet,
    clientCpuUsPerGet: (clientCpu.user + clientCpu.system) / total,
    hitRate: looked === 0 ? 0 : hits / looked,
    cacheClears: cache.clears - cache0.clears,
  };
}

/** A small seeded generator, so every run sends the same mix. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * `count` varied requests, CONCURRENCY at a time: queries of several services and
 * paths, headers from nothing to ~16 KB, POSTs with bodies up to 64 KB. None may
 * break the node (a 5xx); what they answer otherwise is up to the services.
 */
async function soak(rootUrl: string, agent: Agent, count: number): Promise<Map<number, number>> {
  const rand = random(8);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const targets = [
    ['tokens', '/balances/alice'],
    ['tokens', '/balances/bob'],
    ['tokens', '/balances/nobody'],
    ['tokens', '/'],
    ['tokens', '/no/such/path'],
    ['common-api', '/common/tapos/head'],
    ['sites', '/index.html'],
    ['transact', '/push_transaction'],
  ] as const;
  const requests = Array.from({ length: count }, () => {
    const [service, path] = pick(targets);
    const headerBytes = Math.floor(rand() ** 2 * SOAK_MAX_HEADER);
    const body = rand() < 0.3 ? new Uint8Array(Math.floor(rand() * SOAK_MAX_BODY)).fill(0x61) : undefined;
    return { url: serviceUrl(rootUrl, service, path), headerBytes, body };
  });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const { url, headerBytes, body } = requests[next++]!;
      const headers: Record<string, string> = headerBytes > 0 ? { 'x-padding': 'p'.repeat(headerBytes) } : {};
      if (body) headers['content-type'] = 'application/octet-stream';
      const res = await fetchNode(url, { agent, headers, ...(body && { method: 'POST', body }) });
      if (res.status >= 500) throw new Error(`soak: ${url} answered ${res.status}: ${res.text().slice(0, 200)}`);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return statuses;
}

async function balance(rootUrl: string, account: string): Promise<bigint> {
  const res = await fetchNode(serviceUrl(rootUrl, 'tokens', `/balances/${account}`));
  if (res.status !== 200) throw new Error(`balance of ${account}: ${res.status} ${res.text()}`);
  return BigInt((res.json() as { balance: string }).balance);
}

/** `count` signed alice → bob transfers of one token, packed SignedTransactions. */
async function transfers(rootUrl: string, count: number, tag: string): Promise<Uint8Array[]> {
  const res = await fetchNode(`${rootUrl}/common/tapos/head`);
  if (res.status !== 200) throw new Error(`tapos: ${res.status} ${res.text()}`);
  const tapos = res.json() as { refBlockIndex: number; refBlockSuffix: number };
  const expiration = BigInt(Math.floor(Date.now() / 1000) + 120);
  return Promise.all(Array.from({ length: count }, (_, i) => signedTransfer({ from: 'alice', to: 'bob', amount: '1', memo: `${tag} ${i}`, tapos, expiration })));
}

interface TraceJson {
  error?: string | null;
  actionTraces?: unknown[];
}

/**
 * Pushes `trxs` with at most `inFlight` unanswered at any time, each answer letting the
 * next one go, so no connection ever sits idle. At most PUSH_OPENING connections are
 * new (their first push unanswered) at a time: the node's accept queue (listen backlog
 * 4,096, the kernel's somaxconn here) must hold them all while it is busy, or the
 * kernel resets the connections it could not queue. The rate counts the answers from when the
 * push at `measureFrom` is sent with all `inFlight` connections open until the last
 * push is sent: a stretch during which exactly `inFlight` pushes are in flight.
 */
/** The pid of the node serving `dataDir` (its command line names the directory), if found. */
function nodePid(dataDir: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('start') && args.includes(dataDir)) return Number(entry);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return undefined;
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux): every
 * thread's, or with `mainThread` only its main thread's (where JavaScript runs).
 */
function cpuSeconds(pid: number | undefined, mainThread = false): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** What `push` measured: answers a second, and the node's CPU per answer over the same stretch. */
interface PushRate {
  perSec: number;
  cpuMsPerPush: number;
  /** The node's main thread's share of that. */
  mainMsPerPush: number;
  /** The same for this process, the load generator. */
  clientCpuMsPerPush: number;
}

async function push(rootUrl: string, trxs: Uint8Array[], inFlight: number, measureFrom: number, pid?: number): Promise<PushRate> {
  const target = new URL(serviceUrl(rootUrl, 'transact', '/push_transaction?wait_for=applied'));
  const port = Number(target.port);
  const headers = { 'Content-Type': 'application/octet-stream', Accept: 'application/json' };
  const requests = trxs.map((t) => rawRequest('POST', target.host, target.pathname + target.search, headers, t));
  const workers = Math.min(inFlight, trxs.length);
  const answered: number[] = [];
  const connections: RawConnection[] = [];
  let next = 0;
  let started = 0;
  let from = Infinity;
  let to = Infinity;
  let opening = 0;
  let cpuFrom = NaN;
  let cpuTo = NaN;
  let mainFrom = NaN;
  let mainTo = NaN;
  let clientFrom: NodeJS.CpuUsage | undefined;
  let clientUsed: NodeJS.CpuUsage | undefined;
  const waiting: (() => void)[] = [];
  const worker = async () => {
    if (opening >= PUSH_OPENING) await new Promise<void>((r) => waiting.push(r));
    opening++;
    started++;
    const connection = await RawConnection.open(port);
    connections.push(connection);
    let first = true;
    while (next < trxs.length) {
      const i = next++;
      if (i >= measureFrom && started === workers && from === Infinity) {
        from = performance.now();
        cpuFrom = cpuSeconds(pid);
        mainFrom = cpuSeconds(pid, true);
        clientFrom = process.cpuUsage();
      }
      if (next === trxs.length) {
        to = performance.now();
        cpuTo = cpuSeconds(pid);
        mainTo = cpuSeconds(pid, true);
        clientUsed = process.cpuUsage(clientFrom);
      }
      const res = await connection.send(requests[i]!);
      if (res.status !== 200) throw new Error(`push ${i}: ${res.status} ${res.body.toString('utf8', 0, 200)}`);
      const trace = JSON.parse(res.body.toString('utf8')) as TraceJson;
      if (trace.error) throw new Error(`push ${i} failed: ${trace.error}`);
      if (!ran(trace.actionTraces, 'tokens', 'transfer')) throw new Error(`push ${i}: the trace has no tokens::transfer: ${JSON.stringify(trace).slice(0, 300)}`);
      answered.push(performance.now());
      if (first) {
        first = false;
        opening--;
        waiting.shift()?.();
      }
    }
    // Nothing was left to push: let the next one find that out too.
    if (first) {
      opening--;
      waiting.shift()?.();
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    for (const c of connections) c.close();
  }
  const counted = answered.filter((t) => t > from && t <= to).length;
  return {
    perSec: to > from ? (counted / (to - from)) * 1000 : NaN,
    cpuMsPerPush: ((cpuTo - cpuFrom) * 1000) / counted,
    mainMsPerPush: ((mainTo - mainFrom) * 1000) / counted,
    clientCpuMsPerPush: clientUsed ? (clientUsed.user + clientUsed.system) / 1000 / counted : NaN,
  };
}

async function pushBench(rootUrl: string, pid: number | undefined): Promise<Figure[]> {
  {
    const alice = await balance(rootUrl, 'alice');
    const bob = await balance(rootUrl, 'bob');
    // The warm-up (the transfer path compiled and optimized, the connections opened)
    // runs straight on into the measured pushes.
    const trxs = [...(await transfers(rootUrl, PUSH_WARMUP, 'warm-up')), ...(await transfers(rootUrl, PUSH_TOTAL, 'run'))];
    const { perSec, cpuMsPerPush, mainMsPerPush, clientCpuMsPerPush } = await push(rootUrl, trxs, PUSH_IN_FLIGHT, PUSH_WARMUP, pid);
    const sent = BigInt(trxs.length);
    // Queries read committed state; a transaction applied in the block being built is
    // there once that block commits (the next interval boundary).
    let moved: [bigint, bigint] = [0n, 0n];
    for (const deadline = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 100))) {
      moved = [alice - (await balance(rootUrl, 'alice')), (await balance(rootUrl, 'bob')) - bob];
      if ((moved[0] === sent && moved[1] === sent) || Date.now() > deadline) break;
    }
    if (moved[0] !== sent || moved[1] !== sent) throw new Error(`balances moved by ${moved[0]} (alice) and ${moved[1]} (bob), expected ${sent}`);
    return [
      figure(
        `node: pushed transfers over HTTP, ${PUSH_IN_FLIGHT.toLocaleString('en-US')} in flight, applied/s`,
        'node',
        perSec,
        '/s',
        { op: '>=', value: 2500, text: '≥ 2,500/s' },
        `${PUSH_TOTAL.toLocaleString('en-US')} signed alice→bob transfers (pre-signed, P-256), ${PUSH_IN_FLIGHT.toLocaleString('en-US')} unanswered at a time on keep-alive sockets (a lean raw-socket client, test/raw-http.ts, so the load generator takes less of the 2 cores; opened ${PUSH_OPENING} at a time by at least ${PUSH_WARMUP.toLocaleString('en-US')} warm-up pushes that run straight on into the measured ones), wait_for=applied, to psiweb start (lmdb, 1 s blocks); answers counted from the first measured push with all connections open until the last push is sent, one run; every trace checked for tokens::transfer and no error, balances moved by exactly the number sent`,
      ),
      figure(
        `node: node CPU per pushed transfer, ${PUSH_IN_FLIGHT.toLocaleString('en-US')} in flight`,
        'node',
        cpuMsPerPush,
        'ms',
        undefined,
        'user + system CPU of the psiweb start process (all its threads, /proc/PID/stat) over the stretch the figure above counts, divided by the answers counted there: what a push costs the node, whatever else shares the cores',
      ),
      figure(
        `node: node main thread CPU per pushed transfer, ${PUSH_IN_FLIGHT.toLocaleString('en-US')} in flight`,
        'node',
        mainMsPerPush,
        'ms',
        undefined,
        'as above, the main thread only (/proc/PID/task/PID/stat): JavaScript and wasm run there, so this bounds the rate at 1000/x per second; proofs are checked on the thread pool',
      ),
      figure(
        `node: load generator CPU per pushed transfer, ${PUSH_IN_FLIGHT.toLocaleString('en-US')} in flight`,
        'node',
        clientCpuMsPerPush,
        'ms',
        undefined,
        'user + system CPU of the bench process (the raw-socket client: sending, reading and checking each JSON trace) over the same stretch, per answer: with the node it shares the 2 cores, so the two together bound the rate'      ),
    ];
  }
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
    const agent = keepAliveAgent(CONCURRENCY);
    try {
      if (process.env.PSIWEB_BENCH_PUSH_ONLY) return await pushBench(node.url, nodePid(dataDir));
      const url = serviceUrl(node.url, 'tokens', QUERY);
      const expected = JSON.stringify({ account: 'alice', balance: String(await balance(node.url, 'alice')) });
      const target = { url: node.url, pid: nodePid(dataDir) };
      const before = await throughput(url, agent, expected, 3, WARMUP_MS, target);
      figures.push(
        figure(
          `node: HTTP queries/s, GET ${QUERY} on tokens, ${CONCURRENCY} concurrent over loopback (psiweb start, lmdb)`,
          'node',
          before.perSec,
          '/s',
          { op: '>=', value: 10_000, text: '≥ 10,000/s' },
          `best of 3 × ${RUN_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up; every answer checked (200, alice's balance); the node keeps answers per (state, request) (src/http/query-cache.ts), the load generator shares the 2 cores`,
        ),
        figure(`node: HTTP query latency p50, ${CONCURRENCY} concurrent`, 'node', percentile(before.latencies, 50), 'ms'),
        figure(`node: HTTP query latency p99, ${CONCURRENCY} concurrent`, 'node', percentile(before.latencies, 99), 'ms'),
        figure(`node: query cache hit rate, GET ${QUERY}`, 'node', before.hitRate, '×', undefined, `the node's /native/query-cache counters over the 3 measured runs (${before.cacheClears} clears: blocks committed meanwhile)`),
        figure(`node: node CPU per GET ${QUERY}`, 'node', before.nodeCpuUsPerGet, 'µs', undefined, 'user + system CPU of the psiweb start process (all threads, /proc/PID/stat) over the 3 measured runs, divided by the answers in them'),
        figure(`node: load generator CPU per GET ${QUERY}`, 'node', before.clientCpuUsPerGet, 'µs', undefined, 'user + system CPU of the bench process (node:http client, answer checks) over the same runs, per answer'),
      );
      if (process.env.PSIWEB_BENCH_GET_ONLY) return figures;
      await soak(node.url, agent, SOAK_REQUESTS);
      const after = await throughput(url, agent, expected, 3, WARMUP_MS, target);
      figures.push(
        figure(`node: HTTP queries/s, GET ${QUERY}, after ${SOAK_REQUESTS.toLocaleString('en-US')} varied requests`, 'node', after.perSec, '/s', undefined, `measured as before the soak`),
        figure(`node: GET throughput after soak / before`, 'node', after.perSec / before.perSec, '×', { op: '>=', value: 0.9, text: '≥ 0.9' }, `${SOAK_REQUESTS.toLocaleString('en-US')} seeded requests, ${CONCURRENCY} in flight: 8 paths on tokens, common-api, sites and transact, headers of 0–${SOAK_MAX_HEADER.toLocaleString('en-US')} bytes, 30% POSTs with bodies of 0–64 KiB; none may answer 5xx`),
      );
      figures.push(...(await pushBench(node.url, nodePid(dataDir))));
    } finally {
      agent.destroy();
      await node.stop();
    }

    // The same query without sockets: the router on an in-memory devnet.
    const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
    await bootDevnet(chain, devnet, BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n);
    const router = new Router({ rootHost: 'psiweb.localhost', chain });
    const request = () => new Request(`http://tokens.psiweb.localhost${QUERY}`, { headers: { host: 'tokens.psiweb.localhost' } });
    const answer = async () => {
      const res = await router.handle(request());
      const text = await res.text();
      if (res.status !== 200 || !text.startsWith('{"account":"alice","balance":"')) throw new Error(`router answered ${res.status}: ${text.slice(0, 200)}`);
    };
    const m = await measure(answer, { isAsync: true, minMs: 2000 });
    figures.push(figure(`node: router queries/s in-process, GET ${QUERY} (no sockets, memory store)`, 'node', m.opsPerSec, '/s'));
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;

/**
 * A node that joins late (issue 9 §4): four BFT `psiweb start` producers build a chain
 * at a short block interval, with signed transfers along the way; then three of them
 * stop, so the fourth's head stays put (nothing finalises with one of four), and a fresh
 * follower (empty data directory, `--follow --peer`) syncs it from that producer. Used by
 * late-join.process.test.ts and consensus-net.bench.ts (PSIWEB_BENCH_CONSENSUS=catchup).
 */
import { join } from 'node:path';
import { fetchNode, serviceUrl } from '../client.ts';
import { signedTransfer } from '../browser/tx.ts';
import { spawnPsiwebStart, type SpawnedNode } from './spawn-start.ts';
import { balanceAt, nodeStatus, until } from './node-client.ts';

export interface BuiltChain {
  /** The producer left running (a), its head fixed. */
  producer: SpawnedNode;
  /** Every process started (for cleanup). */
  started: SpawnedNode[];
  head: { num: number; id: string };
  transfers: number;
  buildMs: number;
}

/** Four BFT producers at `intervalMs` until `blocks` are irreversible, a transfer every `blocks / transfers` blocks; then b, c, d stop. */
export async function buildChain(dir: string, options: { blocks: number; intervalMs: number; transfers: number; timeoutMs: number }): Promise<BuiltChain> {
  const args = ['--block-interval-ms', String(options.intervalMs)];
  const started: SpawnedNode[] = [];
  const t0 = performance.now();
  const a = await spawnPsiwebStart(join(dir, 'a'), { startArgs: [...args, '--producers', 'a,b,c,d', '--mode', 'bft'] });
  started.push(a);
  for (const name of ['b', 'c', 'd']) started.push(await spawnPsiwebStart(join(dir, name), { startArgs: [...args, '--producer', name, '--peer', a.url] }));
  let transfers = 0;
  const every = Math.max(1, Math.floor(options.blocks / (options.transfers + 1)));
  await until(
    `${options.blocks} blocks irreversible`,
    async () => {
      const s = await nodeStatus(a.url);
      if (transfers < options.transfers && s.head.num >= (transfers + 1) * every) {
        await push(started[transfers % started.length]!, `late join ${transfers}`);
        transfers++;
      }
      return s.irreversible.num >= options.blocks && transfers >= options.transfers;
    },
    options.timeoutMs,
    100,
  );
  for (const n of started.slice(1)) await n.stop();
  // One producer of four finalises nothing and leads no view: its head stays put.
  let head = (await nodeStatus(a.url)).head;
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = (await nodeStatus(a.url)).head;
    if (now.id === head.id) break;
    head = now;
  }
  return { producer: a, started, head, transfers, buildMs: performance.now() - t0 };
}

/** A signed alice → bob transfer of 1, pushed to `n` and waited for until final. */
async function push(n: SpawnedNode, memo: string): Promise<void> {
  const tapos = (await fetchNode(`${n.url}/common/tapos/head`)).json() as { refBlockIndex: number; refBlockSuffix: number };
  const trx = await signedTransfer({ from: 'alice', to: 'bob', amount: '1', memo, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
  const res = await fetchNode(serviceUrl(n.url, 'transact', '/push_transaction?wait_for=final'), { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: trx, timeoutMs: 30_000 });
  if (res.status !== 200) throw new Error(`push to ${n.url}: ${res.status} ${res.text().slice(0, 300)}`);
  const trace = res.json() as { error?: string | null };
  if (trace.error) throw new Error(`push failed: ${trace.error}`);
}

/** How often the late node's head is asked for while it syncs. */
const STATUS_POLL_MS = 50;

export interface Joined {
  follower: SpawnedNode;
  /** From the follower serving (it dials its peer then) to its head equal to the producer's, ms. */
  syncMs: number;
  /** From spawning the follower process to it serving, ms. */
  spawnMs: number;
}

/** A fresh follower of `chain.producer`, timed until its head is the producer's head; throws if its head block or balances differ. */
export async function joinLate(dir: string, chain: BuiltChain, options: { timeoutMs: number; nodeArgs?: string[] }): Promise<Joined> {
  const t0 = performance.now();
  const follower = await spawnPsiwebStart(join(dir, 'late'), { startArgs: ['--follow', '--peer', chain.producer.url], ...(options.nodeArgs && { nodeArgs: options.nodeArgs }) });
  chain.started.push(follower);
  const t1 = performance.now();
  // Asked every 50 ms: at most 50 ms late on a sync of several seconds, where asking every
  // 10 ms took ~7 % of the follower's time (its profile) from the sync being timed.
  await until(`the late node at block ${chain.head.num}`, async () => (await nodeStatus(follower.url)).head.num >= chain.head.num, options.timeoutMs, STATUS_POLL_MS);
  const t2 = performance.now();
  const s = await nodeStatus(follower.url);
  if (s.head.num !== chain.head.num || s.head.id !== chain.head.id) throw new Error(`the late node's head ${s.head.num} ${s.head.id} is not the producer's ${chain.head.num} ${chain.head.id}`);
  for (const account of ['alice', 'bob']) {
    const [mine, theirs] = await Promise.all([balanceAt(follower.url, account), balanceAt(chain.producer.url, account)]);
    if (mine !== theirs) throw new Error(`${account}'s balance on the late node is ${mine}, on the producer ${theirs}`);
  }
  return { follower, syncMs: t2 - t1, spawnMs: t1 - t0 };
}

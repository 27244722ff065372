/**
 * Several `psiweb start` processes, one chain, on loopback (issue 9's scenarios):
 * producers booted with --producers and joined with --producer/--peer agree by BFT or
 * CFT consensus over psibase's peer protocol; transfers pushed to different nodes apply
 * identically everywhere; losing the leader, losing too many, and coming back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchNode, serviceUrl } from './client.ts';
import { loadDevnet } from './devnet.ts';
import { signedTransfer } from './browser/tx.ts';
import { spawnPsiwebStart, type SpawnedNode } from './testing/spawn-start.ts';
import { balanceAt, headProducer, nodeStatus, until as untilHolds } from './testing/node-client.ts';

const BUILD_TIMEOUT_MS = 300_000;
const INTERVAL_MS = '200';

let dir: string;
const started: SpawnedNode[] = [];
beforeAll(async () => {
  await loadDevnet(); // builds the services once, before any node needs them
  dir = mkdtempSync(join(tmpdir(), 'psiweb-consensus-'));
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await Promise.all(started.map((n) => n.kill()));
  rmSync(dir, { recursive: true, force: true });
});

const status = (n: SpawnedNode) => nodeStatus(n.url);
/** Generous: under the full suite this machine's 2 cores are shared with every other test file. */
const until = (what: string, ok: () => Promise<boolean>, ms = 90_000) => untilHolds(what, ok, ms, 100);
const balance = (n: SpawnedNode, account: string) => balanceAt(n.url, account);

async function start(name: string, args: string[]): Promise<SpawnedNode> {
  const n = await spawnPsiwebStart(join(dir, name), { startArgs: ['--block-interval-ms', INTERVAL_MS, ...args] });
  started.push(n);
  return n;
}

async function push(n: SpawnedNode, amount: string, memo: string): Promise<void> {
  const tapos = (await fetchNode(`${n.url}/common/tapos/head`)).json() as { refBlockIndex: number; refBlockSuffix: number };
  const trx = await signedTransfer({ from: 'alice', to: 'bob', amount, memo, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
  const res = await fetchNode(serviceUrl(n.url, 'transact', '/push_transaction?wait_for=final'), { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: trx, timeoutMs: 30_000 });
  if (res.status !== 200) throw new Error(`push to ${n.url}: ${res.status} ${res.text().slice(0, 300)}`);
  const trace = res.json() as { error?: string | null };
  if (trace.error) throw new Error(`push failed: ${trace.error}`);
}

describe('four psiweb start processes', () => {
  it('bft: one chain; transfers pushed to different nodes apply everywhere; the leader killed, blocks go on; two of four killed, nothing finalises until one restarts', async () => {
    const a = await start('bft-a', ['--producers', 'a,b,c,d', '--mode', 'bft']);
    const nodes = new Map<string, SpawnedNode>([['a', a]]);
    for (const name of ['b', 'c', 'd']) nodes.set(name, await start(`bft-${name}`, ['--producer', name, '--peer', a.url]));
    const all = () => [...nodes.values()];
    await until('every node finalising', async () => (await Promise.all(all().map(status))).every((s) => s.irreversible.num >= 5 && s.consensus === 'bft'));
    const bob0 = await balance(a, 'bob');
    await push(nodes.get('b')!, '5', 'to b');
    await push(nodes.get('d')!, '6', 'to d');
    await until('both transfers on every node', async () => (await Promise.all(all().map((n) => balance(n, 'bob')))).every((b) => b === bob0 + 11n));

    // The leader's process dies; the other three go on and finalise again.
    const leader = await headProducer(a.url);
    await nodes.get(leader)!.kill();
    nodes.delete(leader);
    const mark = Math.max(...(await Promise.all(all().map(status))).map((s) => s.irreversible.num));
    await until('finalising without the old leader', async () => (await Promise.all(all().map(status))).every((s) => s.irreversible.num >= mark + 3));
    // A second one dies: two of four cannot finalise.
    const [second, secondNode] = [...nodes][0]!;
    await secondNode.kill();
    nodes.delete(second);
    await new Promise((r) => setTimeout(r, 1_000));
    const stalled = Math.max(...(await Promise.all(all().map(status))).map((s) => s.irreversible.num));
    await new Promise((r) => setTimeout(r, 2_000));
    expect(Math.max(...(await Promise.all(all().map(status))).map((s) => s.irreversible.num))).toBe(stalled);
    // It restarts on its data: finalising resumes.
    const peer = all()[0]!.url;
    nodes.set(second, await start(`bft-${second}`, ['--producer', second, '--peer', peer]));
    await until('finalising again after a restart', async () => (await Promise.all(all().map(status))).every((s) => s.irreversible.num >= stalled + 3));
    const heads = await Promise.all(all().map(async (n) => (await status(n)).irreversible));
    const lowest = Math.min(...heads.map((h) => h.num));
    expect(lowest).toBeGreaterThan(stalled);
  }, 420_000);

  it('cft: three producers survive losing the leader', async () => {
    const a = await start('cft-a', ['--producers', 'a,b,c', '--mode', 'cft']);
    const nodes = new Map<string, SpawnedNode>([['a', a]]);
    for (const name of ['b', 'c']) nodes.set(name, await start(`cft-${name}`, ['--producer', name, '--peer', a.url]));
    const all = () => [...nodes.values()];
    await until('every node finalising', async () => (await Promise.all(all().map(status))).every((s) => s.irreversible.num >= 5 && s.consensus === 'cft'));
    const leader = await headProducer(a.url);
    await nodes.get(leader)!.kill();
    nodes.delete(leader);
    const mark = Math.max(...(await Promise.all(all().map(status))).map((s) => s.irreversible.num));
    await until('finalising under a new leader', async () => (await Promise.all(all().map(status))).every((s) => s.irreversible.num >= mark + 3));
    const bob0 = await balance(all()[0]!, 'bob');
    await push(all()[1]!, '4', 'after the leader');
    await until('the transfer on both', async () => (await Promise.all(all().map((n) => balance(n, 'bob')))).every((b) => b === bob0 + 4n));
    // A follower joins late: consensus without a vote, synced from genesis to the same state.
    const follower = await start('cft-follower', ['--follow', '--peer', all()[0]!.url]);
    await until('the follower holding the transfer', async () => (await balance(follower, 'bob')) === bob0 + 4n);
    const s = await status(follower);
    expect(s.role).toBe('follower');
    expect(s.consensus).toBe('cft');
  }, 360_000);
});

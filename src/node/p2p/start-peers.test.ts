/**
 * `psiweb start` processes on loopback: a producer at 100 ms blocks, a follower started
 * with `--follow --peer URL` on an empty data directory, and one with `--follow --peer
 * MULTIADDR` (the producer's libp2p address from its /native/status). The followers take
 * the chain from the producer and keep up; all stop cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchNode } from '../client.ts';

const root = mkdtempSync(join(tmpdir(), 'psiweb-start-peers-'));
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Started {
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

async function psiwebStart(args: string[]): Promise<Started> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/psiweb.ts', 'start', '--port', '0', '--dist', join(root, 'no-dist'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = output.match(/serving (http:\/\/[^\s]+?)\/ /);
    if (m) return { url: m[1]!, output: () => output, stop: () => (proc.kill('SIGTERM'), exited) };
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`psiweb start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Status {
  chainId: string | null;
  role: string;
  head: { num: number; id: string } | null;
  peers: { id: number; transport: string; direction: string; url?: string; peerId?: string }[];
  libp2p: { peerId: string; addrs: string[] } | null;
}

const status = async (url: string) => JSON.parse((await fetchNode(`${url}/native/status`)).text()) as Status;

describe('psiweb start --follow --peer', () => {
  it('a follower process takes the chain from a producer process and keeps up', async () => {
    const producer = await psiwebStart(['--data', join(root, 'producer'), '--block-interval-ms', '100']);
    const followerDir = join(root, 'follower');
    const follower = await psiwebStart(['--data', followerDir, '--follow', '--peer', producer.url]);
    expect(follower.output()).toMatch(/as a follower/);
    const deadline = Date.now() + 30_000;
    let f: Status;
    let p: Status;
    for (;;) {
      [f, p] = await Promise.all([status(follower.url), status(producer.url)]);
      // Keeping up: within a few 100 ms blocks of the producer, which is still producing.
      if (f.head && p.head && f.head.num >= 20 && p.head.num - f.head.num <= 5) break;
      if (Date.now() > deadline) throw new Error(`the follower did not keep up: ${JSON.stringify({ f: f.head, p: p.head })}\n${follower.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(f.role).toBe('follower');
    expect(p.role).toBe('producer');
    expect(f.chainId).toBe(p.chainId);
    expect(f.peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'out', url: `${producer.url}/` })]);
    expect(p.peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'in' })]);
    // The producer's libp2p host, as its output and /native/status say.
    expect(p.libp2p!.addrs[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${p.libp2p!.peerId}$`));
    expect(producer.output()).toContain(`libp2p peer ${p.libp2p!.peerId} at ${p.libp2p!.addrs[0]}`);
    const viaLibp2p = await psiwebStart(['--data', join(root, 'libp2p-follower'), '--follow', '--peer', p.libp2p!.addrs[0]!]);
    let l: Status;
    for (;;) {
      [l, p] = await Promise.all([status(viaLibp2p.url), status(producer.url)]);
      if (l.head && p.head && l.head.num >= 20 && p.head.num - l.head.num <= 5) break;
      if (Date.now() > deadline + 30_000) throw new Error(`the libp2p follower did not keep up: ${JSON.stringify({ l: l.head, p: p.head })}\n${viaLibp2p.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(l.chainId).toBe(p.chainId);
    expect(l.peers).toEqual([expect.objectContaining({ transport: 'websocket', direction: 'out', peerId: p.libp2p!.peerId })]);
    expect(p.peers).toContainEqual(expect.objectContaining({ transport: 'websocket', direction: 'in', peerId: l.libp2p!.peerId }));
    expect(await viaLibp2p.stop()).toBe(0);
    // The follower recorded the chain it took in its data directory.
    expect((JSON.parse(readFileSync(join(followerDir, 'psiweb.json'), 'utf8')) as { chainId: string }).chainId.toUpperCase()).toBe(p.chainId);
    expect(await follower.stop()).toBe(0);
    expect(await producer.stop()).toBe(0);
  }, 120_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fetchNode } from '../client.ts';
import { devnetNodeArgs, parseDevnetArgs } from './devnet.ts';
import { UsageError } from './io.ts';

describe('psiweb devnet', () => {
  it('parses its options and refuses bad ones with a usage error', () => {
    expect(parseDevnetArgs(['--nodes', '4'])).toMatchObject({ nodes: 4, mode: 'bft', port: 8080, blockIntervalMs: 1000 });
    expect(parseDevnetArgs(['--nodes', '3', '--mode', 'cft', '--port', '9000'])).toMatchObject({ nodes: 3, mode: 'cft', port: 9000 });
    expect(() => parseDevnetArgs([])).toThrow(/--nodes N is required/);
    expect(() => parseDevnetArgs(['--nodes', '1'])).toThrow(UsageError);
    expect(() => parseDevnetArgs(['--nodes', '33'])).toThrow(/from 2 to 32/);
    expect(() => parseDevnetArgs(['--nodes', '4', '--mode', 'raft'])).toThrow(/--mode must be cft or bft/);
    expect(() => parseDevnetArgs(['--nodes', '4', '--port', '65534'])).toThrow(/room for 8 ports/);
    expect(() => parseDevnetArgs(['--nodes', '4', '--port', '65529'])).toThrow(/room for 8 ports/);
  });

  it('gives the first node the producer set and the others --producer and --peer on the next ports', () => {
    const nodes = devnetNodeArgs(parseDevnetArgs(['--nodes', '3', '--port', '9100', '--data', '/tmp/d']));
    expect(nodes.map((n) => n.name)).toEqual(['prod1', 'prod2', 'prod3']);
    expect(nodes[0]!.args).toEqual(expect.arrayContaining(['--port', '9100', '--producers', 'prod1,prod2,prod3', '--mode', 'bft']));
    expect(nodes[2]!.args).toEqual(expect.arrayContaining(['--port', '9102', '--producer', 'prod3', '--peer', 'http://psiweb.localhost:9100']));
    // libp2p on the ports after the HTTP ones, never on another node's HTTP port.
    expect(nodes.map((n) => n.args[n.args.indexOf('--libp2p-port') + 1])).toEqual(['9103', '9104', '9105']);
    expect(nodes[2]!.args.join(' ')).toContain(join('/tmp/d', 'prod3'));
  });

  it('runs three producers that agree on one chain, and stops them all on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-devnet-cli-'));
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/psiweb.ts', 'devnet', '--nodes', '3', '--port', String(port), '--data', dir, '--dist', join(dir, 'no-dist'), '--block-interval-ms', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    try {
      const statuses = async () =>
        Promise.all([0, 1, 2].map(async (i) => (await fetchNode(`http://psiweb.localhost:${port + i}/native/status`, { timeoutMs: 3_000 })).json() as { irreversible: { num: number; id: string }; producer: string; producers: string[] }));
      const end = Date.now() + 90_000;
      for (;;) {
        try {
          const s = await statuses();
          if (s.every((x) => x.irreversible.num >= 5)) {
            expect(s.map((x) => x.producer)).toEqual(['prod1', 'prod2', 'prod3']);
            expect(s[0]!.producers).toEqual(['prod1', 'prod2', 'prod3']);
            break;
          }
        } catch {
          // not all up yet
        }
        if (Date.now() > end) throw new Error(`the devnet did not finalise blocks:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toMatch(/\[prod2\] .*joining chain/);
    } finally {
      proc.kill('SIGINT');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      expect(code).toBe(0);
    }
    // Every node stopped: nothing answers any more.
    await expect(fetchNode(`http://psiweb.localhost:${port + 1}/native/status`, { timeoutMs: 2_000 })).rejects.toThrow();
  }, 180_000);
});

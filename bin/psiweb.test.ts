// Black-box tests of the `psiweb` command: a real `psiweb start` on a free port with a
// temporary data directory, driven over HTTP and with `psiweb push`, stopped with a
// signal and started again on the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchNode, serviceUrl } from '../src/node/client.ts';
import { DEVNET_TOKEN_SUPPLY, loadDevnet } from '../src/node/devnet.ts';
import { serviceWasm } from '../src/node/service-build.ts';

// A cold services/build compiles every service first (about a minute on two cores).
const BUILD_TIMEOUT_MS = 300_000;
const STEP_TIMEOUT_MS = 60_000;

const CLI = [process.execPath, '--import', 'tsx', 'bin/psiweb.ts'];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(CLI[0]!, [...CLI.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A running `psiweb start`: its URL once it serves, and what it printed. */
class Node {
  output = '';
  url = '';
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcess;

  constructor(dataDir: string, distDir: string) {
    this.proc = spawn(CLI[0]!, [...CLI.slice(1), 'start', '--port', '0', '--data', dataDir, '--dist', distDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  async waitFor(pattern: RegExp, timeoutMs = STEP_TIMEOUT_MS): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async started(): Promise<this> {
    this.url = (await this.waitFor(/serving (http:\/\/psiweb\.localhost:\d+)\//))[1]!;
    return this;
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.proc.kill(signal);
    return this.exited;
  }
}

let dir: string;
let dataDir: string;
let distDir: string;
let node: Node | undefined;

beforeAll(async () => {
  // Build the services once here, so the nodes started below do not compile them.
  await loadDevnet();
  await serviceWasm('example');
  dir = mkdtempSync(join(tmpdir(), 'psiweb-bin-'));
  dataDir = join(dir, 'data');
  distDir = join(dir, 'dist');
  mkdirSync(distDir);
  writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>psiweb test shell</title>');
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await node?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const balanceOf = async (url: string, account: string) => fetchNode(serviceUrl(url, 'tokens', `/balances/${account}`));

describe('psiweb start, push and HTTP', () => {
  let chainId: string;
  let headBeforeStop: number;

  it(
    'boots a devnet, serves the PWA and /native/status',
    async () => {
      node = await new Node(dataDir, distDir).started();
      await node.waitFor(/booted a devnet: chain [0-9a-f]{64}/);
      // The genesis block names the producer set; it governs from the next block on.
      await node.waitFor(/block 3 /);
      const status = (await fetchNode(`${node.url}/native/status`)).json() as Record<string, unknown>;
      expect(status).toMatchObject({ consensus: 'cft', producers: ['prod'], producer: 'prod', producing: true, peers: [] });
      chainId = status.chainId as string;
      expect(chainId).toMatch(/^[0-9A-F]{64}$/); // psibase writes checksums in upper-case hex
      expect((status.head as { num: number }).num).toBeGreaterThanOrEqual(2);
      const shell = await fetchNode(`${node.url}/`);
      expect(shell.status).toBe(200);
      expect(shell.text()).toContain('psiweb test shell');
      const alias = await fetchNode(node.url.replace('psiweb.localhost', 'localhost') + '/x');
      expect(alias.status).toBe(308);
      expect(alias.headers.location).toBe(`${node.url}/x`);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "transfers with psiweb push and reads bob's new balance over HTTP",
    async () => {
      const url = node!.url;
      expect((await balanceOf(url, 'bob')).json()).toEqual({ account: 'bob', balance: (DEVNET_TOKEN_SUPPLY / 2n).toString() });
      const pushed = await run(['push', 'alice', 'tokens', 'transfer', '{"to":"bob","amount":"5","memo":"hi"}', '--url', url]);
      expect(pushed.stderr).toBe('');
      expect(pushed.code).toBe(0);
      const trace = JSON.parse(pushed.stdout) as { error: string | null; actionTraces: unknown[] };
      expect(trace.error).toBeNull();
      expect(trace.actionTraces.length).toBeGreaterThan(0);
      expect((await balanceOf(url, 'bob')).json()).toEqual({ account: 'bob', balance: (DEVNET_TOKEN_SUPPLY / 2n + 5n).toString() });
      await node!.waitFor(/block \d+ [0-9a-f]{16} 1 transaction\n/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'refuses bad input with clear errors and keeps serving',
    async () => {
      const url = node!.url;
      const push = serviceUrl(url, 'transact', '/push_transaction');
      const malformed = await fetchNode(push, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([1, 2, 3]) });
      expect(malformed.status).toBe(400);
      expect(malformed.text()).toMatch(/^transaction is malformed: /);
      const unknown = await fetchNode(serviceUrl(url, 'nosuchsvc', '/'));
      expect(unknown.status).toBe(404);
      const huge = await fetchNode(push, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(9 * 1024 * 1024 + 1) });
      expect(huge.status).toBe(413);
      expect(huge.text()).toContain('byte limit');
      const overdraw = await run(['push', 'bob', 'tokens', 'transfer', '{"to":"alice","amount":"999999999","memo":""}', '--url', url]);
      expect(overdraw.code).toBe(1);
      expect(overdraw.stderr).toContain('insufficient balance');
      const usage = await run(['push', 'alice', 'tokens', 'transfer']);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('expected SENDER SERVICE METHOD JSON-ARGS');
      const unknownCommand = await run(['frobnicate']);
      expect(unknownCommand.code).toBe(2);
      expect(unknownCommand.stderr).toContain("unknown command 'frobnicate'");
      const second = await run(['start', '--port', '0', '--data', dataDir, '--dist', distDir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('is in use by another psiweb');
      expect((await fetchNode(`${url}/native/status`)).status).toBe(200);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'stops on SIGTERM and resumes the same chain from its data directory',
    async () => {
      headBeforeStop = ((await fetchNode(`${node!.url}/native/status`)).json() as { head: { num: number } }).head.num;
      expect(await node!.stop('SIGTERM')).toBe(0);
      expect(node!.output).toMatch(/SIGTERM: stopping\n(.*\n)*stopped\n/);
      node = await new Node(dataDir, distDir).started();
      await node.waitFor(new RegExp(`resuming chain ${chainId.toLowerCase()} at block \\d+`));
      const status = (await fetchNode(`${node.url}/native/status`)).json() as { chainId: string; head: { num: number } };
      expect(status.chainId).toBe(chainId);
      expect(status.head.num).toBeGreaterThanOrEqual(headBeforeStop);
      expect((await balanceOf(node.url, 'bob')).json()).toEqual({ account: 'bob', balance: (DEVNET_TOKEN_SUPPLY / 2n + 5n).toString() });
    },
    STEP_TIMEOUT_MS,
  );
});

describe('psiweb exec', () => {
  it(
    'runs an action of a built service',
    async () => {
      const r = await run(['exec', join('services', 'build', 'example.wasm'), 'inc', '040005000000']);
      expect(r).toMatchObject({ code: 0, stdout: '0500000000000000\n' });
    },
    STEP_TIMEOUT_MS,
  );
});

/**
 * `psiweb new` end to end, as a new user runs it: the project is written, its npm
 * scripts run (`npm run deploy` onto a running devnet, `npm test` with a devnet of its
 * own), psiweb linked in as `npm install` would link a `file:` dependency (no registry:
 * node_modules/psiweb and node_modules/tsx are symlinks, and `psiweb` on PATH runs this
 * checkout's bin/psiweb.ts).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuild } from '../src/node/cli/build.ts';
import { UsageError, type CliIo } from '../src/node/cli/io.ts';
import { runNew } from '../src/node/cli/new.ts';
import { fetchNode } from '../src/node/client.ts';
import { loadDevnet } from '../src/node/devnet.ts';
import { startPeer, type Peer } from '../src/node/peer.ts';
import { DIST_DIR, ensureProductionBuild } from './browser/devnet.ts';

const ROOT = resolve('.');

function capture(): CliIo & { out: string } {
  const io = { out: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.out += t) };
  return io;
}

function npm(cwd: string, script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const p = spawn('npm', ['run', '--silent', script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('close', (code) => done({ code, output }));
  });
}

let dir: string;
let peer: Peer | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  await ensureProductionBuild();
  await loadDevnet();
  dir = mkdtempSync(join(tmpdir(), 'psiweb-new-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'psiweb'), `#!/bin/sh\nexec "${join(ROOT, 'node_modules', '.bin', 'tsx')}" "${join(ROOT, 'bin', 'psiweb.ts')}" "$@"\n`);
  chmodSync(join(bin, 'psiweb'), 0o755);
  env = { PATH: `${bin}:${process.env.PATH}`, PSIWEB_DIST: DIST_DIR };
}, 300_000);

afterAll(async () => {
  await peer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('psiweb new', () => {
  it('refuses names that cannot be an app', async () => {
    await expect(runNew(['short', '--dir', dir], capture())).rejects.toThrow(/shorter than 8 characters.*--account/);
    await expect(runNew(['My App', '--dir', dir], capture())).rejects.toThrow(UsageError);
    await expect(runNew(['fine-name', '--account', 'Bad!', '--dir', dir], capture())).rejects.toThrow(/must be an account name/);
    expect(existsSync(join(dir, 'short'))).toBe(false);
    await expect(runBuild([join(dir, 'missing.ts')], capture())).rejects.toThrow(/cannot read .*missing\.ts/);
    await expect(runBuild([join(dir, 'service.wasm')], capture())).rejects.toThrow(/ENTRY must be an AssemblyScript \.ts file/);
    await expect(runBuild([], capture())).rejects.toThrow(/expected ENTRY\.ts, got 0/);
  });

  it(
    'writes a project that deploys to a running devnet and whose own test passes online and offline',
    async () => {
      const io = capture();
      expect(await runNew(['visitcount', '--dir', dir], io)).toBe(0);
      const app = join(dir, 'visitcount');
      expect(io.out).toContain('service/service.ts');
      await expect(runNew(['visitcount', '--dir', dir], capture())).rejects.toThrow(/already exists/);
      const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
      expect(pkg.devDependencies.psiweb).toBe(`file:${ROOT}`);
      // What `npm install` makes of the file: dependency (a link), and tsx.
      mkdirSync(join(app, 'node_modules'));
      symlinkSync(ROOT, join(app, 'node_modules', 'psiweb'));
      symlinkSync(join(ROOT, 'node_modules', 'tsx'), join(app, 'node_modules', 'tsx'));

      const dist = join(dir, 'dist');
      mkdirSync(dist);
      writeFileSync(join(dist, 'index.html'), '<!doctype html>');
      peer = await startPeer({ dataDir: join(dir, 'data'), port: 0, rootHost: 'psiweb.localhost', distDir: dist, log: () => undefined });
      while (((await fetchNode(`${peer.url}/native/status`)).json() as { head: { num: number } }).head.num < 2) await new Promise((r) => setTimeout(r, 100));

      const deployed = await npm(app, 'deploy', { ...env, PSIWEB_URL: peer.url });
      expect(deployed.output).toMatch(/deployed build\/service\.wasm \(\d+ bytes\) on visitcount/);
      expect(deployed.code).toBe(0);
      const origin = `http://visitcount.psiweb.localhost:${peer.port}`;
      expect((await fetchNode(`${origin}/count`)).json()).toEqual({ total: 0 });
      expect((await fetchNode(`${origin}/index.html`)).text()).toContain('<h1>visitcount</h1>');

      const tested = await npm(app, 'test', env);
      expect(tested.output).toMatch(/# pass 1\n# fail 0/);
      expect(tested.output).toContain('build/service.wasm is up to date');
      expect(tested.code).toBe(0);
    },
    240_000,
  );
});

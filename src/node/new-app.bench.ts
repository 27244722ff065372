/**
 * `psiweb new` → app deployed and its own test passing (issue 13: ≤ 60 s after
 * `npm install`): wall time of `psiweb new NAME`, `npm run deploy` onto a running
 * devnet (which compiles the AssemblyScript service, creates the account, sets the code,
 * uploads the UI) and `npm test` (a fresh devnet of the test's own, Chromium, online
 * then offline). `npm install` is stood in for by links (node_modules/psiweb → this
 * checkout, tsx), as test/new-app.browser.test.ts does. One cold round: the compile
 * is cold as a new project's is. Phases are named in `how`.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { figure, type BenchFile } from '../../test/bench-kit.ts';
import { DIST_DIR, ensureProductionBuild } from '../../test/browser/devnet.ts';
import { runNew } from './cli/new.ts';
import { fetchNode } from './client.ts';
import { loadDevnet } from './devnet.ts';
import { startPeer } from './peer.ts';

const ROOT = resolve('.');

function npm(cwd: string, script: string, env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const p = spawn('npm', ['run', '--silent', script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('close', (code) => (code === 0 ? done() : fail(new Error(`npm run ${script} exited ${code}:\n${output}`))));
  });
}

const bench: BenchFile = async () => {
  await ensureProductionBuild();
  await loadDevnet();
  const dir = mkdtempSync(join(tmpdir(), 'psiweb-new-bench-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'psiweb'), `#!/bin/sh\nexec "${join(ROOT, 'node_modules', '.bin', 'tsx')}" "${join(ROOT, 'bin', 'psiweb.ts')}" "$@"\n`);
  chmodSync(join(bin, 'psiweb'), 0o755);
  const dist = join(dir, 'dist');
  mkdirSync(dist);
  writeFileSync(join(dist, 'index.html'), '<!doctype html>');
  const peer = await startPeer({ dataDir: join(dir, 'data'), port: 0, rootHost: 'psiweb.localhost', distDir: dist, log: () => undefined });
  try {
    while (((await fetchNode(`${peer.url}/native/status`)).json() as { head: { num: number } }).head.num < 2) await new Promise((r) => setTimeout(r, 100));
    const env = { PATH: `${bin}:${process.env.PATH}`, PSIWEB_DIST: DIST_DIR, PSIWEB_URL: peer.url };
    const t0 = performance.now();
    await runNew(['visitbench', '--dir', dir], { stdout: () => undefined, stderr: () => undefined });
    const app = join(dir, 'visitbench');
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules', 'psiweb'));
    symlinkSync(join(ROOT, 'node_modules', 'tsx'), join(app, 'node_modules', 'tsx'));
    const t1 = performance.now();
    await npm(app, 'deploy', env);
    const t2 = performance.now();
    await npm(app, 'test', env);
    const t3 = performance.now();
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return [
      figure('psiweb new → app deployed and its test passing', 'chromium', (t3 - t0) / 1000, 's', { op: '<=', value: 60, text: '≤ 60 s' },
        `one cold round: new + links ${s(t1 - t0)}, npm run deploy (compile, create, setCode, upload) ${s(t2 - t1)}, npm test (build up to date, fresh devnet, Chromium, online + offline) ${s(t3 - t2)}`),
    ];
  } finally {
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;

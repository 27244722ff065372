/**
 * Browser tests against the real thing: the production PWA build (dist/) served by the
 * Node peer (`psiweb start`'s startPeer) with a devnet in a temporary data directory,
 * on a free loopback port. Chromium resolves `psiweb.localhost` and every
 * `<service>.psiweb.localhost` to loopback itself, so pages open `peer.url`.
 *
 *   await ensureProductionBuild();            // once per run; skipped when dist/ is fresh
 *   const peer = await startDevnetPeer();     // { url, rootHost, port, dataDir, stop() }
 *   …
 *   await peer.stop();                        // keeps the data dir: restart with { dataDir, port }
 *   await peer.dispose();                     // stops and removes the data dir
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_ROOT_HOST } from '../../src/http/constants.ts';
import { systemClock } from '../../src/node/node.ts';
import { startPeer, type Peer } from '../../src/node/peer.ts';
import type { Clock } from '../../src/core/platform.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * This process's own production build, apart from dist/ and from other test processes:
 * a `vite build` elsewhere (by hand, or another test file rebuilding after a source
 * changed) must never swap files under a page a test is loading.
 */
export const DIST_DIR = join(ROOT, 'node_modules', '.psiweb-test-dist', String(process.pid));
process.once('exit', () => rmSync(DIST_DIR, { recursive: true, force: true }));

/** What a build depends on: a change in any of these makes dist/ stale. */
/** What the bundle is built from: the app's sources, and the services' schemas (src/http/service-schemas.ts imports them). */
const BUILD_INPUTS = [
  'src',
  'sw',
  'public',
  'index.html',
  'vite.config.ts',
  'package.json',
  ...readdirSync(join(ROOT, 'services'))
    .map((name) => join('services', name, 'schema.json'))
    .filter((p) => existsSync(join(ROOT, p))),
];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = 0;
  for (const e of readdirSync(path)) {
    // Tests and benches are not part of the bundle; editing one must not force a build.
    if (/\.(test|bench)\.ts$/.test(e)) continue;
    newest = Math.max(newest, newestMtime(join(path, e)));
  }
  return newest;
}

/** Whether dist/ holds a build at least as new as every input. */
export function isBuildFresh(): boolean {
  const built = join(DIST_DIR, 'index.html');
  if (!existsSync(join(DIST_DIR, '.production'))) return false;
  const sw = join(DIST_DIR, 'root-sw.js');
  if (!existsSync(built) || !existsSync(sw)) return false;
  const builtAt = Math.min(statSync(built).mtimeMs, statSync(sw).mtimeMs);
  return BUILD_INPUTS.every((p) => newestMtime(join(ROOT, p)) <= builtAt);
}

let building: Promise<void> | undefined;

const LOCK_DIR = join(ROOT, 'node_modules', '.psiweb-build.lock');
const LOCK_STALE_MS = 5 * 60_000;

/** Another process (a parallel test run) may be building: wait for it, one build at a time. */
async function withBuildLock(fn: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(LOCK_DIR).mtimeMs > LOCK_STALE_MS) rmSync(LOCK_DIR, { recursive: true, force: true });
      } catch {
        // Removed by its owner meanwhile.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

/** Builds the PWA (`vite build`) once per test process, unless its build is already fresh; unminified with PSIWEB_BUILD_NO_MINIFY=1 (profiles with names). */
export function ensureProductionBuild(): Promise<void> {
  return (building ??= withBuildLock(async () => {
    if (isBuildFresh()) return;
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', DIST_DIR, '--emptyOutDir', '--logLevel', 'error', ...(process.env.PSIWEB_BUILD_NO_MINIFY ? ['--minify', 'false'] : [])], {
      cwd: ROOT,
      // vitest sets NODE_ENV=test, which vite would honour: a build with dev-mode lit and
      // import.meta.env.PROD false (no service worker registered).
      env: { ...process.env, NODE_ENV: 'production' },
      maxBuffer: 64 * 1024 * 1024,
    });
    // Marks a build made here as a production one (a dev-mode build must not pass as fresh).
    writeFileSync(join(DIST_DIR, '.production'), new Date().toISOString());
  }).catch((e: unknown) => {
    building = undefined;
    throw e;
  }));
}

export interface DevnetPeerOptions {
  /** 0 (default): a free port. */
  port?: number;
  /** Reuse a data directory (a restart); default: a new temporary one. */
  dataDir?: string;
  rootHost?: string;
  /** Produce a block every second (default true). */
  produce?: boolean;
  /** Peer log lines; default: dropped. */
  log?: (line: string) => void;
  /** The peer's clock (PeerOptions.clock): a bench builds a chain in the past with one set back. */
  clock?: Clock;
}

export interface DevnetPeer {
  /** `http://<rootHost>:<port>`, the root origin. */
  url: string;
  rootHost: string;
  port: number;
  dataDir: string;
  /** The running peer (its node, router). */
  peer: Peer;
  /** Stops the peer; the data directory stays (start again with { dataDir, port }). */
  stop(): Promise<void>;
  /** Stops the peer and removes the data directory if this helper created it. */
  dispose(): Promise<void>;
}

/**
 * A clock `behindMs` behind the system's until `catchUp()`: a peer started on it and
 * made to produce back to back builds a chain whose blocks lie in the past, as those of a
 * network that has run for a while do. (Produced back to back on the system clock, each
 * block takes the next slot, so a 1,000-block chain at 1 s slots would reach ~1,000 s
 * into the future, and a node syncing it would take every block for a live one.)
 */
export function clockSetBack(behindMs: number): Clock & { catchUp(): void } {
  let offset = -behindMs;
  return { ...systemClock, now: () => systemClock.now() + offset, catchUp: () => void (offset = 0) };
}

/** Starts the Node peer with a devnet, serving dist/ (call ensureProductionBuild first). */
export async function startDevnetPeer(options: DevnetPeerOptions = {}): Promise<DevnetPeer> {
  const created = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'psiweb-devnet-'));
  const rootHost = options.rootHost ?? DEFAULT_ROOT_HOST;
  const peer = await startPeer({
    dataDir,
    port: options.port ?? 0,
    rootHost,
    distDir: DIST_DIR,
    log: options.log ?? (() => undefined),
    produce: options.produce ?? true,
    ...(options.clock && { clock: options.clock }),
  });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= peer.close());
  return {
    url: peer.url,
    rootHost,
    port: peer.port,
    dataDir,
    peer,
    stop,
    async dispose() {
      await stop();
      if (created) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * What the libp2p browser tests share: the page bundle (browser-entry.ts built with
 * Vite into one classic script), a static server for it on 127.0.0.1, pages that each
 * run one browser peer (their own context: own storage, the camera grant WebRTC needs
 * on loopback), and the relay (a Node peer's host) as a child process to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { newPeerContext } from '../browser/chromium.ts';
import type { Libp2pDriver } from './browser-entry.ts';

export async function buildDriverBundle(): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: { write: false, target: 'es2022', minify: false, sourcemap: false, lib: { entry: 'test/libp2p/browser-entry.ts', formats: ['iife'], name: 'psiwebLibp2pDriver' } },
  });
  for (const out of Array.isArray(result) ? result : [result]) {
    if (!('output' in out)) continue;
    for (const file of out.output) if (file.type === 'chunk') return file.code;
  }
  throw new Error('bundling test/libp2p/browser-entry.ts produced no script');
}

export interface DriverServer {
  url: string;
  close(): Promise<void>;
}

export async function serveDriver(bundle: string): Promise<DriverServer> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/driver.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><meta charset="utf-8"><title>libp2p peer</title><script src="/driver.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One browser peer: a page in its own context, the driver loaded. */
export interface PeerPage {
  page: Page;
  /** Runs `fn(driver, arg)` in the page. */
  call<R, A = undefined>(fn: (d: Libp2pDriver, arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  close(): Promise<void>;
}

export async function openPeerPage(browser: Browser, url: string, log: string[]): Promise<PeerPage> {
  const context = await newPeerContext(browser, url);
  const page = await context.newPage();
  page.on('pageerror', (e) => log.push(`[page error] ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') log.push(`[console] ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => 'psiwebLibp2p' in globalThis);
  return {
    page,
    call: <R, A>(fn: (d: Libp2pDriver, arg: A) => R | Promise<R>, arg?: A) =>
      page.evaluate(
        // The function travels as source text: it may use only its own arguments.
        ([src, a]) => (new Function('d', 'a', `return (${src})(d, a)`) as (d: unknown, a: unknown) => unknown)((globalThis as unknown as { psiwebLibp2p: unknown }).psiwebLibp2p, a),
        [fn.toString(), arg] as const,
      ) as Promise<R>,
    close: () => context.close(),
  };
}

export interface RelayProcess {
  addr: string;
  proc: ChildProcess;
  /** SIGKILL: the relay is gone at once, as a crashed or closed Node peer is. */
  kill(): Promise<void>;
}

export async function spawnRelay(): Promise<RelayProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/libp2p/relay-process.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relay did not start in 60 s: ${output}`)), 60_000);
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /RELAY (\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => reject(new Error(`the relay exited (${code}): ${output}`)));
  });
  return {
    addr,
    proc,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

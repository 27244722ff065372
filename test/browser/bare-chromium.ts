/**
 * Chromium driven over its DevTools pipe with nothing but `Page.navigate` and
 * `Runtime.evaluate`: for benchmarks that time requests inside a page.
 *
 * Playwright enables the DevTools Network domain on every page and worker it attaches
 * to (it reports each request and response to its client), which puts a round of
 * DevTools events on every fetch: a service worker round trip that takes ~3 ms bare
 * took ~5 ms under Playwright at the same load (graphql-sw.bench.ts, 2026-12-07). A
 * user's browser has no DevTools attached, so latency figures are timed here; setup
 * and checks that need more than evaluate stay with Playwright (chromium.ts).
 *
 *   const chromium = await launchBareChromium();
 *   const page = await chromium.newPage();
 *   await page.navigate(url);
 *   const n = await page.evaluate<number>('1 + 1');
 *   await chromium.close();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

/** A DevTools call answered with an error, or a page script that threw. */
export class BareChromiumError extends Error {
  override name = 'BareChromiumError';
}

export interface BarePage {
  navigate(url: string): Promise<void>;
  /** Evaluates `expression` in the page, awaiting a promise it yields; the value comes back as JSON. */
  evaluate<T>(expression: string): Promise<T>;
  /**
   * Calls `fn` in the page with `arg` (JSON): `fn`'s source is sent, so it must use
   * nothing from its closure.
   */
  call<A, T>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
}

export interface BareChromium {
  newPage(): Promise<BarePage>;
  close(): Promise<void>;
}

interface Reply {
  id?: number;
  result?: any;
  error?: { message: string };
  method?: string;
}

export async function launchBareChromium(): Promise<BareChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'psiweb-bare-chromium-'));
  const proc: ChildProcess = spawn(CHROMIUM_PATH, [...CHROMIUM_ARGS, '--headless=new', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
  });
  const toBrowser = proc.stdio[3] as Writable;
  const fromBrowser = proc.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new BareChromiumError('Chromium exited'));
    pending.clear();
  });
  // Messages are JSON, each ended by a NUL byte.
  let buffered = '';
  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
      const reply = JSON.parse(buffered.slice(0, end)) as Reply;
      buffered = buffered.slice(end + 1);
      if (reply.id === undefined) continue;
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.error) p?.reject(new BareChromiumError(reply.error.message));
      else p?.resolve(reply);
    }
  });
  const send = (method: string, params: object = {}, sessionId?: string): Promise<any> =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
    }).then((r) => r.result);

  const evaluate = async <T>(sessionId: string, expression: string): Promise<T> => {
    const r = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
    if (r.exceptionDetails) throw new BareChromiumError(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result?.value as T;
  };
  return {
    async newPage() {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      return {
        async navigate(url) {
          const r = await send('Page.navigate', { url }, sessionId);
          if (r.errorText) throw new BareChromiumError(`navigating to ${url}: ${r.errorText}`);
        },
        evaluate: (expression) => evaluate(sessionId, expression),
        // tsx (esbuild with keepNames) wraps named functions in __name(): defined in the page as a no-op.
        call: (fn, arg) => evaluate(sessionId, `(() => { const __name = (f) => f; return (${fn.toString()})(${JSON.stringify(arg)}); })()`),
      };
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

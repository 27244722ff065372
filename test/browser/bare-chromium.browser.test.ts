import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BareChromiumError, launchBareChromium, type BareChromium, type BarePage } from './bare-chromium.ts';

describe('bare Chromium (latency benches time pages in it)', () => {
  let chromium: BareChromium;
  let page: BarePage;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('<!doctype html><title>bare</title><p>hello</p>'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    chromium = await launchBareChromium();
    page = await chromium.newPage();
  });
  afterAll(async () => {
    await chromium?.close();
    await new Promise((r) => server?.close(r));
  });

  it('navigates and evaluates in the page, awaiting promises', async () => {
    await page.navigate(url);
    expect(await page.evaluate<string>('new Promise((r) => setTimeout(() => r(document.title), 10))')).toBe('bare');
    expect(await page.call(async (n: number) => (await fetch(location.href)).status + n, 1)).toBe(201);
  });

  it('calls functions as tsx compiles them (named inner functions wrapped in __name)', async () => {
    // What esbuild's keepNames (tsx, the bench runner) makes of `const twice = (x) => x * 2`.
    const compiled = new Function('xs', 'const twice = __name((x) => x * 2, "twice"); return xs.map(twice).reduce((a, b) => a + b, 0);') as (xs: number[]) => number;
    expect(await page.call(compiled, [1, 2, 3])).toBe(12);
  });

  it('rejects with a typed error when the page script throws or a navigation fails', async () => {
    await expect(page.evaluate('(async () => { throw new Error("boom") })()')).rejects.toThrow(BareChromiumError);
    await expect(page.evaluate('(async () => { throw new Error("boom") })()')).rejects.toThrow(/boom/);
    await expect(page.navigate('http://127.0.0.1:1/')).rejects.toThrow(/navigating to http:\/\/127.0.0.1:1\/: net::ERR_/);
  });
});

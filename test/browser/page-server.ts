/**
 * Serves the source tree through Vite's dev server on 127.0.0.1 so a browser test can
 * `import('/src/…')` any module inside a real page and run it against real browser
 * APIs (IndexedDB, WebCrypto), returning plain data to the Node-side assertions.
 */
import { createServer, type ViteDevServer } from 'vite';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.ts';

export interface TestPage {
  page: Page;
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

export async function startSourceServer(): Promise<ViteDevServer> {
  const server = await createServer({
    configFile: false,
    root: process.cwd(),
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  return server;
}

export function serverUrl(server: ViteDevServer): string {
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite server has no address');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * A page on the source server. Inside `page.evaluate`, load modules with
 * `(globalThis as any).__psiwebImport('/src/…')` (vitest rewrites a literal import()).
 */
export async function openSourcePage(): Promise<TestPage> {
  const server = await startSourceServer();
  const browser = await launchChromium();
  const url = serverUrl(server);
  const page = await browser.newPage();
  page.on('pageerror', (err) => console.error('[page error]', err));
  await page.goto(`${url}/test/browser/blank.html`);
  return {
    page,
    browser,
    url,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

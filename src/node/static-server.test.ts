import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distSite, IMMUTABLE, isHashedAsset, REVALIDATE } from './static-server.ts';

/** Files as vite's production build names them (see vite.config.ts). */
const FILES: Record<string, string> = {
  'index.html': '<!doctype html><title>psiweb</title>',
  'supervisor.html': '<!doctype html><title>supervisor</title>',
  'root-sw.js': 'self.x = 1;',
  'app-sw.js': 'self.y = 1;',
  'manifest.webmanifest': '{}',
  'common/common-lib.js': 'export {};',
  'icons/icon-192.png': 'png',
  'icons/icon-D7IOrQlt.png': 'png',
  'assets/index-D7IOrQlt.js': 'console.log(1);',
  'assets/rolldown-runtime-WkwZ5CU-.js': 'console.log(2);',
  'assets/js-component-bindgen-component.core-Nzi3bHxP.wasm': '\0asm',
  'assets/nohash.js': 'console.log(3);',
  'assets/sub/deep-D7IOrQlt.js': 'console.log(4);',
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'psiweb-static-'));
  for (const [name, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function get(path: string): Promise<Response> {
  const r = await distSite(dir).fetch(path);
  if (!r) throw new Error(`no response for ${path}`);
  return r;
}

describe('distSite caching headers', () => {
  it('sends content-hashed assets as immutable for a year', async () => {
    for (const path of ['/assets/index-D7IOrQlt.js', '/assets/rolldown-runtime-WkwZ5CU-.js', '/assets/js-component-bindgen-component.core-Nzi3bHxP.wasm']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('cache-control'), path).toBe('public, max-age=31536000, immutable');
      expect(await r.text(), path).toBe(FILES[path.slice(1)]);
    }
    expect(IMMUTABLE).toBe('public, max-age=31536000, immutable');
  });

  it('revalidates the pages, the service worker scripts, the manifest and every file not named by its hash', async () => {
    for (const path of ['/', '/index.html', '/supervisor.html', '/root-sw.js', '/app-sw.js', '/manifest.webmanifest', '/common/common-lib.js', '/icons/icon-192.png', '/icons/maskable-512ABCDE.png', '/assets/nohash.js', '/assets/sub/deep-D7IOrQlt.js']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('cache-control'), path).toBe('no-cache');
    }
    expect(REVALIDATE).toBe('no-cache');
  });

  it('serves the app shell, revalidated, for an asset name that is not in the build', async () => {
    const r = await get('/assets/missing-ABCDEFGH.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(await r.text()).toBe(FILES['index.html']);
  });

  it('still refuses paths outside the build, with no caching header to keep', async () => {
    const r = await get('/assets/..%2f..%2fetc%2fpasswd');
    expect(r.status).toBe(403);
    expect(r.headers.get('cache-control')).toBeNull();
  });

  it('isHashedAsset: only vite-hashed names directly in assets/', () => {
    expect(isHashedAsset('assets/index-D7IOrQlt.js')).toBe(true);
    expect(isHashedAsset('assets/verify-sig-Cl40dQuo.wasm')).toBe(true);
    expect(isHashedAsset('assets/index.js')).toBe(false);
    expect(isHashedAsset('assets/index-D7IOrQl.js')).toBe(false);
    expect(isHashedAsset('index-D7IOrQlt.js')).toBe(false);
    expect(isHashedAsset('assets/a/index-D7IOrQlt.js')).toBe(false);
    expect(isHashedAsset('assets/index-D7IOrQlt')).toBe(false);
  });
});

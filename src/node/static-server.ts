/**
 * The built PWA (dist/) as the router's StaticSite for the Node peer: a file when the
 * path names one, else the app shell (index.html), which routes on the client side.
 * Paths are confined to the build directory.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Serves the build under `root`; undefined for every path when there is no build. */
export function distSite(root: string): { fetch(path: string): Promise<Response | undefined> } {
  const base = resolve(root);
  return {
    async fetch(pathname: string): Promise<Response | undefined> {
      if (!existsSync(join(base, 'index.html'))) return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(pathname);
      } catch {
        return new Response('bad request path\n', { status: 400, headers: { 'Content-Type': 'text/plain' } });
      }
      let file = normalize(join(base, decoded));
      if (file !== base && !file.startsWith(base + sep)) {
        return new Response('forbidden\n', { status: 403, headers: { 'Content-Type': 'text/plain' } });
      }
      if (!(await isFile(file))) file = join(base, 'index.html');
      const headers: Record<string, string> = { 'Content-Type': contentTypeFor(file) };
      // The service worker script must never be served stale, or updates stall.
      if (file.endsWith('-sw.js')) headers['Cache-Control'] = 'no-cache';
      return new Response(await readFile(file), { status: 200, headers });
    },
  };
}

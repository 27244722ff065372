/**
 * The built PWA (dist/) as the router's StaticSite for the Node peer: a file when the
 * path names one, else the app shell (index.html), which routes on the client side.
 * Paths are confined to the build directory.
 *
 * Caching: the build's `/assets/` files carry a content hash in their names (vite's
 * `name-HASH.ext`), so a changed file is a new URL: they are sent with
 * `Cache-Control: public, max-age=31536000, immutable`, and a reload takes them from
 * the HTTP cache without asking — the supervisor's scripts and jco's 3.5 MB of
 * WebAssembly among them. Every other file (index.html and the other pages,
 * the service worker scripts, the manifest, common-lib.js, icons) and the app shell
 * served for an unknown path are `no-cache`: revalidated on every use, so an update of
 * the PWA is seen at once.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, relative, resolve, sep } from 'node:path';

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

/** `Cache-Control` for content-hashed build files. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `Cache-Control` for every other file: use only after revalidating. */
export const REVALIDATE = 'no-cache';

/** vite's hashed output names: `<name>-<8 url-safe base64 characters>.<ext>`. */
const HASHED_NAME = /^[^/]+-[A-Za-z0-9_-]{8}\.[A-Za-z0-9]+$/;

/**
 * Whether a build file (its path relative to the build directory, `/`-separated) is a
 * content-hashed asset: directly in `assets/`, named as vite names hashed output.
 */
export function isHashedAsset(relativePath: string): boolean {
  const parts = relativePath.split('/');
  return parts.length === 2 && parts[0] === 'assets' && HASHED_NAME.test(parts[1]!);
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
      const headers: Record<string, string> = {
        'Content-Type': contentTypeFor(file),
        // Only a file whose name changes with its content may be kept: the pages and the
        // service worker scripts must never be served stale, or updates stall.
        'Cache-Control': isHashedAsset(relative(base, file).split(sep).join('/')) ? IMMUTABLE : REVALIDATE,
      };
      return new Response(await readFile(file), { status: 200, headers });
    },
  };
}

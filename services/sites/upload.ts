// Uploading static files to `sites`: one `storeSys(path, contentType, contentEncoding,
// content)` action per file, sent by the account whose subdomain serves them (psibase's
// `psibase upload` does the same).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { protocolSchema, type Action } from '../../src/protocol/types.ts';

const schema = new FracSchema(
  {
    ...protocolSchema,
    StoreSysArgs: { Object: { path: 'string', contentType: 'string', contentEncoding: { Option: 'string' }, content: 'hex' } },
  },
  { mode: 'native' },
);

/** MIME types by extension, the common ones mime_guess (psibase's guesser) gives. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.xml': 'text/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/** The guessed MIME type of a file name, or undefined when unknown. */
export function guessContentType(name: string): string | undefined {
  return CONTENT_TYPES[extname(name).toLowerCase()];
}

export function contentTypeOf(path: string): string {
  return guessContentType(path) ?? 'application/octet-stream';
}

export interface SiteFile {
  /** Absolute URL path, starting with `/`. */
  path: string;
  contentType: string;
  content: Uint8Array;
  contentEncoding?: string;
}

export function storeSysArgs(file: SiteFile): Uint8Array {
  return schema.type('StoreSysArgs').encode({
    path: file.path,
    contentType: file.contentType,
    contentEncoding: file.contentEncoding ?? null,
    content: file.content,
  });
}

/** The `sites::storeSys` actions that put `files` on `account`'s subdomain. */
export function storeSysActions(account: string, files: readonly SiteFile[]): Action[] {
  return files.map((file) => ({
    sender: accountNumber(account),
    service: accountNumber('sites'),
    method: methodNumber('storeSys'),
    rawData: storeSysArgs(file),
  }));
}

/** Every file under `dir`, as served from `/`. */
export function siteFiles(dir: string): SiteFile[] {
  const out: SiteFile[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const path = '/' + relative(dir, full).split(sep).join('/');
        out.push({ path, contentType: contentTypeOf(path), content: new Uint8Array(readFileSync(full)) });
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * `psiweb upload SRC [DEST] -S ACCOUNT [-r|--recursive] [-t|--content-type T]`: psibase's
 * `upload` (rust/psibase main.rs upload, upload_tree): files go to `sites` with
 * sites::storeSys(path, contentType, contentEncoding, content) sent by ACCOUNT, and are
 * then served at `http://ACCOUNT.<root>/path` (http hands a subdomain without its own
 * server, or whose server has no answer, to sites).
 *
 *  - One file: DEST is its path (a leading `/` added), default `/` + its file name; the
 *    content type is -t, else guessed from the name (an unknown one is an error).
 *  - -r: every file under the directory SRC, at DEST + its relative path (DEST default
 *    the site's root); types guessed per file, files of unknown type skipped (named on
 *    stderr). Batched as psibase does: up to 10 files and 64 KiB per transaction.
 *
 * psibase compresses compressible types (brotli); psiweb stores content as given
 * (contentEncoding none).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { guessContentType, storeSysActions } from '../../../services/sites/upload.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo, parseCommandLine } from './io.ts';
import { accountArg, NODE_OPTIONS, NODE_USAGE, nodeUrl, pushActions, signersFrom } from './tx.ts';

export const UPLOAD_USAGE = `usage: psiweb upload SRC [DEST] -S ACCOUNT [-r] [-t TYPE] [-s FILE] [--url URL]
  -S, --sender ACCOUNT:     whose site the files go to (required): http://ACCOUNT.<root>/DEST
  -r, --recursive:          upload the directory SRC and everything under it
  -t, --content-type TYPE:  the MIME type of the file (default: guessed from its name)
${NODE_USAGE}`;

/** psibase's batches (upload_tree): at most this many files … */
const BATCH_FILES = 10;
/** … and this many content bytes per transaction (a batch has at least one file). */
const BATCH_BYTES = 64 * 1024;


interface UploadFile {
  path: string;
  contentType: string;
  source: string;
  content: Uint8Array;
}

/** psibase's normalize_upload_path: a leading `/`, no trailing ones; '' for none. */
function normalizeDir(dest: string | undefined): string {
  if (dest === undefined) return '';
  let d = dest.startsWith('/') ? dest : `/${dest}`;
  while (d.endsWith('/')) d = d.slice(0, -1);
  return d;
}

async function tree(dest: string, source: string, io: CliIo, out: UploadFile[]): Promise<void> {
  for (const entry of (await readdir(source, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = join(source, entry.name);
    const path = `${dest}/${entry.name}`;
    if (entry.isDirectory()) await tree(path, full, io, out);
    else if (entry.isFile()) {
      const contentType = guessContentType(entry.name);
      if (contentType === undefined) {
        io.stderr(`skip unknown mime type: ${full}\n`);
        continue;
      }
      out.push({ path, contentType, source: full, content: new Uint8Array(await readFile(full)) });
    } else io.stderr(`skip ${full}: not a file or directory\n`);
  }
}

export async function runUpload(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, {
    ...NODE_OPTIONS,
    sender: { type: 'string', short: 'S' },
    recursive: { type: 'boolean', short: 'r' },
    'content-type': { type: 'string', short: 't' },
  });
  const { values, positionals } = parsed;
  if (positionals.length < 1 || positionals.length > 2) throw new UsageError(`expected SRC [DEST], got ${positionals.length} argument(s)`);
  if (values.sender === undefined) throw new UsageError('-S ACCOUNT is required: the files go to that account\'s site');
  const account = accountArg(values.sender, '-S ACCOUNT');
  const [source, dest] = positionals as [string, string | undefined];
  const contentType = values['content-type'];
  if (contentType !== undefined && !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(contentType)) throw new UsageError(`-t must be a MIME type like text/html, got "${contentType}"`);
  if (values.recursive && contentType !== undefined) throw new UsageError('-t names one file\'s type; with -r each file\'s type is guessed from its name');
  const root = nodeUrl(values);
  let info;
  try {
    info = await stat(source);
  } catch (e) {
    throw new UsageError(`cannot read ${source}: ${(e as Error).message}`);
  }
  const files: UploadFile[] = [];
  if (values.recursive) {
    if (!info.isDirectory()) throw new UsageError(`${source} is not a directory (drop -r to upload one file)`);
    await tree(normalizeDir(dest), source, io, files);
    if (files.length === 0) throw new UsageError(`${source} holds no file of a known type`);
  } else {
    if (info.isDirectory()) throw new UsageError(`${source} is a directory: use -r to upload it and everything under it`);
    const type = contentType ?? guessContentType(source);
    if (type === undefined) throw new UsageError(`unknown mime type: ${source} (give it with -t)`);
    const path = dest === undefined ? `/${basename(source)}` : dest.startsWith('/') ? dest : `/${dest}`;
    files.push({ path, contentType: type, source, content: new Uint8Array(await readFile(source)) });
  }
  const signers = await signersFrom(values.sign);
  let done = 0;
  while (done < files.length) {
    const batch: UploadFile[] = [];
    let bytes = 0;
    while (done + batch.length < files.length && batch.length < BATCH_FILES && bytes < BATCH_BYTES) {
      const f = files[done + batch.length]!;
      batch.push(f);
      bytes += f.content.length;
    }
    const trace = await pushActions(root, storeSysActions(account, batch), signers);
    if (trace.error) {
      io.stderr(`transaction failed: ${trace.error}\nthese files were in the failed transaction:\n${batch.map((f) => `    ${f.source}\n`).join('')}`);
      if (done > 0) io.stderr(`${done} of ${files.length} files were uploaded before it\n`);
      return EXIT_FAILED;
    }
    for (const f of batch) io.stdout(`${f.path} <=== ${f.source}   ${f.contentType}\n`);
    done += batch.length;
  }
  return EXIT_OK;
}

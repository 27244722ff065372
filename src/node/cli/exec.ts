/**
 * `psiweb exec FILE METHOD [HEXARGS]` and `psiweb exec FILE --http METHOD PATH`: runs one
 * action (or HTTP request) of a service module on a scratch chain (src/node/exec.ts).
 * The return value goes to stdout as hex; the service's console output to stderr; an
 * abort prints the service's message and exits 1.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { isValidAccountName, methodNumber } from '../../protocol/names.ts';
import { execAction, execHttp, type ExecInit } from '../exec.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo, parseCommandLine } from './io.ts';

export const EXEC_USAGE = `usage: psiweb exec FILE.wasm|FILE.wat METHOD [HEXARGS] [--account NAME] [--sender NAME]
       psiweb exec FILE.wasm|FILE.wat --http GET|POST|… PATH [--body TEXT] [--account NAME]
  HEXARGS: the action's fracpacked arguments in hex (default 0000, an empty struct).
  --account: the scratch account the module is deployed on (default: the file's name
             when it is an account name, else "scratch").
  --sender:  who sends the action (default alice; "http" for --http, as psibase's http service).`;

function parseHex(text: string): Uint8Array {
  const clean = text.startsWith('0x') ? text.slice(2) : text;
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new UsageError(`HEXARGS must be hex bytes, got "${text}"`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function checkAccount(name: string, flag: string): string {
  if (!isValidAccountName(name)) throw new UsageError(`${flag} must be an account name, got "${name}"`);
  return name;
}

async function loadCode(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (extname(file).toLowerCase() !== '.wat') return bytes;
  // wabt is a development dependency: only loaded for WAT sources.
  const wabt = await (await import('wabt')).default();
  let parsed;
  try {
    parsed = wabt.parseWat(file, new TextDecoder().decode(bytes), { bulk_memory: true, mutable_globals: true, sign_extension: true });
  } catch (e) {
    throw new UsageError(`${file} is not valid WAT: ${(e as Error).message}`);
  }
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export async function runExec(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, {
    http: { type: 'boolean', default: false },
    body: { type: 'string' },
    account: { type: 'string' },
    sender: { type: 'string' },
    host: { type: 'string' },
  });
  const { values, positionals } = parsed;
  const [file, ...rest] = positionals;
  if (!file) throw new UsageError('missing FILE');
  const stem = basename(file, extname(file));
  const account = checkAccount(values.account ?? (isValidAccountName(stem) ? stem : 'scratch'), '--account');
  const init: ExecInit = { code: await loadCode(file), account, sender: checkAccount(values.sender ?? (values.http ? 'http' : 'alice'), '--sender') };
  if (values.host) init.rootHost = values.host;

  if (values.http) {
    const [method, path, extra] = rest;
    if (!method || !path || extra !== undefined) throw new UsageError('--http takes a METHOD and a PATH, e.g. --http GET /');
    const r = await execHttp(init, method, path, new TextEncoder().encode(values.body ?? ''));
    if (r.console) io.stderr(r.console.endsWith('\n') ? r.console : `${r.console}\n`);
    if (r.error !== undefined) {
      io.stderr(`${r.error}\n`);
      return EXIT_FAILED;
    }
    if (!r.reply) {
      io.stdout('404 (the service has no reply for this request)\n');
      return EXIT_OK;
    }
    io.stdout(`${r.reply.status} ${r.reply.contentType}\n`);
    for (const h of r.reply.headers) io.stdout(`${h.name}: ${h.value}\n`);
    io.stdout(`\n${new TextDecoder().decode(r.reply.body)}\n`);
    return EXIT_OK;
  }

  const [method, args, extra] = rest;
  if (!method) throw new UsageError('missing METHOD');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  try {
    methodNumber(method);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const r = await execAction(init, method, parseHex(args ?? '0000'));
  if (r.console) io.stderr(r.console.endsWith('\n') ? r.console : `${r.console}\n`);
  if (r.error !== undefined) {
    io.stderr(`${r.error}\n`);
    return EXIT_FAILED;
  }
  io.stdout(`${hex(r.retval ?? new Uint8Array(0))}\n`);
  return EXIT_OK;
}

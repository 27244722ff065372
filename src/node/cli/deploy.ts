/**
 * `psiweb deploy ACCOUNT FILE.wasm [SCHEMA] [-c|--create] [-p|--register-proxy] [-S SENDER]`:
 * psibase's `deploy` (rust/psibase main.rs deploy), one transaction:
 *
 *  1. with -c: the account is created first (as `psiweb create`: -k, -i, or on a devnet
 *     its devnet key), so setCode below must be signed by the new account's key;
 *  2. setcode::setCode(ACCOUNT, 0, 0, wasm), sent by ACCOUNT;
 *  3. with -p: http::registerServer(ACCOUNT), so ACCOUNT's serveSys answers its subdomain.
 *
 * Redeploying replaces the code only: the service's tables stay (setCode touches the
 * code rows alone). psibase also stores SCHEMA with its packages service; psiweb's
 * devnets have no packages service, so SCHEMA is optional and only checked to be a
 * schema (JSON with an `actions` object) — pass it to `psiweb push --schema` to pack
 * JSON arguments.
 */
import { readFile } from 'node:fs/promises';
import { accountNumber, methodNumber } from '../../protocol/names.ts';
import type { Action } from '../../protocol/types.ts';
import { packActionArgs } from '../schemas.ts';
import { createAccountActions, defaultCreator } from './create.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo, parseCommandLine } from './io.ts';
import { accountArg, NODE_OPTIONS, NODE_USAGE, nodeUrl, pushActions, signersFrom } from './tx.ts';

export const DEPLOY_USAGE = `usage: psiweb deploy ACCOUNT FILE.wasm [SCHEMA] [-c] [-p] [-S SENDER] [-k PUBKEY | -i] [-s FILE] [--url URL]
  -c, --create:          create ACCOUNT first if it does not exist (see psiweb create for -k, -i)
  -p, --register-proxy:  register ACCOUNT with http, so its serveSys answers its subdomain
  -S, --sender SENDER:   who creates the account (needs -c; default as psiweb create)
  SCHEMA:                the service's schema JSON (checked; psiweb push --schema packs JSON with it)
  Redeploying keeps the service's tables.
${NODE_USAGE}`;

/** wasm's magic and version 1: `\\0asm` 01 00 00 00. */
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function action(sender: string, service: string, method: string, args: unknown): Action {
  return { sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData: packActionArgs(service, method, args) };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

async function readWasm(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (bytes.length < WASM_HEADER.length || WASM_HEADER.some((b, i) => bytes[i] !== b)) throw new UsageError(`${file} is not a wasm module (no \\0asm version 1 header)`);
  return bytes;
}

/** A schema file: JSON whose `actions` is an object (psibase's ServiceSchema). */
export async function readSchemaFile(file: string): Promise<{ actions: Record<string, unknown> } & Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read schema ${file}: ${(e as Error).message}`);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`schema ${file} is not JSON: ${(e as Error).message}`);
  }
  const actions = (schema as { actions?: unknown } | null)?.actions;
  if (typeof schema !== 'object' || schema === null || typeof actions !== 'object' || actions === null || Array.isArray(actions)) {
    throw new UsageError(`schema ${file} is not a service schema (a JSON object with an "actions" object)`);
  }
  return schema as { actions: Record<string, unknown> };
}

export async function runDeploy(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, {
    ...NODE_OPTIONS,
    create: { type: 'boolean', short: 'c' },
    'register-proxy': { type: 'boolean', short: 'p' },
    sender: { type: 'string', short: 'S' },
    key: { type: 'string', short: 'k' },
    insecure: { type: 'boolean', short: 'i' },
  });
  const { values, positionals } = parsed;
  if (positionals.length < 2 || positionals.length > 3) throw new UsageError(`expected ACCOUNT FILE.wasm [SCHEMA], got ${positionals.length} argument(s)`);
  const account = accountArg(positionals[0], 'ACCOUNT');
  if (!values.create) {
    for (const [flag, given] of [['-S/--sender', values.sender], ['-k/--key', values.key], ['-i/--insecure', values.insecure]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} needs -c/--create`);
    }
  }
  const root = nodeUrl(values);
  const wasm = await readWasm(positionals[1]!);
  if (positionals[2] !== undefined) await readSchemaFile(positionals[2]);
  const signers = await signersFrom(values.sign);
  const actions: Action[] = [];
  if (values.create) {
    const sender = values.sender === undefined ? await defaultCreator(root) : accountArg(values.sender, '-S SENDER');
    actions.push(...(await createAccountActions(sender, account, { key: values.key, insecure: values.insecure }, signers)));
  }
  actions.push(action(account, 'setcode', 'setCode', { service: account, vmType: 0, vmVersion: 0, code: hex(wasm) }));
  if (values['register-proxy']) actions.push(action(account, 'http', 'registerServer', { server: account }));
  const trace = await pushActions(root, actions, signers);
  if (trace.error) {
    io.stderr(`transaction failed: ${trace.error}\n`);
    return EXIT_FAILED;
  }
  io.stdout(`deployed ${positionals[1]} (${wasm.length} bytes) on ${account}${values.create ? ' (created if new)' : ''}${values['register-proxy'] ? ', registered with http' : ''}\n`);
  return EXIT_OK;
}

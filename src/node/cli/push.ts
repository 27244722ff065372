/**
 * `psiweb push SENDER SERVICE METHOD 'JSON-ARGS'`: one signed action, the way psibase's
 * CLI pushes one (rust/psibase main.rs / rpc.rs): arguments packed from the service's
 * schema (src/node/schemas.ts), TaPoS from `<root>/common/tapos/head`, an expiration
 * ten seconds ahead, a verify-sig claim and proof by SENDER's key (its devnet key, or
 * `--key FILE` in PEM), then `POST transact.<root>/push_transaction`. Prints the trace;
 * a transaction the chain refused exits 1 with its error.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { privateKeyFromPem, sign, type KeyPair } from '../../crypto/keys.ts';
import { accountNumber, isValidAccountName, methodNumber } from '../../protocol/names.ts';
import { packSignedTransaction, packTransaction } from '../../protocol/types.ts';
import { fetchNode, serviceUrl } from '../client.ts';
import { DEFAULT_PORT } from '../constants.ts';
import { devnetKey } from '../devnet.ts';
import { packActionArgs } from '../schemas.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo } from './io.ts';

export const PUSH_USAGE = `usage: psiweb push SENDER SERVICE METHOD 'JSON-ARGS' [--key FILE] [--url URL] [--wait final|applied]
  JSON-ARGS: the action's arguments as a JSON object, e.g. '{"to":"bob","amount":"5","memo":"hi"}'
  --key:  a PEM private key to sign with (default: SENDER's devnet key)
  --url:  the node's root URL (default http://psiweb.localhost:${DEFAULT_PORT})`;

/** psibase's CLI: transactions it pushes expire ten seconds from now. */
const EXPIRATION_SEC = 10;
const VERIFY_SIG = accountNumber('verify-sig');

function checkName(value: string, what: string, valid: (s: string) => boolean): string {
  if (!valid(value)) throw new UsageError(`${what} must be a ${what === 'METHOD' ? 'method' : 'account'} name, got "${value}"`);
  return value;
}

function isMethodName(s: string): boolean {
  try {
    return methodNumber(s) !== 0n;
  } catch {
    return false;
  }
}

async function loadKey(file: string | undefined, sender: string): Promise<KeyPair> {
  if (file === undefined) return devnetKey(sender);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --key ${file}: ${(e as Error).message}`);
  }
  try {
    return await privateKeyFromPem(pem);
  } catch (e) {
    throw new UsageError(`--key ${file} is not a PEM private key: ${(e as Error).message}`);
  }
}

export async function runPush(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        key: { type: 'string' },
        url: { type: 'string', default: `http://psiweb.localhost:${DEFAULT_PORT}` },
        wait: { type: 'string', default: 'final' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 4) throw new UsageError(`expected SENDER SERVICE METHOD JSON-ARGS, got ${positionals.length} argument(s)`);
  const [senderArg, serviceArg, methodArg, json] = positionals as [string, string, string, string];
  const sender = checkName(senderArg, 'SENDER', isValidAccountName);
  const service = checkName(serviceArg, 'SERVICE', isValidAccountName);
  const method = checkName(methodArg, 'METHOD', isMethodName);
  if (values.wait !== 'final' && values.wait !== 'applied') throw new UsageError(`--wait must be final or applied, got "${values.wait}"`);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url must be a URL, got "${values.url}"`);
  }
  let args: unknown;
  try {
    args = JSON.parse(json);
  } catch (e) {
    throw new UsageError(`JSON-ARGS is not JSON: ${(e as Error).message}`);
  }
  let rawData: Uint8Array;
  try {
    rawData = packActionArgs(service, method, args);
  } catch (e) {
    throw new UsageError(`cannot pack ${service}::${method} arguments: ${(e as Error).message}`);
  }
  const key = await loadKey(values.key, sender);

  const root = url.origin;
  const taposRes = await fetchNode(`${root}/common/tapos/head`);
  if (taposRes.status !== 200) {
    io.stderr(`cannot get TaPoS from ${root}/common/tapos/head: ${taposRes.status} ${taposRes.text()}\n`);
    return EXIT_FAILED;
  }
  const tapos = taposRes.json() as { refBlockIndex: number; refBlockSuffix: number };
  const transaction = packTransaction({
    tapos: {
      expiration: BigInt(Math.floor(Date.now() / 1000) + EXPIRATION_SEC),
      refBlockIndex: tapos.refBlockIndex,
      refBlockSuffix: tapos.refBlockSuffix,
      flags: 0,
    },
    actions: [{ sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData }],
    claims: [{ service: VERIFY_SIG, rawData: key.publicKeyDer }],
  });
  const signed = packSignedTransaction({ transaction, proofs: [await sign(key, transaction)], subjectiveData: null });

  const res = await fetchNode(serviceUrl(root, 'transact', `/push_transaction?wait_for=${values.wait}`), {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
    body: signed,
  });
  if (res.status !== 200) {
    io.stderr(`push_transaction failed: ${res.status} ${res.text()}\n`);
    return EXIT_FAILED;
  }
  const trace = res.json() as { error?: string | null };
  io.stdout(`${JSON.stringify(trace, null, 2)}\n`);
  if (trace.error) {
    io.stderr(`transaction failed: ${trace.error}\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

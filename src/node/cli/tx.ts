/**
 * What every transaction-sending `psiweb` command shares (create, deploy, upload, push),
 * following psibase's CLI (rust/psibase/src/main.rs NodeArgs, SigArgs):
 *
 *  - the node: `--url URL` (psibase's `-a/--api`, also accepted), default $PSIWEB_URL
 *    (as psibase's PSINODE_URL), else the local devnet http://psiweb.localhost:8080;
 *  - the signers: `-s/--sign FILE` (repeatable; a PEM private key, as psibase's --sign)
 *    or, with no -s, "devnet mode": each action's sender signs with its devnet key
 *    (src/node/devnet.ts devnetKey), so a devnet's accounts need no key files;
 *  - TaPoS from `<root>/common/tapos/head`, an expiration ten seconds ahead, one
 *    verify-sig claim and proof per key (first sender's key first: auth-sig requires the
 *    first sender to be verified by the first proof), `POST transact.<root>/push_transaction`.
 */
import { readFile } from 'node:fs/promises';
import { parsePublicKey, privateKeyFromPem, publicKeyFromPem, sign, type KeyPair } from '../../crypto/keys.ts';
import { DecodeError } from '../../errors.ts';
import { accountName, accountNumber, isValidAccountName, methodName, methodNumber } from '../../protocol/names.ts';
import { packSignedTransaction, packTransaction, type Action } from '../../protocol/types.ts';
import { ClientError, fetchNode, serviceUrl } from '../client.ts';
import { DEFAULT_PORT } from '../constants.ts';
import { devnetKey } from '../devnet.ts';
import { UsageError } from './io.ts';

export const DEFAULT_URL = `http://psiweb.localhost:${DEFAULT_PORT}`;

/** psibase's CLI: transactions it pushes expire ten seconds from now. */
const EXPIRATION_SEC = 10;
const VERIFY_SIG = accountNumber('verify-sig');

/** The parseArgs options every transaction-sending command takes. */
export const NODE_OPTIONS = {
  url: { type: 'string' },
  api: { type: 'string', short: 'a' },
  sign: { type: 'string', short: 's', multiple: true },
} as const;

export const NODE_USAGE = `  --url URL:     the node's root URL (default $PSIWEB_URL, else ${DEFAULT_URL}; psibase's -a/--api also works)
  -s, --sign FILE: sign with this PEM private key (repeatable); without -s each sender
                 signs with its devnet key (a devnet's accounts need no key files)`;

/** A name argument that must be an account name. */
export function accountArg(value: string | undefined, what: string): string {
  if (value === undefined) throw new UsageError(`${what} is required`);
  if (!isValidAccountName(value)) throw new UsageError(`${what} must be an account name, got "${value}"`);
  return value;
}

export function methodArg(value: string, what: string): string {
  let ok = false;
  try {
    ok = methodNumber(value) !== 0n;
  } catch {
    ok = false;
  }
  if (!ok) throw new UsageError(`${what} must be a method name, got "${value}"`);
  return value;
}

/** The node's root origin from --url / --api. */
export function nodeUrl(values: { url?: string; api?: string }): string {
  if (values.url !== undefined && values.api !== undefined) throw new UsageError('give --url or --api, not both');
  const raw = values.url ?? values.api ?? process.env.PSIWEB_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be a URL, got "${raw}"`);
  }
  return url.origin;
}

/** A PEM private key file (`-s`); UsageError when it cannot be read or is no key. */
export async function loadPrivateKey(file: string, flag = '--sign'): Promise<KeyPair> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(e as Error).message}`);
  }
  try {
    return await privateKeyFromPem(pem);
  } catch (e) {
    throw new UsageError(`${flag} ${file} is not a PEM private key: ${(e as Error).message}`);
  }
}

/** A public key given as PEM text or a PEM file (psibase's -k KEY); its DER bytes. */
export async function loadPublicKey(value: string): Promise<Uint8Array> {
  let pem = value;
  if (!value.includes('-----BEGIN')) {
    try {
      pem = await readFile(value, 'utf8');
    } catch (e) {
      throw new UsageError(`-k ${value} is neither a PEM public key nor a readable file: ${(e as Error).message}`);
    }
  }
  try {
    const der = publicKeyFromPem(pem);
    parsePublicKey(der);
    return der;
  } catch (e) {
    throw new UsageError(`-k ${value} is not a PEM public key: ${(e as Error).message}`);
  }
}

/** Who signs: the -s keys, or (devnet mode) each sender's devnet key. */
export type Signers = { keys: KeyPair[] } | { devnet: true };

export async function signersFrom(files: readonly string[] | undefined, extra: readonly string[] = []): Promise<Signers> {
  const all = [...(files ?? []), ...extra];
  if (all.length === 0) return { devnet: true };
  const keys: KeyPair[] = [];
  for (const f of all) keys.push(await loadPrivateKey(f));
  return { keys };
}

export function isDevnetMode(signers: Signers): signers is { devnet: true } {
  return 'devnet' in signers;
}

async function keysFor(signers: Signers, actions: readonly Action[]): Promise<KeyPair[]> {
  if (!isDevnetMode(signers)) return signers.keys;
  const senders: bigint[] = [];
  for (const a of actions) if (!senders.includes(a.sender)) senders.push(a.sender);
  return Promise.all(senders.map((s) => devnetKey(accountName(s))));
}

export interface TraceJson {
  actionTraces: unknown[];
  error?: string | null;
}

/** The chain refused the transaction, or the node could not be asked. */
export class PushFailedError extends ClientError {
  override name = 'PushFailedError';
}

/**
 * Signs `actions` as one transaction and pushes it; resolves with the trace (whose
 * `error` is set when the chain refused it). Throws PushFailedError when the node
 * answers anything but a trace.
 */
export async function pushActions(root: string, actions: readonly Action[], signers: Signers, wait: 'final' | 'applied' = 'final'): Promise<TraceJson> {
  const taposRes = await fetchNode(`${root}/common/tapos/head`);
  if (taposRes.status !== 200) throw new PushFailedError(`cannot get TaPoS from ${root}/common/tapos/head: ${taposRes.status} ${taposRes.text()}`);
  const tapos = taposRes.json() as { refBlockIndex: number; refBlockSuffix: number };
  const keys = await keysFor(signers, actions);
  const transaction = packTransaction({
    tapos: {
      expiration: BigInt(Math.floor(Date.now() / 1000) + EXPIRATION_SEC),
      refBlockIndex: tapos.refBlockIndex,
      refBlockSuffix: tapos.refBlockSuffix,
      flags: 0,
    },
    actions: [...actions],
    claims: keys.map((k) => ({ service: VERIFY_SIG, rawData: k.publicKeyDer })),
  });
  const proofs = await Promise.all(keys.map((k) => sign(k, transaction)));
  const signed = packSignedTransaction({ transaction, proofs, subjectiveData: null });
  const res = await fetchNode(serviceUrl(root, 'transact', `/push_transaction?wait_for=${wait}`), {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
    body: signed,
  });
  if (res.status !== 200) throw new PushFailedError(`push_transaction failed: ${res.status} ${res.text()}`);
  return res.json() as TraceJson;
}

/** Even-length hex (an optional 0x), as bytes; DecodeError otherwise. */
export function hexBytes(hex: string, what: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new DecodeError(`${what} must be hex digits in pairs, got "${hex.length > 40 ? `${hex.slice(0, 40)}…` : hex}"`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

interface ActionTraceJson {
  action: { sender: string; service: string; method: string; rawData: string };
  rawRetval: string;
  innerTraces: { inner: { ActionTrace?: ActionTraceJson; ConsoleTrace?: { console: string }; EventTrace?: unknown } }[];
  error?: string | null;
}

/** One of the transaction's own actions, found in its trace. */
export interface ActionResult {
  sender: string;
  service: string;
  method: string;
  /** The action's return value, fracpacked, as hex. */
  rawRetval: string;
  /** Everything it (and what it called) wrote to the console. */
  console: string;
  error?: string | null;
}

function consoleOf(t: ActionTraceJson): string {
  let out = '';
  for (const { inner } of t.innerTraces ?? []) {
    if (inner.ConsoleTrace) out += inner.ConsoleTrace.console;
    else if (inner.ActionTrace) out += consoleOf(inner.ActionTrace);
  }
  return out;
}

/**
 * The transaction's actions as they ran: transact runs each one inside its own
 * top-level trace (after the auth checks), so each is the first trace, depth first, that
 * matches its sender, service, method and data and was not matched before.
 */
export function actionResults(trace: TraceJson, actions: readonly Action[]): ActionResult[] {
  const all: ActionTraceJson[] = [];
  const walk = (t: ActionTraceJson): void => {
    all.push(t);
    for (const { inner } of t.innerTraces ?? []) if (inner.ActionTrace) walk(inner.ActionTrace);
  };
  for (const t of trace.actionTraces as ActionTraceJson[]) walk(t);
  const results: ActionResult[] = [];
  let from = 0;
  for (const a of actions) {
    const sender = accountName(a.sender);
    const service = accountName(a.service);
    const method = methodName(a.method);
    const data = Buffer.from(a.rawData).toString('hex');
    const i = all.findIndex(
      (t, j) => j >= from && t.action.sender === sender && t.action.service === service && t.action.method === method && t.action.rawData.toLowerCase() === data,
    );
    if (i < 0) break;
    from = i + 1;
    const t = all[i]!;
    results.push({ sender, service, method, rawRetval: t.rawRetval.toLowerCase(), console: consoleOf(t), ...(t.error ? { error: t.error } : {}) });
  }
  return results;
}

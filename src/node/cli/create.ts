/**
 * `psiweb create ACCOUNT [-k PUBKEY | -i] [-S SENDER]`: psibase's `create`
 * (rust/psibase main.rs create, actions.rs), one transaction sent by SENDER:
 *
 *  - `-k KEY` (PEM text or a PEM file): auth-sig::newAccount(ACCOUNT, KEY);
 *  - `-i` (insecure): accounts::newAccount(ACCOUNT, auth-any, false): anyone may act as it;
 *  - neither, in devnet mode (no -s): auth-sig::newAccount with ACCOUNT's devnet key
 *    (src/node/devnet.ts devnetKey), so later commands sign for it with no key file;
 *  - neither, with -s: psibase's default, auth-delg::newAccount(ACCOUNT, owner SENDER).
 *
 * SENDER defaults to psibase's `root` where the chain has that account (the node's
 * `accounts.<root>/graphql` says), else to the devnet's producer `prod` (psiweb's
 * devnets have no root; any account may create names of 8 or more characters, shorter
 * names need the accounts service's preapproval, as in psibase).
 */
import { accountNumber, methodNumber } from '../../protocol/names.ts';
import type { Action } from '../../protocol/types.ts';
import { ClientError, fetchNode, serviceUrl } from '../client.ts';
import { DEVNET_PRODUCER } from '../constants.ts';
import { devnetKey } from '../devnet.ts';
import { packActionArgs } from '../schemas.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo, parseCommandLine } from './io.ts';
import { accountArg, isDevnetMode, loadPublicKey, NODE_OPTIONS, NODE_USAGE, nodeUrl, pushActions, signersFrom, type Signers, type TraceJson } from './tx.ts';

export const CREATE_USAGE = `usage: psiweb create ACCOUNT [-k PUBKEY | -i] [-S SENDER] [-s FILE] [--url URL]
  -k, --key PUBKEY: the account signs with this key (PEM text or a PEM file; auth-sig)
  -i, --insecure:   anyone may act as the account without signing (auth-any; devnets only!)
                    neither: on a devnet (no -s), the account gets its devnet key;
                    with -s, it is owned by SENDER (auth-delg), as psibase does
  -S, --sender SENDER: who creates it (default: root where the chain has it, else the devnet's producer ${DEVNET_PRODUCER})
${NODE_USAGE}`;

function action(sender: string, service: string, method: string, args: unknown): Action {
  return { sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData: packActionArgs(service, method, args) };
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export interface AccountChoice {
  key?: string;
  insecure?: boolean;
}

/** The actions that create `account` (psibase's AccountArgs::create). */
export async function createAccountActions(sender: string, account: string, choice: AccountChoice, signers: Signers): Promise<Action[]> {
  if (choice.key !== undefined && choice.insecure) throw new UsageError('give -k or -i, not both');
  if (choice.key !== undefined) return [action(sender, 'auth-sig', 'newAccount', { name: account, key: hex(await loadPublicKey(choice.key)) })];
  if (choice.insecure) return [action(sender, 'accounts', 'newAccount', { name: account, authService: 'auth-any', requireMatch: false })];
  if (isDevnetMode(signers)) {
    const key = await devnetKey(account);
    return [action(sender, 'auth-sig', 'newAccount', { name: account, key: hex(key.publicKeyDer) })];
  }
  return [action(sender, 'auth-delg', 'newAccount', { name: account, owner: sender, requireMatch: true })];
}

interface TraceNode {
  action?: { service: string; method: string; rawData: string };
  rawRetval?: string;
  innerTraces?: { inner: { ActionTrace?: TraceNode } }[];
}

/** Whether accounts::newAccount for `account` answered false (it existed) in the trace. */
export function accountExisted(trace: TraceJson, account: string): boolean {
  const name = accountNumber(account);
  const nameHex = Buffer.from(new BigUint64Array([name]).buffer).toString('hex');
  const visit = (t: TraceNode): boolean => {
    // newAccount's data: u16 fixed size, then the name (u64 little-endian).
    if (t.action?.service === 'accounts' && t.action.method.toLowerCase() === 'newaccount' && t.action.rawData.toLowerCase().slice(4, 20) === nameHex) return t.rawRetval === '00';
    return (t.innerTraces ?? []).some(({ inner }) => inner.ActionTrace !== undefined && visit(inner.ActionTrace));
  };
  return (trace.actionTraces as TraceNode[]).some(visit);
}

/** Whether the chain behind `root` has an account `name` (psibase's RAccounts getAccount). */
async function accountExists(root: string, name: string): Promise<boolean> {
  const res = await fetchNode(serviceUrl(root, 'accounts', '/graphql'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ getAccount(accountName: ${JSON.stringify(name)}) { accountNum } }` }),
  });
  if (res.status !== 200) throw new ClientError(`${root} did not say whether ${name} exists: ${res.status} ${res.text().slice(0, 200)}`);
  return (res.json() as { data?: { getAccount?: unknown } }).data?.getAccount != null;
}

/** psibase's default creator, `root`, where the chain has it; else the devnet's producer. */
export async function defaultCreator(root: string): Promise<string> {
  return (await accountExists(root, 'root')) ? 'root' : DEVNET_PRODUCER;
}

export async function runCreate(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, {
    ...NODE_OPTIONS,
    key: { type: 'string', short: 'k' },
    insecure: { type: 'boolean', short: 'i' },
    sender: { type: 'string', short: 'S' },
  });
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected ACCOUNT, got ${positionals.length} argument(s)`);
  const account = accountArg(positionals[0], 'ACCOUNT');
  const root = nodeUrl(values);
  const signers = await signersFrom(values.sign);
  const sender = values.sender === undefined ? await defaultCreator(root) : accountArg(values.sender, '-S SENDER');
  const actions = await createAccountActions(sender, account, { key: values.key, insecure: values.insecure }, signers);
  const trace = await pushActions(root, actions, signers);
  if (trace.error) {
    io.stderr(`transaction failed: ${trace.error}\n`);
    return EXIT_FAILED;
  }
  if (accountExisted(trace, account)) {
    // accounts.newAccount leaves an existing account as it is (psiweb's auth-sig refuses
    // to re-create one, so this is the auth-any or auth-delg path).
    io.stderr(`${account} already existed: no account was created\n`);
    return EXIT_OK;
  }
  io.stdout(`created ${account}${values.key !== undefined ? ' (auth-sig, the given key)' : values.insecure ? ' (auth-any: insecure)' : isDevnetMode(signers) ? ' (auth-sig, its devnet key)' : ` (auth-delg, owned by ${sender})`}\n`);
  return EXIT_OK;
}

/**
 * `psiweb exec`: one action (or one HTTP request) of a service on a scratch chain in
 * memory. The chain is booted with psibase's `db` service (privileged, as psibase
 * installs it: unprivileged services open their tables through it) and the module
 * deployed on a scratch account; nothing is kept afterwards.
 */
import { Chain } from '../chain/executor.ts';
import { PsiwebError } from '../errors.ts';
import { ServiceQuery } from '../http/query.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import type { ActionTrace, HttpReply } from '../protocol/types.ts';
import { MemoryStore, StateDb, WriteOverlay } from '../state/index.ts';
import { CodeFlags } from '../vm/index.ts';
import { DEFAULT_ROOT_HOST } from '../http/constants.ts';
import { serviceWasm } from './service-build.ts';

export class ExecError extends PsiwebError {
  override name = 'ExecError';
}

export interface ExecInit {
  /** The service's wasm. */
  code: Uint8Array;
  /** The scratch account it runs as. */
  account: string;
  sender: string;
  rootHost?: string;
}

export interface ExecResult {
  /** Everything the service (and what it called) wrote to the console. */
  console: string;
  /** Set when the action aborted: the message psibase would report. */
  error?: string;
  retval?: Uint8Array;
  /** For an HTTP request: the service's reply, or null when it has none (psibase: 404). */
  reply?: HttpReply | null;
}

/** The console output of a trace and its nested actions, in order. */
export function consoleOf(trace: ActionTrace): string {
  let out = '';
  for (const inner of trace.innerTraces) {
    if ('ConsoleTrace' in inner.inner) out += inner.inner.ConsoleTrace.console;
    else if ('ActionTrace' in inner.inner) out += consoleOf(inner.inner.ActionTrace);
  }
  return out;
}

/** Boots the scratch chain: genesis with `db` and the service. */
async function scratchChain(init: ExecInit): Promise<Chain> {
  const account = accountNumber(init.account);
  const services = [{ service: accountNumber('db'), flags: CodeFlags.isPrivileged, vmType: 0, vmVersion: 0, code: await serviceWasm('db') }];
  if (account !== services[0]!.service) services.push({ service: account, flags: 0n, vmType: 0, vmVersion: 0, code: init.code });
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await chain.boot({ services, producer: accountNumber('prod') });
  return chain;
}

/** Runs `method(args)` as an action of a transaction would run. */
export async function execAction(init: ExecInit, method: string, args: Uint8Array): Promise<ExecResult> {
  const chain = await scratchChain(init);
  const reader = chain.state.reader;
  const tx = chain.host.transaction({ state: new WriteOverlay(reader), codeFor: (s) => chain.codeFor(reader, s), mode: 'transaction' });
  try {
    const { trace, error } = tx.runAction({
      sender: accountNumber(init.sender),
      service: accountNumber(init.account),
      method: methodNumber(method),
      rawData: args,
    });
    const result: ExecResult = { console: consoleOf(trace), retval: trace.rawRetval };
    if (error) result.error = error.message;
    return result;
  } finally {
    tx.close();
  }
}

/** Sends one HTTP request to the service's `serveSys`, as a query (read-only). */
export async function execHttp(init: ExecInit, method: string, target: string, body = new Uint8Array(0)): Promise<ExecResult> {
  if (!target.startsWith('/')) throw new ExecError(`the HTTP target must start with "/", got "${target}"`);
  const chain = await scratchChain(init);
  const rootHost = init.rootHost ?? DEFAULT_ROOT_HOST;
  const host = `${init.account}.${rootHost}`;
  const query = new ServiceQuery(chain, { rootHost });
  const r = await query.serveSys(
    accountNumber(init.account),
    { host, method: method.toUpperCase(), target, contentType: '', headers: [{ name: 'host', value: host }], body },
    accountNumber(init.sender),
  );
  const result: ExecResult = { console: consoleOf(r.trace) };
  if (r.error !== undefined) result.error = r.error;
  else result.reply = r.reply ?? null;
  return result;
}

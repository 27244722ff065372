/**
 * Who sends a new account's auth-sig `newAccount` (issue 10 §6: create an account with
 * a new key from the browser). psibase's accounts plugin (`create-account`) has the
 * user logged in to the app send it through auth-sig, else an active invite's
 * credential create it (Invite::createAccount, sent by `cred-sys`), else it refuses.
 * psiweb's equivalent of the invite is open registration: on a chain where the account
 * `registrar` exists with `accounts` as its auth service (a devnet boots it,
 * src/node/devnet.ts), accounts authorizes registrar's auth-sig newAccount, unsigned,
 * and nothing else (services/accounts). So:
 *
 *  - a user logged in to the app sends (and pays for) it, as in psibase;
 *  - nobody logged in: `registrar` sends it, unsigned, where the chain has open
 *    registration; elsewhere (a production chain) the call is refused.
 *
 * Before the user is asked or any key is made: the name must not be taken. The chain
 * is read through accounts' GraphQL (`getAccount`), answered by the browser's node.
 */
import { PsiwebError } from '../errors.ts';
import type { HostEnv } from './host.ts';
import { serviceFetch } from './root-bridge.ts';

/** Open registration's sender (services/accounts). */
export const REGISTRAR = 'registrar';
/** The auth service registrar has where registration is open. */
export const REGISTRAR_AUTH = 'accounts';

export class RegistrationError extends PsiwebError {
  override name = 'RegistrationError';
}

/** Each name's account (its auth service), or null where there is none. */
export type AccountLookup = (names: string[]) => Promise<Record<string, { authService: string } | null>>;

/** accounts' GraphQL `getAccount` for each name, in one query. */
export function graphqlAccountLookup(env: HostEnv): AccountLookup {
  return async (names) => {
    const fields = names.map((n, i) => `a${i}: getAccount(accountName: ${JSON.stringify(n)}) { authService }`).join(' ');
    let res: Response;
    try {
      res = await serviceFetch(env, 'accounts', '/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: new TextEncoder().encode(JSON.stringify({ query: `{ ${fields} }` })),
      });
    } catch (e) {
      throw new RegistrationError(`cannot read accounts: ${String((e as Error)?.message ?? e)}`, { cause: e });
    }
    const text = await res.text();
    let body: { data?: Record<string, { authService: string } | null>; errors?: { message: string }[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new RegistrationError(`accounts' GraphQL answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok || body.errors?.length || !body.data) throw new RegistrationError(`accounts' GraphQL answered ${res.status}: ${body.errors?.map((e) => e.message).join('; ') ?? text.slice(0, 200)}`);
    const out: Record<string, { authService: string } | null> = {};
    names.forEach((n, i) => (out[n] = body.data![`a${i}`] ?? null));
    return out;
  };
}

export interface Sponsor {
  /** The account that sends newAccount. */
  sender: string;
  /** True for open registration: no key signs (accounts authorizes registrar). */
  unsigned: boolean;
}

/**
 * Who sends `name`'s newAccount for `app` (`loggedIn`: the app's user, if any); refuses
 * (RegistrationError) a taken name, and, with nobody logged in, a chain without open
 * registration.
 */
export async function sponsorOf(lookup: AccountLookup, app: string, name: string, loggedIn: string | undefined): Promise<Sponsor> {
  const rows = await lookup(loggedIn ? [name] : [name, REGISTRAR]);
  if (rows[name]) throw new RegistrationError(`create-account: the account ${name} already exists`);
  if (loggedIn) return { sender: loggedIn, unsigned: false };
  if (rows[REGISTRAR]?.authService !== REGISTRAR_AUTH) {
    throw new RegistrationError(
      `create-account: no user is logged in to ${app} to send and pay for the new account, and this chain has no open registration (no account ${REGISTRAR} on ${REGISTRAR_AUTH}): log in to an account to create one`,
    );
  }
  return { sender: REGISTRAR, unsigned: true };
}

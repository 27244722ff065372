/**
 * The seed's auth model (issue 10 §4) behind psibase's `permissions:plugin/api` and
 * `host:prompt/api`: an app calling its own plugin needs no prompt; a plugin reached
 * from another app asks the user, and the answer is remembered per (caller app,
 * plugin's service) until revoked. Asking follows psibase's redirect flow: the call
 * unwinds with a PromptRequest, the app is answered with psibase's RedirectErrorObject,
 * common-lib sends the page to `supervisor.<root>/prompt.html?returnPath=…`, where the
 * user picks Allow or Deny (prompt.ts), and comes back to the app.
 *
 * Grants and the active prompt live in the supervisor origin's client data store under
 * key spaces no plugin can name (plugin key spaces are `<service>:<plugin>`).
 */
import type { ClientDataStore } from './clientdata.ts';

export const GRANTS_SPACE = 'psiweb/grants';
export const PROMPT_SPACE = 'psiweb/prompt';
export const ACTIVE_PROMPT_KEY = 'active';
/** auth-sig's create-account prompt: the account name is the prompt's packedContext (UTF-8). */
export const CREATE_ACCOUNT_PROMPT = 'create-account';

/** Where the prompt page leaves a Deny to one create-account request (PROMPT_SPACE; read once). */
export function createAccountDenial(app: string, name: string): string {
  return `denied|${CREATE_ACCOUNT_PROMPT}|${app}|${name}`;
}

export type TrustLevel = 'none' | 'low' | 'medium' | 'high' | 'max';

/** What the prompt page shows and answers. */
export interface ActivePrompt {
  /** The service whose plugin asks (the callee). */
  promptApp: string;
  promptName: string;
  /** The app the user was using (the call's active app). */
  activeApp: string;
  /** The app whose call reached the plugin. */
  caller: string;
  level: TrustLevel;
  descriptions: [string, string, string];
  created: string;
  packedContext: number[] | null;
}

/** Thrown through the plugin (it is an Error, so jco's glue never turns it into a result) to ask the user. */
export class PromptRequest extends Error {
  override name = 'PromptRequest';
  constructor(readonly prompt: ActivePrompt) {
    super(`user_prompt_request: ${prompt.promptApp} asks ${prompt.caller}`);
  }
}

const te = new TextEncoder();
const td = new TextDecoder();

export function grantKey(callee: string, caller: string): string {
  return `${callee}|${caller}`;
}

/** 'allow', 'deny' or undefined (never asked, or revoked). Needs GRANTS_SPACE loaded. */
export function grantOf(store: ClientDataStore, callee: string, caller: string): 'allow' | 'deny' | undefined {
  const v = store.get(GRANTS_SPACE, grantKey(callee, caller));
  if (!v) return undefined;
  const s = td.decode(v);
  return s === 'allow' || s === 'deny' ? s : undefined;
}

export function setGrant(store: ClientDataStore, callee: string, caller: string, answer: 'allow' | 'deny' | undefined): void {
  if (answer === undefined) store.delete(GRANTS_SPACE, grantKey(callee, caller));
  else store.set(GRANTS_SPACE, grantKey(callee, caller), te.encode(answer));
}

export function activePrompt(store: ClientDataStore): ActivePrompt | undefined {
  const v = store.get(PROMPT_SPACE, ACTIVE_PROMPT_KEY);
  return v ? (JSON.parse(td.decode(v)) as ActivePrompt) : undefined;
}

export function setActivePrompt(store: ClientDataStore, p: ActivePrompt | undefined): void {
  if (p === undefined) store.delete(PROMPT_SPACE, ACTIVE_PROMPT_KEY);
  else store.set(PROMPT_SPACE, ACTIVE_PROMPT_KEY, te.encode(JSON.stringify(p)));
}

/**
 * permissions:plugin/api is-authorized for `callee` (the plugin's own service): true
 * for its own app, a whitelisted caller or level none; false for max from others or a
 * denied caller; true for an allowed one; else the user is asked (throws PromptRequest).
 */
export function isAuthorized(
  store: ClientDataStore,
  args: { callee: string; caller: string; activeApp: string; level: TrustLevel; descriptions: [string, string, string]; whitelist: string[] },
): boolean {
  const { callee, caller, level } = args;
  if (caller === callee || level === 'none' || args.whitelist.includes(caller)) return true;
  if (level === 'max') return false;
  const grant = grantOf(store, callee, caller);
  if (grant) return grant === 'allow';
  throw new PromptRequest({
    promptApp: callee,
    promptName: 'permissions',
    activeApp: args.activeApp,
    caller,
    level,
    descriptions: args.descriptions,
    created: new Date().toISOString(),
    packedContext: null,
  });
}

/** has-auth: as is-authorized, without asking. */
export function hasAuth(store: ClientDataStore, args: { callee: string; caller: string; level: TrustLevel; whitelist: string[] }): boolean {
  const { callee, caller, level } = args;
  if (caller === callee || level === 'none' || args.whitelist.includes(caller)) return true;
  if (level === 'max') return false;
  return grantOf(store, callee, caller) === 'allow';
}

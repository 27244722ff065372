/**
 * The supervisor (psibase's packages/user/Supervisor/ui/src/supervisor.ts, in
 * psiweb's shape): answers an app's FUNCTION_CALL_REQUEST and PRE_LOAD_PLUGINS_REQUEST.
 * A plugin is its service's `/<plugin>.wasm` (psibase's URL), fetched, hashed,
 * transpiled by jco in this page unless the cache has that hash, linked to the host's
 * interfaces and to the plugins it imports (loaded first: calls between plugins are
 * synchronous), instantiated fresh for each top-level call, and called.
 *
 * Actions that plugins add during one top-level call form one FIFO; at the end of the
 * call it becomes one transaction, sent by the user logged in to the calling app
 * (accounts:plugin/active-app login), signed with that user's key (auth-sig keyvault,
 * keystore.ts) and pushed (submit.ts) before the app hears back.
 */
import { compileCores, importFromBlob, loadJco, sha256Hex, transpileComponent, TranspileError, type JcoModule, type TranspiledComponent } from './component.ts';
import { MemoryTranspileCache, type TranspileCache } from './cache.ts';
import { IdbClientData, type ClientDataStore } from './clientdata.ts';
import { publicKeyToPem } from '../crypto/keys.ts';
import { isValidAccountName } from '../protocol/names.ts';
import { IdbKeyStore, KeyImportError, NoKeyError, type KeyStore } from './keystore.ts';
import { packActionArgs } from '../node/schemas.ts';
import { announceChanged } from './spaces-sync.ts';
import { HttpSubmitter, SubmitError, type SubmitResult, type Submitter } from './submit.ts';
import { graphqlAccountLookup, RegistrationError, sponsorOf, type AccountLookup, type Sponsor } from './accounts.ts';
import { CREATE_ACCOUNT_PROMPT, createAccountDenial, isAuthorized, GRANTS_SPACE, PROMPT_SPACE, PromptRequest, setActivePrompt } from './permissions.ts';
import { PluginCallError, PluginImportError, PluginLoadError } from './errors.ts';
import { CLIENTDATA_INTERFACE, HOST_INTERFACES, HOST_NAMESPACES, hostInterfaces, appUrl, interfaceKey, parseInterface, type CallContext, type HostEnv, type QueuedAction } from './host.ts';
import type { PluginDownload } from './plugin-fetch.ts';
import {
  DEFAULT_PLUGIN,
  callString,
  genericErrorObject,
  kebabToCamel,
  pluginErrorObject,
  redirectErrorObject,
  type QualifiedFunctionCallArgs,
  type QualifiedPluginId,
} from './messages.ts';

/**
 * Where one plugin load spent its time (ms). Steps overlap (on a warm load the fetch
 * runs beside cache + compile + import; compile and import always run side by side),
 * so they may add up to more than totalMs.
 */
export interface LoadTiming {
  plugin: string;
  /** Bytes read from the network: 0 when the server said the cached bytes still hold (ETag). */
  bytes: number;
  /** True when the transpiled output came from the cache. */
  cached: boolean;
  /**
   * True when the load did not wait for the network: the server confirmed the cached
   * hash less than FRESH_MS ago (the fetch revalidates in the background; `bytes`,
   * `fetchMs` and `hashMs` are then 0).
   */
  fresh: boolean;
  fetchMs: number;
  hashMs: number;
  /** 0 when cached. */
  transpileMs: number;
  /** The part of transpileMs spent waiting for jco itself to load (started beside the fetch). */
  jcoWaitMs: number;
  cacheMs: number;
  compileMs: number;
  importMs: number;
  totalMs: number;
}

export interface SupervisorStats {
  /** Components transpiled by jco in this page. */
  transpiles: number;
  /** Loads whose transpiled output came from the cache. */
  cacheHits: number;
  /** Loads that used a recently confirmed cache entry without waiting for the network. */
  freshLoads: number;
  /** Background revalidations after fresh loads, in the order they finished. */
  revalidations: { plugin: string; changed: boolean }[];
  /** Cached entries that failed to compile or import and were dropped. */
  refusedEntries: number;
  loads: LoadTiming[];
  /**
   * How long the last top-level call waited for each plugin's fresh instance (ms): the
   * instantiation, or only its unfinished part when a spare was being made ahead.
   */
  instantiateMs: Record<string, number>;
  /** Top-level instances taken from spares made ahead (while a load fetched, or after a call). */
  sparesUsed: number;
  /** The FIFO of the last top-level call. */
  lastActions: QueuedAction[];
  /** Transactions submitted by this page (their ids and timings). */
  submitted: { id: string | undefined; status: string; sender: string; actions: number; route: SubmitResult['route']; timing: SubmitResult['timing'] }[];
}

/**
 * A freshness window an embedder may choose (`freshMs`): how long (ms) after the server
 * last answered a plugin URL with the bytes the cache holds a load may use that cached
 * entry without waiting for the network (sites serves plugins `no-cache` with an ETag,
 * so each fetch is a revalidation: ~100 ms for greetings here). Every such load
 * revalidates in the background; see Supervisor.doLoad for the bound on staleness.
 *
 * The supervisor psiweb ships uses none (freshMs 0): a service that replaces its plugin
 * must be picked up on the next load (issue 10), and within a window it would not be.
 */
export const FRESH_MS = 60_000;

/** Who is logged in to which app, and which accounts each app may use (supervisor-only key spaces). */
export const LOGINS_SPACE = 'psiweb/logins';
export const CONNECTED_SPACE = 'psiweb/connected';
const ACCOUNTS_PLUGIN: QualifiedPluginId = { service: 'accounts', plugin: 'plugin' };
const AUTH_SIG_PLUGIN: QualifiedPluginId = { service: 'auth-sig', plugin: 'plugin' };
const TRANSACT_PLUGIN: QualifiedPluginId = { service: 'transact', plugin: 'plugin' };
const te = new TextEncoder();
const td = new TextDecoder();

export interface SupervisorOptions extends HostEnv {
  cache?: TranspileCache;
  /** How long a server's confirmation of a plugin's bytes lets loads skip waiting for the network (default 0: never; FRESH_MS is a choice). */
  freshMs?: number;
  /** Wall-clock time in ms (tests). */
  now?: () => number;
  /** Plugins' key/value data (default: IndexedDB on this origin). */
  clientdata?: ClientDataStore;
  /**
   * Fetches a plugin's bytes; undefined when it is not there (404). Given the ETag of
   * the bytes read last time, it may answer `unchanged` instead (plugin-fetch.ts).
   */
  fetchPlugin?: FetchPlugin;
  importModule?: (js: string, debugName: string) => Promise<JcoModule>;
  log?: (line: string) => void;
  /** auth-sig's keys (default: IndexedDB on this origin). */
  keys?: KeyStore;
  /** Signs and pushes a call's transaction (default: HTTP to transact). */
  submitter?: Submitter;
  /** Reads accounts from the chain (default: accounts' GraphQL through the root bridge). */
  accounts?: AccountLookup;
}

interface LoadedPlugin {
  id: QualifiedPluginId;
  transpiled: TranspiledComponent;
  module: JcoModule;
  cores: Map<string, WebAssembly.Module>;
  /** Plugins it imports. */
  deps: QualifiedPluginId[];
  /** Interface keys it imports (versions stripped). */
  imports: string[];
}

const key = (id: QualifiedPluginId) => `${id.service}:${id.plugin}`;

/**
 * Which call a plugin instance serves: set when the instance is taken for a top-level
 * call (its imports of other plugins look the callee up here at call time), so an
 * instance can be made before its call.
 */
interface CallBinding {
  ctx: CallContext | undefined;
  instances: Map<string, Record<string, unknown>> | undefined;
}

/** A fresh instance, never called, made ahead of the top-level call that will take it. */
interface Spare {
  /** The compiled plugin it was made from (a replaced plugin's spare is dropped). */
  module: JcoModule;
  binding: CallBinding;
  instance: Promise<Record<string, unknown>>;
}

interface Prepared {
  transpiled: TranspiledComponent;
  cores: Map<string, WebAssembly.Module>;
  module: JcoModule;
  compileMs: number;
  importMs: number;
}

export type FetchPlugin = (url: string, knownEtag?: string) => Promise<Uint8Array | PluginDownload | undefined>;

async function defaultFetchPlugin(url: string): Promise<Uint8Array | undefined> {
  const r = await fetch(url);
  if (r.status === 404) return undefined;
  if (!r.ok) throw new Error(`GET ${url} answered ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** A thrown value as psibase's reply: a plugin's error record becomes a PluginErrorObject from its producer. */
export function errorResult(e: unknown, fallback: QualifiedPluginId | undefined): unknown {
  // psibase's prompt redirect: common-lib sends the page to the supervisor's prompt page.
  if (e instanceof PromptRequest) return redirectErrorObject({ service: 'host', plugin: 'prompt' }, 'user_prompt_request');
  const payload = (e as { payload?: unknown })?.payload;
  if (payload && typeof payload === 'object') {
    const p = payload as { message?: unknown; producer?: unknown };
    const producer = p.producer as { service?: unknown; plugin?: unknown } | undefined;
    if (typeof p.message === 'string' && producer && typeof producer.service === 'string' && typeof producer.plugin === 'string') {
      return pluginErrorObject({ service: producer.service, plugin: producer.plugin }, p.message);
    }
  }
  if (e instanceof PluginLoadError || e instanceof PluginCallError) return pluginErrorObject(e.pluginId, e.message);
  const message = String((e as Error)?.message ?? e);
  return fallback ? pluginErrorObject(fallback, message) : genericErrorObject(message);
}

export class Supervisor {
  readonly stats: SupervisorStats = { transpiles: 0, cacheHits: 0, freshLoads: 0, revalidations: [], refusedEntries: 0, loads: [], instantiateMs: {}, sparesUsed: 0, lastActions: [], submitted: [] };
  private readonly keys: KeyStore;
  private readonly submitter: Submitter;
  private readonly accounts: AccountLookup;
  private readonly cache: TranspileCache;
  private readonly fetchPlugin: FetchPlugin;
  private readonly importModule: (js: string, debugName: string) => Promise<JcoModule>;
  private readonly log: (line: string) => void;
  private readonly freshMs: number;
  private readonly now: () => number;
  /** Plugins loaded by this page (a new page load fetches them again, so a replaced plugin is picked up). */
  private readonly plugins = new Map<string, Promise<LoadedPlugin>>();
  private context: CallContext | undefined;
  private readonly host: Record<string, Record<string, unknown>>;
  private readonly clientdata: ClientDataStore;
  /** One top-level call at a time, as psibase serializes them. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * One spare instance per loaded plugin: instantiating is no call's business (the
   * host's functions refuse to run outside a call), so it is done ahead — while a warm
   * load waits for its revalidating fetch, and after each call for the next one — and
   * a call takes the spare instead of waiting for instantiation. Each spare serves one
   * call: every top-level call still gets instances never called before.
   */
  private readonly spares = new Map<string, Spare>();

  constructor(private readonly env: SupervisorOptions) {
    this.cache = env.cache ?? new MemoryTranspileCache();
    this.fetchPlugin = env.fetchPlugin ?? defaultFetchPlugin;
    this.importModule = env.importModule ?? importFromBlob;
    this.log = env.log ?? (() => undefined);
    this.freshMs = env.freshMs ?? 0;
    this.now = env.now ?? Date.now;
    this.clientdata = env.clientdata ?? new IdbClientData();
    this.keys = env.keys ?? new IdbKeyStore();
    this.submitter = env.submitter ?? new HttpSubmitter(env, this.keys);
    this.accounts = env.accounts ?? graphqlAccountLookup(env);
    this.host = hostInterfaces(
      env,
      () => {
        if (!this.context) throw new Error('a host function was called outside a plugin call');
        return this.context;
      },
      this.clientdata,
    );
  }

  /** The app an origin belongs to: `<app>.<root>`, or `homepage` for the root itself (as psibase names it). */
  appOfOrigin(origin: string): string | undefined {
    let host: string;
    try {
      host = new URL(origin).hostname;
    } catch {
      return undefined;
    }
    if (host === this.env.rootHost) return 'homepage';
    if (!host.endsWith(`.${this.env.rootHost}`)) return undefined;
    const name = host.slice(0, -this.env.rootHost.length - 1);
    return name.includes('.') ? undefined : name;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Loads plugins and everything they import (fetch, transpile or cache, compile). */
  preload(ids: QualifiedPluginId[]): Promise<void> {
    return this.serialized(async () => {
      await this.loadClosure(ids);
    });
  }

  /** A top-level call from `app`: the plugin's result, or throws (see errorResult). */
  call(app: string, args: QualifiedFunctionCallArgs): Promise<unknown> {
    return this.serialized(() => this.doCall(app, args));
  }

  private async doCall(app: string, args: QualifiedFunctionCallArgs): Promise<unknown> {
    const target = { service: args.service, plugin: args.plugin || DEFAULT_PLUGIN };
    // Grants, the active prompt (permissions.ts) and logins, read as synchronously as client data.
    const loadSupervisorSpaces = () =>
      Promise.all([this.clientdata.load(GRANTS_SPACE), this.clientdata.load(PROMPT_SPACE), this.clientdata.load(LOGINS_SPACE), this.clientdata.load(CONNECTED_SPACE)]);
    if (target.plugin === DEFAULT_PLUGIN && (target.service === 'accounts' || target.service === 'auth-sig')) {
      await loadSupervisorSpaces();
      try {
        return await this.builtin(app, target.service, args);
      } catch (e) {
        if (e instanceof PromptRequest) setActivePrompt(this.clientdata, e.prompt);
        throw e;
      } finally {
        await this.clientdata.flush();
        // Logins and connections: other frames of this origin re-read them.
        if (target.service === 'accounts') announceChanged([LOGINS_SPACE, CONNECTED_SPACE]);
      }
    }
    const closure = await this.loadClosure([target]);
    // Key spaces are read before the call: the plugin's reads are synchronous.
    await Promise.all([...closure.filter((p) => p.imports.includes(CLIENTDATA_INTERFACE)).map((p) => this.clientdata.load(key(p.id))), loadSupervisorSpaces()]);
    const ctx: CallContext = { activeApp: app, stack: [], actions: [], user: this.loginOf(app) };
    const instances = new Map<string, Record<string, unknown>>();
    this.stats.instantiateMs = {};
    // Fresh instances for every top-level call, as psibase disposes them after each:
    // the spares made ahead, or new ones, all under way at once.
    const taken = closure.map((p) => this.takeInstance(p));
    for (const [i, p] of closure.entries()) {
      const t0 = performance.now();
      const { binding, instance } = taken[i]!;
      binding.ctx = ctx;
      binding.instances = instances;
      instances.set(key(p.id), await instance);
      this.stats.instantiateMs[key(p.id)] = performance.now() - t0;
    }
    // Spares for the next call, made once this one has answered.
    setTimeout(() => closure.forEach((p) => this.makeSpare(p)), 0);
    this.context = ctx;
    try {
      const result = this.invoke(ctx, instances, target, args.intf, args.method, args.params);
      this.stats.lastActions = ctx.actions;
      if (ctx.actions.length > 0) {
        this.context = undefined;
        if (!ctx.user) throw new PluginCallError(TRANSACT_PLUGIN, `the call added ${ctx.actions.length} action(s), but no user is logged in to ${app} (accounts:plugin/active-app login)`);
        // Durable before the transaction leaves (issue 10 §5).
        await this.clientdata.flush();
        let r: SubmitResult;
        try {
          r = await this.submitter.submit(ctx.user, ctx.actions);
        } catch (e) {
          if (e instanceof NoKeyError) throw new PluginCallError(AUTH_SIG_PLUGIN, e.message);
          if (e instanceof SubmitError) throw new PluginCallError(TRANSACT_PLUGIN, e.message);
          throw new PluginCallError(TRANSACT_PLUGIN, `submitting the transaction failed: ${String((e as Error)?.message ?? e)}`);
        }
        this.stats.submitted.push({ id: r.id, status: r.status, sender: ctx.user, actions: ctx.actions.length, route: r.route, timing: r.timing });
        this.log(`supervisor: ${ctx.user}'s transaction ${r.id ?? ''} ${r.status}`);
      }
      return result;
    } catch (e) {
      // Kept for the prompt page, which the app is about to show.
      if (e instanceof PromptRequest) setActivePrompt(this.clientdata, e.prompt);
      throw e;
    } finally {
      this.stats.lastActions = ctx.actions;
      this.context = undefined;
      // Durable before the app hears back.
      await this.clientdata.flush();
    }
  }

  private loginOf(app: string): string | undefined {
    const v = this.clientdata.get(LOGINS_SPACE, app);
    return v ? td.decode(v) : undefined;
  }

  /**
   * accounts:plugin and auth-sig:plugin, provided by the supervisor itself (their
   * state — logins, keys — is the supervisor origin's). psibase's model with issue
   * 10's change: any app may ask; another app's import-key, and a login to an account
   * not yet connected to the app, ask the user first (permissions prompt).
   */
  private async builtin(app: string, service: 'accounts' | 'auth-sig', args: QualifiedFunctionCallArgs): Promise<unknown> {
    const id = service === 'accounts' ? ACCOUNTS_PLUGIN : AUTH_SIG_PLUGIN;
    // common-lib sends camelCase names (psibase); kebab-case ones are accepted too.
    const call = `${kebabToCamel(args.intf ?? '')}:${kebabToCamel(args.method)}`;
    const ask = (descriptions: [string, string, string]) => {
      if (!isAuthorized(this.clientdata, { callee: service, caller: app, activeApp: app, level: 'high', descriptions, whitelist: [] })) {
        throw new PluginCallError(id, `the user denied ${app} access to ${service}`);
      }
    };
    const str = (i: number) => {
      const v = args.params[i];
      if (typeof v !== 'string') throw new PluginCallError(id, `${call}: parameter ${i + 1} must be a string`);
      return v;
    };
    if (service === 'auth-sig' && call === 'keyvault:importKey') {
      const pem = str(0);
      try {
        // Bad input is refused before the user is asked.
        await this.keys.checkPem(pem);
        ask([`${app} asks to import a private key into this browser`, '', '']);
        return publicKeyToPem(await this.keys.importPem(pem));
      } catch (e) {
        if (e instanceof KeyImportError) throw new PluginCallError(id, e.message);
        throw e;
      }
    }
    if (service === 'auth-sig' && call === 'actions:createAccount') return this.createAccount(app, str(0));
    if (service === 'accounts') {
      const connected = (user: string) => this.clientdata.get(CONNECTED_SPACE, `${app}|${user}`) !== undefined;
      switch (call) {
        case 'activeApp:login': {
          const user = str(0);
          if (!isValidAccountName(user)) throw new PluginCallError(id, `login: "${user}" is not an account name`);
          if (!connected(user)) {
            ask([`${app} asks to connect the account ${user}`, '', '']);
            this.clientdata.set(CONNECTED_SPACE, `${app}|${user}`, te.encode('1'));
          }
          this.clientdata.set(LOGINS_SPACE, app, te.encode(user));
          return undefined;
        }
        case 'activeApp:logout':
          this.clientdata.delete(LOGINS_SPACE, app);
          return undefined;
        case 'api:getCurrentUser':
          return this.loginOf(app) ?? null;
        case 'api:isLoggedIn':
          return this.loginOf(app) !== undefined;
      }
    }
    // psibase's InvalidCall message.
    throw new PluginCallError(id, `Unrecognized call: ${call}`);
  }

  /**
   * psibase's auth-sig `actions` `create-account(name)` with a key made in this browser.
   * The user logged in to the app sends (and pays for) auth-sig's newAccount; with
   * nobody logged in, open registration's `registrar` sends it unsigned where the
   * chain has open registration (accounts.ts: psiweb's devnet), as psibase's invite
   * credential does. A taken name, or nobody logged in on a chain without open
   * registration, is refused before the user is asked or a key is made. The key is
   * made on the prompt page (prompt.ts), where the user first gets its backup as a PEM
   * file, and only then is it stored, non-extractable and bound to `name`; the app's
   * next call (after psibase's prompt redirect brings the user back) finds it and
   * submits. Returns the new account's public key PEM (psibase returns the private
   * key; here it never leaves WebCrypto after the backup).
   */
  private async createAccount(app: string, name: string): Promise<string> {
    const id = AUTH_SIG_PLUGIN;
    if (!isValidAccountName(name)) throw new PluginCallError(id, `create-account: "${name}" is not an account name`);
    // accounts' own rule for names an account creates (Accounts.cpp MIN_ALLOWED_ACCOUNT_LENGTH).
    if (name.length < 8) throw new PluginCallError(id, `create-account: "${name}" is shorter than 8 characters, which accounts only lets itself create`);
    let sponsor: Sponsor;
    try {
      sponsor = await sponsorOf(this.accounts, app, name, this.loginOf(app));
    } catch (e) {
      if (e instanceof RegistrationError) throw new PluginCallError(id, e.message);
      throw e;
    }
    const denial = createAccountDenial(app, name);
    if (this.clientdata.get(PROMPT_SPACE, denial) !== undefined) {
      // The answer is for this one request only.
      this.clientdata.delete(PROMPT_SPACE, denial);
      throw new PluginCallError(id, `the user denied ${app} creating the account ${name}`);
    }
    const key = await this.keys.boundKey(name);
    if (!key) {
      const who = sponsor.unsigned ? `open registration: ${sponsor.sender} sends it (this chain lets anyone create an account)` : `${sponsor.sender} sends and pays for it`;
      throw new PromptRequest({
        promptApp: 'auth-sig',
        promptName: CREATE_ACCOUNT_PROMPT,
        activeApp: app,
        caller: app,
        level: 'high',
        descriptions: [`${app} asks to create the account ${name} with a new key made in this browser; ${who}`, '', ''],
        created: new Date().toISOString(),
        packedContext: Array.from(te.encode(name)),
      });
    }
    const rawData = packActionArgs('auth-sig', 'newAccount', { name, key: Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('') });
    let r: SubmitResult;
    try {
      r = await this.submitter.submit(sponsor.sender, [{ sender: sponsor.sender, service: 'auth-sig', method: 'newAccount', rawData }], { unsigned: sponsor.unsigned });
    } catch (e) {
      if (e instanceof NoKeyError) throw new PluginCallError(AUTH_SIG_PLUGIN, e.message);
      throw new PluginCallError(TRANSACT_PLUGIN, `creating ${name} failed: ${String((e as Error)?.message ?? e)}`);
    }
    this.stats.submitted.push({ id: r.id, status: r.status, sender: sponsor.sender, actions: 1, route: r.route, timing: r.timing });
    return publicKeyToPem(key);
  }

  /** Calls one plugin function with the call stack kept for get-sender / get-receiver. */
  private invoke(ctx: CallContext, instances: Map<string, Record<string, unknown>>, id: QualifiedPluginId, intf: string | undefined, method: string, params: unknown[]): unknown {
    const instance = instances.get(key(id));
    if (!instance) throw new PluginCallError(id, `plugin ${key(id)} is not loaded`);
    const owner = intf ? (instance[kebabToCamel(intf)] as Record<string, unknown> | undefined) : instance;
    const fn = owner?.[kebabToCamel(method)];
    // psibase's InvalidCall message.
    if (typeof fn !== 'function') throw new PluginCallError(id, `Unrecognized call: ${intf ? `${intf}:${method}` : method}`);
    ctx.stack.push(id);
    try {
      return (fn as (...a: unknown[]) => unknown).apply(owner, params);
    } finally {
      ctx.stack.pop();
    }
  }

  /** The plugin's spare instance (made ahead, never called) or a new one, for one top-level call. */
  private takeInstance(p: LoadedPlugin): Spare {
    const spare = this.spares.get(key(p.id));
    this.spares.delete(key(p.id));
    if (spare && spare.module === p.module) {
      this.stats.sparesUsed++;
      // A spare that failed is made again (and fails with this call's error).
      return { ...spare, instance: spare.instance.catch(() => this.instantiate(p, spare.binding)) };
    }
    const binding: CallBinding = { ctx: undefined, instances: undefined };
    return { module: p.module, binding, instance: this.instantiate(p, binding) };
  }

  /** Starts a spare instance of `p` for its next top-level call, unless one is there. */
  private makeSpare(p: Pick<LoadedPlugin, 'id' | 'module' | 'cores' | 'imports'>): void {
    const k = key(p.id);
    if (this.spares.get(k)?.module === p.module) return;
    const binding: CallBinding = { ctx: undefined, instances: undefined };
    const instance = this.instantiate(p, binding);
    instance.catch(() => undefined);
    this.spares.set(k, { module: p.module, binding, instance });
  }

  private async instantiate(p: Pick<LoadedPlugin, 'id' | 'module' | 'cores' | 'imports'>, binding: CallBinding): Promise<Record<string, unknown>> {
    const imports: Record<string, unknown> = {};
    for (const name of p.imports) {
      const provided = this.host[name];
      if (provided) {
        imports[name] = provided;
        continue;
      }
      const parsed = parseInterface(name)!;
      const dep = { service: parsed.namespace, plugin: parsed.pkg };
      // Another plugin's interface: each function calls into that plugin's instance
      // (looked up at call time, so the order of instantiation does not matter).
      imports[name] = new Proxy({}, {
        get: (_, fnName) =>
          typeof fnName !== 'string'
            ? undefined
            : (...a: unknown[]) => {
                if (!binding.ctx || !binding.instances) throw new Error(`plugin ${key(p.id)} called ${name} outside a call`);
                return this.invoke(binding.ctx, binding.instances, dep, parsed.intf, fnName, a);
              },
      });
    }
    try {
      return await p.module.instantiate(async (path) => {
        const m = p.cores.get(path);
        if (!m) throw new Error(`core module ${path} is missing`);
        return m;
      }, imports);
    } catch (e) {
      const message = String((e as Error)?.message ?? e);
      const missing = /unexpectedly undefined instance import '([^']+)'/.exec(message);
      if (missing) throw new PluginImportError(p.id, `plugin ${key(p.id)} imports the function ${missing[1]}, which the host does not provide`, { cause: e });
      throw new PluginLoadError(p.id, `plugin ${key(p.id)} failed to instantiate: ${message}`, { cause: e });
    }
  }

  /** `ids` and every plugin they import, each loaded once; dependencies before their users. */
  private async loadClosure(ids: QualifiedPluginId[]): Promise<LoadedPlugin[]> {
    const seen = new Map<string, LoadedPlugin>();
    const order: LoadedPlugin[] = [];
    const visit = async (id: QualifiedPluginId): Promise<void> => {
      if (seen.has(key(id))) return;
      const p = await this.load(id);
      seen.set(key(id), p);
      await Promise.all(p.deps.map(visit));
      order.push(p);
    };
    await Promise.all(ids.map(visit));
    return order;
  }

  private load(id: QualifiedPluginId): Promise<LoadedPlugin> {
    let p = this.plugins.get(key(id));
    if (!p) {
      p = this.doLoad(id);
      this.plugins.set(key(id), p);
      // A failed load is tried again on the next call.
      p.catch(() => this.plugins.delete(key(id)));
    }
    return p;
  }

  /** The generated JS as a module: a Blob from the cache goes to the module loader as it is, unless a test's importer wants text. */
  private async importJs(js: string | Blob, debugName: string): Promise<JcoModule> {
    if (typeof js === 'string') return this.importModule(js, debugName);
    return this.env.importModule ? this.env.importModule(await js.text(), debugName) : importFromBlob(js, debugName);
  }

  /** Compiles a transpiled plugin's core modules and loads its JS. */
  private async prepare(id: QualifiedPluginId, t: TranspiledComponent): Promise<Prepared> {
    const t0 = performance.now();
    try {
      // Side by side: the JS does not need the compiled modules until instantiation.
      const [[cores, compileMs], [module, importMs]] = await Promise.all([
        compileCores(t).then((c) => [c, performance.now() - t0] as const),
        this.importJs(t.js, `${id.service}.${id.plugin}.js`).then((m) => [m, performance.now() - t0] as const),
      ]);
      return { transpiled: t, cores, module, compileMs, importMs };
    } catch (e) {
      throw new PluginLoadError(id, `plugin ${key(id)} failed to compile: ${String((e as Error)?.message ?? e)}`, { cause: e });
    }
  }

  /**
   * Fetches, hashes, and transpiles unless the cache has the hash. While the fetch is
   * under way, the entry of the hash this URL served last time is read and prepared
   * (a warm load then waits for the longer of the two, not their sum); when the URL
   * is new, jco is loaded meanwhile instead (the load is cold).
   *
   * When the server confirmed that hash less than `freshMs` ago, the prepared entry is
   * used without waiting for the fetch, which is only sent once the plugin is ready (its
   * main-thread work would delay the load) and revalidates in the background: the
   * same bytes renew the confirmation; other bytes (or a 404) forget it and drop the
   * plugin from this page, so the next load — in this page or another — fetches and
   * transpiles the new plugin. A changed plugin is thus used stale only by loads that
   * start within `freshMs` of the last confirmation of its old bytes, and only until
   * one of them has revalidated.
   *
   * A cached entry that fails to compile or import is dropped, and the plugin is
   * loaded from the fetched bytes instead (transpiled again).
   */
  private async doLoad(id: QualifiedPluginId): Promise<LoadedPlugin> {
    const t0 = performance.now();
    const url = `${appUrl(this.env, id.service)}/${id.plugin}.wasm`;
    let cacheMs = 0;
    const seen = await this.cache.lastSeen(url).catch(() => undefined);
    /** Wall-clock time the request is sent: the time a matching answer confirms. */
    let asked = this.now();
    const age = seen ? asked - seen.checkedAt : -1;
    const mayBeFresh = seen !== undefined && seen.checkedAt > 0 && age >= 0 && age < this.freshMs;
    let fetching: ReturnType<typeof fetchNow> | undefined;
    /**
     * The plugin's bytes and hash; with `knownEtag` (the ETag of the bytes the cache
     * holds), `bytes` is undefined when the server says they are still those (the
     * hash is then the cached one, and nothing was read or hashed).
     */
    const fetchNow = async (known?: { etag: string; hash: string }) => {
      let got: Uint8Array | PluginDownload | undefined;
      try {
        got = await this.fetchPlugin(url, known?.etag);
      } catch (e) {
        throw new PluginLoadError(id, `Plugin download failed: ${String((e as Error)?.message ?? e)}`, { cause: e });
      }
      // psibase's PluginDownloadFailed message.
      if (!got) throw new PluginLoadError(id, 'Plugin download failed.');
      const t1 = performance.now();
      if ('unchanged' in got) {
        if (!known || got.etag !== known.etag) throw new PluginLoadError(id, `Plugin download failed: the fetch answered "unchanged" for an ETag it was not asked about`);
        return { bytes: undefined, etag: got.etag, hash: known.hash, t1, t2: t1 };
      }
      const bytes = got instanceof Uint8Array ? got : got.bytes;
      const etag = got instanceof Uint8Array ? undefined : got.etag;
      const hash = await sha256Hex(bytes);
      return { bytes, etag, hash, t1, t2: performance.now() };
    };
    // Asked with the last bytes' ETag only when their entry is worth having: a cached
    // entry for that hash (read below) makes "unchanged" all the load needs.
    const known = seen?.etag !== undefined ? { etag: seen.etag, hash: seen.hash } : undefined;
    const fetched = () => {
      if (!fetching) {
        asked = this.now();
        fetching = fetchNow(known);
        fetching.catch(() => undefined);
      }
      return fetching;
    };
    // A load that may use its cached entry at once leaves the fetch (a revalidation)
    // until the plugin is ready: its main-thread work does not delay the load.
    if (!mayBeFresh) fetched();
    const speculative = (async (): Promise<{ prepared: Prepared; fresh: boolean; checkedAt: number } | undefined> => {
      if (seen === undefined) {
        // Likely cold: have the transpiler ready when the bytes arrive.
        loadJco().catch(() => undefined);
        return undefined;
      }
      const c0 = performance.now();
      const t = await this.cache.get(seen.hash);
      cacheMs = performance.now() - c0;
      if (!t) {
        // Seen, but its entry is gone: as cold.
        fetched();
        loadJco().catch(() => undefined);
        return undefined;
      }
      let prepared: Prepared;
      try {
        prepared = await this.prepare(id, t);
      } catch (e) {
        fetched();
        await this.refuseEntry(id, url, t.hash, e);
        throw e;
      }
      // The first call's instance too, while the fetch is still out (dropped when the
      // bytes turn out to be another plugin).
      this.makeSpare({ id, module: prepared.module, cores: prepared.cores, imports: this.checkImports(id, t).imports });
      return { prepared, fresh: mayBeFresh, checkedAt: seen.checkedAt };
    })();
    // A failed guess costs nothing but the work: the plain path below runs instead.
    speculative.catch(() => undefined);

    const guess = await speculative.catch(() => undefined);
    if (guess?.fresh) {
      const { transpiled, module, cores } = guess.prepared;
      const { imports, deps } = this.checkImports(id, transpiled);
      this.stats.cacheHits++;
      this.stats.freshLoads++;
      const timing: LoadTiming = {
        plugin: key(id),
        bytes: 0,
        cached: true,
        fresh: true,
        fetchMs: 0,
        hashMs: 0,
        transpileMs: 0,
        jcoWaitMs: 0,
        cacheMs,
        compileMs: guess.prepared.compileMs,
        importMs: guess.prepared.importMs,
        totalMs: performance.now() - t0,
      };
      this.stats.loads.push(timing);
      this.makeSpare({ id, module, cores, imports });
      // After the caller's call has run (its continuations are microtasks).
      setTimeout(() => {
        const revalidation = fetched();
        void this.revalidate(id, url, asked, transpiled.hash, revalidation);
      }, 0);
      this.log(`supervisor: loaded ${key(id)} from cache (confirmed ${((asked - guess.checkedAt) / 1000).toFixed(1)} s ago; revalidating) in ${timing.totalMs.toFixed(0)} ms`);
      return { id, transpiled, module, cores, deps, imports };
    }

    let { bytes, etag, hash, t1, t2 } = await fetched();
    let prepared = guess?.prepared;
    if (prepared && prepared.transpiled.hash !== hash) prepared = undefined;
    if (!bytes && !prepared) {
      // "Unchanged", but the entry of those bytes is gone or was refused: the bytes themselves.
      ({ bytes, etag, hash, t1, t2 } = await fetchNow());
    }
    if (prepared) this.stats.cacheHits++;
    let transpileMs = 0;
    let jcoWaitMs = 0;
    let stored = Promise.resolve(true);
    if (!prepared) {
      const c0 = performance.now();
      const entry = await this.cache.get(hash).catch(() => undefined);
      cacheMs += performance.now() - c0;
      if (entry) {
        this.stats.cacheHits++;
        this.checkImports(id, entry);
        try {
          prepared = await this.prepare(id, entry);
        } catch (e) {
          // Not a hit after all: transpiled again below.
          this.stats.cacheHits--;
          await this.refuseEntry(id, url, hash, e);
        }
      }
    }
    if (!prepared) {
      let transpiled: TranspiledComponent;
      const tt = performance.now();
      try {
        await loadJco().catch(() => undefined);
        jcoWaitMs = performance.now() - tt;
        // Bytes were fetched whenever there is nothing prepared (see above).
        transpiled = await transpileComponent(bytes!, hash);
      } catch (e) {
        if (e instanceof TranspileError) throw new PluginLoadError(id, `plugin ${key(id)}: ${e.message}`, { cause: e });
        throw e;
      }
      transpileMs = performance.now() - tt;
      this.stats.transpiles++;
      // Stored while the plugin is compiled, not before (the load still waits for
      // it: a page reloaded at once finds it); the URL's hash is recorded once its
      // entry is there.
      const entry = transpiled;
      stored = this.cache.put(entry).then(
        () => true,
        (e: unknown) => (this.log(`supervisor: caching ${key(id)} failed: ${String(e)}`), false),
      );
      this.checkImports(id, entry);
      [prepared] = await Promise.all([this.prepare(id, entry), stored]);
    }
    const cached = transpileMs === 0;
    void stored
      .then(async (ok) => {
        if (ok) await this.cache.setLastSeen(url, { hash, checkedAt: asked, ...(etag !== undefined && { etag }) });
      })
      .catch(() => undefined);
    const { transpiled, module, cores } = prepared;
    const { imports, deps } = this.checkImports(id, transpiled);
    const timing: LoadTiming = {
      plugin: key(id),
      bytes: bytes?.length ?? 0,
      cached,
      fresh: false,
      fetchMs: t1 - t0,
      hashMs: t2 - t1,
      transpileMs,
      jcoWaitMs,
      cacheMs,
      compileMs: prepared.compileMs,
      importMs: prepared.importMs,
      totalMs: performance.now() - t0,
    };
    this.stats.loads.push(timing);
    this.makeSpare({ id, module, cores, imports });
    this.log(`supervisor: loaded ${key(id)} (${bytes ? `${bytes.length} bytes` : 'unchanged'}, ${cached ? 'from cache' : `transpiled in ${transpileMs.toFixed(0)} ms`}) in ${timing.totalMs.toFixed(0)} ms`);
    return { id, transpiled, module, cores, deps, imports };
  }

  /** A cached entry that failed to compile or import: dropped, with the URL's record of it. */
  private async refuseEntry(id: QualifiedPluginId, url: string, hash: string, e: unknown): Promise<void> {
    this.stats.refusedEntries++;
    this.log(`supervisor: the cached ${key(id)} (${hash.slice(0, 12)}) failed to load and is dropped: ${String((e as Error)?.message ?? e)}`);
    await Promise.all([this.cache.delete(hash), this.cache.forget(url)]).catch(() => undefined);
  }

  /**
   * The background fetch of a plugin loaded without waiting for it: the same bytes
   * renew the URL's confirmation; other bytes, or none, forget it and drop the plugin
   * from this page (the next call loads it again). A failed fetch changes nothing (the
   * confirmation runs out).
   */
  private async revalidate(id: QualifiedPluginId, url: string, asked: number, used: string, fetched: Promise<{ hash: string; etag: string | undefined }>): Promise<void> {
    let hash: string;
    let etag: string | undefined;
    try {
      ({ hash, etag } = await fetched);
    } catch (e) {
      const gone = e instanceof PluginLoadError && e.message === 'Plugin download failed.';
      if (!gone) {
        this.log(`supervisor: revalidating ${key(id)} failed: ${String((e as Error)?.message ?? e)}`);
        return;
      }
      hash = '';
    }
    try {
      if (hash === used) {
        await this.cache.setLastSeen(url, { hash, checkedAt: asked, ...(etag !== undefined && { etag }) });
        this.stats.revalidations.push({ plugin: key(id), changed: false });
        return;
      }
      this.stats.revalidations.push({ plugin: key(id), changed: true });
      this.log(`supervisor: ${key(id)} changed on the server; the next load fetches it`);
      await this.cache.forget(url);
      const k = key(id);
      const current = this.plugins.get(k);
      if (current && (await current.catch(() => undefined))?.transpiled.hash === used && this.plugins.get(k) === current) {
        this.plugins.delete(k);
        this.spares.delete(k);
      }
    } catch (e) {
      this.log(`supervisor: recording ${key(id)}'s revalidation failed: ${String(e)}`);
    }
  }

  /** The plugin's imports and the plugins among them; throws when it imports a host interface the host lacks. */
  private checkImports(id: QualifiedPluginId, t: TranspiledComponent): { imports: string[]; deps: QualifiedPluginId[] } {
    const imports = t.imports.map(interfaceKey);
    const deps: QualifiedPluginId[] = [];
    for (const name of imports) {
      if (HOST_INTERFACES.includes(name)) continue;
      const parsed = parseInterface(name);
      if (!parsed || HOST_NAMESPACES.has(parsed.namespace)) {
        throw new PluginImportError(id, `plugin ${key(id)} imports ${name}, which the host does not provide`);
      }
      if (parsed.namespace !== id.service || parsed.pkg !== id.plugin) deps.push({ service: parsed.namespace, plugin: parsed.pkg });
    }
    return { imports, deps };
  }
}

export { callString };

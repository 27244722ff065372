/**
 * The host side of psibase's plugin interfaces (wit/): what a plugin's imports are
 * bound to. A plugin gets exactly the interfaces its component imports; one that
 * imports a host interface not listed in HOST_INTERFACES fails to load
 * (PluginImportError), and its HTTP reaches only its own service.
 *
 * Calls are synchronous, as psibase's are: HTTP from a plugin uses synchronous
 * XMLHttpRequest, as psibase's supervisor does.
 */
import type { ClientDataStore } from './clientdata.ts';
import { hasAuth, isAuthorized, PromptRequest, type TrustLevel } from './permissions.ts';
import type { QualifiedPluginId } from './messages.ts';

/** One action a plugin added (transact:plugin/intf add-action-to-transaction). */
export interface QueuedAction {
  sender: string;
  service: string;
  method: string;
  rawData: Uint8Array;
}

/** The state of one top-level call: who called, the plugin call stack, the action FIFO. */
export interface CallContext {
  /** The app (service) whose page made the call. */
  activeApp: string;
  /** Plugins being called, outermost first. */
  stack: QualifiedPluginId[];
  /** Actions in the order they were added, across every plugin of this call. */
  actions: QueuedAction[];
  /** The logged-in user (none yet: psiweb does not log users in to plugins so far). */
  user: string | undefined;
}

/** psibase's host:types error record, thrown as jco expects an import's `err` (an object with `payload`). */
export interface HostErrorRecord {
  code: number;
  producer: QualifiedPluginId;
  message: string;
}

export class HostCallError extends Error {
  override name = 'HostCallError';
  constructor(readonly payload: HostErrorRecord) {
    super(payload.message);
  }
}

// psibase's host functions live in its host:common plugin (service host, plugin common).
const HOST_PRODUCER: QualifiedPluginId = { service: 'host', plugin: 'common' };

/** Namespaces the host owns: an import from these must be one the host provides. */
export const HOST_NAMESPACES: ReadonlySet<string> = new Set(['host', 'supervisor', 'wasi', 'transact', 'clientdata', 'accounts', 'auth-sig', 'permissions']);

/** The interfaces the host implements today. */
export const HOST_INTERFACES: readonly string[] = [
  'host:types/types',
  'host:common/client',
  'host:common/server',
  'host:prompt/api',
  'transact:plugin/intf',
  'transact:plugin/types',
  'clientdata:plugin/keyvalue',
  'permissions:plugin/api',
  'permissions:plugin/types',
];

/** The interface whose users get their key space loaded before a call. */
export const CLIENTDATA_INTERFACE = 'clientdata:plugin/keyvalue';

/** `ns:pkg/intf@1.2.3` → `ns:pkg/intf`. */
export function interfaceKey(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

/** `ns:pkg/intf` → its namespace and package. */
export function parseInterface(key: string): { namespace: string; pkg: string; intf: string } | undefined {
  const m = /^([a-z0-9-]+):([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(key);
  return m ? { namespace: m[1]!, pkg: m[2]!, intf: m[3]! } : undefined;
}

export interface HostEnv {
  /** `http:` or `https:` */
  protocol: string;
  rootHost: string;
  /** '' for the default port. */
  port: string;
}

export function appUrl(env: HostEnv, app: string): string {
  return `${env.protocol}//${app}.${env.rootHost}${env.port ? `:${env.port}` : ''}`;
}

function current(ctx: CallContext): QualifiedPluginId {
  const top = ctx.stack[ctx.stack.length - 1];
  if (!top) throw new Error('no plugin is running');
  return top;
}

/** The caller of the running plugin: the plugin below it, or the app for the outermost one. */
function sender(ctx: CallContext): string {
  const below = ctx.stack[ctx.stack.length - 2];
  return below ? below.service : ctx.activeApp;
}

function hostError(message: string, code = 0): HostCallError {
  return new HostCallError({ code, producer: HOST_PRODUCER, message });
}

/** Synchronous HTTP to the running plugin's own service. */
function ownServiceRequest(env: HostEnv, ctx: CallContext, method: 'GET' | 'POST', path: string, body?: { type: string; data: string | Uint8Array }): { status: number; type: string; text: string; bytes: Uint8Array } {
  if (!path.startsWith('/')) throw hostError(`the endpoint must be a path starting with '/', got ${JSON.stringify(path)}`);
  const xhr = new XMLHttpRequest();
  xhr.open(method, appUrl(env, current(ctx).service) + path, false);
  // A synchronous XHR cannot ask for an ArrayBuffer: bytes come as one char each (x-user-defined).
  xhr.overrideMimeType('text/plain; charset=x-user-defined');
  if (body) xhr.setRequestHeader('Content-Type', body.type);
  try {
    xhr.send(body ? (body.data as XMLHttpRequestBodyInit) : null);
  } catch (e) {
    throw hostError(`${method} ${path} failed: ${String((e as Error)?.message ?? e)}`);
  }
  const raw = xhr.responseText;
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0) & 0xff);
  const type = xhr.getResponseHeader('Content-Type') ?? '';
  const text = new TextDecoder().decode(bytes);
  if (xhr.status < 200 || xhr.status >= 300) throw hostError(`${method} ${path} answered ${xhr.status}: ${text.slice(0, 200)}`, xhr.status);
  return { status: xhr.status, type, text, bytes };
}

type BodyTypes = { tag: 'bytes'; val: Uint8Array } | { tag: 'json' | 'text' | 'graphql'; val: string };

const BODY_CONTENT_TYPE: Record<BodyTypes['tag'], string> = {
  bytes: 'application/octet-stream',
  json: 'application/json',
  text: 'text/plain',
  graphql: 'application/graphql',
};

/** host:types plugin-ref, as a plain JS class (jco calls its constructor and methods). */
class PluginRef {
  constructor(
    private readonly service: string,
    private readonly plugin: string,
    private readonly intf: string,
  ) {}
  getService() {
    return this.service;
  }
  getPlugin() {
    return this.plugin;
  }
  getIntf() {
    return this.intf;
  }
}

/** The host's interfaces, bound to the call context `ctx()` in force when a plugin calls them. */
export function hostInterfaces(env: HostEnv, ctx: () => CallContext, clientdata: ClientDataStore): Record<string, Record<string, unknown>> {
  /** The running plugin's key space: its own, never its caller's. */
  const space = () => {
    const p = current(ctx());
    return `${p.service}:${p.plugin}`;
  };
  return {
    'permissions:plugin/types': {},
    'permissions:plugin/api': {
      isAuthorized: (caller: string, level: TrustLevel, descriptions: [string, string, string], _debugLabel: string, whitelist: string[]) => {
        const c = ctx();
        return isAuthorized(clientdata, { callee: current(c).service, caller, activeApp: c.activeApp, level, descriptions, whitelist });
      },
      hasAuth: (caller: string, level: TrustLevel, whitelist: string[]) => hasAuth(clientdata, { callee: current(ctx()).service, caller, level, whitelist }),
      setAllowedCallers: () => {
        // psiweb lets any app ask (the user decides in the prompt): nothing to restrict.
      },
    },
    'host:prompt/api': {
      // A plugin-defined prompt: the supervisor's prompt page shows its name and context with Allow and Deny.
      prompt: (promptName: string, packedContext: Uint8Array | undefined) => {
        const c = ctx();
        throw new PromptRequest({
          promptApp: current(c).service,
          promptName,
          activeApp: c.activeApp,
          caller: sender(c),
          level: 'high',
          descriptions: ['', '', ''],
          created: new Date().toISOString(),
          packedContext: packedContext ? [...packedContext] : null,
        });
      },
      getContext: () => {
        throw hostError('get-context is for prompt pages; psiweb shows prompts on the supervisor page');
      },
    },
    [CLIENTDATA_INTERFACE]: {
      get: (key: string) => clientdata.get(space(), key),
      set: (key: string, value: Uint8Array) => {
        try {
          clientdata.set(space(), key, value);
        } catch (e) {
          throw hostError(`clientdata set failed: ${String((e as Error)?.message ?? e)}`);
        }
      },
      delete: (key: string) => clientdata.delete(space(), key),
    },
    'host:types/types': { PluginRef },
    'transact:plugin/types': {},
    'host:common/client': {
      getSender: () => sender(ctx()),
      getReceiver: () => current(ctx()).service,
      getAppUrl: (app: string) => appUrl(env, app),
      getActiveApp: () => ctx().activeApp,
    },
    'host:common/server': {
      getJson: (endpoint: string) => ownServiceRequest(env, ctx(), 'GET', endpoint).text,
      postGraphqlGetJson: (graphql: string) => ownServiceRequest(env, ctx(), 'POST', '/graphql', { type: 'application/graphql', data: graphql }).text,
      post: (request: { endpoint: string; body: BodyTypes }): BodyTypes => {
        const r = ownServiceRequest(env, ctx(), 'POST', request.endpoint, { type: BODY_CONTENT_TYPE[request.body.tag], data: request.body.val });
        if (r.type.startsWith('application/json')) return { tag: 'json', val: r.text };
        if (r.type.startsWith('text/')) return { tag: 'text', val: r.text };
        return { tag: 'bytes', val: r.bytes };
      },
    },
    'transact:plugin/intf': {
      addActionToTransaction: (methodName: string, packedArgs: Uint8Array) => {
        const c = ctx();
        c.actions.push({ sender: c.user ?? '', service: current(c).service, method: methodName, rawData: packedArgs.slice() });
      },
      setProposeLatch: () => {
        throw hostError('set-propose-latch is not supported by psiweb yet');
      },
    },
  };
}

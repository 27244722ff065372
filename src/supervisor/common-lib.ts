/**
 * `/common/common-lib.js` on every app origin: psibase's common-lib client
 * (packages/user/CommonApi/common/packages/common-lib/src/supervisor.ts) for psiweb.
 * `getSupervisor()` embeds the hidden supervisor frame at `supervisor.<root>` and
 * speaks psibase's messages to it; `functionCall` resolves with the plugin's result or
 * rejects with psibase's PluginError / GenericError (or, for a prompt, redirects to
 * the supervisor's prompt page as psibase does, or rejects with the redirect object
 * when auto-redirect is off).
 */
import {
  DEFAULT_PLUGIN,
  FUNCTION_CALL_REQUEST,
  PRE_LOAD_PLUGINS_REQUEST,
  callString,
  isFunctionCallResponse,
  isGenericErrorObject,
  isPluginErrorObject,
  isRedirectErrorObject,
  isSupervisorInitialized,
  type FunctionCallArgs,
  type FunctionCallRequest,
  type PluginId,
  type PreLoadPluginsRequest,
  type QualifiedPluginId,
} from './messages.ts';

export type { FunctionCallArgs, PluginId, QualifiedPluginId };

/** psibase's PluginError: a plugin (or loading it) failed. */
export class PluginError extends Error {
  override name = 'PluginError';
  constructor(
    readonly pluginId: QualifiedPluginId,
    message: string,
  ) {
    super(message);
  }
}

/** psibase's GenericError. */
export class GenericError extends Error {
  override name = 'GenericError';
}

export interface AutoRedirectConfig {
  enabled: boolean;
  returnPath: string;
}

export interface SupervisorOptions {
  supervisorSrc?: string;
}

const IFRAME_ID = 'iframe-supervisor';

/** psibase's siblingUrl: `<protocol>//<service>.<root>[:port][path]` from this app's own URL. */
export function siblingUrl(baseUrl?: string | null, service?: string | null, path?: string | null): string {
  const url = new URL(baseUrl || location.href);
  const labels = url.hostname.split('.');
  // On an app origin the root is what follows the first label; the root itself has a dot-free
  // first label too, so only strip when the rest still has a dot (psiweb.localhost).
  const root = labels.length > 2 ? labels.slice(1).join('.') : url.hostname;
  const host = service ? `${service}.${root}` : root;
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}${path ?? ''}`;
}

interface Pending {
  id: string;
  details: string;
  redirect: AutoRedirectConfig;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2);
}

export class Supervisor {
  private static instance: Supervisor | undefined;
  isSupervisorInitialized = false;
  private readonly supervisorSrc: string;
  private readonly supervisorOrigin: string;
  private pending: Pending[] = [];
  private onLoad: (() => void)[] = [];

  private constructor(options?: SupervisorOptions) {
    this.supervisorSrc = options?.supervisorSrc || siblingUrl(undefined, 'supervisor');
    this.supervisorOrigin = new URL(this.supervisorSrc).origin;
    window.addEventListener('message', (e) => this.onMessage(e));
    const iframe = document.createElement('iframe');
    iframe.id = IFRAME_ID;
    iframe.src = this.supervisorSrc;
    iframe.style.display = 'none';
    if (document.body) document.body.appendChild(iframe);
    else document.addEventListener('DOMContentLoaded', () => document.body.appendChild(iframe));
  }

  static getInstance(options?: SupervisorOptions): Supervisor {
    if (!Supervisor.instance) Supervisor.instance = new Supervisor(options);
    else if (options?.supervisorSrc && options.supervisorSrc !== Supervisor.instance.supervisorSrc) {
      console.warn('Supervisor has already been instantiated with different options. New options have been ignored.');
    }
    return Supervisor.instance;
  }

  private onMessage(e: MessageEvent) {
    if (e.origin !== this.supervisorOrigin) return;
    if (isSupervisorInitialized(e.data)) {
      this.isSupervisorInitialized = true;
      for (const r of this.onLoad.splice(0)) r();
      return;
    }
    if (!isFunctionCallResponse(e.data)) return;
    const { id, result } = e.data;
    const p = this.pending.find((r) => r.id === id);
    if (!p) return;
    this.pending = this.pending.filter((r) => r !== p);
    if (isRedirectErrorObject(result)) {
      if (p.redirect.enabled && result.message.includes('user_prompt_request')) {
        const url = new URL(siblingUrl(null, 'supervisor', '/prompt.html'));
        url.searchParams.set('returnPath', p.redirect.returnPath);
        location.href = url.toString();
      } else {
        p.reject(result);
      }
      return;
    }
    if (isPluginErrorObject(result)) {
      console.error(`Call to ${p.details} failed`);
      console.error(`[${result.pluginId.service}:${result.pluginId.plugin}] ${result.message}`);
      p.reject(new PluginError(result.pluginId, result.message));
      return;
    }
    if (isGenericErrorObject(result)) {
      console.error(`Call to ${p.details} failed`);
      console.error(result.message);
      p.reject(new GenericError(result.message));
      return;
    }
    p.resolve(result);
  }

  onLoaded(): Promise<void> {
    if (this.isSupervisorInitialized) return Promise.resolve();
    return new Promise((r) => this.onLoad.push(r));
  }

  private async send(details: string, redirect: AutoRedirectConfig, request: FunctionCallRequest | PreLoadPluginsRequest): Promise<unknown> {
    await this.onLoaded();
    const iframe = document.getElementById(IFRAME_ID) as HTMLIFrameElement | null;
    if (!iframe?.contentWindow) throw new Error('Failed to find supervisor iframe');
    const target = iframe.contentWindow;
    return new Promise((resolve, reject) => {
      this.pending.push({ id: request.id, details, redirect, resolve, reject });
      target.postMessage(request, this.supervisorOrigin);
    });
  }

  functionCall(args: FunctionCallArgs, autoRedirectConfig: AutoRedirectConfig = { enabled: true, returnPath: '/' }): Promise<any> {
    const request: FunctionCallRequest = { type: FUNCTION_CALL_REQUEST, id: newId(), args: { ...args, plugin: args.plugin || DEFAULT_PLUGIN } };
    return this.send(callString(args), autoRedirectConfig, request);
  }

  preLoadPlugins(plugins: PluginId[]): Promise<any> {
    const fq = plugins.map((p) => ({ service: p.service, plugin: p.plugin || DEFAULT_PLUGIN }));
    const request: PreLoadPluginsRequest = { type: PRE_LOAD_PLUGINS_REQUEST, id: newId(), payload: { plugins: fq } };
    return this.send(`Preload plugins: ${fq.map((p) => `${p.service}:${p.plugin}`).join(', ')}`, { enabled: false, returnPath: '/' }, request);
  }
}

export const getSupervisor = (options?: SupervisorOptions): Supervisor => Supervisor.getInstance(options);

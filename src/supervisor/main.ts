/**
 * The supervisor page at `supervisor.<root>` (psibase's Supervisor/ui/src/main.ts):
 * apps embed it as a hidden frame through common-lib. It answers messages from its
 * parent only when the parent is the root or one of its apps, tells the parent it is
 * ready, and replies to each request with FUNCTION_CALL_RESPONSE (psibase replies to
 * preloads with that type too).
 */
import { IdbTranspileCache } from './cache.ts';
import { IdbClientData } from './clientdata.ts';
import { renderManagement } from './manage.ts';
import { fetchPluginBytes, lastPluginSource } from './plugin-fetch.ts';
import { followChanges } from './spaces-sync.ts';
import { errorResult, Supervisor } from './supervisor.ts';
import {
  DEFAULT_PLUGIN,
  callString,
  functionCallResponse,
  isFunctionCallRequest,
  isPreLoadPluginsRequest,
  supervisorInitialized,
} from './messages.ts';

const here = new URL(location.href);
const SUPERVISOR_LABEL = 'supervisor.';
const rootHost = here.hostname.startsWith(SUPERVISOR_LABEL) ? here.hostname.slice(SUPERVISOR_LABEL.length) : here.hostname;

const clientdata = new IdbClientData();
const env = { protocol: here.protocol, rootHost, port: here.port };
const cache = new IdbTranspileCache();
// Opened while the parent sends its first request.
cache.warm();
const supervisor = new Supervisor({
  ...env,
  // Offline, a plugin comes from the browser's own node (plugin-fetch.ts).
  fetchPlugin: (url, etag) => fetchPluginBytes(env, url, undefined, undefined, etag),
  cache,
  clientdata,
  log: (line) => console.info(line),
});

// Grants revoked or answered, logins made, in other pages of this origin: re-read before the next call.
followChanges((space) => clientdata.invalidate(space));

/** This origin's service worker (sw/supervisor-sw.ts): the supervisor and prompt pages offline. */
export const SUPERVISOR_SW_PATH = '/supervisor-sw.js';
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  // After the page's own load, so installing (precaching) does not compete with the first plugin load.
  const register = () =>
    navigator.serviceWorker.register(SUPERVISOR_SW_PATH, { scope: '/', updateViaCache: 'none' }).catch((e: unknown) => console.warn('supervisor: its service worker could not be registered:', e));
  if (document.readyState === 'complete') void register();
  else window.addEventListener('load', () => void register(), { once: true });
}

// For tests and benches (read through the frame): counters and load timings.
(globalThis as { __psiwebSupervisor?: Supervisor }).__psiwebSupervisor = supervisor;
Object.defineProperty(globalThis, '__psiwebLastPluginSource', { get: () => lastPluginSource });

window.addEventListener('message', (event: MessageEvent) => {
  if (event.source !== window.parent || window.parent === window) return;
  const app = supervisor.appOfOrigin(event.origin);
  if (app === undefined) {
    console.error(`supervisor: ignored a message from ${event.origin}, which is not an app of ${rootHost}`);
    return;
  }
  const reply = (id: string, result: unknown) => window.parent.postMessage(functionCallResponse(id, result), event.origin);
  const data: unknown = event.data;
  if (isFunctionCallRequest(data)) {
    const args = { ...data.args, plugin: data.args.plugin || DEFAULT_PLUGIN };
    supervisor.call(app, args).then(
      (result) => reply(data.id, result),
      (e: unknown) => {
        console.error(`supervisor: call to ${callString(args)} failed:`, e);
        reply(data.id, errorResult(e, undefined));
      },
    );
  } else if (isPreLoadPluginsRequest(data)) {
    supervisor.preload(data.payload.plugins).then(
      () => reply(data.id, null),
      (e: unknown) => reply(data.id, errorResult(e, undefined)),
    );
  }
});

if (window.parent === window) {
  // Opened on its own: the user's grants and plugin data (manage.ts).
  void renderManagement(clientdata);
} else {
  window.parent.postMessage(supervisorInitialized(), '*');
}

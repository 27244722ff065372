/**
 * The loader page of an app origin (`/app-loader.html` in the build). The Node peer
 * serves it for a first visit's navigation, and the app service worker serves it for
 * a navigation when no page of the app holds a bridge yet. It connects the bridge,
 * makes sure the app service worker controls the page, then reloads: the reload's
 * navigation goes to the service worker, which fetches the app's real page through
 * this page's bridge (a document stays alive until the next one commits) and serves
 * it with the bridge client injected.
 */
import { APP_SW_PATH } from '../../sw/bridge-protocol.ts';
import { bridge, startLoaderClient } from '../supervisor/loader-client.ts';

/** sessionStorage key: when this tab's loader last reloaded (app-client clears it). */
export const RELOAD_GUARD_KEY = 'psiweb-loader-reloaded-at';

/**
 * A loader that comes back within this time of its own reload gave the worker no
 * usable bridge; reloading again would loop, so it says so instead.
 */
const RELOAD_GUARD_MS = 10_000;

/** How long the first registration may take to control the page. */
const CONTROL_TIMEOUT_MS = 10_000;

function show(message: string, retry = false): void {
  const p = document.getElementById('psiweb-loader-status');
  if (!p) return;
  p.textContent = message;
  if (retry) {
    const button = document.createElement('button');
    button.textContent = 'Try again';
    button.addEventListener('click', () => {
      sessionStorage.removeItem(RELOAD_GUARD_KEY);
      location.reload();
    });
    p.append(' ', button);
  }
}

/** Without service workers: the page as the network serves it (no offline use). */
async function renderFromNetwork(): Promise<void> {
  const response = await fetch(location.href, { headers: { Accept: 'text/html' } });
  const html = await response.text();
  document.open();
  document.write(html);
  document.close();
}

function controlled(): Promise<boolean> {
  if (navigator.serviceWorker.controller) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), CONTROL_TIMEOUT_MS);
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function load(): Promise<void> {
  if (!('serviceWorker' in navigator)) return renderFromNetwork();
  startLoaderClient();
  try {
    await navigator.serviceWorker.register(APP_SW_PATH, { scope: '/', updateViaCache: 'none' });
  } catch {
    return renderFromNetwork();
  }
  if (!(await controlled())) return renderFromNetwork();
  await bridge();
  const last = Number(sessionStorage.getItem(RELOAD_GUARD_KEY) ?? 0);
  if (Date.now() - last < RELOAD_GUARD_MS) {
    show('This app could not be loaded from this browser’s copy of the chain.', true);
    return;
  }
  sessionStorage.setItem(RELOAD_GUARD_KEY, String(Date.now()));
  location.reload();
}

export function startLoader(): void {
  load().catch((e: unknown) => show(`This app could not be loaded: ${(e as Error)?.message ?? String(e)}`, true));
}

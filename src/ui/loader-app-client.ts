/**
 * `/_psiweb/app-client.js`: the script the app service worker injects at the top of
 * every app page it serves, so the page holds a bridge for the requests that follow
 * (its own scripts first).
 */
import { RELOAD_GUARD_KEY } from './loader.ts';
import { startLoaderClient } from '../supervisor/loader-client.ts';

startLoaderClient();
// The loader's reload reached the app: a later loader may reload again.
sessionStorage.removeItem(RELOAD_GUARD_KEY);

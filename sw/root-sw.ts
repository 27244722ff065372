/// <reference lib="webworker" />
/**
 * The root origin's service worker. It precaches the shell so the node and every
 * installed app open offline; answering service HTTP from chain state joins it with
 * the browser-node work (issue 4).
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html')));

self.addEventListener('message', (event) => {
  // Sent by the page when the user accepts "update available".
  if (event.data?.type === 'SKIP_WAITING') void self.skipWaiting();
});

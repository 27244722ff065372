import { Workbox } from 'workbox-window';
import { consumeJoinFragment } from '../node/browser/invite.ts';
import { startNode } from '../node/browser/leader.ts';
import { handleNetworkHash, joinInvitedNetwork } from '../node/browser/network-client.ts';
import './app.ts';
import { holdReads } from './dashboard-sources.ts';
import { setJoinOutcome } from './join-banner.ts';
import { provideNode } from './node-context.ts';
import type { UpdatePrompt } from './update-prompt.ts';

// An invite link (#join=…) is stored before the node starts, so its leader dials what it names.
const joined = consumeJoinFragment(location.hash);
setJoinOutcome(joined);

// One node per browser profile: this tab's worker runs it if it wins the Web Lock.
const node = startNode();
provideNode(node);
// `#create`: a new network in this browser, produced here (issue 11 §2).
void handleNetworkHash().catch((e: unknown) => console.error('psiweb: cannot create a network:', e));
// The invite's network becomes the active one: the Node peer's, or one joined over browser
// peers (asked again after a reload until the node has said so).
void joinInvitedNetwork(joined?.ok ? joined.join : undefined).catch((e: unknown) => console.error("psiweb: cannot join the invite's network:", e));

// The dev server has no built worker; production builds register it.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  const workbox = new Workbox('/root-sw.js', { type: 'module' });
  // At once, not after the window's load event (workbox's default) nor the dashboard's
  // first render: the root worker is what answers service HTTP, so every app waits for
  // it on a first visit. The update prompt listens from its first render on (an update
  // is only found after this first registration, so it misses none).
  void workbox.register({ immediate: true });
  const app = document.querySelector<import('./app.ts').PsiwebApp>('psiweb-app');
  await app?.updateComplete;
  const prompt = app?.shadowRoot?.querySelector<UpdatePrompt>('psiweb-update-prompt');
  prompt?.attach(workbox, async () => {
    holdReads();
    await node.pauseForUpdate();
  });
}

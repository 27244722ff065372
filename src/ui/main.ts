import { Workbox } from 'workbox-window';
import './app.ts';
import type { UpdatePrompt } from './update-prompt.ts';

// The dev server has no built worker; production builds register it.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  const workbox = new Workbox('/root-sw.js', { type: 'module' });
  const app = document.querySelector<import('./app.ts').PsiwebApp>('psiweb-app');
  await app?.updateComplete;
  const prompt = app?.shadowRoot?.querySelector<UpdatePrompt>('psiweb-update-prompt');
  prompt?.attach(workbox);
  void workbox.register();
}

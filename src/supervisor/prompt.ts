/**
 * The supervisor's prompt page (`supervisor.<root>/prompt.html?returnPath=…`, psibase's
 * path): shows the active prompt (permissions.ts) with **Allow** and **Deny**, keeps the
 * answer for (caller app, plugin's service), and sends the user back to the app at
 * `returnPath`.
 */
import { IdbClientData } from './clientdata.ts';
import { activePrompt, GRANTS_SPACE, PROMPT_SPACE, setActivePrompt, setGrant, type ActivePrompt } from './permissions.ts';

const here = new URL(location.href);
const SUPERVISOR_LABEL = 'supervisor.';
const rootHost = here.hostname.startsWith(SUPERVISOR_LABEL) ? here.hostname.slice(SUPERVISOR_LABEL.length) : here.hostname;

function appOrigin(app: string): string {
  const host = app === 'homepage' ? rootHost : `${app}.${rootHost}`;
  return `${here.protocol}//${host}${here.port ? `:${here.port}` : ''}`;
}

/** Only a path on the app's own origin: never somewhere else. */
function returnPath(): string {
  const p = here.searchParams.get('returnPath') ?? '/';
  return p.startsWith('/') && !p.startsWith('//') ? p : '/';
}

const LEVEL_INDEX = { low: 0, medium: 1, high: 2 } as const;

function describe(p: ActivePrompt): { title: string; detail: string } {
  if (p.promptName === 'permissions') {
    const i = LEVEL_INDEX[p.level as keyof typeof LEVEL_INDEX];
    const what = i === undefined ? '' : p.descriptions[i];
    return { title: `${p.caller} wants to use ${p.promptApp}`, detail: what || `${p.caller} asks for ${p.level} trust from ${p.promptApp}.` };
  }
  return { title: `${p.promptApp} asks: ${p.promptName}`, detail: `While you use ${p.activeApp}.` };
}

async function main() {
  const store = new IdbClientData();
  await Promise.all([store.load(PROMPT_SPACE), store.load(GRANTS_SPACE)]);
  const p = activePrompt(store);
  const title = document.getElementById('title')!;
  const detail = document.getElementById('detail')!;
  const allow = document.getElementById('allow') as HTMLButtonElement;
  const deny = document.getElementById('deny') as HTMLButtonElement;
  if (!p) {
    title.textContent = 'Nothing to answer';
    detail.textContent = 'No plugin is waiting for an answer.';
    return;
  }
  const text = describe(p);
  title.textContent = text.title;
  detail.textContent = text.detail;
  const answer = async (a: 'allow' | 'deny') => {
    allow.disabled = deny.disabled = true;
    setGrant(store, p.promptApp, p.caller, a);
    setActivePrompt(store, undefined);
    await store.flush();
    location.href = appOrigin(p.activeApp) + returnPath();
  };
  allow.onclick = () => void answer('allow');
  deny.onclick = () => void answer('deny');
  allow.disabled = deny.disabled = false;
}

void main();

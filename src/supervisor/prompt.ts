/**
 * The supervisor's prompt page (`supervisor.<root>/prompt.html?returnPath=…`, psibase's
 * path): shows the active prompt (permissions.ts) with **Allow** and **Deny**, keeps the
 * answer for (caller app, plugin's service), and sends the user back to the app at
 * `returnPath`.
 *
 * auth-sig's create-account prompt makes the new account's key here: a P-256 key is
 * generated, offered as a PEM file to download, and Allow stays disabled until the
 * user took that backup; Allow then stores the key non-extractable in IndexedDB, bound
 * to the new account's name, and drops the PEM. Deny stores nothing.
 */
import { IdbClientData } from './clientdata.ts';
import { IdbKeyStore, newKeyPem } from './keystore.ts';
import { announceChanged } from './spaces-sync.ts';
import {
  activePrompt,
  createAccountDenial,
  CREATE_ACCOUNT_PROMPT,
  GRANTS_SPACE,
  PROMPT_SPACE,
  setActivePrompt,
  setGrant,
  type ActivePrompt,
} from './permissions.ts';

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
  if (p.promptName === CREATE_ACCOUNT_PROMPT) return { title: `${p.caller} wants to create an account`, detail: p.descriptions[0] };
  return { title: `${p.promptApp} asks: ${p.promptName}`, detail: `While you use ${p.activeApp}.` };
}

/**
 * The create-account prompt's key: made now, offered for backup, stored only on Allow.
 * Returns what Allow and Deny do.
 */
async function newAccountKey(p: ActivePrompt, store: IdbClientData, allow: HTMLButtonElement): Promise<{ allow(): Promise<void>; deny(): void }> {
  const name = new TextDecoder().decode(new Uint8Array(p.packedContext ?? []));
  let pem: string | undefined = (await newKeyPem()).pem;
  const url = URL.createObjectURL(new Blob([pem], { type: 'application/x-pem-file' }));
  const link = Object.assign(document.createElement('a'), { id: 'backup', href: url, download: `${name}.pem`, textContent: `Download the key's backup (${name}.pem)` });
  const note = Object.assign(document.createElement('p'), {
    id: 'backup-note',
    textContent: `The key is kept only in this browser. Clearing this site's data removes it: keep the backup file, which you can import again (auth-sig import-key). Allow is enabled once you have downloaded it.`,
  });
  let backedUp = false;
  link.addEventListener('click', () => {
    backedUp = true;
    allow.disabled = false;
  });
  const holder = document.createElement('p');
  holder.append(link);
  allow.parentElement!.before(note, holder);
  return {
    async allow() {
      if (!backedUp || !pem) throw new Error('the backup was not downloaded');
      const keys = new IdbKeyStore();
      const der = await keys.importPem(pem);
      await keys.bind(name, der);
      pem = undefined;
      URL.revokeObjectURL(url);
    },
    deny() {
      pem = undefined;
      URL.revokeObjectURL(url);
      store.set(PROMPT_SPACE, createAccountDenial(p.caller, name), new TextEncoder().encode('1'));
    },
  };
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
  const keyPrompt = p.promptName === CREATE_ACCOUNT_PROMPT ? await newAccountKey(p, store, allow) : undefined;
  const answer = async (a: 'allow' | 'deny') => {
    allow.disabled = deny.disabled = true;
    if (keyPrompt) {
      // One request, not a standing grant.
      if (a === 'allow') await keyPrompt.allow();
      else keyPrompt.deny();
    } else setGrant(store, p.promptApp, p.caller, a);
    setActivePrompt(store, undefined);
    await store.flush();
    announceChanged([GRANTS_SPACE, PROMPT_SPACE]);
    location.href = appOrigin(p.activeApp) + returnPath();
  };
  allow.onclick = () => void answer('allow');
  deny.onclick = () => void answer('deny');
  allow.disabled = keyPrompt !== undefined;
  deny.disabled = false;
}

void main();

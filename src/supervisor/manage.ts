/**
 * The supervisor page opened on its own (not embedded): what the user keeps here.
 * Grants (which app may use which app's plugin, the answers given in prompts) with
 * Revoke, and the plugins' client data exported to a file and imported from one, to
 * carry it to another device. Only this origin can read that data, so this is where
 * it is managed (the dashboard can link here).
 */
import { fromFile, isSupervisorSpace, toFile, type IdbClientData } from './clientdata.ts';
import { GRANTS_SPACE, setGrant } from './permissions.ts';
import { IdbKeyStore } from './keystore.ts';
import { announceChanged } from './spaces-sync.ts';
import { publicKeyToPem } from '../crypto/keys.ts';

const td = new TextDecoder();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

export async function renderManagement(store: IdbClientData): Promise<void> {
  await store.load(GRANTS_SPACE);
  const root = el('main', { id: 'manage' });
  root.style.font = '15px system-ui, sans-serif';
  document.body.append(root);

  const grants = el('table', { id: 'grants' });
  const status = el('p', { id: 'status' });
  status.setAttribute('role', 'status');
  const renderGrants = async () => {
    const rows = await store.exportRows((p) => p === GRANTS_SPACE);
    grants.replaceChildren(el('tr', {}, el('th', {}, 'app'), el('th', {}, 'may use'), el('th', {}, 'answer'), el('th')));
    for (const r of rows) {
      const [callee, caller] = r.key.split('|') as [string, string];
      const revoke = el('button', { type: 'button', textContent: 'Revoke' });
      revoke.dataset.grant = r.key;
      revoke.onclick = async () => {
        setGrant(store, callee, caller, undefined);
        await store.flush();
        announceChanged([GRANTS_SPACE]);
        await renderGrants();
      };
      grants.append(el('tr', {}, el('td', {}, caller), el('td', {}, callee), el('td', {}, td.decode(r.value)), el('td', {}, revoke)));
    }
    if (rows.length === 0) grants.append(el('tr', {}, el('td', { colSpan: 4 }, 'No app has asked yet.')));
  };

  const exportButton = el('button', { type: 'button', id: 'export', textContent: 'Export plugin data' });
  exportButton.onclick = async () => {
    const file = toFile(await store.exportRows((p) => !isSupervisorSpace(p)));
    const url = URL.createObjectURL(new Blob([JSON.stringify(file)], { type: 'application/json' }));
    const a = el('a', { href: url, download: 'psiweb-plugin-data.json' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    status.textContent = `Exported ${file.rows.length} entries.`;
  };
  const importInput = el('input', { type: 'file', id: 'import', accept: 'application/json,.json' });
  importInput.onchange = async () => {
    const f = importInput.files?.[0];
    if (!f) return;
    status.textContent = `Importing ${f.name}…`;
    try {
      // Checked whole before anything is written (fromFile), then written in one transaction.
      const rows = fromFile(await f.text());
      const spaces = await store.importRows(rows);
      // Supervisor frames open in other pages re-read these key spaces before their next call.
      announceChanged(spaces);
      status.textContent = `Imported ${rows.length} entries.`;
    } catch (e) {
      status.textContent = `Not imported: ${(e as Error).message}`;
    } finally {
      importInput.value = '';
    }
  };

  const keys = el('ul', { id: 'keys' });
  try {
    const list = await new IdbKeyStore().list();
    for (const k of list) {
      const pem = publicKeyToPem(k.publicKeyDer).split('\n').slice(1, -2).join('');
      keys.append(el('li', {}, `${k.accounts.length ? k.accounts.join(', ') : 'not used yet'}: `, el('code', {}, `${pem.slice(-24)}`)));
    }
    if (list.length === 0) keys.append(el('li', {}, 'No keys: import one or create an account from an app.'));
  } catch (e) {
    keys.append(el('li', {}, `Keys cannot be read here: ${(e as Error).message}`));
  }

  root.append(
    el('h2', {}, 'Keys on this device'),
    el('p', { id: 'keys-warning' }, 'Your private keys live only in this browser (non-extractable: not even this page can read them). Clearing this site’s data removes them, and with them the way to sign for your accounts: keep the backup file you downloaded when a key was made.'),
    keys,
    el('h2', {}, 'Apps using other apps’ plugins'),
    grants,
    el('h2', {}, 'Plugin data on this device'),
    el('p', {}, 'Plugins keep their data in this browser. Clearing this site’s data removes it; export it to keep a copy or to carry it to another device.'),
    el('p', {}, exportButton, ' ', el('label', {}, 'Import: ', importInput)),
    status,
  );
  await renderGrants();
}

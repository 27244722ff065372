// Tokens UI. Reads balances from GET /balances/<account>; everything that signs goes
// through plugins, as a psibase app does: common-lib's getSupervisor().functionCall
// asks the supervisor (a hidden frame at supervisor.<root>), which runs tokens'
// plugin (tokens:plugin `user` `credit`), builds the transaction from the actions the
// plugin added, signs it with the logged-in user's key and pushes it.
//
// Accounts: log in (accounts `activeApp` `login`; switching is logging in as another),
// import a key (auth-sig `keyvault` `importKey`, e.g. `psiweb devkey alice`), or create
// an account with a new key made in the browser (auth-sig `actions` `createAccount`,
// sent and paid for by the logged-in user). Calls that need the user's answer send the
// page to the supervisor's prompt page and back (psibase's redirect); send them again.
import { getSupervisor } from '/common/common-lib.js';

const supervisor = getSupervisor();
const call = (service, intf, method, params) => supervisor.functionCall({ service, intf, method, params });

/** The system token (psibase's fetch-network-token: token 1 on psiweb's devnet). */
const SYSTEM_TOKEN = 1;

const $ = (id) => document.getElementById(id);
function show(el, message, isError = false) {
  el.textContent = message;
  el.className = isError ? 'error' : '';
}
const errorText = (err) => (err && err.message) || String(err);

async function balanceOf(name) {
  const r = await fetch(`/balances/${encodeURIComponent(name)}`);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error);
  return body;
}

function describeBalance(body) {
  if (body.balance !== undefined) return `${body.account}: ${body.balance}`;
  if (Array.isArray(body.balances)) return `${body.account}: ${body.balances.map((b) => `${b.balance} (token ${b.tokenId})`).join(', ') || '0'}`;
  return JSON.stringify(body);
}

async function refreshUser() {
  try {
    const user = await call('accounts', 'api', 'getCurrentUser', []);
    $('user').textContent = user ?? 'nobody';
    $('user').dataset.user = user ?? '';
  } catch (err) {
    show($('account-status'), errorText(err), true);
  }
}

function form(id, handler) {
  $(id).addEventListener('submit', async (e) => {
    e.preventDefault();
    await handler(new FormData(e.target));
  });
}

form('lookup', async (f) => {
  try {
    show($('balance'), describeBalance(await balanceOf(f.get('account'))));
  } catch (err) {
    show($('balance'), errorText(err), true);
  }
});

form('login', async (f) => {
  const name = f.get('account');
  try {
    show($('account-status'), `Logging in as ${name}…`);
    await call('accounts', 'activeApp', 'login', [name]);
    show($('account-status'), `Logged in as ${name}`);
  } catch (err) {
    show($('account-status'), errorText(err), true);
  }
  await refreshUser();
});

form('import-key', async (f) => {
  try {
    const file = f.get('pem-file');
    const pem = file && file.size ? await file.text() : f.get('pem');
    const pub = await call('auth-sig', 'keyvault', 'importKey', [pem]);
    show($('account-status'), `Key imported (public key ${pub.split('\n').slice(1, -2).join('').slice(-16)})`);
  } catch (err) {
    show($('account-status'), errorText(err), true);
  }
});

form('create-account', async (f) => {
  const name = f.get('account');
  try {
    show($('account-status'), `Creating ${name}…`);
    await call('auth-sig', 'actions', 'createAccount', [name]);
    show($('account-status'), `Created ${name}: log in as ${name} to use it`);
  } catch (err) {
    show($('account-status'), errorText(err), true);
  }
});

form('transfer', async (f) => {
  try {
    show($('status'), 'Sending…');
    await call('tokens', 'user', 'credit', [SYSTEM_TOKEN, f.get('to'), f.get('amount'), f.get('memo') ?? '']);
    show($('status'), `Sent ${f.get('amount')} to ${f.get('to')}`);
  } catch (err) {
    show($('status'), errorText(err), true);
  }
});

$('logout').addEventListener('click', async () => {
  await call('accounts', 'activeApp', 'logout', []).catch((err) => show($('account-status'), errorText(err), true));
  await refreshUser();
});

// Every form has its handler now: a submit before this would have navigated natively.
document.documentElement.dataset.interactive = 'true';

refreshUser().then(() => {
  document.body.dataset.ready = 'true';
});

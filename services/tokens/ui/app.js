// Tokens UI. Reads balances from GET /balances/<account> and sends transfers as
// psibase transactions. Building the transaction is done here; signing and pushing
// go through one pluggable hook:
//
//   window.psiweb.submitTransaction(transaction) -> Promise<unknown>
//
// `transaction` is the JSON form /common/pack/Transaction accepts:
//   { tapos: { refBlockIndex, refBlockSuffix, flags: 0, expiration: ISO string },
//     actions: [{ sender, service: "tokens", method: "transfer", rawData: hex }],
//     claims: [] }
// The supervisor installs the real hook (it adds claims and proofs). Without it, the
// fallback packs the transaction with /common/pack/SignedTransaction (no proofs) and
// POSTs it to transact's /push_transaction, which only a chain without auth accepts.

const rootUrl = async () => {
  const root = await (await fetch('/common/rootdomain')).json();
  return `${location.protocol}//${root}${location.port ? ':' + location.port : ''}`;
};

async function fallbackSubmit(transaction) {
  const packed = await fetch('/common/pack/SignedTransaction', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ transaction, proofs: [] }),
  });
  if (!packed.ok) throw new Error(await packed.text());
  const base = (await rootUrl()).replace('//', '//transact.');
  const pushed = await fetch(`${base}/push_transaction`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: await packed.arrayBuffer(),
  });
  const trace = await pushed.json();
  if (!pushed.ok || trace.error) throw new Error(trace.error ?? pushed.statusText);
  return trace;
}

const submitTransaction = (tx) => (window.psiweb?.submitTransaction ?? fallbackSubmit)(tx);

// The tokens service packs transfer's arguments (psibase's /pack_action/<method>),
// so the UI needs neither fracpack nor psibase's account-name encoding.
async function packTransfer(to, amount, memo) {
  const r = await fetch('/pack_action/transfer', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ to, amount, memo }),
  });
  if (!r.ok) throw new Error(await r.text());
  return [...new Uint8Array(await r.arrayBuffer())].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function balanceOf(name) {
  const r = await fetch(`/balances/${encodeURIComponent(name)}`);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error);
  return body;
}

const $ = (id) => document.getElementById(id);
function show(el, message, isError = false) {
  el.textContent = message;
  el.className = isError ? 'error' : '';
}

$('lookup').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = new FormData(e.target).get('account');
  try {
    const { account, balance } = await balanceOf(name);
    show($('balance'), `${account}: ${balance}`);
  } catch (err) {
    show($('balance'), err.message, true);
  }
});

$('transfer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const tapos = await (await fetch('/common/tapos/head')).json();
    const transaction = {
      tapos: { ...tapos, flags: 0, expiration: new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z') },
      actions: [{
        sender: f.get('from'),
        service: 'tokens',
        method: 'transfer',
        rawData: await packTransfer(f.get('to'), f.get('amount'), f.get('memo') ?? ''),
      }],
      claims: [],
    };
    show($('status'), 'Sending…');
    await submitTransaction(transaction);
    show($('status'), `Sent ${f.get('amount')} to ${f.get('to')}`);
  } catch (err) {
    show($('status'), err.message, true);
  }
});

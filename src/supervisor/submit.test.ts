/**
 * HttpSubmitter reports the status the node answered with (issue 10 §3): the browser
 * node's `x-psiweb-tx-status` on a 200 (`submitted`: executed by the producer, not yet
 * in a synced block; `applied`), `final` for a Node peer's 200 (push_transaction
 * without wait_for answers once final), the outbox status on a 202; a failed trace or
 * an answer that is no trace rejects with SubmitError and binds no key.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { devKeyPair } from '../crypto/keys.ts';
import type { KeyStore } from './keystore.ts';

const answers: Response[] = [];
const requests: { service: string; target: string; method?: string; body?: Uint8Array }[] = [];

vi.mock('./root-bridge.ts', () => ({
  lastRoute: 'bridge',
  serviceFetch: async (_env: unknown, service: string, target: string, init: { method?: string; body?: Uint8Array } = {}) => {
    requests.push({ service, target, method: init.method, body: init.body });
    if (target === '/common/tapos/head') return Response.json({ refBlockIndex: 3, refBlockSuffix: 77 });
    const r = answers.shift();
    if (!r) throw new Error('no answer queued');
    return r;
  },
}));

const { HttpSubmitter, SubmitError } = await import('./submit.ts');

const env = { protocol: 'http:', rootHost: 'psiweb.localhost', port: '8080' };
const ID = 'ab'.repeat(32);
const trace = { actionTraces: [], error: null };

function keys(): KeyStore & { binds: string[] } {
  const binds: string[] = [];
  return {
    binds,
    keyFor: async () => ({ key: await devKeyPair('p256', 'alice'), bound: false }),
    bind: async (account) => void binds.push(account),
    importPem: async () => new Uint8Array(),
    checkPem: async () => undefined,
    boundKey: async () => undefined,
    list: async () => [],
  };
}

const action = { sender: 'alice', service: 'tokens', method: 'transfer', rawData: new Uint8Array([1, 2]) };

describe('HttpSubmitter status', () => {
  beforeEach(() => {
    answers.length = 0;
    requests.length = 0;
  });

  it('a 200 the browser node answered at submitted is submitted, not applied', async () => {
    const k = keys();
    answers.push(Response.json(trace, { headers: { 'x-psiweb-tx-status': 'submitted', 'x-psiweb-tx-id': ID } }));
    const r = await new HttpSubmitter(env, k).submit('alice', [action]);
    expect(r).toMatchObject({ status: 'submitted', id: ID, trace, route: 'bridge' });
    expect(k.binds).toEqual(['alice']);
    expect(requests.map((q) => [q.service, q.target, q.method])).toEqual([
      ['transact', '/common/tapos/head', undefined],
      ['transact', '/push_transaction', 'POST'],
    ]);
  });

  it('applied when the browser node says applied; final from a Node peer (no header)', async () => {
    answers.push(Response.json(trace, { headers: { 'x-psiweb-tx-status': 'applied' } }));
    answers.push(Response.json(trace));
    const s = new HttpSubmitter(env, keys());
    expect((await s.submit('alice', [action])).status).toBe('applied');
    expect((await s.submit('alice', [action])).status).toBe('final');
  });

  it('a 202 reports the outbox status and no trace', async () => {
    answers.push(Response.json({ id: ID, status: 'queued' }, { status: 202, headers: { 'x-psiweb-tx-status': 'queued', 'x-psiweb-tx-id': ID } }));
    answers.push(Response.json({ id: ID, status: 'submitted' }, { status: 202, headers: { 'x-psiweb-tx-status': 'submitted' } }));
    const k = keys();
    const s = new HttpSubmitter(env, k);
    expect(await s.submit('alice', [action])).toMatchObject({ status: 'queued', id: ID, trace: undefined });
    expect(await s.submit('alice', [action])).toMatchObject({ status: 'submitted', trace: undefined });
    expect(k.binds).toEqual([]);
  });

  it('rejects a failed trace, a status no trace comes with, and a non-trace answer; binds no key', async () => {
    const k = keys();
    const s = new HttpSubmitter(env, k);
    answers.push(Response.json({ actionTraces: [], error: 'insufficient balance' }, { headers: { 'x-psiweb-tx-status': 'failed' } }));
    await expect(s.submit('alice', [action])).rejects.toThrow(SubmitError);
    answers.push(Response.json(trace, { headers: { 'x-psiweb-tx-status': 'queued' } }));
    await expect(s.submit('alice', [action])).rejects.toThrow(/status "queued", which a trace does not come with/);
    answers.push(Response.json({ id: ID, status: 'applied' }, { status: 202 }));
    await expect(s.submit('alice', [action])).rejects.toThrow(/202 with the status "applied"/);
    answers.push(new Response('busy', { status: 500 }));
    await expect(s.submit('alice', [action])).rejects.toThrow(/answered 500: busy/);
    expect(k.binds).toEqual([]);
  });

  it('unsigned (open registration): no key is looked up or bound, the transaction carries no claim', async () => {
    const k = { ...keys(), keyFor: async () => { throw new Error('no key may be looked up'); } };
    answers.push(Response.json(trace, { headers: { 'x-psiweb-tx-status': 'submitted' } }));
    const r = await new HttpSubmitter(env, k).submit('registrar', [{ ...action, sender: 'registrar' }], { unsigned: true });
    expect(r.status).toBe('submitted');
    expect(k.binds).toEqual([]);
    const { openTransaction } = await import('../chain/executor.ts');
    const opened = openTransaction(requests.at(-1)!.body!);
    expect(opened.transaction.claims).toEqual([]);
  });
});

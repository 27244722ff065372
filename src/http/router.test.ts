import { beforeAll, describe, expect, it } from 'vitest';
import { Chain, type OpenedTransaction } from '../chain/executor.ts';
import { TransactionRejectedError } from '../chain/errors.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { packSignedTransaction, packTransaction, unpackTransactionTrace, type TransactionTrace } from '../protocol/types.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { Router, type RouterInit, type StaticSite } from './router.ts';
import type { TransactionSubmitter, WaitFor } from './push.ts';
import { constantService, packOptionalReply, packReply, textReply } from './test-kit.ts';

const ROOT = 'psiweb.localhost';
/** Services answer on their subdomains themselves: there is no http service. */
let bare: Chain;
/** The same, plus an `http` service (which answers everything) and common-api. */
let routed: Chain;
/** A common-api whose every call aborts as its JSON decoder does on bad input. */
let badJson: Chain;
/** A common-api whose every call aborts with some other message. */
let broken: Chain;

async function chainWith(services: Record<string, Uint8Array>): Promise<Chain> {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await chain.boot({
    services: Object.entries(services).map(([name, code]) => ({ service: accountNumber(name), flags: 0n, vmType: 0, vmVersion: 0, code })),
    producer: accountNumber('prod'),
  });
  return chain;
}

beforeAll(async () => {
  const services = {
    hello: await constantService({ retval: packOptionalReply(textReply(200, 'hello', [{ name: 'Cache-Control', value: 'no-store' }])) }),
    nothing: await constantService({ retval: packOptionalReply(null) }),
    broken: await constantService({ abort: 'broken on purpose' }),
    badreply: await constantService({ retval: new Uint8Array([9, 9, 9]) }),
    badstatus: await constantService({ retval: packOptionalReply(textReply(42, 'odd')) }),
  };
  bare = await chainWith(services);
  routed = await chainWith({
    ...services,
    http: await constantService({ retval: packReply(textReply(200, 'routed by http')) }),
    'common-api': await constantService({ retval: packOptionalReply(textReply(200, 'common')) }),
  });
  badJson = await chainWith({ 'common-api': await constantService({ abort: 'json: unexpected end at 9' }) });
  broken = await chainWith({ 'common-api': await constantService({ abort: 'out of order' }) });
});

class FakeSubmitter implements TransactionSubmitter {
  readonly calls: { packed: Uint8Array; waitFor: WaitFor }[] = [];
  result: TransactionTrace | Error = { actionTraces: [], error: null };
  async submit(input: Uint8Array | OpenedTransaction, options: { waitFor: WaitFor }): Promise<TransactionTrace> {
    const packed = input instanceof Uint8Array ? input : packSignedTransaction(input.signed);
    this.calls.push({ packed, waitFor: options.waitFor });
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
}

const site: StaticSite = {
  async fetch(path) {
    return new Response(`pwa:${path}`, { headers: { 'Content-Type': 'text/html' } });
  },
};

function router(extra: Partial<RouterInit> = {}): Router {
  return new Router({ rootHost: ROOT, chain: bare, site, nativeStatus: async () => ({ ok: true }), ...extra });
}

function req(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Request {
  const host = new URL(url).host;
  return new Request(url, { ...init, headers: { host, ...init.headers } });
}

function validTransaction(): Uint8Array {
  const transaction = packTransaction({
    tapos: { expiration: 2_000_000_000n, refBlockSuffix: 0, flags: 0, refBlockIndex: 0 },
    actions: [{ sender: accountNumber('alice'), service: accountNumber('hello'), method: methodNumber('hi'), rawData: new Uint8Array([0, 0]) }],
    claims: [],
  });
  return packSignedTransaction({ transaction, proofs: [], subjectiveData: null });
}

describe('router: hosts', () => {
  it("answers a subdomain with the service's own serveSys when the chain has no http service", async () => {
    const res = await router().handle(req(`http://hello.${ROOT}:8080/any?x=1`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('hello');
  });

  it('routes subdomains through the http service when the chain has one', async () => {
    const res = await router({ chain: routed }).handle(req(`http://hello.${ROOT}/`));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('routed by http');
  });

  it('answers common-api paths on the root host, and the PWA for the rest', async () => {
    const r = router({ chain: routed });
    expect(await (await r.handle(req(`http://${ROOT}/common/chainid`))).text()).toBe('common');
    expect(await (await r.handle(req(`http://${ROOT}/app/page`))).text()).toBe('pwa:/app/page');
  });

  it('answers 404 when the service has no reply', async () => {
    const res = await router().handle(req(`http://nothing.${ROOT}/nothing-here`));
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("'/nothing-here' was not found");
  });

  it('answers 404 for an account with no service', async () => {
    const res = await router().handle(req(`http://nosuchsvc.${ROOT}/`));
    expect(res.status).toBe(404);
    expect(await res.text()).toContain(`no service is deployed on nosuchsvc.${ROOT}`);
  });

  it('answers 404 for a subdomain that is not an account name', async () => {
    for (const host of [`a.b.${ROOT}`, `under_score.${ROOT}`]) {
      const res = await router().handle(req(`http://${host}/`));
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('is not an account name');
    }
  });

  it('redirects localhost to the root host, keeping port, path and query', async () => {
    const res = await router().handle(req('http://localhost:8080/a/b?c=1'));
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe(`http://${ROOT}:8080/a/b?c=1`);
  });

  it('refuses hosts that are not the root or its subdomains', async () => {
    const res = await router().handle(req('http://example.com/'));
    expect(res.status).toBe(421);
    expect(await res.text()).toContain('example.com');
  });

  it('serves the PWA build on the root host, and says so when there is none', async () => {
    const res = await router().handle(req(`http://${ROOT}:8080/index.html`));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('pwa:/index.html');
    const noSite = await new Router({ rootHost: ROOT, chain: bare }).handle(req(`http://${ROOT}/`));
    expect(noSite.status).toBe(404);
    expect(await noSite.text()).toContain('no PWA build');
  });

  it('answers a service abort with 500 and its message, and keeps serving', async () => {
    const r = router();
    const res = await r.handle(req(`http://broken.${ROOT}/`));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("service 'broken' aborted with message: broken on purpose");
    expect((await r.handle(req(`http://hello.${ROOT}/`))).status).toBe(200);
  });

  it('answers replies that are not an HttpReply, or carry an impossible status, with 500', async () => {
    const bad = await router().handle(req(`http://badreply.${ROOT}/`));
    expect(bad.status).toBe(500);
    expect(await bad.text()).toContain('malformed optional<HttpReply>');
    const odd = await router().handle(req(`http://badstatus.${ROOT}/`));
    expect(odd.status).toBe(500);
    expect(await odd.text()).toContain('invalid status code 42');
  });

  it('refuses a Host header that is not a plain authority, or names another host than the URL', async () => {
    const r = router();
    for (const host of [`transact.${ROOT}/push_transaction`, `${ROOT}, transact.${ROOT}`, `evil@${ROOT}`, `${ROOT}:1:2`, `transact.${ROOT}`, `${ROOT}:81`]) {
      const res = await r.handle(new Request(`http://${ROOT}/push_transaction`, { headers: { host } }));
      expect(res.status, host).toBe(400);
      expect(await res.text(), host).toMatch(/the Host header/);
    }
    // The same host, spelled differently, is the same host.
    for (const host of [`PSIWEB.localhost`, `${ROOT}:80`]) {
      expect((await r.handle(new Request(`http://${ROOT}/x`, { headers: { host } }))).status, host).toBe(200);
    }
  });

  it('refuses methods psinode does not pass to services', async () => {
    const res = await router().handle(req(`http://hello.${ROOT}/`, { method: 'PATCH' }));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });
});

describe('router: /native', () => {
  it('answers /native/status on every host with the node status', async () => {
    for (const host of [ROOT, `hello.${ROOT}`]) {
      const res = await router().handle(req(`http://${host}/native/status`));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
    }
  });

  it('answers CORS preflights for its resources, and 404 for others', async () => {
    for (const path of ['/native/status', '/native/blocks']) {
      const res = await router().handle(req(`http://hello.${ROOT}${path}`, { method: 'OPTIONS', headers: { origin: 'http://other.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-custom' } }));
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
      expect(res.headers.get('access-control-allow-headers')).toBe('*');
      expect(res.headers.get('access-control-max-age')).toBe('7200');
      expect(await res.text()).toBe('');
    }
    expect((await router().handle(req(`http://${ROOT}/native/nope`, { method: 'OPTIONS' }))).status).toBe(404);
    // Without a status source there is no /native/status to ask about.
    expect((await router({ nativeStatus: undefined }).handle(req(`http://${ROOT}/native/status`, { method: 'OPTIONS' }))).status).toBe(404);
  });

  it('refuses other methods and unknown native paths', async () => {
    const post = await router().handle(req(`http://${ROOT}/native/status`, { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await router().handle(req(`http://${ROOT}/native/nope`))).status).toBe(404);
  });
});

describe('router: /common/pack', () => {
  const pack = (chain: Chain, host = ROOT, path = '/common/pack/Transaction') =>
    router({ chain }).handle(req(`http://${host}${path}`, { method: 'POST', body: '{"tapos":', headers: { 'content-type': 'application/json' } }));

  it("answers common-api's refusal of the JSON with 400 and its message", async () => {
    const res = await pack(badJson);
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.text()).toBe('/common/pack/Transaction could not pack the request body: json: unexpected end at 9');
  });

  it('keeps 500 for other aborts and other paths', async () => {
    expect((await pack(broken)).status).toBe(500);
    expect((await pack(badJson, ROOT, '/common/chainid')).status).toBe(500);
  });
});

describe('router: push_transaction', () => {
  const url = `http://transact.${ROOT}/push_transaction`;
  const post = (body: Uint8Array | string, headers: Record<string, string> = { 'content-type': 'application/octet-stream' }, target = url) =>
    req(target, { method: 'POST', body: body as BodyInit, headers });

  it('submits the bytes, waits for the trace and returns it as psibase JSON', async () => {
    const submitter = new FakeSubmitter();
    const bytes = validTransaction();
    const res = await router({ submitter }).handle(post(bytes));
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({ actionTraces: [], error: null });
    expect(submitter.calls).toHaveLength(1);
    expect(submitter.calls[0]!.packed).toEqual(bytes);
    expect(submitter.calls[0]!.waitFor).toBe('final');
  });

  it('honours wait_for and refuses unknown values', async () => {
    const submitter = new FakeSubmitter();
    await router({ submitter }).handle(post(validTransaction(), undefined, `${url}?wait_for=applied`));
    expect(submitter.calls[0]!.waitFor).toBe('applied');
    const bad = await router({ submitter }).handle(post(validTransaction(), undefined, `${url}?wait_for=soon`));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('wait_for');
  });

  it('answers fracpack to clients that prefer it', async () => {
    const submitter = new FakeSubmitter();
    submitter.result = { actionTraces: [], error: 'boom' };
    const res = await router({ submitter }).handle(post(validTransaction(), { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' }));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(unpackTransactionTrace(new Uint8Array(await res.arrayBuffer()))).toEqual({ actionTraces: [], error: 'boom' });
  });

  it('reports a refused transaction as a trace with its error (psibase shape)', async () => {
    const submitter = new FakeSubmitter();
    submitter.result = new TransactionRejectedError('signature', 'service verify-sig aborted with message: signature invalid');
    const res = await router({ submitter }).handle(post(validTransaction()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ actionTraces: [], error: 'service verify-sig aborted with message: signature invalid' });
  });

  it('answers malformed bytes with 400 and the decoder message, without submitting', async () => {
    const submitter = new FakeSubmitter();
    const res = await router({ submitter }).handle(post(new Uint8Array([1, 2, 3])));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^transaction is malformed: .+/);
    expect(submitter.calls).toHaveLength(0);
  });

  it('refuses other methods (405 with Allow) and other content types (415)', async () => {
    const submitter = new FakeSubmitter();
    const get = await router({ submitter }).handle(req(url));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    const json = await router({ submitter }).handle(post('{}', { 'content-type': 'application/json' }));
    expect(json.status).toBe(415);
    expect((await router({ submitter }).handle(req(url, { method: 'OPTIONS' }))).status).toBe(200);
    expect(submitter.calls).toHaveLength(0);
  });

  it('answers 503 when the node takes no transactions', async () => {
    const res = await router().handle(post(validTransaction()));
    expect(res.status).toBe(503);
  });

  it('refuses oversized bodies with 413, declared or streamed', async () => {
    const submitter = new FakeSubmitter();
    const r = router({ submitter, maxBodyBytes: 1000 });
    const declared = await r.handle(post(new Uint8Array(1001)));
    expect(declared.status).toBe(413);
    expect(await declared.text()).toContain('1000-byte limit');
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(300));
        c.close();
      },
    });
    const streamed = await r.handle(new Request(url, { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit));
    expect(streamed.status).toBe(413);
    expect(submitter.calls).toHaveLength(0);
  });
});

describe('router: x-http', () => {
  it('answers rootHost with the configured root host for any host', async () => {
    const r = router();
    const arg = new TextEncoder().encode('tokens.other.example');
    const rawData = new Uint8Array(10 + arg.length);
    const v = new DataView(rawData.buffer);
    v.setUint16(0, 4, true);
    v.setUint32(2, 4, true);
    v.setUint32(6, arg.length, true);
    rawData.set(arg, 10);
    const res = await r.query.run({ sender: accountNumber('http'), service: accountNumber('x-http'), method: methodNumber('rootHost'), rawData });
    expect(res.error).toBeUndefined();
    expect(new TextDecoder().decode(res.retval.subarray(4))).toBe(ROOT);
    const other = await r.query.run({ sender: accountNumber('http'), service: accountNumber('x-http'), method: methodNumber('serveSys'), rawData });
    expect(other.error).toContain('only rootHost');
  });

});

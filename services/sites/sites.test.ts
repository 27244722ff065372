// The sites service on psiweb's real service host, reached through http as a
// browser's request would be: content types, index.html and SPA rules, ETag caching,
// CSP, content encodings, reference-counted content, proxies.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import { get, header, request, ROOT, text, WEB_SERVICES, webSchema } from '../http/testing/web.ts';
import { VmChain } from '../sdk/testing/vm.ts';
import { storeSysArgs } from './upload.ts';

// Compiling services takes seconds each, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 300_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    Bool: { Object: { enable: 'bool' } },
    Path: { Object: { path: 'string' } },
    Csp: { Object: { path: 'string', csp: 'string' } },
    Account: { Object: { account: 'AccountNumber' } },
    SitePath: { Object: { site: 'AccountNumber', path: 'string' } },
    GetData: { Object: { site: 'AccountNumber', path: 'string', decompress: 'bool' } },
    Hardlink: { Object: { path: 'string', contentType: 'string', contentEncoding: { Option: 'string' }, contentHash: 'Checksum256' } },
    SitesContentRow: {
      Object: {
        account: 'AccountNumber', path: 'string', contentType: 'string', contentHash: 'Checksum256',
        contentEncoding: { Option: 'string' }, csp: { Option: 'string' },
      },
    },
    OptionalContentRow: { Option: 'SitesContentRow' },
    Empty: { Object: {} },
  },
  { mode: 'native' },
);

const DEFAULT_CSP =
  "default-src 'self';font-src 'self' https:;script-src 'self' 'unsafe-eval' 'unsafe-inline' blob: https:;" +
  "img-src * data:;style-src 'self' 'unsafe-inline';frame-src *;connect-src * blob:;";

let chain: VmChain;
beforeAll(async () => {
  chain = await VmChain.create(WEB_SERVICES);
}, COMPILE_TIMEOUT_MS);

const enc = (s: string) => new TextEncoder().encode(s);
const sha = (s: string) => createHash('sha256').update(s).digest();
function push(sender: string, method: string, args: Uint8Array): Uint8Array {
  const r = chain.push(sender, 'sites', method, args);
  if (r.error) throw r.error;
  return r.retval;
}
const store = (sender: string, path: string, body: string, contentType = 'text/html', contentEncoding?: string) =>
  push(sender, 'storeSys', storeSysArgs({ path, contentType, content: enc(body), contentEncoding }));
const flag = (sender: string, method: string, enable: boolean) => push(sender, method, schema.type('Bool').encode({ enable }));

/** Rows of sites' table `table` (service db, key = sites ‖ table). */
function tableRows(table: number): number {
  const prefix = new Uint8Array(10);
  new DataView(prefix.buffer).setBigUint64(0, accountNumber('sites'));
  new DataView(prefix.buffer).setUint16(8, table);
  const start = dbKey(DbId.service, prefix);
  let n = 0;
  for (let e = chain.state.greaterEqual(start, start.length); e; e = chain.state.greaterEqual(new Uint8Array([...e.key, 0]), start.length)) n++;
  return n;
}

describe('sites', () => {
  it('serves a stored file with its content type, ETag, no-cache, CSP and CORS', () => {
    store('alice', '/style.css', 'body{}', 'text/css');
    const reply = get(chain, 'alice', '/style.css');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('text/css');
    expect(text(reply)).toBe('body{}');
    expect(reply.headers).toEqual([
      { name: 'Content-Security-Policy', value: DEFAULT_CSP },
      { name: 'Cache-Control', value: 'no-cache' },
      // psibase's ETag: the first 8 bytes of the content's sha256, in hex
      { name: 'ETag', value: sha('body{}').subarray(0, 8).toString('hex').toUpperCase() },
      { name: 'Access-Control-Allow-Origin', value: '*' },
      { name: 'Access-Control-Allow-Methods', value: 'GET, OPTIONS, HEAD' },
      { name: 'Access-Control-Allow-Headers', value: '*' },
    ]);
  });

  it('hashes content of every padding length like sha256', () => {
    for (const n of [0, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const body = 'x'.repeat(n);
      store('alice', `/len${n}.txt`, body, 'text/plain');
      expect(header(get(chain, 'alice', `/len${n}.txt`), 'ETag')).toBe(sha(body).subarray(0, 8).toString('hex').toUpperCase());
    }
  });

  it('answers 304 to a matching If-None-Match unless caching is off', () => {
    const etag = header(get(chain, 'alice', '/style.css'), 'ETag')!;
    const cached = get(chain, 'alice', '/style.css', { headers: [{ name: 'if-none-match', value: etag }] });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    expect(header(cached, 'ETag')).toBe(etag);
    expect(get(chain, 'alice', '/style.css', { headers: [{ name: 'If-None-Match', value: 'other' }] }).status).toBe(200);
    flag('alice', 'enableCache', false);
    expect(get(chain, 'alice', '/style.css', { headers: [{ name: 'If-None-Match', value: etag }] }).status).toBe(200);
    flag('alice', 'enableCache', true);
  });

  it('serves HEAD without a body and refuses other methods', () => {
    const head = get(chain, 'alice', '/style.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(get(chain, 'alice', '/style.css', { method: 'POST' }).status).toBe(404);
  });

  it('serves index.html for directories, ignores the query, decodes %XX', () => {
    store('alice', '/index.html', 'home');
    store('alice', '/docs/index.html', 'docs');
    store('alice', '/a b.txt', 'space', 'text/plain');
    expect(text(get(chain, 'alice', '/'))).toBe('home');
    expect(text(get(chain, 'alice', '/docs'))).toBe('docs');
    expect(text(get(chain, 'alice', '/docs/?x=1'))).toBe('docs');
    expect(text(get(chain, 'alice', '/a%20b.txt'))).toBe('space');
    expect(get(chain, 'alice', '/nowhere').status).toBe(404);
  });

  it('falls back to /index.html for extensionless paths in SPA mode', () => {
    store('spa', '/index.html', 'app shell');
    store('spa', '/main.js', 'js', 'text/javascript');
    expect(get(chain, 'spa', '/route/deep').status).toBe(404);
    flag('spa', 'enableSpa', true);
    expect(text(get(chain, 'spa', '/route/deep'))).toBe('app shell');
    expect(text(get(chain, 'spa', '/main.js'))).toBe('js');
    // assets keep their 404
    expect(get(chain, 'spa', '/missing.js').status).toBe(404);
    flag('spa', 'enableSpa', false);
    expect(get(chain, 'spa', '/route/deep').status).toBe(404);
  });

  it('keeps each site to its own subdomain', () => {
    store('bob', '/only-bob.txt', 'bob', 'text/plain');
    expect(get(chain, 'bob', '/only-bob.txt').status).toBe(200);
    expect(get(chain, 'alice', '/only-bob.txt').status).toBe(404);
  });

  it('applies a path CSP over a site CSP over the default, expanding {{root}}', () => {
    store('csp', '/a.html', 'a');
    store('csp', '/b.html', 'b');
    push('csp', 'setCsp', schema.type('Csp').encode({ path: '*', csp: "connect-src {{root}} *.{{root}}" }));
    push('csp', 'setCsp', schema.type('Csp').encode({ path: '/b.html', csp: "default-src 'none'" }));
    const hostHeader = [{ name: 'Host', value: `csp.${ROOT}:8080` }];
    expect(header(get(chain, 'csp', '/a.html', { headers: hostHeader }), 'Content-Security-Policy')).toBe(`connect-src ${ROOT}:8080 *.${ROOT}:8080`);
    expect(header(get(chain, 'csp', '/b.html'), 'Content-Security-Policy')).toBe("default-src 'none'");
    push('csp', 'deleteCsp', schema.type('Path').encode({ path: '/b.html' }));
    push('csp', 'deleteCsp', schema.type('Path').encode({ path: '*' }));
    expect(header(get(chain, 'csp', '/b.html'), 'Content-Security-Policy')).toBe(DEFAULT_CSP);
    expect(chain.push('csp', 'sites', 'setCsp', schema.type('Csp').encode({ path: '/none', csp: 'x' })).error?.message).toContain('Invalid path');
    expect(chain.push('nosite', 'sites', 'deleteCsp', schema.type('Path').encode({ path: '*' })).error?.message).toContain('Site not found');
  });

  it('sends Content-Encoding when the client accepts it, 406 when it cannot', () => {
    store('enc', '/app.js', 'compressed', 'text/javascript', 'br');
    store('enc', '/plain.js', 'plain', 'text/javascript');
    const noHeader = get(chain, 'enc', '/app.js');
    expect(header(noHeader, 'Content-Encoding')).toBe('br');
    const accepted = get(chain, 'enc', '/app.js', { headers: [{ name: 'Accept-Encoding', value: 'gzip, br;q=0.5' }] });
    expect(accepted.status).toBe(200);
    expect(header(accepted, 'Content-Encoding')).toBe('br');
    const refused = get(chain, 'enc', '/app.js', { headers: [{ name: 'Accept-Encoding', value: 'gzip' }] });
    expect(refused.status).toBe(406);
    expect(text(refused)).toBe('Requested encoding not supported.');
    const noIdentity = get(chain, 'enc', '/plain.js', { headers: [{ name: 'Accept-Encoding', value: 'br, *;q=0' }] });
    expect(noIdentity.status).toBe(406);
    expect(get(chain, 'enc', '/plain.js', { headers: [{ name: 'Accept-Encoding', value: 'br' }] }).status).toBe(200);
    expect(() => get(chain, 'enc', '/plain.js', { headers: [{ name: 'Accept-Encoding', value: 'br;q=2' }] })).toThrow('Invalid value for q: 2');
  });

  it('rejects bad paths and encodings on upload', () => {
    expect(() => store('alice', 'no-slash.html', 'x')).toThrow("Path doesn't begin with /");
    expect(() => store('alice', '/x.js', 'x', 'text/javascript', 'deflate')).toThrow('Unsupported content encoding');
    expect(() => push('alice', 'storeSys', new Uint8Array([2, 0, 1]))).toThrow(/fracpack/);
  });

  it('stores identical content once and frees it with its last reference', () => {
    const dataRows = () => tableRows(2);
    const before = dataRows();
    store('dup1', '/x.txt', 'shared body', 'text/plain');
    store('dup2', '/y.txt', 'shared body', 'text/plain');
    expect(dataRows()).toBe(before + 1);
    // hardlink to existing content works; to unknown content it does not
    push('dup3', 'hardlink', schema.type('Hardlink').encode({ path: '/z.txt', contentType: 'text/plain', contentEncoding: null, contentHash: sha('shared body') }));
    expect(text(get(chain, 'dup3', '/z.txt'))).toBe('shared body');
    expect(() => push('dup3', 'hardlink', schema.type('Hardlink').encode({ path: '/w.txt', contentType: 'text/plain', contentEncoding: null, contentHash: sha('nothing') }))).toThrow('Content must exist to use hardlink');
    // replacing a file drops its old content's reference
    store('dup3', '/z.txt', 'new body', 'text/plain');
    expect(dataRows()).toBe(before + 2);
    push('dup1', 'remove', schema.type('Path').encode({ path: '/x.txt' }));
    expect(dataRows()).toBe(before + 2);
    push('dup2', 'remove', schema.type('Path').encode({ path: '/y.txt' }));
    expect(dataRows()).toBe(before + 1);
    expect(get(chain, 'dup2', '/y.txt').status).toBe(404);
    // removing what is not there is a no-op
    push('dup2', 'remove', schema.type('Path').encode({ path: '/y.txt' }));
  });

  it('answers isValidPath, getProps and getData', () => {
    const valid = (site: string, path: string) => schema.type('bool').decode(push('x', 'isValidPath', schema.type('SitePath').encode({ site: accountNumber(site), path }))) as boolean;
    expect(valid('alice', '/style.css?v=1')).toBe(true);
    expect(valid('alice', '/docs/')).toBe(true);
    expect(valid('alice', '/nope.css')).toBe(false);
    const props = schema.type('OptionalContentRow').decode(push('x', 'getProps', schema.type('SitePath').encode({ site: accountNumber('enc'), path: '/app.js' })));
    expect(props).toEqual({ account: accountNumber('enc'), path: '/app.js', contentType: 'text/javascript', contentHash: new Uint8Array(sha('compressed')), contentEncoding: 'br', csp: null });
    expect(schema.type('OptionalContentRow').decode(push('x', 'getProps', schema.type('SitePath').encode({ site: accountNumber('enc'), path: '/zzz.js' })))).toBeNull();
    const data = push('x', 'getData', schema.type('GetData').encode({ site: accountNumber('alice'), path: '/style.css', decompress: false }));
    expect(schema.type('hex').decode(data)).toEqual(enc('body{}'));
    expect(() => push('x', 'getData', schema.type('GetData').encode({ site: accountNumber('alice'), path: '/zzz', decompress: false }))).toThrow('Content not found');
  });

  it('passes a large file through sites and http with at most two copies in wasm', () => {
    // Meter units grow with the bytes memory.copy/fill move (one unit per 64), so the
    // extra units a larger file costs count how often the services copy or zero its
    // body. A body packed into a reply, that reply into serveSys's optional, the result
    // read back and packed again by http took ~38 passes; building each reply in place
    // from views of what was read takes one pass per service (host copies are not metered).
    const sizes = [64 * 1024, 320 * 1024];
    const units = sizes.map((n) => {
      const body = new Uint8Array(n).map((_, i) => (i * 7919) & 255);
      push('big', 'storeSys', storeSysArgs({ path: `/f${n}.wasm`, contentType: 'application/wasm', content: body }));
      const r = chain.push('x-http', 'http', 'serve', webSchema.type('ServeArgs').encode({ socket: 7, req: request(`big.${ROOT}`, `/f${n}.wasm`) }));
      if (r.error) throw r.error;
      const reply = webSchema.type('HttpReply').decode(r.retval) as { status: number; body: Uint8Array };
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(body);
      return Number(r.cpuUsed);
    });
    const passes = (units[1]! - units[0]!) / ((sizes[1]! - sizes[0]!) / 64);
    expect(passes).toBeGreaterThan(1);
    expect(passes).toBeLessThan(3);
  });

  it('serves missing files from a proxy site and refuses proxy cycles', () => {
    store('base', '/shared.js', 'from base', 'text/javascript');
    store('child', '/own.js', 'own', 'text/javascript');
    store('base', '/own.js', 'base own', 'text/javascript');
    push('child', 'setProxy', schema.type('Account').encode({ account: accountNumber('base') }));
    expect(text(get(chain, 'child', '/shared.js'))).toBe('from base');
    expect(text(get(chain, 'child', '/own.js'))).toBe('own');
    expect(() => push('base', 'setProxy', schema.type('Account').encode({ account: accountNumber('child') }))).toThrow('Proxy chain would create a cycle');
    push('child', 'clearProxy', schema.type('Empty').encode({}));
    expect(get(chain, 'child', '/shared.js').status).toBe(404);
  });
});

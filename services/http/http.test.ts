// The http service on psiweb's real service host: routing by subdomain, registered
// servers before sites, /common/ paths, redirects, 404 and CORS as psibase answers them.
import { beforeAll, describe, expect, it } from 'vitest';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { VmChain } from '../sdk/testing/vm.ts';
import { storeSysArgs } from '../sites/upload.ts';
import { CORS, get, header, request, ROOT, serve, text, WEB_SERVICES, webSchema } from './testing/web.ts';

// Compiling services takes seconds each, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 300_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    Account: { Object: { account: 'AccountNumber' } },
    Empty: { Object: {} },
    RootHostArgs: { Object: { host: 'string' } },
    i32: { Int: { bits: 32, isSigned: true } },
    SiblingArgs: { Object: { req: 'HttpRequest', socket: { Option: 'i32' }, destination: 'AccountNumber', keepTarget: 'bool' } },
  },
  { mode: 'native' },
);

let chain: VmChain;
beforeAll(async () => {
  chain = await VmChain.create({ ...WEB_SERVICES, echo: 'services/http/testing/echo.ts', example: 'services/example/example.ts' });
}, COMPILE_TIMEOUT_MS);

function ok(r: ReturnType<VmChain['push']>): Uint8Array {
  if (r.error) throw r.error;
  return r.retval;
}
const account = (name: string) => schema.type('Account').encode({ account: accountNumber(name) });
const store = (sender: string, path: string, body: string, contentType = 'text/html') =>
  ok(chain.push(sender, 'sites', 'storeSys', storeSysArgs({ path, contentType, content: new TextEncoder().encode(body) })));

describe('http service routing', () => {
  it('serves a subdomain without a registered server from sites', () => {
    store('alice', '/index.html', '<h1>alice</h1>');
    const reply = get(chain, 'alice', '/');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('text/html');
    expect(text(reply)).toBe('<h1>alice</h1>');
  });

  it('asks a registered server first, then falls back to sites', () => {
    ok(chain.push('example', 'http', 'registerServer', account('example')));
    ok(chain.push('alice', 'example', 'inc', new Uint8Array([4, 0, 3, 0, 0, 0])));
    const api = get(chain, 'example', '/counter?account=alice');
    expect(api.status).toBe(200);
    expect(JSON.parse(text(api))).toEqual({ account: 'alice', value: '3' });
    store('example', '/app.js', 'console.log(1)', 'text/javascript');
    const file = get(chain, 'example', '/app.js');
    expect(file.status).toBe(200);
    expect(file.contentType).toBe('text/javascript');
    expect(text(file)).toBe('console.log(1)');
  });

  it('lets a service name another service as its server', () => {
    ok(chain.push('bob', 'http', 'registerServer', account('echo')));
    const reply = get(chain, 'bob', '/echo', { headers: [{ name: 'Accept', value: 'text/plain' }] });
    expect(reply.status).toBe(200);
    expect(text(reply)).toBe('Accept: text/plain\n');
  });

  it('answers 404 with psibase\'s message and CORS headers', () => {
    const reply = get(chain, 'alice', '/missing.css');
    expect(reply.status).toBe(404);
    expect(reply.contentType).toBe('text/html');
    expect(text(reply)).toBe("The resource '/missing.css' was not found");
    expect(reply.headers).toEqual(CORS);
    // A name that is not an account gets the same answer.
    expect(get(chain, 'no_such', '/').status).toBe(404);
  });

  it('answers OPTIONS for unserved paths with CORS', () => {
    const reply = get(chain, 'alice', '/anything', { method: 'OPTIONS' });
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(0);
    expect(reply.headers).toEqual(CORS);
  });

  it('routes /common/ on every subdomain to common-api\'s files', () => {
    store('common-api', '/common/lib.js', 'export {}', 'text/javascript');
    for (const service of ['alice', 'bob', 'example']) {
      const reply = get(chain, service, '/common/lib.js');
      expect(reply.status).toBe(200);
      expect(text(reply)).toBe('export {}');
    }
  });

  it('redirects the root host to homepage, keeping target and port', () => {
    const reply = serve(chain, request(ROOT, '/x?y=1', { headers: [{ name: 'Host', value: `${ROOT}:8080` }] }));
    expect(reply.status).toBe(308);
    expect(header(reply, 'Location')).toBe(`http://homepage.${ROOT}:8080/x?y=1`);
    expect(reply.headers.slice(0, 3)).toEqual(CORS);
  });

  it('uses the forwarded scheme, and https for hosts that are not localhost', () => {
    const forwarded = serve(chain, request(ROOT, '/', { headers: [{ name: 'X-Forwarded-Proto', value: 'HTTPS' }] }));
    expect(header(forwarded, 'Location')).toBe(`https://homepage.${ROOT}/`);
    const viaForwarded = serve(chain, request(ROOT, '/', { headers: [{ name: 'Forwarded', value: 'for=1.2.3.4;proto=https' }] }));
    expect(header(viaForwarded, 'Location')).toBe(`https://homepage.${ROOT}/`);
    const remote = serve(chain, request('other.example', '/'));
    expect(header(remote, 'Location')).toBe('https://homepage.other.example/');
  });

  it('redirects a subdomain with setRedirect until clearRedirect', () => {
    store('carol', '/index.html', 'carol');
    ok(chain.push('carol', 'http', 'setRedirect', account('alice')));
    const moved = get(chain, 'carol', '/page?q=1');
    expect(moved.status).toBe(308);
    expect(header(moved, 'Location')).toBe(`http://alice.${ROOT}/page?q=1`);
    ok(chain.push('carol', 'http', 'clearRedirect', schema.type('Empty').encode({})));
    expect(text(get(chain, 'carol', '/'))).toBe('carol');
    // clearing again is a no-op
    ok(chain.push('carol', 'http', 'clearRedirect', schema.type('Empty').encode({})));
    const self = chain.push('carol', 'http', 'setRedirect', account('carol'));
    expect(self.error?.message).toContain('redirect destination must not be the sender');
  });

  it('removes session cookies and Authorization before a server sees the request', () => {
    const reply = get(chain, 'bob', '/echo', {
      headers: [
        { name: 'Cookie', value: 'SESSION=secret; theme=dark; __HOST-SESSION=s2' },
        { name: 'Authorization', value: 'Bearer t' },
        { name: 'Cookie', value: 'SESSION=only' },
        { name: 'X-Other', value: '1' },
      ],
    });
    expect(text(reply)).toBe('Cookie: theme=dark\nX-Other: 1\n');
  });

  it('refuses a reply header outside psibase\'s allowed list', () => {
    expect(() => get(chain, 'bob', '/bad-header')).toThrow('service echo attempted to set http header X-Powered-By');
  });

  it('takes requests only from x-http', () => {
    const r = chain.push('alice', 'http', 'serve', webSchema.type('ServeArgs').encode({ socket: 1, req: request(`alice.${ROOT}`, '/') }));
    expect(r.error?.message).toContain('Wrong sender');
  });

  it('refuses registerServer from a subaccount', () => {
    const r = chain.push('alice+1', 'http', 'registerServer', account('echo'));
    expect(r.error?.message).toContain('Subaccounts do not have domain names');
  });

  it('answers rootHost and getSiblingUrl', () => {
    const root = ok(chain.push('alice', 'http', 'rootHost', schema.type('RootHostArgs').encode({ host: `a.b.${ROOT}` })));
    expect(webSchema.type('string').decode(root)).toBe(ROOT);
    const sibling = (keepTarget: boolean) =>
      webSchema.type('string').decode(ok(chain.push('alice', 'http', 'getSiblingUrl', schema.type('SiblingArgs').encode({
        req: request(`alice.${ROOT}`, '/p?x', { headers: [{ name: 'host', value: `alice.${ROOT}:8080` }] }),
        socket: null,
        destination: accountNumber('tokens'),
        keepTarget,
      }))));
    expect(sibling(true)).toBe(`http://tokens.${ROOT}:8080/p?x`);
    expect(sibling(false)).toBe(`http://tokens.${ROOT}:8080/`);
  });
});

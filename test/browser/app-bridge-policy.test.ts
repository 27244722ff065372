import { describe, expect, it } from 'vitest';
import { appServiceOfOrigin, judgeBridgeRequest } from '../../sw/bridge-policy.ts';
import type { BridgeRequest } from '../../sw/bridge-protocol.ts';

const root = new URL('http://psiweb.localhost:8080/bridge.html');
const req = (service: string, target: string, method = 'GET'): BridgeRequest => ({ service, target, method, headers: [], body: null });

describe('bridge policy: who may connect', () => {
  it('accepts app origins of this root with its scheme and port', () => {
    expect(appServiceOfOrigin('http://tokens.psiweb.localhost:8080', root)).toBe('tokens');
    expect(appServiceOfOrigin('http://auth-sig.psiweb.localhost:8080', root)).toBe('auth-sig');
  });

  it.each([
    ['the root itself', 'http://psiweb.localhost:8080'],
    ['another port', 'http://tokens.psiweb.localhost:8081'],
    ['another scheme', 'https://tokens.psiweb.localhost:8080'],
    ['a nested subdomain', 'http://a.tokens.psiweb.localhost:8080'],
    ['another site', 'http://127.0.0.1:8080'],
    ['a look-alike suffix', 'http://tokens.evilpsiweb.localhost:8080'],
    ['a host label that is no account name', 'http://abcdefghijklmnop.psiweb.localhost:8080'],
    ['an opaque origin', 'null'],
  ])('refuses %s', (_, origin) => {
    expect(appServiceOfOrigin(origin, root)).toBeUndefined();
  });
});

describe('bridge policy: what an app may ask', () => {
  it('lets an app use its own service with any method', () => {
    for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD']) {
      const v = judgeBridgeRequest('tokens', req('tokens', '/pack_action/transfer?x=1', m), root);
      expect(v.ok && v.url.href).toBe('http://psiweb.localhost:8080/_svc/tokens/pack_action/transfer?x=1');
    }
  });

  it('lets an app read any service, POST graphql and common-api there, and push transactions', () => {
    expect(judgeBridgeRequest('tokens', req('accounts', '/accounts/alice'), root).ok).toBe(true);
    expect(judgeBridgeRequest('tokens', req('accounts', '/graphql', 'POST'), root).ok).toBe(true);
    expect(judgeBridgeRequest('tokens', req('accounts', '/common/pack/Transaction', 'POST'), root).ok).toBe(true);
    expect(judgeBridgeRequest('tokens', req('transact', '/push_transaction', 'POST'), root).ok).toBe(true);
  });

  it("refuses writes to another service's own endpoints", () => {
    const v = judgeBridgeRequest('tokens', req('accounts', '/newAccount', 'POST'), root);
    expect(v).toMatchObject({ ok: false, status: 403 });
    expect(judgeBridgeRequest('tokens', req('sites', '/file', 'PUT'), root)).toMatchObject({ ok: false, status: 403 });
    expect(judgeBridgeRequest('tokens', req('transact', '/other', 'POST'), root)).toMatchObject({ ok: false, status: 403 });
  });

  it.each([
    ['a parent path', '/../../index.html'],
    ['an encoded parent path', '/%2e%2e/%2e%2e/root-sw.js'],
    ['a backslash path', '/..\\..\\index.html'],
    ['another service through ..', '/../accounts/x'],
    ['a network-path reference', '//evil.example/x'],
    ['a relative target', 'balances/alice'],
  ])('never leaves the service: %s', (_, target) => {
    expect(judgeBridgeRequest('tokens', req('tokens', target, 'POST'), root).ok).toBe(false);
  });

  it('refuses bad service names and methods', () => {
    expect(judgeBridgeRequest('tokens', req('Tokens', '/'), root)).toMatchObject({ ok: false, status: 400 });
    expect(judgeBridgeRequest('tokens', req('a.b', '/'), root)).toMatchObject({ ok: false, status: 400 });
    expect(judgeBridgeRequest('tokens', req('tokens', '/', 'TRACE'), root)).toMatchObject({ ok: false, status: 405 });
  });
});

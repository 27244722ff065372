import { describe, expect, it } from 'vitest';
import { accountNumber } from '../protocol/names.ts';
import { BadRequestTargetError } from './errors.ts';
import { normalizeRootHost, parseAuthority, routeHost } from './hosts.ts';

const ROOT = 'psiweb.localhost';

describe('routeHost', () => {
  it('tells the root, its service subdomains and loopback aliases apart', () => {
    expect(routeHost(ROOT, ROOT)).toEqual({ kind: 'root' });
    expect(routeHost('PSIWEB.localhost', ROOT)).toEqual({ kind: 'root' });
    expect(routeHost(`tokens.${ROOT}`, ROOT)).toEqual({ kind: 'service', name: 'tokens', service: accountNumber('tokens') });
    expect(routeHost(`common-api.${ROOT}`, ROOT)).toEqual({ kind: 'service', name: 'common-api', service: accountNumber('common-api') });
    for (const h of ['localhost', '127.0.0.1', '[::1]']) expect(routeHost(h, ROOT)).toEqual({ kind: 'alias' });
  });

  it('refuses subdomains that are not canonical account names', () => {
    for (const name of ['a.b', 'under_score', 'x'.repeat(30)]) {
      expect(routeHost(`${name}.${ROOT}`, ROOT)).toEqual({ kind: 'badService', name });
    }
  });

  it('does not mistake look-alike hosts for ours', () => {
    expect(routeHost(`evil${ROOT}`, ROOT)).toEqual({ kind: 'foreign' });
    expect(routeHost(`.${ROOT}`, ROOT)).toEqual({ kind: 'foreign' });
    expect(routeHost('example.com', ROOT)).toEqual({ kind: 'foreign' });
  });
});

describe('normalizeRootHost', () => {
  it('lower-cases DNS names and refuses anything else', () => {
    expect(normalizeRootHost(' Psiweb.Localhost ')).toBe(ROOT);
    for (const bad of ['', 'a..b', 'http://x', 'x:8080', '-a.b', 'a/b']) expect(() => normalizeRootHost(bad)).toThrow(/root host must be a DNS name/);
  });
});

describe('parseAuthority', () => {
  it('takes a host name, IPv4 address or bracketed IPv6 literal with an optional port', () => {
    expect(parseAuthority(`Tokens.${ROOT}:8080`)).toEqual({ hostname: `tokens.${ROOT}`, port: '8080', host: `tokens.${ROOT}:8080` });
    expect(parseAuthority('127.0.0.1')).toEqual({ hostname: '127.0.0.1', port: '', host: '127.0.0.1' });
    expect(parseAuthority('[::1]:65535')).toEqual({ hostname: '[::1]', port: '65535', host: '[::1]:65535' });
  });

  it('refuses anything that could add a path, query, user info or another host', () => {
    for (const bad of ['', `${ROOT}/x`, `${ROOT}?`, `${ROOT}#`, `u@${ROOT}`, `${ROOT}:1:2`, `${ROOT}:65536`, `${ROOT}:-1`, `${ROOT}:`, `${ROOT}\\x`, 'a b', '%41', '[::1', '[::1]:', '[zz]', '0x7f.1', '1.2.3.256', '08.1.1.1', `a.${'b'.repeat(64)}`]) {
      expect(() => parseAuthority(bad), bad).toThrow(BadRequestTargetError);
    }
    expect(() => parseAuthority(`${ROOT}/push_transaction`)).toThrow(/the Host header must be a host name with an optional port/);
    // Error pages are text/html: the value is quoted with markup escaped.
    expect(() => parseAuthority('<b>x</b>')).toThrow('"\\u003cb\\u003ex\\u003c/b\\u003e" is not a host name');
  });
});

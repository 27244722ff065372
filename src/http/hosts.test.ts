import { describe, expect, it } from 'vitest';
import { accountNumber } from '../protocol/names.ts';
import { normalizeRootHost, routeHost } from './hosts.ts';

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

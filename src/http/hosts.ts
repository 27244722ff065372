/**
 * Which origin a request is for (ARCHITECTURE.md §1): the root host (node and
 * supervisor), a service's own `<service>.<root>` subdomain, or a loopback alias of
 * the root that should go there. The rules for subdomains are psibase's
 * (HttpServer.cpp isSubdomain / getTargetService): the host must end with "." + root
 * and what comes before it names the account.
 */
import { DecodeError } from '../errors.ts';
import { accountNumber, isValidAccountName } from '../protocol/names.ts';

export type HostRoute =
  | { kind: 'root' }
  | { kind: 'service'; name: string; service: bigint }
  /** A subdomain of the root that names no account (bad syntax or a nested name). */
  | { kind: 'badService'; name: string }
  /** `localhost` or a loopback address: the root host under another name. */
  | { kind: 'alias' }
  | { kind: 'foreign' };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Lower-cases a root host setting and checks it is a plain DNS name. */
export function normalizeRootHost(rootHost: string): string {
  const host = rootHost.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host) || host.length > 253) {
    throw new DecodeError(`root host must be a DNS name like psiweb.localhost, got "${rootHost}"`);
  }
  return host;
}

/** Classifies `hostname` (no port, as URL.hostname gives it) against `rootHost`. */
export function routeHost(hostname: string, rootHost: string): HostRoute {
  const host = hostname.toLowerCase();
  if (host === rootHost) return { kind: 'root' };
  if (host.length > rootHost.length + 1 && host.endsWith(rootHost) && host[host.length - rootHost.length - 1] === '.') {
    const name = host.slice(0, host.length - rootHost.length - 1);
    // Canonical names only: "tokens.x.<root>" or "+1" spellings are not app origins.
    if (!isValidAccountName(name) || name.includes('+')) return { kind: 'badService', name };
    return { kind: 'service', name, service: accountNumber(name) };
  }
  if (LOOPBACK.has(host)) return { kind: 'alias' };
  return { kind: 'foreign' };
}

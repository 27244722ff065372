/**
 * Which origin a request is for (ARCHITECTURE.md §1): the root host (node and
 * supervisor), a service's own `<service>.<root>` subdomain, or a loopback alias of
 * the root that should go there. The rules for subdomains are psibase's
 * (HttpServer.cpp isSubdomain / getTargetService): the host must end with "." + root
 * and what comes before it names the account.
 */
import { DecodeError } from '../errors.ts';
import { accountNumber, isValidAccountName } from '../protocol/names.ts';
import { MAX_HOST_LENGTH } from './constants.ts';
import { BadRequestTargetError } from './errors.ts';

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

/** A Host header (or an absolute-form target's authority) that passed `parseAuthority`. */
export interface Authority {
  /** Lower-cased; an IPv6 literal keeps its brackets, as URL.hostname does. */
  hostname: string;
  /** The port's digits, or '' when none was given. */
  port: string;
  /** `hostname[:port]`: the only form a URL is ever built from. */
  host: string;
}

/** DNS-style labels: letters, digits, '-' and '_' (which psibase subdomains may hold), at most 63 each. */
const REG_NAME = /^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/;
const DEC_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${DEC_OCTET}(\\.${DEC_OCTET}){3}$`);
/** The characters of an IPv6 address (with an embedded IPv4 tail); URL checks the rest. */
const IPV6_LITERAL = /^\[[0-9a-f:.]{2,45}\]$/;

/**
 * Checks a Host header value (RFC 9110 §7.2: uri-host [":" port]) strictly: a host
 * name, an IPv4 address or a bracketed IPv6 literal, then an optional numeric port.
 * Anything else (a path, a query, user info, a second port, spaces, percent-escapes)
 * is refused, so a URL built from the result has exactly this authority.
 */
export function parseAuthority(value: string, what = 'the Host header'): Authority {
  // The message is built only when the value is refused (this runs for every request).
  if (value.length === 0) throw badAuthority(value, what, 'is empty');
  if (value.length > MAX_HOST_LENGTH) throw badAuthority(value, what, `is longer than ${MAX_HOST_LENGTH} characters`);
  const lower = value.toLowerCase();
  let hostname: string;
  let rest: string;
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    if (close < 0) throw badAuthority(value, what, 'has an unclosed IPv6 literal');
    hostname = lower.slice(0, close + 1);
    rest = lower.slice(close + 1);
    if (!IPV6_LITERAL.test(hostname) || !validUrlHost(hostname)) throw badAuthority(value, what, 'is not a valid IPv6 literal');
  } else {
    const colon = lower.indexOf(':');
    hostname = colon < 0 ? lower : lower.slice(0, colon);
    rest = colon < 0 ? '' : lower.slice(colon);
    if (!REG_NAME.test(hostname) || hostname.length > 253) throw badAuthority(value, what, 'is not a host name');
    // A name whose last label is a number is an IPv4 address to a URL parser, which
    // would also read "0x7f.1" or "2130706433" as 127.0.0.1: only dotted quads pass.
    const last = hostname.slice(hostname.lastIndexOf('.') + 1);
    if ((/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last)) && !IPV4.test(hostname)) throw badAuthority(value, what, 'is not a valid IPv4 address');
  }
  let port = '';
  if (rest !== '') {
    if (!/^:[0-9]{1,5}$/.test(rest) || Number(rest.slice(1)) > 65535) throw badAuthority(value, what, 'has a port that is not a number from 0 to 65535');
    port = rest.slice(1);
  }
  return { hostname, port, host: port === '' ? hostname : `${hostname}:${port}` };
}

function badAuthority(value: string, what: string, why: string): BadRequestTargetError {
  return new BadRequestTargetError(`${what} must be a host name with an optional port, like psiweb.localhost:8080; ${quoted(value)} ${why}`);
}

/**
 * A value from the request, quoted for an error message: cut to 80 characters, with
 * markup and non-ASCII characters escaped, as error pages are text/html.
 */
export function quoted(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(cut).replace(/[<>&'\u007f-\uffff]/g, (c) => (c === '…' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

function validUrlHost(hostname: string): boolean {
  try {
    new URL(`http://${hostname}/`);
    return true;
  } catch {
    return false;
  }
}

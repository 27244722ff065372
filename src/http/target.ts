/**
 * The request target of an HTTP/1.1 request (RFC 9112 §3.2), checked before anything
 * routes it: exactly one Host header holding a plain authority, and a target in
 * origin-form (`/path?query`), absolute-form (`http://host/path`, which psinode also
 * takes; its authority wins over Host, §3.2.2) or, for OPTIONS only, asterisk-form.
 * The URL the router sees is built from these checked parts alone, so no header can
 * move a request to another path or host.
 */
import { BadRequestTargetError } from './errors.ts';
import { parseAuthority, quoted, type Authority } from './hosts.ts';

export type RequestTarget =
  /** `OPTIONS *`: a question about the server, not about a resource. */
  | { form: 'asterisk' }
  /** The URL to route (always `http://` plus the authority plus the path and query). */
  | { form: 'origin' | 'absolute'; authority: Authority; url: string };

const ABSOLUTE = /^https?:\/\//i;

const shown = quoted;

/**
 * Checks `target` (the request line's target) and the request's Host header values
 * (every one received: a duplicate is an error, so callers must not merge them).
 */
export function parseRequestTarget(method: string, target: string, hostHeaders: readonly string[]): RequestTarget {
  if (hostHeaders.length === 0) throw new BadRequestTargetError('the request has no Host header (HTTP/1.1 requires exactly one)');
  if (hostHeaders.length > 1) throw new BadRequestTargetError(`the request has ${hostHeaders.length} Host headers; exactly one is allowed`);
  const hostAuthority = parseAuthority(hostHeaders[0]!.trim());
  // Node's parser already refuses these; a target is checked as received all the same.
  if (/[\x00-\x20\x7f]/.test(target)) throw new BadRequestTargetError(`the request target ${shown(target)} holds spaces or control characters`);
  if (target.includes('#')) throw new BadRequestTargetError(`the request target ${shown(target)} has a fragment ('#'), which clients never send`);
  if (target === '*') {
    if (method !== 'OPTIONS') throw new BadRequestTargetError(`the request target "*" is only for OPTIONS, not ${method}`);
    return { form: 'asterisk' };
  }
  let authority: Authority;
  let path: string;
  let form: 'origin' | 'absolute';
  if (target.startsWith('/')) {
    form = 'origin';
    authority = hostAuthority;
    path = target;
  } else if (ABSOLUTE.test(target)) {
    form = 'absolute';
    const rest = target.slice(target.indexOf('//') + 2);
    const end = rest.search(/[/?]/);
    const raw = end < 0 ? rest : rest.slice(0, end);
    if (raw.includes('@')) throw new BadRequestTargetError(`the request target ${shown(target)} carries user info ('@'), which is refused`);
    authority = parseAuthority(raw, "the request target's authority");
    path = end < 0 ? '/' : rest.slice(end);
    if (path.startsWith('?')) path = `/${path}`;
  } else {
    throw new BadRequestTargetError(`the request target ${shown(target)} must be a path starting with '/' (or an absolute http:// URL)`);
  }
  let url: URL;
  try {
    url = new URL(`http://${authority.host}${path}`);
  } catch (e) {
    throw new BadRequestTargetError(`the request target ${shown(target)} is not a valid URL path`, { cause: e });
  }
  // Belt and braces: what was checked is what the URL holds.
  if (url.host !== new URL(`http://${authority.host}/`).host) {
    throw new BadRequestTargetError(`the request target ${shown(target)} does not keep the host ${authority.host}`);
  }
  return { form, authority, url: url.href };
}

/**
 * Invite links (issue 11 §2): `http://<root>/#join=<payload>`, the payload in the URL
 * FRAGMENT (never sent to a server): base64url of
 *
 *   { "v": 1, "chainId": "<64 hex>", "bootstrap": ["<multiaddr>/p2p/<id>", …], "inviter": "<peer id>" }
 *
 * `bootstrap` holds the inviter's relay (its Node peer's WebSocket addresses) and the
 * inviter's own `/p2p-circuit/webrtc` addresses. Opening the link stores the join (so it
 * keeps working after a reload) and the leader tab dials what it names. A payload that
 * does not decode or validate is an InviteError, and nothing is stored.
 *
 * No libp2p here (the dashboard's first chunk imports this): addresses are checked for
 * shape only; the leader's libp2p code parses them and skips what does not parse.
 */
import { InviteError } from './errors.ts';

export const JOIN_FRAGMENT = '#join=';
/** localStorage key of the stored join. */
export const JOIN_SETTING = 'psiweb.join';
export const MAX_INVITE_CHARS = 8_192;
export const MAX_BOOTSTRAP_ADDRS = 16;
const MAX_ADDR_CHARS = 512;

export interface Join {
  chainId: string;
  bootstrap: string[];
  inviter: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** A libp2p peer id as text: base58btc (12D3Koo…, Qm…) or a base32 CID (b…). */
const PEER_ID = /^(?:[1-9A-HJ-NP-Za-km-z]{46,64}|b[a-z2-7]{50,80})$/;
/** A multiaddr ending in /p2p/<id>, printable and without spaces. */
const ADDR = /^\/[\x21-\x7e]+\/p2p\/[1-9A-HJ-NP-Za-km-z]{46,64}$/;

function b64urlEncode(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function b64urlDecode(s: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new InviteError('the invite is not base64url');
  let bin: string;
  try {
    bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  } catch (e) {
    throw new InviteError('the invite is not base64url', { cause: e });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch (e) {
    throw new InviteError('the invite is not UTF-8 text', { cause: e });
  }
}

/** Checks a join's fields; an InviteError naming the first that is wrong. */
export function checkJoin(v: unknown): Join {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InviteError('the invite is not a JSON object');
  const o = v as Record<string, unknown>;
  if (o.v !== undefined && o.v !== 1) throw new InviteError(`the invite has version ${JSON.stringify(o.v)}; this psiweb reads version 1`);
  if (typeof o.chainId !== 'string' || !HEX64.test(o.chainId)) throw new InviteError('the invite has no chain id (64 lowercase hex digits)');
  if (typeof o.inviter !== 'string' || !PEER_ID.test(o.inviter)) throw new InviteError("the invite has no inviter's peer id");
  if (!Array.isArray(o.bootstrap) || o.bootstrap.length === 0 || o.bootstrap.length > MAX_BOOTSTRAP_ADDRS)
    throw new InviteError(`the invite needs 1 to ${MAX_BOOTSTRAP_ADDRS} bootstrap addresses`);
  for (const a of o.bootstrap as unknown[]) {
    if (typeof a !== 'string' || a.length > MAX_ADDR_CHARS || !ADDR.test(a)) throw new InviteError(`the invite has a bootstrap address that is not a multiaddr ending in /p2p/<peer id>: ${JSON.stringify(a)?.slice(0, 80)}`);
  }
  return { chainId: o.chainId, bootstrap: [...(o.bootstrap as string[])], inviter: o.inviter };
}

export function encodeInvite(join: Join): string {
  return b64urlEncode(JSON.stringify({ v: 1, chainId: join.chainId, bootstrap: join.bootstrap, inviter: join.inviter }));
}

export function decodeInvite(payload: string): Join {
  if (payload.length === 0) throw new InviteError('the invite is empty');
  if (payload.length > MAX_INVITE_CHARS) throw new InviteError(`the invite is ${payload.length} characters (at most ${MAX_INVITE_CHARS})`);
  const text = b64urlDecode(payload);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InviteError('the invite is not JSON', { cause: e });
  }
  return checkJoin(v);
}

/** The invite link on `origin` (the root origin, e.g. http://psiweb.localhost:8080). */
export function inviteLink(origin: string, join: Join): string {
  return `${origin}/${JOIN_FRAGMENT}${encodeInvite(join)}`;
}

/** The join stored by an invite opened earlier, if any (a bad stored value is ignored). */
export function storedJoin(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): Join | undefined {
  try {
    const v = storage?.getItem(JOIN_SETTING);
    return v ? checkJoin(JSON.parse(v)) : undefined;
  } catch {
    return undefined;
  }
}

export type JoinOutcome = { ok: true; join: Join } | { ok: false; error: string };

/**
 * Reads a `#join=` fragment: stores the join (and takes the fragment out of the URL) when
 * it is good; says why when it is not, storing nothing. undefined: no `#join=` fragment.
 */
export function consumeJoinFragment(
  hash: string,
  storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage,
  clearHash: () => void = () => history.replaceState(null, '', location.pathname + location.search),
): JoinOutcome | undefined {
  if (!hash.startsWith(JOIN_FRAGMENT)) return undefined;
  let join: Join;
  try {
    join = decodeInvite(hash.slice(JOIN_FRAGMENT.length));
  } catch (e) {
    if (!(e instanceof InviteError)) throw e;
    return { ok: false, error: `This invite link is not valid: ${e.message}. Nothing was stored.` };
  }
  storage?.setItem(JOIN_SETTING, JSON.stringify(join));
  clearHash();
  return { ok: true, join };
}

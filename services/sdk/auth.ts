// psibase's AuthInterface (services/system/AuthInterface): the request kinds and flags
// transact passes to an auth service's checkAuthSys, and the shared head of its
// argument tuple (flags, requester, sender, action, allowedActions, claims).

import { ObjectReader } from "./fracpack";

export const REQUEST_MASK: u32 = 0xff;
export const TOP_ACTION_REQ: u32 = 0x01;
export const RUN_AS_REQUESTER_REQ: u32 = 0x02;
export const RUN_AS_MATCHED_REQ: u32 = 0x03;
export const RUN_AS_MATCHED_EXPANDED_REQ: u32 = 0x04;
export const RUN_AS_OTHER_REQ: u32 = 0x05;
export const FIRST_AUTH_FLAG: u32 = 0x4000_0000;
export const READ_ONLY_FLAG: u32 = 0x8000_0000;

/** The leading checkAuthSys arguments an auth service decides on. */
export class AuthRequest {
  constructor(public flags: u32, public requester: u64, public sender: u64) {}
}

function skipServiceMethod(r: ObjectReader): void {
  r.u64();
  r.u64();
  r.done();
}

/**
 * Reads checkAuthSys's arguments up to the claims, validating the ServiceMethod and
 * allowedActions it does not use; `args` is left at the claims vector.
 */
export function readAuthRequest(args: ObjectReader): AuthRequest {
  const flags = args.u32();
  const requester = args.u64();
  const sender = args.u64();
  skipServiceMethod(args.struct());
  const allowed = args.vector();
  while (allowed.more()) skipServiceMethod(allowed.struct());
  allowed.done();
  return new AuthRequest(flags, requester, sender);
}

/**
 * Reads isAuthSys / isRejectSys's arguments (sender, the authorizers, and the optional
 * ServiceMethod AuthInterface callers append, checked when present) and tells whether
 * the sender is among the authorizers.
 */
export function senderAmong(args: ObjectReader): bool {
  const sender = args.u64();
  const list = args.vector();
  const n = list.count(8);
  let found = false;
  for (let i = 0; i < n; i++) if (list.u64() == sender) found = true;
  list.done();
  if (args.more() && !args.isNone()) skipServiceMethod(args.struct());
  return found;
}

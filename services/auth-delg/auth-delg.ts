// psibase's `auth-delegate` system service (packages/system/AuthDelegate): an
// account using it names an owner account here, and the owner's own auth service
// decides for it. accounts.init gives every genesis service account this service.
//
// Table 0 AuthDelegateRecord {account, owner}: primary key account; index 1
// (owner, account).

import {
  abortWith, accountName, accountNumber, Action, action, Call, callAction, check, Key, methodNumber,
  ObjectReader, ObjectWriter, receiver, Row, Table,
} from "../sdk";
import { REQUEST_MASK, RUN_AS_REQUESTER_REQ } from "../sdk";
export { start, called } from "../sdk";

const ACCOUNTS = accountNumber("accounts");

class AuthDelegateRecord extends Row {
  constructor(public account: u64, public owner: u64) { super(); }
  static key(account: u64): Uint8Array { return new Key().name(account).finish(); }
  primaryKey(): Uint8Array { return AuthDelegateRecord.key(this.account); }
  secondaryKeys(): Uint8Array[] { return [new Key().name(this.owner).name(this.account).finish()]; }
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.account).u64(this.owner).finish(); }
  static unpack(data: Uint8Array): AuthDelegateRecord {
    const r = ObjectReader.struct(data);
    const row = new AuthDelegateRecord(r.u64(), r.u64());
    r.done();
    return row;
  }
}

const ownerTable = (): Table<AuthDelegateRecord> => new Table<AuthDelegateRecord>(receiver(), 0, AuthDelegateRecord.unpack);

function ownerOf(account: u64): u64 {
  const row = ownerTable().get(AuthDelegateRecord.key(account));
  check(row !== null, "account does not have an owning account");
  return row!.owner;
}

function callAccounts(method: string, args: Uint8Array): Uint8Array {
  return callAction(new Action(receiver(), ACCOUNTS, methodNumber(method), args));
}

function readBool(packed: Uint8Array): bool {
  const r = ObjectReader.fixed(packed, 1);
  const v = r.bool();
  r.done();
  return v;
}

function authServiceOf(account: u64): u64 {
  const r = ObjectReader.fixed(callAccounts("getAuthOf", ObjectWriter.struct().u64(account).finish()), 8);
  const auth = r.u64();
  r.done();
  return auth;
}

function copyServiceMethod(from: ObjectReader): Uint8Array {
  const service = from.u64();
  const method = from.u64();
  from.done();
  return ObjectWriter.struct().u64(service).u64(method).finish();
}

action("checkAuthSys", (c: Call): void => {
  const args = c.args;
  let flags = args.u32();
  const requester = args.u64();
  const sender = args.u64();
  const serviceMethod = copyServiceMethod(args.struct());
  const allowedIn = args.vector();
  const allowed = ObjectWriter.vector();
  while (allowedIn.more()) allowed.object(copyServiceMethod(allowedIn.struct()));
  allowedIn.done();
  const claimsIn = args.vector();
  const claims = ObjectWriter.vector();
  while (claimsIn.more()) {
    const claim = claimsIn.struct();
    claims.object(ObjectWriter.struct().u64(claim.u64()).bytes(claim.bytes()).finish());
    claim.done();
  }
  claimsIn.done();
  const owner = ownerOf(sender);
  // The owner acting through runAs is the owner acting: its auth service sees a
  // request from itself, whatever kind transact classified it as.
  if (requester == owner) flags = (flags & ~REQUEST_MASK) | RUN_AS_REQUESTER_REQ;
  // The owner's auth service answers for the owner; when that is this service again
  // the call re-enters here, and an ownership cycle recurses until the VM's call
  // stack runs out, as in psibase.
  const forwarded = ObjectWriter.struct()
    .u32(flags).u64(requester).u64(owner)
    .object(serviceMethod)
    .vec(allowed)
    .vec(claims)
    .finish();
  c.retBool(readBool(callAction(new Action(receiver(), authServiceOf(owner), methodNumber("checkAuthSys"), forwarded))));
});

action("canAuthUserSys", (c: Call): void => {
  // Only accounts that already named an owner may switch to this service.
  ownerOf(c.args.u64());
});

action("getDlgsSys", (c: Call): void => {
  const owner = ownerOf(c.args.u64());
  c.retStruct(ObjectWriter.vector().u64(owner));
});

// isAuthSys / isRejectSys take (sender, accounts); the optional method that
// AuthInterface callers append is an unknown trailing field here, as in psibase.
function ownerAmong(c: Call): bool {
  const args = c.args;
  const sender = args.u64();
  const list = args.vector();
  const n = list.count(8);
  const accounts = new Array<u64>();
  for (let i = 0; i < n; i++) accounts.push(list.u64());
  list.done();
  return accounts.includes(ownerOf(sender));
}

action("isAuthSys", (c: Call): void => {
  c.retBool(ownerAmong(c));
});

action("isRejectSys", (c: Call): void => {
  c.retBool(ownerAmong(c));
});

action("setOwner", (c: Call): void => {
  const owner = c.args.u64();
  const sender = c.sender;
  const table = ownerTable();
  // Only the direct cycles are refused; longer ones are the owners' business.
  const ownersRecord = table.get(AuthDelegateRecord.key(owner));
  if (sender == owner || (ownersRecord !== null && ownersRecord.owner == sender)) abortWith("circular ownership");
  // A new owner changes who can authorize the account (accounts only counts it
  // while the account actually uses this service).
  callAccounts("incAuthSeq", ObjectWriter.struct().u64(sender).finish());
  table.put(new AuthDelegateRecord(sender, owner));
});

action("newAccount", (c: Call): void => {
  const args = c.args;
  const name = args.u64();
  const owner = args.u64();
  const requireMatch = args.bool();
  const table = ownerTable();
  if (requireMatch) {
    const record = table.get(AuthDelegateRecord.key(name));
    if (record !== null && record.owner != owner) abortWith(accountName(name) + " is owned by " + accountName(record.owner));
  }
  check(readBool(callAccounts("exists", ObjectWriter.struct().u64(owner).finish())), "owner account does not exist");
  const created = readBool(callAccounts("newAccount", ObjectWriter.struct().u64(name).u64(receiver()).bool(requireMatch).finish()));
  if (created) table.put(new AuthDelegateRecord(name, owner));
  c.retBool(created);
});

action("getOwner", (c: Call): void => {
  c.retU64(ownerOf(c.args.u64()));
});

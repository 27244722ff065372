// psibase's `auth-sig` system service (packages/system/AuthSig): an account's
// transactions are authorized when they carry the claim `{service: verify-sig,
// rawData: the account's public key}`; verify-sig's proof check happens in native.
// Keys are DER SubjectPublicKeyInfo bytes.
//
// Table 0 AuthRecord {account, pubkey}: primary key account; index 1
// (sha256(pubkey), account).

import {
  abortWith, accountNumber, Action, action, Call, callAction, check, Key, methodNumber, ObjectReader,
  ObjectWriter, receiver, Row, sha256, Table,
} from "../sdk";
import { FIRST_AUTH_FLAG, readAuthRequest, REQUEST_MASK, senderAmong, RUN_AS_MATCHED_EXPANDED_REQ, RUN_AS_MATCHED_REQ, RUN_AS_OTHER_REQ, RUN_AS_REQUESTER_REQ, TOP_ACTION_REQ } from "../sdk";
export { start, called } from "../sdk";

const VERIFY_SIG = accountNumber("verify-sig");
const ACCOUNTS = accountNumber("accounts");


class AuthRecord extends Row {
  constructor(public account: u64, public pubkey: Uint8Array) { super(); }
  static key(account: u64): Uint8Array { return new Key().name(account).finish(); }
  primaryKey(): Uint8Array { return AuthRecord.key(this.account); }
  secondaryKeys(): Uint8Array[] { return [new Key().raw(sha256(this.pubkey)).name(this.account).finish()]; }
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.account).bytes(this.pubkey).finish(); }
  static unpack(data: Uint8Array): AuthRecord {
    const r = ObjectReader.struct(data);
    const row = new AuthRecord(r.u64(), r.bytes());
    r.done();
    return row;
  }
}

const authTable = (): Table<AuthRecord> => new Table<AuthRecord>(receiver(), 0, AuthRecord.unpack);

// ---- DER: SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING } ----

class Der {
  constructor(public data: Uint8Array, public pos: i32, public end: i32) {}

  /** Reads one TLV with `tag`; returns its contents' end, leaving pos at the contents. */
  enter(tag: u8): i32 {
    check(this.pos + 2 <= this.end, "invalid public key");
    check(this.data[this.pos] == tag, "invalid public key");
    let len: i32 = this.data[this.pos + 1];
    this.pos += 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      check(n >= 1 && n <= 3 && this.pos + n <= this.end, "invalid public key");
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | this.data[this.pos + i];
      this.pos += n;
    }
    check(len <= this.end - this.pos, "invalid public key");
    return this.pos + len;
  }
}

/** SubjectPublicKeyInfo::validate: the DER structure psibase's Botan decoder accepts. */
function validateSpki(key: Uint8Array): void {
  const d = new Der(key, 0, key.length);
  const seqEnd = d.enter(0x30);
  const inner = new Der(key, d.pos, seqEnd);
  const algEnd = inner.enter(0x30);
  const alg = new Der(key, inner.pos, algEnd);
  alg.pos = alg.enter(0x06);
  inner.pos = algEnd;
  const bitsEnd = inner.enter(0x03);
  check(bitsEnd > inner.pos, "invalid public key");
  check(bitsEnd == seqEnd, "invalid public key");
}

function readClaims(v: ObjectReader): Action[] {
  // Claims reuse Action's service/rawData slots: sender and method stay 0.
  const n = v.count(4);
  const out = new Array<Action>();
  for (let i = 0; i < n; i++) {
    const s = v.struct();
    out.push(new Action(0, s.u64(), 0, s.bytes()));
    s.done();
  }
  v.done();
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  return a.length == b.length && memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

action("checkAuthSys", (c: Call): void => {
  const args = c.args;
  const req = readAuthRequest(args);
  const flags = req.flags;
  const sender = req.sender;
  const claims = readClaims(args.vector());
  const type = flags & REQUEST_MASK;
  if (type == RUN_AS_REQUESTER_REQ || type == RUN_AS_MATCHED_REQ) {
    c.retBool(true);
    return;
  }
  if (type == RUN_AS_MATCHED_EXPANDED_REQ) abortWith("runAs: caller attempted to expand powers");
  else if (type == RUN_AS_OTHER_REQ) abortWith("runAs: caller is not authorized");
  else if (type != TOP_ACTION_REQ) abortWith("unsupported auth type");
  const row = authTable().get(AuthRecord.key(sender));
  check(row !== null, "sender does not have a public key");
  const expected = row!.pubkey;
  for (let i = 0; i < claims.length; i++) {
    const claim = claims[i];
    if (claim.service == VERIFY_SIG && sameBytes(claim.rawData, expected)) {
      // Billing rule: the first sender must be verified by the first proof, or an
      // attacker could make an innocent first sender pay for a failing transaction.
      if ((flags & FIRST_AUTH_FLAG) != 0 && i != 0) abortWith("first sender is not verified by first signature");
      c.retBool(true);
      return;
    }
  }
  c.retBool(false);
});

action("canAuthUserSys", (c: Call): void => {
  const user = c.args.u64();
  check(authTable().get(AuthRecord.key(user)) !== null, "sender does not have a public key");
});

action("setKey", (c: Call): void => {
  const key = c.args.bytes();
  validateSpki(key);
  authTable().put(new AuthRecord(c.sender, key));
});

action("getDlgsSys", (c: Call): void => {
  c.args.u64();
  c.retStruct(ObjectWriter.vector());
});

action("isAuthSys", (c: Call): void => {
  c.retBool(senderAmong(c.args));
});

action("isRejectSys", (c: Call): void => {
  c.retBool(senderAmong(c.args));
});

action("newAccount", (c: Call): void => {
  const args = c.args;
  const name = args.u64();
  const key = args.bytes();
  validateSpki(key);
  authTable().put(new AuthRecord(name, key));
  // accounts.newAccount returns false for an account that already exists with this
  // auth service (psibase's Accounts too); the key written above would then take it
  // over, so refuse (psibase's AuthSig does not check this).
  const created = callAction(new Action(receiver(), ACCOUNTS, methodNumber("newAccount"),
    ObjectWriter.struct().u64(name).u64(receiver()).bool(true).finish()));
  check(created.length == 1 && created[0] == 1, "account already exists");
});

// psibase's `accounts` system service (packages/system/Accounts): the account table
// and each account's auth service, which transact asks to authorize the account's
// transactions.
//
// Tables (psibase's numbering): 0 AccountsStatus {totalAccounts}, 1 Account
// {accountNum, authService, authSequence} keyed by accountNum.
//
// Open registration (psiweb's devnet; not in psibase): accounts is also the auth
// service (psibase's AuthInterface) of one account, `registrar`, and authorizes, with
// no signature, its top-level auth-sig::newAccount actions and nothing else, so a
// person with no account yet can create one with their own key. It is psibase's invite
// credential with the invite held by everyone: psibase's `cred-sys` may send only what
// its credential allows (Invite::createAccount), authorized by the Credentials service.
// The rule: open registration exists on a chain exactly when `registrar` exists with
// accounts as its auth service. A devnet creates it at boot (src/node/devnet.ts); a
// production chain does not, and no other account can move to accounts
// (canAuthUserSys refuses), nor can registrar change its key or auth service.

import {
  abortWith, accountName, accountNumber, Action, action, Call, callAction, check, CodeRow, Key, nativeDb,
  methodName, methodNumber, nativeKey, NativeTableNum, ObjectReader, ObjectWriter, receiver, REQUEST_MASK, Row, senderAmong, Table,
  TOP_ACTION_REQ,
} from "../sdk";

// Method numbers called on every transaction, written out: computing one costs more
// than the call (names.test.ts checks each against methodNumber).
const M_CAN_AUTH_USER_SYS: u64 = 0x442190cd9482de76; // = methodNumber("canAuthUserSys")
export { start, called } from "../sdk";

/** Accounts.cpp MIN_ALLOWED_ACCOUNT_LENGTH. */
const MIN_ALLOWED_ACCOUNT_LENGTH = 8;
/** Accounts::init gives the genesis accounts this auth service (AuthDelegate::service). */
// psibase runs auth-delegate as the account `auth-delg` (names are at most 10 characters).
const AUTH_DELEGATE = accountNumber("auth-delg");
const NAME_MARKET = accountNumber("namemarket");

class AccountsStatus extends Row {
  constructor(public totalAccounts: u32) { super(); }
  primaryKey(): Uint8Array { return new Uint8Array(0); }
  pack(): Uint8Array { return ObjectWriter.struct().u32(this.totalAccounts).finish(); }
  static unpack(data: Uint8Array): AccountsStatus {
    const r = ObjectReader.struct(data);
    const row = new AccountsStatus(r.u32());
    r.done();
    return row;
  }
}

class Account extends Row {
  constructor(public accountNum: u64, public authService: u64, public authSequence: u64) { super(); }
  static key(account: u64): Uint8Array { return new Key().name(account).finish(); }
  primaryKey(): Uint8Array { return Account.key(this.accountNum); }
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.accountNum).u64(this.authService).u64(this.authSequence).finish(); }
  static unpack(data: Uint8Array): Account {
    const r = ObjectReader.struct(data);
    const row = new Account(r.u64(), r.u64(), r.u64());
    r.done();
    return row;
  }
}

const EMPTY_KEY = new Uint8Array(0);
const statusTable = (): Table<AccountsStatus> => new Table<AccountsStatus>(receiver(), 0, AccountsStatus.unpack);
const accountTable = (): Table<Account> => new Table<Account>(receiver(), 1, Account.unpack);

function subaccount(name: u64): u64 { return name & 0xff; }
function base(name: u64): u64 { return name & ~(<u64>0xff); }

action("init", (c: Call): void => {
  const status = statusTable();
  if (status.get(EMPTY_KEY) !== null) return;
  const accounts = accountTable();
  // Every service installed at genesis becomes an account.
  const codeIndex = nativeKey(NativeTableNum.code).finish();
  const native = nativeDb();
  let from = codeIndex;
  let total: u32 = 0;
  for (;;) {
    const entry = native.greaterEqual(from, codeIndex.length);
    if (entry === null) break;
    const row = CodeRow.unpack(entry.value);
    accounts.put(new Account(row.codeNum, AUTH_DELEGATE, 0));
    total++;
    const next = new Uint8Array(entry.key.length + 1);
    next.set(entry.key);
    from = next;
  }
  status.put(new AccountsStatus(total));
});

// Names approved for creation during this transaction (Accounts::preapproveAcc).
const preapproved = new Array<u64>();

action("preapproveAcc", (c: Call): void => {
  const name = c.args.u64();
  const sender = c.sender;
  if (subaccount(name) != 0) {
    if (sender != base(name)) abortWith("subaccount " + accountName(name) + " can only be created by " + accountName(base(name)));
  } else if (accountName(name).startsWith("x-")) {
    check(sender == receiver(), "The 'x-' account prefix is reserved for infrastructure providers");
  } else {
    check(sender == receiver() || sender == NAME_MARKET, "unauthorized");
  }
  preapproved.push(name);
});

action("newAccount", (c: Call): void => {
  const args = c.args;
  const name = args.u64();
  const authService = args.u64();
  const requireMatch = args.bool();
  const statusRows = statusTable();
  const accounts = accountTable();
  const status = statusRows.get(EMPTY_KEY);
  check(status !== null, "not started");
  check(name != 0, "invalid account name");
  const str = accountName(name);
  check(!str.endsWith("-"), "account name must not end in a hyphen");
  if (!preapproved.includes(name)) {
    if (subaccount(name) != 0) {
      check(c.sender == base(name), "Subaccounts can only be created by the primary account");
    } else if (c.sender != receiver()) {
      check(!str.startsWith("x-"), "The 'x-' account prefix is reserved for infrastructure providers");
      check(str.length >= MIN_ALLOWED_ACCOUNT_LENGTH, "account name must be at least " + MIN_ALLOWED_ACCOUNT_LENGTH.toString() + " characters: " + str);
    }
  }
  // The name must survive a round trip through its string form.
  check(accountNumber(str) != 0, "invalid account name");
  const existing = accounts.get(Account.key(name));
  if (existing !== null) {
    if (requireMatch && existing.authService != authService) abortWith("account already exists");
    c.retBool(false);
    return;
  }
  check(accounts.get(Account.key(authService)) !== null, "unknown auth service");
  accounts.put(new Account(name, authService, 0));
  status!.totalAccounts++;
  statusRows.put(status!);
  c.retBool(true);
});

action("setAuthServ", (c: Call): void => {
  const authService = c.args.u64();
  const accounts = accountTable();
  const account = accounts.get(Account.key(c.sender));
  check(account !== null, "account " + accountName(c.sender) + " does not exist");
  // The auth service may refuse users it cannot authorize (AuthInterface::canAuthUserSys).
  callAction(new Action(receiver(), authService, M_CAN_AUTH_USER_SYS, ObjectWriter.struct().u64(c.sender).finish()));
  account!.authService = authService;
  account!.authSequence++;
  accounts.put(account!);
});

action("getAccount", (c: Call): void => {
  const name = c.args.u64();
  const account = accountTable().get(Account.key(name));
  // std::optional<Account> packed on its own: an offset to the row, or 1 for none.
  c.ret(ObjectWriter.fixed().optObject(account === null ? null : account.pack()).finish());
});

action("getAuthOf", (c: Call): void => {
  const name = c.args.u64();
  const account = accountTable().get(Account.key(name));
  check(account !== null, "account " + accountName(name) + " does not exist");
  c.retU64(account!.authService);
});

action("exists", (c: Call): void => {
  const name = c.args.u64();
  c.retBool(accountTable().get(Account.key(name)) !== null);
});

action("incAuthSeq", (c: Call): void => {
  const name = c.args.u64();
  const accounts = accountTable();
  const account = accounts.get(Account.key(name));
  if (account !== null && account.authService == c.sender) {
    account.authSequence++;
    accounts.put(account);
  }
});

// ---- open registration: accounts as registrar's auth service (see the top) ----

/** The one account accounts authorizes: open registration's sender. */
const REGISTRAR = accountNumber("registrar");
const AUTH_SIG = accountNumber("auth-sig");

function readServiceMethod(r: ObjectReader): u64[] {
  const service = r.u64();
  const method = r.u64();
  r.done();
  return [service, method];
}

action("checkAuthSys", (c: Call): void => {
  const args = c.args;
  const flags = args.u32();
  args.u64(); // requester
  const sender = args.u64();
  const act = readServiceMethod(args.struct());
  const allowed = args.vector();
  while (allowed.more()) readServiceMethod(allowed.struct());
  allowed.done();
  const claims = args.vector();
  while (claims.more()) {
    const claim = claims.struct();
    claim.u64();
    claim.bytes();
    claim.done();
  }
  claims.done();
  check(sender == REGISTRAR, "accounts authorizes only registrar (open registration), not " + accountName(sender));
  check((flags & REQUEST_MASK) == TOP_ACTION_REQ, "open registration: registrar's actions cannot be run as another account's (runAs)");
  check(act[0] == AUTH_SIG && act[1] == methodNumber("newAccount"),
    "open registration: registrar may send only auth-sig::newAccount, not " + accountName(act[0]) + "::" + methodName(act[1]));
  c.retBool(true);
});

action("canAuthUserSys", (c: Call): void => {
  const user = c.args.u64();
  check(user == REGISTRAR, "accounts is the auth service of registrar (open registration) only, not of " + accountName(user));
});

action("getDlgsSys", (c: Call): void => {
  c.args.u64();
  c.retStruct(ObjectWriter.vector());
});

// Nobody approves or rejects for registrar: it sends newAccount, and only directly.
action("isAuthSys", (c: Call): void => {
  senderAmong(c.args);
  c.retBool(false);
});

action("isRejectSys", (c: Call): void => {
  senderAmong(c.args);
  c.retBool(false);
});

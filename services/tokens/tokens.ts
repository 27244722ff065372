// psiweb's demo token (not psibase's Tokens service): one fixed supply, balances per
// account, transfers between existing accounts, and a JSON endpoint for the web UI
// that `sites` serves on the tokens subdomain.
//
//   init(supply: u64, owner: optional<AccountNumber>)   once, by the tokens account;
//                                                       the supply goes to owner (default: tokens)
//   transfer(to: AccountNumber, amount: u64, memo: string)
//   balance(account: AccountNumber) -> u64
//   GET /balances/<account> -> {"account":"alice","balance":"123"}
//   GET /supply             -> {"supply":"1000"}
//   POST /pack_action/transfer {"to":"bob","amount":"5","memo":""} -> packed arguments
//                           (psibase's pack_action endpoint, so clients need no fracpack)
//
// Amounts travel as decimal strings in JSON: a u64 exceeds JSON's safe integers.
//
// Tables: 0 Balance {account, balance} by account; 1 Supply {supply} (a singleton).

import {
  abortWith, accountName, allowCors, accountNumber, action, Action, Call, callAction, check, HttpReply, HttpRequest,
  jsonStr, jsonString, jsonU64, Key, methodNumber, ObjectReader, ObjectWriter, parseJson, receiver, Row, serveHttp,
  Table,
} from "../sdk";

// Method numbers called on every transaction, written out: computing one costs more
// than the call (names.test.ts checks each against methodNumber).
const M_EXISTS: u64 = 0x18850d0f; // = methodNumber("exists")
export { start, called } from "../sdk";

const ACCOUNTS = accountNumber("accounts");
/** psibase's Memo limit. */
const MAX_MEMO_BYTES = 80;
/** An amount above i64's range is most likely a negative number sent as u64. */
const MAX_AMOUNT: u64 = <u64>i64.MAX_VALUE;

class Balance extends Row {
  constructor(public account: u64, public balance: u64) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.account).u64(this.balance).finish();
  }
  primaryKey(): Uint8Array {
    return new Key().name(this.account).finish();
  }
  static unpack(data: Uint8Array): Balance {
    const r = ObjectReader.struct(data);
    const row = new Balance(r.u64(), r.u64());
    r.done();
    return row;
  }
}

class Supply extends Row {
  constructor(public supply: u64) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.supply).finish();
  }
  primaryKey(): Uint8Array {
    return new Uint8Array(0);
  }
  static unpack(data: Uint8Array): Supply {
    const r = ObjectReader.struct(data);
    const row = new Supply(r.u64());
    r.done();
    return row;
  }
}

const balances = (): Table<Balance> => new Table<Balance>(receiver(), 0, Balance.unpack);
const supplies = (): Table<Supply> => new Table<Supply>(receiver(), 1, Supply.unpack);

function balanceOf(account: u64): u64 {
  const row = balances().get(new Key().name(account).finish());
  return row === null ? 0 : row.balance;
}

function setBalance(account: u64, amount: u64): void {
  if (amount == 0) balances().erase(new Key().name(account).finish());
  else balances().put(new Balance(account, amount));
}

/** Asks the `accounts` service, as psibase services do (Accounts::exists). */
function accountExists(account: u64): bool {
  const args = ObjectWriter.struct().u64(account).finish();
  const r = ObjectReader.fixed(callAction(new Action(receiver(), ACCOUNTS, M_EXISTS, args)), 1);
  const exists = r.bool();
  r.done();
  return exists;
}

action("init", (c: Call): void => {
  const supply = c.args.u64();
  const owner = c.args.isNone() ? receiver() : c.args.someU64();
  check(c.sender == receiver(), "only " + accountName(receiver()) + " may init");
  check(supplies().get(new Uint8Array(0)) === null, "already initialized");
  check(supply > 0 && supply <= MAX_AMOUNT, "supply must be positive");
  check(owner == receiver() || accountExists(owner), "account " + accountName(owner) + " does not exist");
  supplies().put(new Supply(supply));
  setBalance(owner, supply);
});

action("transfer", (c: Call): void => {
  const to = c.args.u64();
  const amount = c.args.u64();
  const memo = c.args.str();
  check(supplies().get(new Uint8Array(0)) !== null, "not initialized");
  check(amount > 0 && amount <= MAX_AMOUNT, "amount must be positive");
  check(String.UTF8.byteLength(memo) <= MAX_MEMO_BYTES, "memo must be at most 80 bytes");
  check(to != c.sender, "cannot transfer to self");
  check(to == receiver() || accountExists(to), "account " + accountName(to) + " does not exist");
  const from = balanceOf(c.sender);
  check(from >= amount, "insufficient balance");
  setBalance(c.sender, from - amount);
  setBalance(to, balanceOf(to) + amount);
});

action("balance", (c: Call): void => {
  c.retU64(balanceOf(c.args.u64()));
});

const BALANCES_PREFIX = "/balances/";

/** An account name from JSON; names that do not round-trip are not names. */
function jsonAccount(text: string, field: string): u64 {
  const account = accountNumber(text);
  if (account == 0 || accountName(account) != text) abortWith("json: " + field + " is not an account name: " + text);
  return account;
}

function packTransfer(body: string): Uint8Array {
  const args = parseJson(body);
  const to = jsonAccount(jsonStr(args.get("to"), "to"), "to");
  const amount = jsonU64(args.get("amount"), "amount");
  const memo = args.get("memo") === null ? "" : jsonStr(args.get("memo"), "memo");
  return ObjectWriter.struct().u64(to).u64(amount).str(memo).finish();
}

// Every answer may be read from another origin of this node (an app's page, the
// supervisor running this service's plugin), as psibase's servePackAction and query
// templates answer: allowCors().
serveHttp((req: HttpRequest, user: u64): HttpReply | null => {
  const reply = answer(req);
  if (reply !== null) for (let i = 0, h = allowCors(); i < h.length; i++) reply.headers.push(h[i]);
  return reply;
});

function answer(req: HttpRequest): HttpReply | null {
  if (req.method == "POST" && req.path() == "/pack_action/transfer") {
    return new HttpReply(200, "application/octet-stream", packTransfer(req.bodyText()));
  }
  if (req.method != "GET") return null;
  const path = req.path();
  if (path == "/supply") {
    const row = supplies().get(new Uint8Array(0));
    return HttpReply.json("{\"supply\":" + jsonString((row === null ? <u64>0 : row.supply).toString()) + "}");
  }
  if (!path.startsWith(BALANCES_PREFIX)) return null;
  const name = path.substring(BALANCES_PREFIX.length);
  const account = accountNumber(name);
  // accountNumber answers 0 for text that is not a valid name; names round-trip exactly.
  if (account == 0 || accountName(account) != name) {
    return HttpReply.json("{\"error\":" + jsonString("invalid account name: " + name) + "}", 400);
  }
  return HttpReply.json("{\"account\":" + jsonString(name) + ",\"balance\":" + jsonString(balanceOf(account).toString()) + "}");
}

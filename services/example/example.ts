// A counter per account: `inc(by: u32) -> u64` adds to the sender's counter,
// `get(account: AccountNumber) -> u64` reads one, and GET /counter?account=NAME
// answers JSON. Rows live in table 0, keyed by account.

import { accountName, accountNumber, action, Call, HttpReply, HttpRequest, jsonString, Key, ObjectReader, ObjectWriter, receiver, Row, serveHttp, Table } from "../sdk";
export { start, called } from "../sdk";

class Counter extends Row {
  constructor(public account: u64, public value: u64) {
    super();
  }

  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.account).u64(this.value).finish();
  }

  primaryKey(): Uint8Array {
    return new Key().name(this.account).finish();
  }

  static unpack(data: Uint8Array): Counter {
    const r = ObjectReader.struct(data);
    const row = new Counter(r.u64(), r.u64());
    r.done();
    return row;
  }
}

function counters(): Table<Counter> {
  return new Table<Counter>(receiver(), 0, Counter.unpack);
}

function valueOf(account: u64): u64 {
  const row = counters().get(new Key().name(account).finish());
  return row === null ? 0 : row.value;
}

action("inc", (c: Call): void => {
  const by = c.args.u32();
  const old = valueOf(c.sender);
  counters().put(new Counter(c.sender, old + <u64>by));
  c.retU64(old + <u64>by);
});

action("get", (c: Call): void => {
  c.retU64(valueOf(c.args.u64()));
});

serveHttp((req: HttpRequest, user: u64): HttpReply | null => {
  if (req.method != "GET" || req.path() != "/counter") return null;
  const name = req.query("account");
  if (name === null) return HttpReply.json("{\"error\":\"missing account\"}", 400);
  const account = accountNumber(name!);
  const body = "{\"account\":" + jsonString(accountName(account)) + ",\"value\":" + jsonString(valueOf(account).toString()) + "}";
  return HttpReply.json(body);
});

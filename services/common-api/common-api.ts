// psibase's `common-api` service (CommonApi.hpp): http routes `/common/…` on every
// subdomain here first, then to the files common-api uploaded to sites.
//
//   GET  /common/chainid                  "<chain id, upper-case hex>"
//   GET  /common/thisservice              "<subdomain's service>"
//   GET  /common/rootdomain               "<root host>"
//   GET  /common/tapos/head               {"refBlockIndex":N,"refBlockSuffix":N}
//   POST /common/pack/Transaction         Transaction JSON -> fracpack
//   POST /common/pack/SignedTransaction   SignedTransaction JSON -> fracpack
//
// psibase reads the chain id from the native status row and asks transact for the
// head's TaPoS; transact's headTapos is an inline function over that same status row
// (Transact.hpp), so it is computed here from the row, and works before transact is
// deployed. The auth-cookie endpoints (/common/set-auth-cookie, remove-auth-cookie)
// belong to psibase's query-token sessions, which psiweb does not have yet.

import {
  abortWith, accountName, accountNumber, allowCors, check, DbId, fromHex, HttpReply, HttpRequest,
  jsonStr, JsonKind, jsonString, jsonU64, JsonValue, KvHandle, KvMode, methodNumber, ObjectWriter,
  parseJson, Action, callAction, receiver, readString, serveHttp, toHex,
} from "../sdk";
export { start, called } from "../sdk";

const HTTP = accountNumber("http");

/** Native status row key: (u16 statusTable = 1, u8 index 0), big-endian. */
const STATUS_KEY: u8[] = [0, 1, 0];

function json(body: string): HttpReply {
  return new HttpReply(200, "application/json", Uint8Array.wrap(String.UTF8.encode(body)), allowCors());
}

function rootHostOf(host: string): string {
  const args = ObjectWriter.struct().str(host).finish();
  return readString(callAction(new Action(receiver(), HTTP, methodNumber("rootHost"), args)));
}

function statusRow(): Uint8Array | null {
  const native = KvHandle.open(DbId.native, new Uint8Array(0), KvMode.read);
  const key = new Uint8Array(3);
  for (let i = 0; i < 3; i++) key[i] = STATUS_KEY[i];
  const row = native.get(key);
  native.close();
  return row;
}

function need(data: Uint8Array, at: i32, size: i32): void {
  check(at >= 0 && size <= data.length - at, "Invariant failure: status row is malformed");
}

/** Where a self-relative offset stored at `at` points; -1 for an empty optional. */
function target(data: Uint8Array, at: i32): i32 {
  need(data, at, 4);
  const offset = load<u32>(data.dataStart + <usize>at);
  if (offset == 1) return -1;
  return at + <i32>offset;
}

// StatusRow{chainId: Checksum256, current: BlockHeader, head: optional<BlockInfo>, …}:
// u16 fixed size, 32 bytes of chain id, then the offsets of current and head.
const HEAD_OFFSET_AT = 2 + 32 + 4;

function chainId(): string {
  const row = statusRow();
  check(row !== null, "chain is not booted");
  need(row!, 2, 32);
  return toHex(row!.subarray(2, 34));
}

/** (refBlockIndex, refBlockSuffix) of the head block; (0, 0) before the first block. */
function headTapos(): string {
  const row = statusRow();
  let index: u32 = 0;
  let suffix: u32 = 0;
  if (row !== null && <i32>load<u16>(row!.dataStart) + 2 >= HEAD_OFFSET_AT + 4) {
    const info = target(row!, HEAD_OFFSET_AT);
    if (info >= 0) {
      // BlockInfo{header: BlockHeader, blockId: Checksum256}; BlockHeader{previous, blockNum, …}
      const header = target(row!, info + 2);
      need(row!, info + 6, 32);
      need(row!, header + 2 + 32, 4);
      const blockNum = load<u32>(row!.dataStart + <usize>(header + 2 + 32));
      index = blockNum & 0x7f;
      // The id's last four bytes, as memcpy reads them on a little-endian machine.
      suffix = load<u32>(row!.dataStart + <usize>(info + 6 + 28));
    }
  }
  return "{\"refBlockIndex\":" + index.toString() + ",\"refBlockSuffix\":" + suffix.toString() + "}";
}

// ---- JSON → fracpack for transactions (psio's JSON forms) --------------------

function member(obj: JsonValue, key: string): JsonValue | null {
  if (obj.kind != JsonKind.Object) abortWith("json: expected an object");
  return obj.get(key);
}

function list(v: JsonValue | null, field: string): JsonValue[] {
  if (v === null || v.kind == JsonKind.Null) return [];
  if (v.kind != JsonKind.Array) abortWith("json: " + field + " must be an array");
  return v.items;
}

function hexField(v: JsonValue | null, field: string): Uint8Array {
  const data = fromHex(jsonStr(v, field));
  if (data === null) abortWith("json: " + field + " must be hex");
  return data!;
}

function accountField(v: JsonValue | null, field: string): u64 {
  const name = jsonStr(v, field);
  const account = accountNumber(name);
  // psio refuses names that do not encode; "" is the valid empty account.
  if (name.length > 0 && (account == 0 || accountName(account) != name)) abortWith("json: " + field + " is not an account name: " + name);
  return account;
}

function methodField(v: JsonValue | null, field: string): u64 {
  const name = jsonStr(v, field);
  const method = methodNumber(name);
  if (name.length > 0 && method == 0) abortWith("json: " + field + " is not a method name: " + name);
  return method;
}

function digits(s: string, from: i32, count: i32): i32 {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: i64, m: i64, d: i64): i64 {
  y -= m <= 2 ? 1 : 0;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/** TimePointSec from psio's JSON form, `YYYY-MM-DDTHH:MM:SS[.fff]Z`. */
function timePointSec(v: JsonValue | null, field: string): i64 {
  const s = jsonStr(v, field);
  const bad = "json: " + field + " must be a time like 2022-05-31T21:32:23Z";
  if (s.length < 20 || s.charAt(4) != "-" || s.charAt(7) != "-" || s.charAt(10) != "T" || s.charAt(13) != ":" || s.charAt(16) != ":" || !s.endsWith("Z")) abortWith(bad);
  const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) abortWith(bad);
  // Fractions of a second are dropped, as a TimePointSec holds whole seconds.
  if (s.length > 20 && (s.charAt(19) != "." || digits(s, 20, s.length - 21) < 0)) abortWith(bad);
  return daysFromCivil(y, mo, d) * 86400 + <i64>(h * 3600 + mi * 60 + sec);
}

function smallInt(v: JsonValue | null, field: string, max: u64): u64 {
  if (v === null) return 0;
  const n = jsonU64(v, field);
  if (n > max) abortWith("json: " + field + " is out of range");
  return n;
}

function packTransaction(tx: JsonValue): Uint8Array {
  const tapos = member(tx, "tapos");
  if (tapos === null) abortWith("json: tapos is required");
  // Tapos is a fixed 15-byte struct, stored inline.
  const taposBytes = ObjectWriter.fixed()
    .i64(timePointSec(member(tapos!, "expiration"), "expiration"))
    .u32(<u32>smallInt(member(tapos!, "refBlockSuffix"), "refBlockSuffix", u32.MAX_VALUE))
    .u16(<u16>smallInt(member(tapos!, "flags"), "flags", u16.MAX_VALUE))
    .u8(<u8>smallInt(member(tapos!, "refBlockIndex"), "refBlockIndex", u8.MAX_VALUE))
    .finish();
  const actions = ObjectWriter.vector();
  const actionItems = list(member(tx, "actions"), "actions");
  for (let i = 0; i < actionItems.length; i++) {
    const a = actionItems[i];
    actions.object(ObjectWriter.struct()
      .u64(accountField(member(a, "sender"), "sender"))
      .u64(accountField(member(a, "service"), "service"))
      .u64(methodField(member(a, "method"), "method"))
      .bytes(hexField(member(a, "rawData"), "rawData"))
      .finish());
  }
  const claims = ObjectWriter.vector();
  const claimItems = list(member(tx, "claims"), "claims");
  for (let i = 0; i < claimItems.length; i++) {
    const c = claimItems[i];
    claims.object(ObjectWriter.struct()
      .u64(accountField(member(c, "service"), "service"))
      .bytes(hexField(member(c, "rawData"), "rawData"))
      .finish());
  }
  return ObjectWriter.struct().raw(taposBytes).vec(actions).vec(claims).finish();
}

function hexList(v: JsonValue | null, field: string): ObjectWriter {
  const out = ObjectWriter.vector();
  const items = list(v, field);
  for (let i = 0; i < items.length; i++) out.bytes(hexField(items[i], field));
  return out;
}

function packSignedTransaction(signed: JsonValue): Uint8Array {
  // `transaction` is the Transaction object or its packed form in hex.
  const inner = member(signed, "transaction");
  if (inner === null) abortWith("json: transaction is required");
  const packed = inner!.kind == JsonKind.String ? hexField(inner, "transaction") : packTransaction(inner!);
  const w = ObjectWriter.struct().bytes(packed).vec(hexList(member(signed, "proofs"), "proofs"));
  const subjective = member(signed, "subjectiveData");
  if (subjective === null || subjective.kind == JsonKind.Null) w.none();
  else w.vec(hexList(subjective, "subjectiveData"));
  return w.finish();
}

function octets(data: Uint8Array): HttpReply {
  return new HttpReply(200, "application/octet-stream", data, allowCors());
}

serveHttp((req: HttpRequest, user: u64): HttpReply | null => {
  if (req.method == "GET") {
    if (req.target == "/common/thisservice") {
      const root = rootHostOf(req.host);
      const host = req.host;
      if (!(host.length > root.length + 1 && host.endsWith(root) && host.charCodeAt(host.length - root.length - 1) == 0x2e)) abortWith("Invalid host");
      return json(jsonString(host.substring(0, host.length - root.length - 1)));
    }
    if (req.target == "/common/rootdomain") return json(jsonString(rootHostOf(req.host)));
    if (req.target == "/common/tapos/head") return json(headTapos());
    if (req.target == "/common/chainid") return json(jsonString(chainId()));
  }
  if (req.method == "POST") {
    if (req.target == "/common/pack/Transaction") return octets(packTransaction(parseJson(req.bodyText())));
    if (req.target == "/common/pack/SignedTransaction") return octets(packSignedTransaction(parseJson(req.bodyText())));
  }
  return null;
});

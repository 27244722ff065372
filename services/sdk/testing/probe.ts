// Test-only service: each action decodes its raw data as one fracpack type (named
// after a type of psibase's conformance vectors) and returns it re-encoded, or
// exposes a name or key helper, so vitest can drive the SDK through the ABI.

import { accountName, accountNumber, action, Call, Key, methodName, methodNumber, ObjectReader, ObjectWriter, packBytes, packString, readBytes, readString, receiver, Row, Table } from "..";
import * as env from "../env";
export { start, called } from "..";

function fixedValue(c: Call, size: i32): ObjectReader {
  return ObjectReader.fixed(c.rawData, size);
}

action("tu8", (c: Call): void => { const r = fixedValue(c, 1); const v = r.u8(); r.done(); c.ret(ObjectWriter.fixed().u8(v).finish()); });
action("ti8", (c: Call): void => { const r = fixedValue(c, 1); const v = r.i8(); r.done(); c.ret(ObjectWriter.fixed().i8(v).finish()); });
action("tu16", (c: Call): void => { const r = fixedValue(c, 2); const v = r.u16(); r.done(); c.ret(ObjectWriter.fixed().u16(v).finish()); });
action("ti16", (c: Call): void => { const r = fixedValue(c, 2); const v = r.i16(); r.done(); c.ret(ObjectWriter.fixed().i16(v).finish()); });
action("tu32", (c: Call): void => { const r = fixedValue(c, 4); const v = r.u32(); r.done(); c.ret(ObjectWriter.fixed().u32(v).finish()); });
action("ti32", (c: Call): void => { const r = fixedValue(c, 4); const v = r.i32(); r.done(); c.ret(ObjectWriter.fixed().i32(v).finish()); });
action("tu64", (c: Call): void => { const r = fixedValue(c, 8); const v = r.u64(); r.done(); c.ret(ObjectWriter.fixed().u64(v).finish()); });
action("ti64", (c: Call): void => { const r = fixedValue(c, 8); const v = r.i64(); r.done(); c.ret(ObjectWriter.fixed().i64(v).finish()); });
action("tf32", (c: Call): void => { const r = fixedValue(c, 4); const v = r.f32(); r.done(); c.ret(ObjectWriter.fixed().f32(v).finish()); });
action("tf64", (c: Call): void => { const r = fixedValue(c, 8); const v = r.f64(); r.done(); c.ret(ObjectWriter.fixed().f64(v).finish()); });
action("tbool", (c: Call): void => { const r = fixedValue(c, 1); const v = r.bool(); r.done(); c.ret(ObjectWriter.fixed().bool(v).finish()); });
action("tstr", (c: Call): void => { c.ret(packString(readString(c.rawData))); });
action("thex", (c: Call): void => { c.ret(packBytes(readBytes(c.rawData))); });

// opt-u8
action("toptu8", (c: Call): void => {
  const r = fixedValue(c, 4);
  const w = ObjectWriter.fixed();
  if (r.isNone()) w.none(); else w.someU8(r.someU8());
  r.done();
  c.ret(w.finish());
});

// opt-str and opt-bytes
action("toptstr", (c: Call): void => {
  const r = fixedValue(c, 4);
  const w = ObjectWriter.fixed();
  w.optStr(r.isNone() ? null : r.str());
  r.done();
  c.ret(w.finish());
});
action("toptbytes", (c: Call): void => {
  const r = fixedValue(c, 4);
  const w = ObjectWriter.fixed();
  w.optBytes(r.isNone() ? null : r.bytes());
  r.done();
  c.ret(w.finish());
});

// i8[]
action("tveci8", (c: Call): void => {
  const r = ObjectReader.vector(c.rawData);
  const w = ObjectWriter.vector();
  const n = r.count(1);
  for (let i = 0; i < n; i++) w.i8(r.i8());
  r.done();
  c.ret(w.finish());
});

// vec-u16
action("tvecu16", (c: Call): void => {
  const r = ObjectReader.vector(c.rawData);
  const w = ObjectWriter.vector();
  const n = r.count(2);
  for (let i = 0; i < n; i++) w.u16(r.u16());
  r.done();
  c.ret(w.finish());
});

// opt<u8>[]
action("tvecoptu8", (c: Call): void => {
  const r = ObjectReader.vector(c.rawData);
  const w = ObjectWriter.vector();
  const n = r.count(4);
  for (let i = 0; i < n; i++) {
    if (r.isNone()) w.none(); else w.someU8(r.someU8());
  }
  r.done();
  c.ret(w.finish());
});

// () and EmptyObject
action("tempty", (c: Call): void => {
  ObjectReader.struct(c.rawData).done();
  c.ret(ObjectWriter.struct().finish());
});

// Extensible {v0: u8, v1: u8?, v2: u8, v3: u8?}
action("textensible", (c: Call): void => {
  const r = ObjectReader.struct(c.rawData);
  const w = ObjectWriter.struct();
  w.u8(r.u8());
  if (r.isNone()) w.none(); else w.someU8(r.someU8());
  w.u8(r.u8());
  if (r.isNone()) w.none(); else w.someU8(r.someU8());
  r.done();
  c.ret(w.finish());
});

// multiple-optionals {v0: u8?, v1: u8?, v2: u8?}, TrailingTest {v0: u8?}, (u8?): `count` optionals
function optionals(c: Call, count: i32): void {
  const r = ObjectReader.struct(c.rawData);
  const w = ObjectWriter.struct();
  for (let i = 0; i < count; i++) {
    if (r.isNone()) w.none(); else w.someU8(r.someU8());
  }
  r.done();
  c.ret(w.finish());
}
action("topt3", (c: Call): void => { optionals(c, 3); });
action("topt1", (c: Call): void => { optionals(c, 1); });

// (u8, opt<u8>)
action("tu8optu8", (c: Call): void => {
  const r = ObjectReader.struct(c.rawData);
  const w = ObjectWriter.struct();
  w.u8(r.u8());
  if (r.isNone()) w.none(); else w.someU8(r.someU8());
  r.done();
  c.ret(w.finish());
});

// OffsetTest and (u32, u8?)
action("tu32optu8", (c: Call): void => {
  const r = ObjectReader.struct(c.rawData);
  const w = ObjectWriter.struct();
  w.u32(r.u32());
  if (r.isNone()) w.none(); else w.someU8(r.someU8());
  r.done();
  c.ret(w.finish());
});

// IntMember and (i32)
action("tintmember", (c: Call): void => {
  const r = ObjectReader.struct(c.rawData);
  const v = r.i32();
  r.done();
  c.ret(ObjectWriter.struct().i32(v).finish());
});

// StringMember and (str)
action("tstrmember", (c: Call): void => {
  const r = ObjectReader.struct(c.rawData);
  const v = r.str();
  r.done();
  c.ret(ObjectWriter.struct().str(v).finish());
});

// (hex), (u8[]), (i8[])
action("tbytesmember", (c: Call): void => {
  const r = ObjectReader.struct(c.rawData);
  const v = r.bytes();
  r.done();
  c.ret(ObjectWriter.struct().bytes(v).finish());
});

// FixedStruct {v0: u8, v1: u8} (non-extensible, fixed size)
action("tfixedstruct", (c: Call): void => {
  const r = fixedValue(c, 2);
  const w = ObjectWriter.fixed().u8(r.u8()).u8(r.u8());
  r.done();
  c.ret(w.finish());
});

// VariableStruct2 {v1: i32[], v2: i8[]} (non-extensible, variable size)
action("tvarstruct2", (c: Call): void => {
  const r = fixedValue(c, 8);
  const v1 = r.vector();
  const ints = ObjectWriter.vector();
  const n = v1.count(4);
  for (let i = 0; i < n; i++) ints.i32(v1.i32());
  v1.done();
  const v2 = r.bytes();
  r.done();
  c.ret(ObjectWriter.fixed().vec(ints).bytes(v2).finish());
});

// Names and keys, with ordinary (tuple) arguments.
action("acctnum", (c: Call): void => { c.retU64(accountNumber(c.args.str())); });
action("acctname", (c: Call): void => { c.retString(accountName(c.args.u64())); });
action("methnum", (c: Call): void => { c.retU64(methodNumber(c.args.str())); });
action("methname", (c: Call): void => { c.retString(methodName(c.args.u64())); });

// Key encoding of (u8, u16, u32, u64, i32, i64, bool, str, bytes), arguments in that order.
action("key", (c: Call): void => {
  const a = c.args;
  const k = new Key().u8(a.u8()).u16(a.u16()).u32(a.u32()).u64(a.u64()).i32(a.i32()).i64(a.i64()).bool(a.bool()).str(a.str()).bytes(a.bytes());
  c.retBytes(k.finish());
});

// Links every psibase import so the ABI test can check their wasm signatures; the
// calls run only if the argument is 42, which no test sends.
action("linkall", (c: Call): void => {
  if (c.args.u8() != 42) return;
  const p: usize = 0;
  env.getResult(p, 0, 0); env.getKey(p, 0); env.writeConsole(p, 0); env.abortMessage(p, 0);
  env.getCurrentAction(); env.call(p, 0, 0); env.setRetval(p, 0);
  env.kvOpen(0, p, 0, 0); env.kvOpenAt(0, p, 0, 0); env.kvClose(0);
  env.exportHandles(p, 0); env.importHandles();
  env.kvPut(0, p, 0, p, 0); env.kvRemove(0, p, 0); env.kvGet(0, p, 0);
  env.kvGreaterEqual(0, p, 0, 0); env.kvLessThan(0, p, 0, 0); env.kvMax(0, p, 0);
  env.clockTimeGet(0, p); env.getRandom(p, 0); env.setMaxCpuTime(0);
  env.checkoutSubjective(); env.commitSubjective(); env.abortSubjective();
  env.socketOpen(p, 0); env.socketSend(0, p, 0, 0); env.socketSetFlags(0, 0, 0); env.readFile(p, 0);
});

// An AssemblyScript runtime failure: must reach the host as abortMessage.
action("trap", (c: Call): void => {
  const items = new Array<i32>(1);
  c.retI32(items[c.args.i32()]);
});

// A table with a unique secondary index, for the Table tests.
class Person extends Row {
  constructor(public id: u64, public name: string) {
    super();
  }
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.id).str(this.name).finish(); }
  primaryKey(): Uint8Array { return new Key().u64(this.id).finish(); }
  secondaryKeys(): Uint8Array[] { return [new Key().str(this.name).finish()]; }
  static unpack(data: Uint8Array): Person {
    const r = ObjectReader.struct(data);
    const p = new Person(r.u64(), r.str());
    r.done();
    return p;
  }
}

function people(): Table<Person> {
  return new Table<Person>(receiver(), 1, Person.unpack);
}

action("tabput", (c: Call): void => { people().put(new Person(c.args.u64(), c.args.str())); });
action("tabdel", (c: Call): void => { people().erase(new Key().u64(c.args.u64()).finish()); });
action("tabbyname", (c: Call): void => {
  const p = people().getBy(1, new Key().str(c.args.str()).finish());
  c.ret(ObjectWriter.fixed().optObject(p === null ? null : ObjectWriter.fixed().u64(p.id).finish()).finish());
});
// Names in primary-key order, then in name order.
action("tablist", (c: Call): void => {
  const byId = ObjectWriter.vector();
  const rows = people().rows();
  for (let p = rows.next(); p !== null; p = rows.next()) byId.str(p.name);
  const byName = ObjectWriter.vector();
  const names = people().rows(1);
  for (let p = names.next(); p !== null; p = names.next()) byName.str(p.name);
  c.retStruct(ObjectWriter.struct().vec(byId).vec(byName));
});

// Nested writers: (s: string, b: u8[]) -> Nested {s, items: Item{n: u8, s}[], opt: Inner{s}?, b},
// each child attached as a writer and packed in place by the outer finish().
action("tnested", (c: Call): void => {
  const s = c.args.str();
  const b = c.args.bytesView();
  const items = ObjectWriter.vector()
    .struct(ObjectWriter.struct().u8(1).str(s))
    .struct(ObjectWriter.struct().u8(2).str(""));
  c.retStruct(ObjectWriter.struct().str(s).vec(items).optStruct(ObjectWriter.struct().str(s)).bytes(b));
});

// A child writer changed after it was attached: finish() must refuse.
action("tchildchanged", (c: Call): void => {
  const child = ObjectWriter.vector().u8(1);
  const w = ObjectWriter.struct().vec(child);
  child.u8(2);
  c.ret(w.finish());
});

// (u8[]) read as a view and written back.
action("tbytesview", (c: Call): void => {
  const r = ObjectReader.struct(c.rawData);
  const v = r.bytesView();
  r.done();
  c.ret(ObjectWriter.struct().bytes(v).finish());
});

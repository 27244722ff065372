// fracpack (psibase doc/src/specifications/data-formats/fracpack.md) for services.
//
// Writing: an ObjectWriter collects one object's fixed area and the list of what its
// heap holds (packed children, byte strings, strings, child writers). Offsets are
// self-relative, so a variable-size child is position independent; `finish()` lays the
// whole object out in one buffer of its exact size, copying each piece once. A service
// answering with a large body (a 1.6 MB plugin from `sites`) therefore copies it once
// per hop, not once per nesting level and growth step.
//
// Reading: an ObjectReader walks the fields of one object in declaration order and
// enforces the spec's validation rules as it goes; `done()` finishes the object.

import { abortWith } from "./check";

/** How an object's fixed area is framed. */
export enum Layout {
  /** Extensible struct or tuple: u16 fixed size, then fields; trailing empty optionals are dropped. */
  Extensible,
  /** Vector or string: u32 fixed size, then elements. */
  Vector,
  /** Non-extensible struct, or a lone top-level value: no header. */
  Fixed,
}

const OFFSET_EMPTY: u32 = 0;
const OFFSET_NONE: u32 = 1;

/**
 * `n` bytes as the allocator hands them out, not zeroed: only for a buffer the caller
 * overwrites in full (zeroing a large buffer first costs as much as filling it).
 */
export function allocBytes(n: i32): Uint8Array {
  if (n < 0) abortWith("allocBytes: negative size");
  return Uint8Array.wrap(changetype<ArrayBuffer>(__new(<usize>n, idof<ArrayBuffer>())));
}

/** A growable byte buffer. */
export class Bytes {
  /** Capacity; only the first `length` bytes are written. */
  data: Uint8Array;
  length: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.data = allocBytes(max(capacity, 16));
  }

  reserve(extra: i32): usize {
    const need = this.length + extra;
    if (need > this.data.length) {
      const grown = allocBytes(max(need, this.data.length * 2));
      memory.copy(grown.dataStart, this.data.dataStart, <usize>this.length);
      this.data = grown;
    }
    const at = this.data.dataStart + <usize>this.length;
    this.length = need;
    return at;
  }

  u8(v: u8): void { store<u8>(this.reserve(1), v); }
  u16(v: u16): void { store<u16>(this.reserve(2), v); }
  u32(v: u32): void { store<u32>(this.reserve(4), v); }
  u64(v: u64): void { store<u64>(this.reserve(8), v); }
  f32(v: f32): void { store<f32>(this.reserve(4), v); }
  f64(v: f64): void { store<f64>(this.reserve(8), v); }

  append(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    memory.copy(at, bytes.dataStart, <usize>bytes.length);
  }

  patchU32(pos: i32, v: u32): void { store<u32>(this.data.dataStart + <usize>pos, v); }

  /**
   * The bytes written. A buffer written to its capacity is handed out as it is (the next
   * write reallocates, so it stays unchanged); otherwise a copy of the written part.
   */
  toBytes(): Uint8Array { return this.length == this.data.length ? this.data : this.data.slice(0, this.length); }
}

/** Pack a string as a top-level fracpack string (u32 length + UTF-8). */
export function packString(s: string): Uint8Array {
  const n = String.UTF8.byteLength(s);
  const out = allocBytes(4 + n);
  store<u32>(out.dataStart, <u32>n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, out.dataStart + 4);
  return out;
}

/** Pack bytes as a top-level fracpack `u8[]`. */
export function packBytes(b: Uint8Array): Uint8Array {
  const out = allocBytes(4 + b.length);
  store<u32>(out.dataStart, <u32>b.length);
  memory.copy(out.dataStart + 4, b.dataStart, <usize>b.length);
  return out;
}

// What a heap part holds.
const PART_PACKED: u8 = 0; // bytes already packed, copied as they are
const PART_BYTES: u8 = 1; // a `u8[]`: u32 length, then the bytes
const PART_STRING: u8 = 2; // a string: u32 length, then its UTF-8
const PART_WRITER: u8 = 3; // a child object, packed in place by its writer

/** One piece of an ObjectWriter's heap; `size` is what it takes in the packed object. */
class HeapPart {
  constructor(
    public kind: u8,
    public size: i32,
    public bytes: Uint8Array | null,
    public str: string | null,
    public writer: ObjectWriter | null,
  ) {}
}

/**
 * Writes one object: fixed-size fields inline, variable-size fields as offsets into the
 * heap. What goes into the heap (a packed child, the bytes of a `u8[]`, a string, a
 * child writer) is kept by reference until `finish()`, so it must not change before
 * then; a child writer that changes after it was attached makes `finish()` abort.
 */
export class ObjectWriter {
  private fixed: Bytes = new Bytes(32);
  private parts: HeapPart[] = [];
  private heapSize: i32 = 0;
  private slots: i32[] = [];
  private targets: i32[] = [];
  // Fixed-area length up to the last field that is not an empty optional.
  private required: i32 = 0;

  constructor(public layout: Layout = Layout.Extensible) {}

  static struct(): ObjectWriter { return new ObjectWriter(Layout.Extensible); }
  static vector(): ObjectWriter { return new ObjectWriter(Layout.Vector); }
  static fixed(): ObjectWriter { return new ObjectWriter(Layout.Fixed); }

  private field(): void { this.required = this.fixed.length; }

  bool(v: bool): ObjectWriter { this.fixed.u8(v ? 1 : 0); this.field(); return this; }
  u8(v: u8): ObjectWriter { this.fixed.u8(v); this.field(); return this; }
  i8(v: i8): ObjectWriter { this.fixed.u8(<u8>v); this.field(); return this; }
  u16(v: u16): ObjectWriter { this.fixed.u16(v); this.field(); return this; }
  i16(v: i16): ObjectWriter { this.fixed.u16(<u16>v); this.field(); return this; }
  u32(v: u32): ObjectWriter { this.fixed.u32(v); this.field(); return this; }
  i32(v: i32): ObjectWriter { this.fixed.u32(<u32>v); this.field(); return this; }
  u64(v: u64): ObjectWriter { this.fixed.u64(v); this.field(); return this; }
  i64(v: i64): ObjectWriter { this.fixed.u64(<u64>v); this.field(); return this; }
  f32(v: f32): ObjectWriter { this.fixed.f32(v); this.field(); return this; }
  f64(v: f64): ObjectWriter { this.fixed.f64(v); this.field(); return this; }

  /** Inline the bytes of a fixed-size value (e.g. a packed non-extensible fixed struct). */
  raw(packed: Uint8Array): ObjectWriter { this.fixed.append(packed); this.field(); return this; }

  /** An offset slot pointing at `part`, which goes at the end of the heap. */
  private heapField(part: HeapPart): ObjectWriter {
    this.slots.push(this.fixed.length);
    this.targets.push(this.heapSize);
    this.fixed.u32(0);
    this.parts.push(part);
    this.heapSize += part.size;
    this.field();
    return this;
  }

  private empty(): ObjectWriter {
    this.fixed.u32(OFFSET_EMPTY);
    this.field();
    return this;
  }

  /** A variable-size field: an offset to `packed`, which goes into the heap as it is. */
  object(packed: Uint8Array): ObjectWriter {
    return this.heapField(new HeapPart(PART_PACKED, packed.length, packed, null, null));
  }

  /** A vector or string field, already packed; empty containers are stored as offset 0. */
  container(packed: Uint8Array): ObjectWriter {
    if (load<u32>(packed.dataStart) == 0) return this.empty();
    return this.object(packed);
  }

  str(s: string): ObjectWriter {
    const n = String.UTF8.byteLength(s);
    if (n == 0) return this.empty();
    return this.heapField(new HeapPart(PART_STRING, 4 + n, null, s, null));
  }

  bytes(b: Uint8Array): ObjectWriter {
    if (b.length == 0) return this.empty();
    return this.heapField(new HeapPart(PART_BYTES, 4 + b.length, b, null, null));
  }

  /** A vector field whose contents came from `ObjectWriter.vector()`. */
  vec(v: ObjectWriter): ObjectWriter {
    if (v.fixedSize() == 0) return this.empty();
    return this.child(v);
  }

  /** A struct field (extensible or variable-size non-extensible). */
  struct(s: ObjectWriter): ObjectWriter { return this.child(s); }

  private child(w: ObjectWriter): ObjectWriter {
    return this.heapField(new HeapPart(PART_WRITER, w.size(), null, null, w));
  }

  /** An empty optional. */
  none(): ObjectWriter { this.fixed.u32(OFFSET_NONE); return this; }

  /** A present optional of a fixed-size type: an offset to its bytes. */
  someRaw(packed: Uint8Array): ObjectWriter { return this.object(packed); }
  someBool(v: bool): ObjectWriter { return this.someRaw(ObjectWriter.fixed().bool(v).finish()); }
  someU8(v: u8): ObjectWriter { return this.someRaw(ObjectWriter.fixed().u8(v).finish()); }
  someU16(v: u16): ObjectWriter { return this.someRaw(ObjectWriter.fixed().u16(v).finish()); }
  someU32(v: u32): ObjectWriter { return this.someRaw(ObjectWriter.fixed().u32(v).finish()); }
  someI32(v: i32): ObjectWriter { return this.someRaw(ObjectWriter.fixed().i32(v).finish()); }
  someU64(v: u64): ObjectWriter { return this.someRaw(ObjectWriter.fixed().u64(v).finish()); }
  someI64(v: i64): ObjectWriter { return this.someRaw(ObjectWriter.fixed().i64(v).finish()); }

  // An optional of a variable-size type shares the inner value's offset, so a present
  // `optional<string>` is written exactly like a string field.
  optStr(s: string | null): ObjectWriter { return s === null ? this.none() : this.str(s); }
  optBytes(b: Uint8Array | null): ObjectWriter { return b === null ? this.none() : this.bytes(b); }
  optObject(packed: Uint8Array | null): ObjectWriter { return packed === null ? this.none() : this.object(packed); }
  /** An optional struct given by its writer. */
  optStruct(s: ObjectWriter | null): ObjectWriter { return s === null ? this.none() : this.struct(s); }

  // The spec: trailing empty optionals of extensible structs and tuples are omitted.
  private fixedSize(): i32 { return this.layout == Layout.Extensible ? this.required : this.fixed.length; }
  private headerSize(): i32 { return this.layout == Layout.Extensible ? 2 : this.layout == Layout.Vector ? 4 : 0; }

  /** The size of the packed object as it stands. */
  size(): i32 { return this.headerSize() + this.fixedSize() + this.heapSize; }

  finish(): Uint8Array {
    const out = allocBytes(this.size());
    this.writeTo(out.dataStart);
    return out;
  }

  /** Packs the object at `at`, which has room for `size()` bytes. */
  private writeTo(at: usize): void {
    const fixedSize = this.fixedSize();
    const header = this.headerSize();
    if (this.layout == Layout.Extensible) {
      if (fixedSize > 0xffff) abortWith("fracpack: struct fixed area exceeds 65535 bytes");
      store<u16>(at, <u16>fixedSize);
    } else if (this.layout == Layout.Vector) {
      store<u32>(at, <u32>fixedSize);
    }
    const fixedAt = at + <usize>header;
    memory.copy(fixedAt, this.fixed.data.dataStart, <usize>fixedSize);
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      store<u32>(fixedAt + <usize>slot, <u32>(fixedSize + this.targets[i] - slot));
    }
    let pos = fixedAt + <usize>fixedSize;
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i];
      const kind = part.kind;
      if (kind == PART_PACKED) {
        memory.copy(pos, part.bytes!.dataStart, <usize>part.size);
      } else if (kind == PART_BYTES) {
        const b = part.bytes!;
        if (4 + b.length != part.size) abortWith("fracpack: bytes changed after they were written");
        store<u32>(pos, <u32>b.length);
        memory.copy(pos + 4, b.dataStart, <usize>b.length);
      } else if (kind == PART_STRING) {
        const s = part.str!;
        store<u32>(pos, <u32>(part.size - 4));
        String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, pos + 4);
      } else {
        const w = part.writer!;
        if (w.size() != part.size) abortWith("fracpack: a child writer changed after it was attached");
        w.writeTo(pos);
      }
      pos += <usize>part.size;
    }
  }
}

function fail(what: string): void {
  abortWith("fracpack: " + what);
}

/**
 * Reads one object's fields in order. The heap must be laid out in field order
 * without gaps; `heapEnd` is where the next variable-size child must start, or,
 * when an unknown child left its end unknown, the least position it may start at.
 */
export class ObjectReader {
  data: Uint8Array;
  pos: i32;
  fixedStart: i32;
  fixedEnd: i32;
  heapEnd: i32;
  heapKnown: bool = true;
  finished: bool = false;
  private isRoot: bool;
  private layout: Layout;
  private child: ObjectReader | null = null;
  // Position just after the last slot that held an empty optional.
  private lastNoneEnd: i32 = -1;
  // The size of the container containerField() found last.
  private viewSize: i32 = 0;

  // `fixedSize` is needed only for Layout.Fixed, whose size the data does not record.
  constructor(data: Uint8Array, at: i32, layout: Layout, isRoot: bool, fixedSize: i32 = 0) {
    this.data = data;
    this.layout = layout;
    this.isRoot = isRoot;
    if (layout == Layout.Extensible) {
      this.need(at, 2);
      this.pos = at + 2;
      this.fixedEnd = this.pos + <i32>load<u16>(data.dataStart + <usize>at);
    } else if (layout == Layout.Vector) {
      this.need(at, 4);
      this.pos = at + 4;
      const size = load<u32>(data.dataStart + <usize>at);
      if (size > <u32>(data.length - this.pos)) fail("vector size out of bounds");
      this.fixedEnd = this.pos + <i32>size;
    } else {
      this.need(at, fixedSize);
      this.pos = at;
      this.fixedEnd = at + fixedSize;
    }
    if (this.fixedEnd > data.length) fail("fixed area out of bounds");
    this.fixedStart = this.pos;
    this.heapEnd = this.fixedEnd;
  }

  /** Read a packed extensible struct or tuple (e.g. action arguments). */
  static struct(data: Uint8Array): ObjectReader { return new ObjectReader(data, 0, Layout.Extensible, true); }
  /** Read a packed vector. */
  static vector(data: Uint8Array): ObjectReader { return new ObjectReader(data, 0, Layout.Vector, true); }
  /**
   * Read a packed non-extensible struct whose fixed area is `fixedSize` bytes, or a lone
   * top-level value (fixedSize = its size; 4 for an optional).
   */
  static fixed(data: Uint8Array, fixedSize: i32): ObjectReader { return new ObjectReader(data, 0, Layout.Fixed, true, fixedSize); }

  private need(at: i32, size: i32): void {
    if (at < 0 || size > this.data.length - at) fail("read out of bounds");
  }

  private fixedField(size: i32): usize {
    if (this.finished) fail("object already finished");
    if (this.pos + size > this.fixedEnd) fail("missing field");
    const at = this.data.dataStart + <usize>this.pos;
    this.pos += size;
    return at;
  }

  bool(): bool {
    const v = load<u8>(this.fixedField(1));
    if (v > 1) fail("bool must be 0 or 1");
    return v == 1;
  }
  u8(): u8 { return load<u8>(this.fixedField(1)); }
  i8(): i8 { return load<i8>(this.fixedField(1)); }
  u16(): u16 { return load<u16>(this.fixedField(2)); }
  i16(): i16 { return load<i16>(this.fixedField(2)); }
  u32(): u32 { return load<u32>(this.fixedField(4)); }
  i32(): i32 { return load<i32>(this.fixedField(4)); }
  u64(): u64 { return load<u64>(this.fixedField(8)); }
  i64(): i64 { return load<i64>(this.fixedField(8)); }
  f32(): f32 { return load<f32>(this.fixedField(4)); }
  f64(): f64 { return load<f64>(this.fixedField(8)); }
  /** The bytes of a fixed-size value of `size` bytes. */
  raw(size: i32): Uint8Array {
    const at = this.pos;
    this.fixedField(size);
    return this.data.slice(at, at + size);
  }

  /** Settle the end of the previous child object, which must be fully read by now. */
  private settleChild(): void {
    const child = this.child;
    if (child === null) return;
    if (!child.finished) child.done();
    this.heapKnown = child.heapKnown;
    this.heapEnd = child.heapEnd;
    this.child = null;
  }

  // Checks a heap target against the spec's ordering rules and moves past `size` bytes
  // when the size is known (size < 0: the child reader will report its own end).
  private claim(target: i32, size: i32): void {
    this.settleChild();
    if (this.heapKnown ? target != this.heapEnd : target < this.heapEnd) fail("offset does not follow the previous object");
    if (target >= this.data.length && size != 0) fail("offset out of bounds");
    if (size >= 0) {
      this.need(target, size);
      this.heapEnd = target + size;
      this.heapKnown = true;
    }
  }

  /**
   * Reads the offset in the next slot; returns its target, -1 for offset 0, -2 for an
   * empty optional. Optionals the writer left out (older writer, or trailing empties)
   * never get here: isNone() consumes them.
   */
  private slot(): i32 {
    const at = this.pos;
    const offset = load<u32>(this.fixedField(4));
    if (offset == OFFSET_EMPTY) return -1;
    if (offset == OFFSET_NONE) {
      this.lastNoneEnd = this.pos;
      return -2;
    }
    if (offset < 4) fail("reserved offset");
    if (<u64>at + <u64>offset > <u64>this.data.length) fail("offset out of bounds");
    return at + <i32>offset;
  }

  /** Checks the container at `target` and moves past it; returns its size (its contents follow the u32 size). */
  private containerAt(target: i32): i32 {
    this.claim(target, 4);
    const size = load<u32>(this.data.dataStart + <usize>target);
    if (size == 0) fail("empty container must use offset 0");
    this.claim(target + 4, <i32>min(size, <u32>i32.MAX_VALUE));
    return <i32>size;
  }

  /** Where the contents of the next `u8[]` or string field start (-1 when it is empty) and, in `viewSize`, their size. */
  private containerField(): i32 {
    const target = this.slot();
    if (target == -2) fail("unexpected empty optional");
    if (target == -1) {
      this.viewSize = 0;
      return -1;
    }
    this.viewSize = this.containerAt(target);
    return target + 4;
  }

  /** A `u8[]` (or `hex`) field, copied. */
  bytes(): Uint8Array {
    const at = this.containerField();
    if (at < 0) return new Uint8Array(0);
    return this.data.slice(at, at + this.viewSize);
  }

  /**
   * A `u8[]` field as a view into the data being read, not a copy: for large payloads
   * passed on as they are. It shares the data's buffer (so its `.buffer` is the whole
   * data's) and sees any change made to the data.
   */
  bytesView(): Uint8Array {
    const at = this.containerField();
    if (at < 0) return new Uint8Array(0);
    return this.data.subarray(at, at + this.viewSize);
  }

  /** A string field. */
  str(): string {
    const at = this.containerField();
    if (at < 0) return "";
    return String.UTF8.decodeUnsafe(this.data.dataStart + <usize>at, <usize>this.viewSize);
  }

  private childAt(layout: Layout, fixedSize: i32 = 0): ObjectReader {
    const target = this.slot();
    if (target == -2) fail("unexpected empty optional");
    if (target == -1) {
      if (layout != Layout.Vector) fail("offset 0 is only for empty containers");
      // An empty vector occupies no heap; hand out a reader over zero elements.
      return new ObjectReader(EMPTY_VECTOR, 0, Layout.Vector, false);
    }
    this.claim(target, -1);
    const child = new ObjectReader(this.data, target, layout, false, fixedSize);
    if (layout == Layout.Vector && child.fixedEnd == child.pos) fail("empty container must use offset 0");
    this.child = child;
    return child;
  }

  /** An extensible struct or tuple field. */
  struct(): ObjectReader { return this.childAt(Layout.Extensible); }
  /** A vector field; read its elements with the returned reader and `count()`. */
  vector(): ObjectReader { return this.childAt(Layout.Vector); }
  /** A non-extensible struct with variable-size fields; `fixedSize` is the size of its fixed area. */
  fixedStruct(fixedSize: i32): ObjectReader { return this.childAt(Layout.Fixed, fixedSize); }

  /**
   * Whether the next optional field is empty. An empty one is consumed; a present one
   * is left for the matching reader: `str()`, `bytes()`, `struct()`, `vector()` for
   * variable-size types (they share the offset), `someU8()` etc. for fixed-size ones.
   */
  isNone(): bool {
    if (this.layout == Layout.Extensible && this.pos >= this.fixedEnd) {
      this.pos += 4;
      return true;
    }
    if (this.pos + 4 > this.fixedEnd) fail("missing field");
    if (load<u32>(this.data.dataStart + <usize>this.pos) != OFFSET_NONE) return false;
    this.pos += 4;
    this.lastNoneEnd = this.pos;
    return true;
  }

  private someFixed(size: i32): usize {
    const target = this.slot();
    if (target < 0) fail(target == -2 ? "unexpected empty optional" : "offset 0 is only for empty containers");
    this.claim(target, size);
    return this.data.dataStart + <usize>target;
  }

  someBool(): bool {
    const v = load<u8>(this.someFixed(1));
    if (v > 1) fail("bool must be 0 or 1");
    return v == 1;
  }
  someU8(): u8 { return load<u8>(this.someFixed(1)); }
  someU16(): u16 { return load<u16>(this.someFixed(2)); }
  someU32(): u32 { return load<u32>(this.someFixed(4)); }
  someI32(): i32 { return load<i32>(this.someFixed(4)); }
  someU64(): u64 { return load<u64>(this.someFixed(8)); }
  someI64(): i64 { return load<i64>(this.someFixed(8)); }

  /** Number of elements of a vector whose elements take `elementSize` bytes of its fixed area (4 for variable-size elements). */
  count(elementSize: i32): i32 {
    const size = this.fixedEnd - this.fixedStart;
    if (size % elementSize != 0) fail("vector size is not a multiple of the element size");
    return size / elementSize;
  }

  /** Whether a vector reader has more elements. */
  more(): bool { return this.pos < this.fixedEnd; }

  /** Finish the object: checks unknown trailing fields and, at the top level, that nothing follows. */
  done(): void {
    if (this.finished) return;
    this.settleChild();
    if (this.layout == Layout.Extensible && this.pos < this.fixedEnd) {
      // Fields from a newer version of the type: each must be a valid offset; their data is skipped.
      if ((this.fixedEnd - this.pos) % 4 != 0) fail("unknown fields are not offsets");
      while (this.pos < this.fixedEnd) {
        const target = this.slot();
        if (target >= 0) {
          this.claim(target, -1);
          this.heapEnd = target;
          this.heapKnown = false;
        }
      }
    }
    if (this.layout == Layout.Vector && this.pos != this.fixedEnd) fail("vector elements left unread");
    if (this.layout == Layout.Extensible && this.fixedEnd > this.fixedStart && this.lastNoneEnd == this.fixedEnd) {
      fail("last field is an empty optional");
    }
    if (this.layout == Layout.Fixed && this.pos != this.fixedEnd) fail("fields left unread");
    this.finished = true;
    if (this.isRoot && this.heapKnown && this.heapEnd != this.data.length) fail("extra data after object");
  }
}

const EMPTY_VECTOR = new Uint8Array(4);

/** Read a top-level string (u32 length + UTF-8). */
export function readString(data: Uint8Array): string {
  checkTopLevelContainer(data);
  return String.UTF8.decodeUnsafe(data.dataStart + 4, <usize>(data.length - 4));
}

/** Read a top-level `u8[]`. */
export function readBytes(data: Uint8Array): Uint8Array {
  checkTopLevelContainer(data);
  return data.slice(4);
}

function checkTopLevelContainer(data: Uint8Array): void {
  if (data.length < 4) fail("read out of bounds");
  const size = load<u32>(data.dataStart);
  if (<u64>size + 4 != <u64>data.length) fail(<u64>size + 4 > <u64>data.length ? "read out of bounds" : "extra data after object");
}

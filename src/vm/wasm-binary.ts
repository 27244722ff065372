/**
 * Just enough of the wasm binary format (WebAssembly core spec §5) to rewrite a
 * service module: LEB128 numbers, sections, and the length of every instruction the
 * host accepts. Only code that already passed WebAssembly validation is read here, so
 * the reader trusts the structure and only checks what validation lets through but
 * the host refuses (instructions outside psibase's feature set).
 */
import { ModuleError } from './errors.ts';

export const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7,
  start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13,
} as const;

/** Spec §5.5.2: the order non-custom sections must appear in (tag sits between memory and global). */
const SECTION_RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

export function sectionRank(id: number): number {
  return SECTION_RANK[id] ?? 0;
}

export interface Section {
  id: number;
  /** Content, without the id and size. */
  start: number;
  end: number;
}

const utf8 = new TextDecoder();

/** A cursor over the module's bytes. */
export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}

  u8(): number {
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128 up to 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.bytes[this.pos++];
      if (b === undefined) throw new ModuleError('truncated wasm');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }

  /** Signed LEB128 up to 64 bits. */
  s64(): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.bytes[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    return b & 0x40 ? result - (1n << shift) : result;
  }

  /** Skips a LEB128 number of any width and signedness. */
  skipLeb(): void {
    while ((this.bytes[this.pos++]! & 0x80) !== 0);
  }

  name(): string {
    const n = this.u32();
    const s = utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

export function sections(code: Uint8Array): Section[] {
  if (code.length < 8 || code[0] !== 0 || code[1] !== 0x61 || code[2] !== 0x73 || code[3] !== 0x6d)
    throw new ModuleError('service code is not a wasm module');
  const out: Section[] = [];
  const r = new Reader(code, 8);
  while (r.pos < code.length) {
    const id = r.u8();
    const size = r.u32();
    out.push({ id, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

/** A growable output buffer. */
export class Writer {
  private buf = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  u32(v: number): void {
    do {
      let b = v & 0x7f;
      v = Math.floor(v / 128);
      if (v > 0) b |= 0x80;
      this.byte(b);
    } while (v > 0);
  }

  /** Signed LEB128 of an i64 constant. */
  s64(v: bigint): void {
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return;
    }
  }

  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** What an instruction means to the metering pass. */
export const InstrKind = {
  plain: 0,
  /** Ends a basic block: block, loop, if, else, end, br, br_if, br_table, return, unreachable. */
  control: 1,
  /** `loop`: execution re-enters right after it on every iteration. */
  loop: 2,
  /** Bulk operation whose cost grows with its last operand, a byte count (memory.copy/fill/init). */
  bulkBytes: 3,
  /** Bulk operation whose cost grows with its last operand, an element count (table.copy/fill/init/grow). */
  bulkElements: 4,
  /** Changes instance state besides memory and globals: table.set, data.drop, elem.drop. */
  instanceState: 5,
} as const;
export type InstrKind = (typeof InstrKind)[keyof typeof InstrKind];

function unsupported(op: string): never {
  throw new ModuleError(`service code uses an instruction psibase does not support (${op})`);
}

/** memarg: alignment (bit 6 announces a memory index, multi-memory) and offset. */
function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.skipLeb();
  r.skipLeb();
}

/**
 * Advances `r` past one instruction and says what kind it is. Accepts the MVP plus what
 * psibase's toolchains emit (sign-ext, non-trapping float-to-int, bulk memory,
 * reference types, multi-value, SIMD); exceptions, tail calls, threads and GC are
 * refused as eos-vm refuses them.
 */
export function instruction(r: Reader): InstrKind {
  const op = r.u8();
  if (op >= 0x45 && op <= 0xc4) return InstrKind.plain;
  switch (op) {
    case 0x00: // unreachable
    case 0x05: // else
    case 0x0b: // end
    case 0x0f: // return
      return InstrKind.control;
    case 0x01: // nop
    case 0x1a: // drop
    case 0x1b: // select
    case 0xd1: // ref.is_null
      return InstrKind.plain;
    case 0x02: // block bt
    case 0x04: // if bt
      r.skipLeb();
      return InstrKind.control;
    case 0x03: // loop bt
      r.skipLeb();
      return InstrKind.loop;
    case 0x0c: // br l
    case 0x0d: // br_if l
      r.skipLeb();
      return InstrKind.control;
    case 0x0e: {
      // br_table vec(l) l
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.skipLeb();
      return InstrKind.control;
    }
    case 0x10: // call f
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x3f: // memory.size
    case 0x40: // memory.grow
    case 0x41: // i32.const
    case 0x42: // i64.const
    case 0xd0: // ref.null ht
    case 0xd2: // ref.func f
      r.skipLeb();
      return InstrKind.plain;
    case 0x26: // table.set
      r.skipLeb();
      return InstrKind.instanceState;
    case 0x11: // call_indirect type table
      r.skipLeb();
      r.skipLeb();
      return InstrKind.plain;
    case 0x1c: {
      // select t*: number and reference types are one byte each
      const n = r.u32();
      r.pos += n;
      return InstrKind.plain;
    }
    case 0x43: // f32.const
      r.pos += 4;
      return InstrKind.plain;
    case 0x44: // f64.const
      r.pos += 8;
      return InstrKind.plain;
    case 0xfc:
      return prefixedFC(r);
    case 0xfd:
      return prefixedSimd(r);
  }
  if (op >= 0x28 && op <= 0x3e) {
    memarg(r);
    return InstrKind.plain;
  }
  return unsupported(`opcode 0x${op.toString(16)}`);
}

function prefixedFC(r: Reader): InstrKind {
  const sub = r.u32();
  if (sub <= 7) return InstrKind.plain; // i32/i64.trunc_sat_*
  switch (sub) {
    case 8: // memory.init data mem
      r.skipLeb();
      r.skipLeb();
      return InstrKind.bulkBytes;
    case 9: // data.drop
    case 13: // elem.drop
      r.skipLeb();
      return InstrKind.instanceState;
    case 16: // table.size
      r.skipLeb();
      return InstrKind.plain;
    case 10: // memory.copy mem mem
      r.skipLeb();
      r.skipLeb();
      return InstrKind.bulkBytes;
    case 11: // memory.fill mem
      r.skipLeb();
      return InstrKind.bulkBytes;
    case 12: // table.init elem table
    case 14: // table.copy table table
      r.skipLeb();
      r.skipLeb();
      return InstrKind.bulkElements;
    case 15: // table.grow
    case 17: // table.fill
      r.skipLeb();
      return InstrKind.bulkElements;
  }
  return unsupported(`0xfc ${sub}`);
}

function prefixedSimd(r: Reader): InstrKind {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) memarg(r); // loads, stores, load_zero
  else if (sub === 12 || sub === 13) r.pos += 16; // v128.const, i8x16.shuffle
  else if (sub >= 21 && sub <= 34) r.pos += 1; // extract/replace lane
  else if (sub >= 84 && sub <= 91) {
    memarg(r); // load/store lane
    r.pos += 1;
  } else if (sub > 0x113) unsupported(`0xfd ${sub}`);
  return InstrKind.plain;
}

/**
 * Deterministic CPU metering and the memory limit, applied once per module when it is
 * loaded (ARCHITECTURE.md §4: a wall-clock limit would give validators different
 * verdicts). The module is rewritten at the binary level:
 *
 * - Every function entry and every loop header (where each iteration starts) takes
 *   the length of the basic block that begins there from a budget, and traps with
 *   `unreachable` once the budget is below zero. Any endless run passes one of these
 *   points endlessly, so every run ends; charging the block's instruction count makes
 *   the units roughly "instructions executed" at no extra cost.
 * - memory.copy/fill/init and table.copy/fill/init/grow also pay for their size, which
 *   one instruction can make arbitrarily large.
 * - The budget is a global the module defines and exports (an imported global costs V8
 *   an extra indirection on every access, doubling the cost of a tight loop); the
 *   host moves the transaction's remaining budget into the instance that runs and
 *   back out when it returns (TransactionContext.enterMeter). A trap while the budget
 *   is spent is therefore the meter's, and the host reports it as a CPU LimitError.
 * - Memory 0 becomes an import capped at psibase's VMOptions::max_pages, so memory.grow
 *   past the cap returns -1 as in psibase, and the host can hand a transaction a
 *   recycled memory instead of paying V8 for a fresh one (psibase's executionMemories).
 * - A wasm start function is exported instead, so that it runs under the meter when
 *   the service is first entered.
 * - Mutable globals are exported too, and the module's data segments and the globals'
 *   initial values are returned, so that the host can put a used instance back into
 *   the state of a fresh one (see ServiceInstance) when nothing else in it can change.
 */
import { MAX_PAGES } from './constants.ts';
import type { Signature } from './abi.ts';
import { LimitError, ModuleError } from './errors.ts';
import { InstrKind, Reader, SECTION, Writer, instruction, sectionRank, sections } from './wasm-binary.ts';
import type { Section } from './wasm-binary.ts';

/** The import module of what the host provides besides `env` and wasi; service code may not use it. */
export const HOST_MODULE = 'psiweb:host';
/** The field under which an instrumented module imports its memory. */
export const MEMORY_IMPORT = 'memory';
/** Export of the budget global (i64 meter units left; negative once spent). */
export const BUDGET_EXPORT = 'psiweb:budget';
/** Export of the module's wasm start function, if it has one. */
export const START_EXPORT = 'psiweb:start';
/** Prefix of the exports of mutable globals; the global's index follows. */
export const GLOBAL_EXPORT_PREFIX = 'psiweb:global';

/** Bulk operations pay one unit per this many bytes (memory) … */
const BYTES_PER_UNIT_SHIFT = 6;
/** … and per this many elements (tables). */
const ELEMENTS_PER_UNIT_SHIFT = 3;

export interface MemoryLimits {
  initial: number;
  maximum: number;
}

/**
 * How to return an instance to its state right after instantiation: zero its memory,
 * copy the active data segments back, and set the mutable globals to their initial
 * values. Only given for modules whose tables and segments never change (no table.set,
 * table.grow/fill/copy/init, data.drop or elem.drop) and whose globals start from
 * constants; the rest of an instance's state is then memory and globals.
 */
export interface ResetInfo {
  segments: { offset: number; bytes: Uint8Array }[];
  globals: { name: string; value: number | bigint }[];
}

export interface Instrumented {
  code: Uint8Array;
  /** The memory the module imports, or undefined when it has none. */
  memory: MemoryLimits | undefined;
  reset: ResetInfo | undefined;
}

const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const IMPORT_KINDS = ['function', 'table', 'memory', 'global', 'tag'];

function valtype(r: Reader): string {
  const t = VALTYPES[r.u8()];
  if (t === undefined) throw new ModuleError('service code uses a value type psibase does not support');
  return t;
}

interface FuncType {
  params: string[];
  results: string[];
}

function readTypes(code: Uint8Array, s: Section): FuncType[] {
  const r = new Reader(code, s.start);
  const types: FuncType[] = [];
  for (let n = r.u32(); n > 0; n--) {
    if (r.u8() !== 0x60) throw new ModuleError('service code uses a type psibase does not support');
    const params: string[] = [];
    for (let k = r.u32(); k > 0; k--) params.push(valtype(r));
    const results: string[] = [];
    for (let k = r.u32(); k > 0; k--) results.push(valtype(r));
    types.push({ params, results });
  }
  return types;
}

/**
 * Returns the instrumented module; throws ModuleError or LimitError on code the host
 * refuses. `code` must already have passed WebAssembly validation.
 */
export function instrument(code: Uint8Array, imports: Record<string, Record<string, Signature>>): Instrumented {
  const secs = sections(code);
  const find = (id: number) => secs.find((s) => s.id === id);
  const typeSec = find(SECTION.type);
  const types = typeSec ? readTypes(code, typeSec) : [];

  // Services import functions only, so the budget global's index is the number of
  // globals the module defines.
  let importCount = 0;
  const importSec = find(SECTION.import);
  if (importSec) {
    const r = new Reader(code, importSec.start);
    for (let n = (importCount = r.u32()); n > 0; n--) {
      const module = r.name();
      const name = r.name();
      const kind = r.u8();
      if (kind !== 0) throw new ModuleError(`service imports unknown ${IMPORT_KINDS[kind] ?? 'item'} ${module}.${name}`);
      const type = types[r.u32()];
      const expected = imports[module]?.[name];
      if (!expected) throw new ModuleError(`service imports unknown function ${module}.${name}`);
      if (type === undefined || type.params.join() !== expected.params.join() || type.results.join() !== expected.results.join())
        throw new ModuleError(`service imports ${module}.${name} with the wrong signature`);
    }
  }

  const funcSec = find(SECTION.function);
  const funcTypes: number[] = [];
  if (funcSec) {
    const r = new Reader(code, funcSec.start);
    for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
  }

  let memory: MemoryLimits | undefined;
  const memSec = find(SECTION.memory);
  if (memSec) {
    const r = new Reader(code, memSec.start);
    const count = r.u32();
    if (count > 1) throw new ModuleError('service code may define only one memory');
    if (count === 1) {
      const flags = r.u8();
      if (flags > 1) throw new ModuleError('service memory may not be shared or 64-bit');
      const initial = r.u32();
      const maximum = flags === 1 ? Math.min(r.u32(), MAX_PAGES) : MAX_PAGES;
      if (initial > MAX_PAGES) throw new LimitError('memory', `service memory starts at ${initial} pages, more than ${MAX_PAGES}`);
      memory = { initial, maximum };
    }
  }

  let definedGlobals = 0;
  let resettable = true;
  const globals: ResetInfo['globals'] = [];
  const globalSec = find(SECTION.global);
  if (globalSec) {
    const r = new Reader(code, globalSec.start);
    definedGlobals = r.u32();
    for (let i = 0; i < definedGlobals; i++) {
      r.pos++; // valtype: one byte for every type valtype() accepts
      const mutable = r.u8() === 1;
      const value = constant(r);
      if (mutable) {
        if (value === undefined) resettable = false;
        else globals.push({ name: `${GLOBAL_EXPORT_PREFIX}${i}`, value });
      }
    }
  }
  const budget = definedGlobals;

  const segments: ResetInfo['segments'] = [];
  const dataSec = find(SECTION.data);
  if (dataSec) {
    const r = new Reader(code, dataSec.start);
    for (let n = r.u32(); n > 0; n--) {
      const flags = r.u32();
      let offset: number | bigint | undefined;
      if (flags === 2) r.skipLeb(); // memory index
      if (flags !== 1) offset = constant(r);
      const size = r.u32();
      if (flags !== 1) {
        if (typeof offset === 'number') segments.push({ offset: offset >>> 0, bytes: code.slice(r.pos, r.pos + size) });
        else resettable = false;
      }
      r.pos += size;
    }
  }

  let exportCount = 0;
  const exportSec = find(SECTION.export);
  if (exportSec) {
    const r = new Reader(code, exportSec.start);
    for (let n = (exportCount = r.u32()); n > 0; n--) {
      const name = r.name();
      if (name.startsWith('psiweb:')) throw new ModuleError(`service exports the reserved name ${name}`);
      r.pos++;
      r.skipLeb();
    }
  }

  let start: number | undefined;
  const startSec = find(SECTION.start);
  if (startSec) start = new Reader(code, startSec.start).u32();

  // The rewritten sections, keyed by id; `null` drops a section.
  const replaced = new Map<number, Uint8Array | null>();
  const rest = (s: Section | undefined) => {
    if (!s) return new Uint8Array(0);
    const r = new Reader(code, s.start);
    r.u32();
    return code.subarray(r.pos, s.end);
  };
  if (memory) {
    const w = new Writer();
    w.u32(importCount + 1);
    w.bytes(rest(importSec));
    w.name(HOST_MODULE);
    w.name(MEMORY_IMPORT);
    w.byte(2);
    w.byte(1);
    w.u32(memory.initial);
    w.u32(memory.maximum);
    replaced.set(SECTION.import, w.finish());
  }
  if (memSec) replaced.set(SECTION.memory, null);
  {
    const w = new Writer();
    w.u32(definedGlobals + 1);
    w.bytes(rest(globalSec));
    w.bytes(Uint8Array.of(0x7e, 0x01, 0x42, 0x00, 0x0b)); // (mut i64) (i64.const 0)
    replaced.set(SECTION.global, w.finish());
  }
  {
    const w = new Writer();
    w.u32(exportCount + 1 + (start === undefined ? 0 : 1) + globals.length);
    w.bytes(rest(exportSec));
    w.name(BUDGET_EXPORT);
    w.byte(3);
    w.u32(budget);
    for (const g of globals) {
      w.name(g.name);
      w.byte(3);
      w.u32(Number(g.name.slice(GLOBAL_EXPORT_PREFIX.length)));
    }
    if (start !== undefined) {
      w.name(START_EXPORT);
      w.byte(0);
      w.u32(start);
    }
    replaced.set(SECTION.export, w.finish());
  }
  if (startSec) replaced.set(SECTION.start, null);
  const codeSec = find(SECTION.code);
  if (codeSec) {
    const metered = meterCode(code, codeSec, funcTypes.map((t) => types[t]?.params.length ?? 0), budget);
    replaced.set(SECTION.code, metered.code);
    if (metered.changesTables) resettable = false;
  }

  const out = new Writer();
  out.bytes(code.subarray(0, 8));
  const emit = (id: number, content: Uint8Array) => {
    out.byte(id);
    out.u32(content.length);
    out.bytes(content);
  };
  // Sections the module lacks are emitted where their rank says they belong.
  const pending = [...replaced].filter(([id, c]) => c !== null && !find(id)).sort((a, b) => sectionRank(a[0]) - sectionRank(b[0]));
  const flush = (rank: number) => {
    while (pending.length > 0 && sectionRank(pending[0]![0]) < rank) {
      const [id, content] = pending.shift()!;
      emit(id, content!);
    }
  };
  for (const s of secs) {
    if (s.id !== SECTION.custom) flush(sectionRank(s.id));
    const content = replaced.get(s.id);
    if (content === null) continue;
    emit(s.id, content ?? code.subarray(s.start, s.end));
  }
  flush(Infinity);
  return { code: out.finish(), memory, reset: resettable ? { segments, globals } : undefined };
}

/**
 * The value of a constant expression that is one number constant; undefined for
 * anything else, and for a NaN, whose payload a JS number may not keep.
 */
function constant(r: Reader): number | bigint | undefined {
  const start = r.pos;
  const op = r.u8();
  let value: number | bigint | undefined;
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset);
  if (op === 0x41) value = Number(r.s64());
  else if (op === 0x42) value = r.s64();
  else if (op === 0x43) {
    value = view.getFloat32(r.pos, true);
    r.pos += 4;
  } else if (op === 0x44) {
    value = view.getFloat64(r.pos, true);
    r.pos += 8;
  }
  if (value !== undefined && !(typeof value === 'number' && Number.isNaN(value)) && r.bytes[r.pos] === 0x0b) {
    r.pos++;
    return value;
  }
  r.pos = start;
  for (;;) {
    const at = r.pos;
    instruction(r);
    if (r.bytes[at] === 0x0b) return undefined;
  }
}

const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const GLOBAL_GET = 0x23;
const GLOBAL_SET = 0x24;
const I64_CONST = 0x42;
const I64_SUB = 0x7d;
const I64_SHR_U = 0x88;
const I64_EXTEND_I32_U = 0xad;
/** (if (i64.lt_s <budget> (i64.const 0)) (then unreachable)) */
const TRAP_IF_NEGATIVE = Uint8Array.of(0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b);

function op(out: Writer, opcode: number, index: number): void {
  out.byte(opcode);
  out.u32(index);
}

/** A charge point: before the instruction at `pos`, charge `cost` units (or a bulk operand). */
interface Charge {
  pos: number;
  cost: number;
  bulkShift: number;
}

function meterCode(code: Uint8Array, sec: Section, paramCounts: number[], budget: number): { code: Uint8Array; changesTables: boolean } {
  const r = new Reader(code, sec.start);
  const count = r.u32();
  const out = new Writer();
  out.u32(count);
  const body = new Writer();
  let changesTables = false;
  for (let f = 0; f < count; f++) {
    const size = r.u32();
    const end = r.pos + size;
    if (meterBody(r, end, paramCounts[f] ?? 0, budget, body)) changesTables = true;
    out.u32(body.length);
    out.bytes(body.finish());
    body.length = 0;
    r.pos = end;
  }
  return { code: out.finish(), changesTables };
}

/** Writes the metered body to `out`; returns whether it changes tables or segments. */
function meterBody(r: Reader, end: number, params: number, budget: number, out: Writer): boolean {
  const code = r.bytes;
  const localsStart = r.pos;
  const decls = r.u32();
  let locals = 0;
  for (let i = 0; i < decls; i++) {
    locals += r.u32();
    r.pos++;
  }
  const codeStart = r.pos;

  const charges: Charge[] = [];
  let open: Charge | undefined = { pos: codeStart, cost: 0, bulkShift: -1 };
  charges.push(open);
  let bulk = false;
  let changesTables = false;
  while (r.pos < end) {
    const at = r.pos;
    const kind = instruction(r);
    if (open) open.cost++;
    if (kind === InstrKind.instanceState) {
      changesTables = true;
    } else if (kind === InstrKind.bulkBytes || kind === InstrKind.bulkElements) {
      if (kind === InstrKind.bulkElements) changesTables = true;
      charges.push({ pos: at, cost: 0, bulkShift: kind === InstrKind.bulkBytes ? BYTES_PER_UNIT_SHIFT : ELEMENTS_PER_UNIT_SHIFT });
      bulk = true;
    } else if (kind !== InstrKind.plain) {
      open = undefined;
      if (kind === InstrKind.loop) charges.push((open = { pos: r.pos, cost: 0, bulkShift: -1 }));
    }
  }

  // A bulk charge keeps the operand in a scratch i32 local added after the others.
  const scratch = params + locals;
  if (bulk) {
    out.u32(decls + 1);
    const firstDecl = new Reader(code, localsStart);
    firstDecl.u32();
    out.bytes(code.subarray(firstDecl.pos, codeStart));
    out.byte(1);
    out.byte(0x7f); // one i32
  } else {
    out.bytes(code.subarray(localsStart, codeStart));
  }
  let copied = codeStart;
  for (const c of charges) {
    out.bytes(code.subarray(copied, c.pos));
    copied = c.pos;
    if (c.bulkShift < 0) {
      // budget -= cost
      op(out, GLOBAL_GET, budget);
      out.byte(I64_CONST);
      out.s64(BigInt(c.cost));
      out.byte(I64_SUB);
      op(out, GLOBAL_SET, budget);
    } else {
      // budget -= n >> shift, with n (the top operand) kept in the scratch local
      op(out, LOCAL_SET, scratch);
      op(out, GLOBAL_GET, budget);
      op(out, LOCAL_GET, scratch);
      out.byte(I64_EXTEND_I32_U);
      out.byte(I64_CONST);
      out.s64(BigInt(c.bulkShift));
      out.byte(I64_SHR_U);
      out.byte(I64_SUB);
      op(out, GLOBAL_SET, budget);
    }
    op(out, GLOBAL_GET, budget);
    out.bytes(TRAP_IF_NEGATIVE);
    if (c.bulkShift >= 0) op(out, LOCAL_GET, scratch);
  }
  out.bytes(code.subarray(copied, end));
  return changesTables;
}

/**
 * Imports for running an instrumented module outside a transaction (benchmarks,
 * tests); set its BUDGET_EXPORT global before calling in.
 */
export function meterImports(memory: MemoryLimits | undefined): WebAssembly.Imports {
  return memory ? { [HOST_MODULE]: { [MEMORY_IMPORT]: new WebAssembly.Memory(memory) } } : {};
}

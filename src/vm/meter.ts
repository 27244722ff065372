/**
 * Deterministic CPU metering and the memory limit, applied once per module when it is
 * loaded (ARCHITECTURE.md §4: a wall-clock limit would give validators different
 * verdicts). binaryen's `log-execution` pass places a call at every function entry,
 * function exit and loop header; we turn that call's target into a small wasm
 * function that takes one unit from a budget global shared by all instances of a
 * transaction and calls the host when the budget runs out. The host throws from that
 * call, which unwinds every wasm frame.
 */
import binaryen from 'binaryen';
import { MAX_PAGES } from './constants.ts';
import type { Signature } from './abi.ts';
import { LimitError, ModuleError } from './errors.ts';

/** The import module our instrumentation adds; service code may not use it. */
export const METER_MODULE = 'psiweb:meter';
export const METER_BUDGET = 'budget';
export const METER_EXHAUSTED = 'exhausted';
/** Export name under which memory 0 is always reachable by the host. */
export const HOST_MEMORY_EXPORT = 'psiweb:memory';

/**
 * What psibase's toolchains emit (+simd128,+bulk-memory,+sign-ext,+nontrapping-fptoint,
 * plus reference types and multivalue from current LLVM), and no more: binaryen's
 * newer encodings (e.g. compact imports) are not understood by every engine.
 */
const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.SignExt |
  binaryen.Features.SIMD128 |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.ReferenceTypes |
  binaryen.Features.Multivalue;

/**
 * Returns the instrumented module; throws ModuleError or LimitError on bad code.
 * `code` must already have passed WebAssembly validation: binaryen aborts its whole
 * runtime on some malformed input instead of throwing.
 */
export function instrument(code: Uint8Array, imports: Record<string, Record<string, Signature>>): Uint8Array {
  let mod: binaryen.Module;
  try {
    mod = binaryen.readBinary(code);
  } catch (e) {
    throw new ModuleError('service code is not valid wasm', { cause: e });
  }
  try {
    mod.setFeatures(FEATURES);
    checkSignatures(mod, imports);
    mod.runPasses(['log-execution']);
    replaceLogger(mod);
    if (mod.hasMemory() && !hasMemoryExport(mod)) mod.addMemoryExport('0', HOST_MEMORY_EXPORT);
    return limitMemory(mod.emitBinary());
  } finally {
    mod.dispose();
  }
}

function checkSignatures(mod: binaryen.Module, imports: Record<string, Record<string, Signature>>): void {
  const names = (types: Signature['params']) => types.map((t) => (t === 'i32' ? binaryen.i32 : binaryen.i64)).join(',');
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
    if (!info.module || info.base === null) continue;
    const expected = imports[info.module]?.[info.base];
    if (!expected) throw new ModuleError(`service imports unknown function ${info.module}.${info.base}`);
    const params = binaryen.expandType(info.params).join(',');
    const results = binaryen.expandType(info.results).join(',');
    if (params !== names(expected.params) || results !== names(expected.results))
      throw new ModuleError(`service imports ${info.module}.${info.base} with the wrong signature`);
  }
}

function replaceLogger(mod: binaryen.Module): void {
  let logger: string | undefined;
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
    if (info.module === 'env' && info.base === 'log_execution') logger = info.name;
  }
  // A module without functions has nothing to meter.
  if (logger === undefined) return;
  mod.removeFunction(logger);
  mod.addGlobalImport('psiweb$budget', METER_MODULE, METER_BUDGET, binaryen.i64, true);
  mod.addFunctionImport('psiweb$exhausted', METER_MODULE, METER_EXHAUSTED, binaryen.none, binaryen.none);
  const budget = () => mod.global.get('psiweb$budget', binaryen.i64);
  mod.addFunction(
    logger,
    binaryen.createType([binaryen.i32]),
    binaryen.none,
    [],
    mod.block(null, [
      mod.global.set('psiweb$budget', mod.i64.sub(budget(), mod.i64.const(1n))),
      mod.if(mod.i64.lt_s(budget(), mod.i64.const(0n)), mod.call('psiweb$exhausted', [], binaryen.none)),
    ]),
  );
}

function hasMemoryExport(mod: binaryen.Module): boolean {
  for (let i = 0; i < mod.getNumExports(); i++) {
    const info = binaryen.getExportInfo(mod.getExportByIndex(i));
    if (info.kind === binaryen.ExternalMemory) return true;
  }
  return false;
}

/**
 * Caps memory 0 at MAX_PAGES (psibase VMOptions::max_pages) by rewriting the memory
 * section's limits, so memory.grow past the cap returns -1 as it does in psibase.
 */
export function limitMemory(code: Uint8Array): Uint8Array {
  let pos = 8;
  while (pos < code.length) {
    const id = code[pos]!;
    const [size, sizeLen] = readLeb(code, pos + 1);
    const body = pos + 1 + sizeLen;
    const end = body + size;
    if (id === 5) {
      const [count, countLen] = readLeb(code, body);
      if (count > 1) throw new ModuleError('service code may define only one memory');
      if (count === 0) return code;
      let p = body + countLen;
      const flags = code[p++]!;
      if (flags > 1) throw new ModuleError('service memory may not be shared or 64-bit');
      const [initial, initialLen] = readLeb(code, p);
      p += initialLen;
      let max = MAX_PAGES;
      if (flags === 1) max = Math.min(readLeb(code, p)[0], MAX_PAGES);
      if (initial > MAX_PAGES) throw new LimitError('memory', `service memory starts at ${initial} pages, more than ${MAX_PAGES}`);
      const section = [...leb(1), 1, ...leb(initial), ...leb(max)];
      const out = new Uint8Array(code.length - (end - pos) + 1 + leb(section.length).length + section.length);
      out.set(code.subarray(0, pos));
      let o = pos;
      out[o++] = 5;
      for (const b of [...leb(section.length), ...section]) out[o++] = b;
      out.set(code.subarray(end), o);
      return out;
    }
    pos = end;
  }
  return code;
}

function readLeb(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  let i = pos;
  for (;;) {
    const b = bytes[i++];
    if (b === undefined) throw new ModuleError('truncated wasm section');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return [result, i - pos];
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

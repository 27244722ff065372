/**
 * Shared by the vm tests and benchmarks: a scriptable test service written in WAT
 * (one module exercising every host function, driven by the bytes of its action) and
 * helpers to build its scripts, state and actions.
 */
import wabt from 'wabt';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import type { Action } from '../protocol/types.ts';
import { MemoryKv } from '../state/memory-kv.ts';
import { WriteOverlay } from '../state/overlay.ts';

let wabtModule: Awaited<ReturnType<typeof wabt>> | undefined;

/** `features` adds wabt feature flags (e.g. `exceptions`, `tail_call`) to psibase's set. */
export async function wat2wasm(source: string, features: Record<string, boolean> = {}): Promise<Uint8Array> {
  wabtModule ??= await wabt();
  const parsed = wabtModule.parseWat('service.wat', source, {
    bulk_memory: true,
    mutable_globals: true,
    sign_extension: true,
    simd: true,
    reference_types: true,
    multi_value: true,
    ...features,
  });
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

export const Op = {
  open: 1, put: 2, remove: 3, get: 4, greaterEqual: 5, lessThan: 6, max: 7, getResult: 8, getKey: 9,
  call: 10, console: 11, abort: 12, loop: 14, openAt: 15, close: 16, exportHandles: 17,
  importHandles: 18, grow: 19, recurse: 20, outOfBounds: 21, checkout: 22, commit: 23, abortSubjective: 24,
} as const;

/** Builds the bytes the script service interprets: u32 opcodes, u32 numbers, u32-length blobs. */
export class Script {
  private readonly parts: Uint8Array[] = [];
  private u32(...values: number[]): this {
    const b = new Uint8Array(values.length * 4);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
    this.parts.push(b);
    return this;
  }
  private blob(data: Uint8Array | string): this {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.u32(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  open(db: number, prefix: Uint8Array, mode: number): this {
    return this.u32(Op.open, db).blob(prefix).u32(mode);
  }
  openAt(handle: number, prefix: Uint8Array, mode: number): this {
    return this.u32(Op.openAt, handle).blob(prefix).u32(mode);
  }
  close(handle: number): this {
    return this.u32(Op.close, handle);
  }
  put(handle: number, key: Uint8Array | string, value: Uint8Array | string): this {
    return this.u32(Op.put, handle).blob(key).blob(value);
  }
  remove(handle: number, key: Uint8Array | string): this {
    return this.u32(Op.remove, handle).blob(key);
  }
  get(handle: number, key: Uint8Array | string): this {
    return this.u32(Op.get, handle).blob(key);
  }
  greaterEqual(handle: number, key: Uint8Array | string, match: number): this {
    return this.u32(Op.greaterEqual, handle).blob(key).u32(match);
  }
  lessThan(handle: number, key: Uint8Array | string, match: number): this {
    return this.u32(Op.lessThan, handle).blob(key).u32(match);
  }
  max(handle: number, key: Uint8Array | string): this {
    return this.u32(Op.max, handle).blob(key);
  }
  getResult(size: number, offset: number): this {
    return this.u32(Op.getResult, size, offset);
  }
  getKey(size: number): this {
    return this.u32(Op.getKey, size);
  }
  call(action: Uint8Array, flags = 0): this {
    return this.u32(Op.call).blob(action).u32(flags);
  }
  console(text: string): this {
    return this.u32(Op.console).blob(text);
  }
  abort(text: string): this {
    return this.u32(Op.abort).blob(text);
  }
  loop(): this {
    return this.u32(Op.loop);
  }
  exportHandles(handles: number[]): this {
    const b = new Uint8Array(4 + handles.length * 4);
    const v = new DataView(b.buffer);
    v.setUint32(0, handles.length * 4, true);
    handles.forEach((h, i) => v.setUint32(4 + i * 4, h, true));
    return this.u32(Op.exportHandles).blob(b);
  }
  importHandles(): this {
    return this.u32(Op.importHandles);
  }
  grow(pages: number): this {
    return this.u32(Op.grow, pages);
  }
  recurse(): this {
    return this.u32(Op.recurse);
  }
  outOfBounds(): this {
    return this.u32(Op.outOfBounds);
  }
  checkout(): this {
    return this.u32(Op.checkout);
  }
  commit(): this {
    return this.u32(Op.commit);
  }
  abortSubjective(): this {
    return this.u32(Op.abortSubjective);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Reads the script service's output (its retval): u32 results and copied bytes. */
export class Output {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    return this.u32() | 0;
  }
  take(n: number): Uint8Array {
    const b = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  text(n: number): string {
    return new TextDecoder().decode(this.take(n));
  }
  get done(): boolean {
    return this.pos === this.bytes.length;
  }
}

export const scriptMethod = methodNumber('run');

export function scriptAction(sender: string | bigint, service: string | bigint, script: Script): Action {
  const n = (x: string | bigint) => (typeof x === 'string' ? accountNumber(x) : x);
  return { sender: n(sender), service: n(service), method: scriptMethod, rawData: script.bytes() };
}

/** The big-endian 8-byte account prefix psibase uses for a service's keys. */
export function accountPrefix(name: string): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, accountNumber(name), false);
  return b;
}

export function newState(): WriteOverlay {
  return new WriteOverlay(new MemoryKv());
}

/** The script service's source. Memory: action at 1024, output at 70000, scratch at 140000. */
export const SCRIPT_SERVICE_WAT = `
(module
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "getKey" (func $getKey (param i32 i32) (result i32)))
  (import "env" "writeConsole" (func $writeConsole (param i32 i32)))
  (import "env" "abortMessage" (func $abortMessage (param i32 i32)))
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "env" "call" (func $call (param i32 i32 i64) (result i32)))
  (import "env" "setRetval" (func $setRetval (param i32 i32)))
  (import "env" "kvOpen" (func $kvOpen (param i32 i32 i32 i32) (result i32)))
  (import "env" "kvOpenAt" (func $kvOpenAt (param i32 i32 i32 i32) (result i32)))
  (import "env" "kvClose" (func $kvClose (param i32)))
  (import "env" "exportHandles" (func $exportHandles (param i32 i32)))
  (import "env" "importHandles" (func $importHandles (result i32)))
  (import "env" "kvPut" (func $kvPut (param i32 i32 i32 i32 i32)))
  (import "env" "kvRemove" (func $kvRemove (param i32 i32 i32)))
  (import "env" "kvGet" (func $kvGet (param i32 i32 i32) (result i32)))
  (import "env" "kvGreaterEqual" (func $kvGreaterEqual (param i32 i32 i32 i32) (result i32)))
  (import "env" "kvLessThan" (func $kvLessThan (param i32 i32 i32 i32) (result i32)))
  (import "env" "kvMax" (func $kvMax (param i32 i32 i32) (result i32)))
  (import "env" "checkoutSubjective" (func $checkout))
  (import "env" "commitSubjective" (func $commit (result i32)))
  (import "env" "abortSubjective" (func $abortSubjective))
  (memory (export "memory") 4)
  (global $pc (mut i32) (i32.const 0))
  (global $out (mut i32) (i32.const 0))
  (global $blen (mut i32) (i32.const 0))
  (global $started (mut i64) (i64.const 0))
  (func (export "start") (param i64) (global.set $started (local.get 0)))
  (func $u32 (result i32) (local $v i32)
    (local.set $v (i32.load (global.get $pc)))
    (global.set $pc (i32.add (global.get $pc) (i32.const 4)))
    (local.get $v))
  (func $blob (result i32) (local $p i32)
    (global.set $blen (call $u32))
    (local.set $p (global.get $pc))
    (global.set $pc (i32.add (global.get $pc) (global.get $blen)))
    (local.get $p))
  (func $emit (param i32)
    (i32.store (global.get $out) (local.get 0))
    (global.set $out (i32.add (global.get $out) (i32.const 4))))
  (func $emitBytes (param $p i32) (param $n i32)
    (memory.copy (global.get $out) (local.get $p) (local.get $n))
    (global.set $out (i32.add (global.get $out) (local.get $n))))
  (func (export "called") (param i64 i64)
    (local $end i32) (local $op i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $savedPc i32) (local $savedOut i32)
    (drop (call $getCurrentAction))
    (drop (call $getResult (i32.const 1024) (i32.const 65536) (i32.const 0)))
    (global.set $pc (i32.const 1058))
    (local.set $end (i32.add (i32.const 1058)
      (select (i32.load (i32.const 1054)) (i32.const 0) (i32.load (i32.const 1050)))))
    (global.set $out (i32.const 70000))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (global.get $pc) (local.get $end)))
        (local.set $op (call $u32))
        (if (i32.eq (local.get $op) (i32.const 1)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob)) (local.set $c (global.get $blen))
          (call $emit (call $kvOpen (local.get $a) (local.get $b) (local.get $c) (call $u32)))))
        (if (i32.eq (local.get $op) (i32.const 2)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob)) (local.set $c (global.get $blen))
          (local.set $d (call $blob))
          (call $kvPut (local.get $a) (local.get $b) (local.get $c) (local.get $d) (global.get $blen))))
        (if (i32.eq (local.get $op) (i32.const 3)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob))
          (call $kvRemove (local.get $a) (local.get $b) (global.get $blen))))
        (if (i32.eq (local.get $op) (i32.const 4)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob))
          (call $emit (call $kvGet (local.get $a) (local.get $b) (global.get $blen)))))
        (if (i32.eq (local.get $op) (i32.const 5)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob)) (local.set $c (global.get $blen))
          (call $emit (call $kvGreaterEqual (local.get $a) (local.get $b) (local.get $c) (call $u32)))))
        (if (i32.eq (local.get $op) (i32.const 6)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob)) (local.set $c (global.get $blen))
          (call $emit (call $kvLessThan (local.get $a) (local.get $b) (local.get $c) (call $u32)))))
        (if (i32.eq (local.get $op) (i32.const 7)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob))
          (call $emit (call $kvMax (local.get $a) (local.get $b) (global.get $blen)))))
        (if (i32.eq (local.get $op) (i32.const 8)) (then
          (local.set $a (call $u32)) (local.set $b (call $u32))
          (memory.fill (i32.const 140000) (i32.const 0) (local.get $a))
          (call $emit (call $getResult (i32.const 140000) (local.get $a) (local.get $b)))
          (call $emitBytes (i32.const 140000) (local.get $a))))
        (if (i32.eq (local.get $op) (i32.const 9)) (then
          (local.set $a (call $u32))
          (memory.fill (i32.const 140000) (i32.const 0) (local.get $a))
          (call $emit (call $getKey (i32.const 140000) (local.get $a)))
          (call $emitBytes (i32.const 140000) (local.get $a))))
        (if (i32.eq (local.get $op) (i32.const 10)) (then
          (local.set $b (call $blob)) (local.set $c (global.get $blen))
          (local.set $a (call $u32))
          (local.set $savedPc (global.get $pc)) (local.set $savedOut (global.get $out))
          (local.set $d (call $call (local.get $b) (local.get $c) (i64.extend_i32_u (local.get $a))))
          (global.set $pc (local.get $savedPc)) (global.set $out (local.get $savedOut))
          (call $emit (local.get $d))))
        (if (i32.eq (local.get $op) (i32.const 11)) (then
          (local.set $b (call $blob)) (call $writeConsole (local.get $b) (global.get $blen))))
        (if (i32.eq (local.get $op) (i32.const 12)) (then
          (local.set $b (call $blob)) (call $abortMessage (local.get $b) (global.get $blen))))
        (if (i32.eq (local.get $op) (i32.const 14)) (then (loop $forever (br $forever))))
        (if (i32.eq (local.get $op) (i32.const 15)) (then
          (local.set $a (call $u32)) (local.set $b (call $blob)) (local.set $c (global.get $blen))
          (call $emit (call $kvOpenAt (local.get $a) (local.get $b) (local.get $c) (call $u32)))))
        (if (i32.eq (local.get $op) (i32.const 16)) (then (call $kvClose (call $u32))))
        (if (i32.eq (local.get $op) (i32.const 17)) (then
          (local.set $b (call $blob)) (call $exportHandles (local.get $b) (global.get $blen))))
        (if (i32.eq (local.get $op) (i32.const 18)) (then (call $emit (call $importHandles))))
        (if (i32.eq (local.get $op) (i32.const 19)) (then (call $emit (memory.grow (call $u32)))))
        (if (i32.eq (local.get $op) (i32.const 20)) (then
          (local.set $a (call $getCurrentAction))
          (drop (call $getResult (i32.const 200000) (local.get $a) (i32.const 0)))
          (local.set $savedPc (global.get $pc)) (local.set $savedOut (global.get $out))
          (local.set $d (call $call (i32.const 200000) (local.get $a) (i64.const 0)))
          (global.set $pc (local.get $savedPc)) (global.set $out (local.get $savedOut))
          (call $emit (local.get $d))))
        (if (i32.eq (local.get $op) (i32.const 21)) (then
          (call $emit (call $kvGet (i32.const 0) (i32.const 0xffffff00) (i32.const 1000)))))
        (if (i32.eq (local.get $op) (i32.const 22)) (then (call $checkout)))
        (if (i32.eq (local.get $op) (i32.const 23)) (then (call $emit (call $commit))))
        (if (i32.eq (local.get $op) (i32.const 24)) (then (call $abortSubjective)))
        (br $next)))
    (call $setRetval (i32.const 70000) (i32.sub (global.get $out) (i32.const 70000))))
)`;

import { beforeAll, describe, expect, it } from 'vitest';
import { IMPORTS } from './abi.ts';
import { LimitError, ModuleError } from './errors.ts';
import { ServiceHost } from './host.ts';
import { BUDGET_EXPORT, GLOBAL_EXPORT_PREFIX, HOST_MODULE, START_EXPORT, instrument, meterImports } from './meter.ts';
import { wat2wasm } from './test-kit.ts';

/**
 * One module using every kind of instruction immediate the rewriter must step over
 * (block types, br_table, select t, memarg, SIMD lanes and shuffles, bulk memory,
 * reference types, multi-value, float constants), each export a pure function of its
 * arguments and memory, so the metered module must give the same answers.
 */
const FEATURES_WAT = `
(module
  (type $binop (func (param i32 i32) (result i32)))
  (memory 1 4)
  (table 4 funcref)
  (elem (i32.const 0) $add $sub)
  (elem $passive func $add)
  (global $g (mut i64) (i64.const -5))
  (global $f (mut f64) (f64.const 1.5))
  (global $k i32 (i32.const 7))
  (data (i32.const 16) "abcdefgh")
  (data $p "passive!")
  (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
  (func (export "indirect") (param i32 i32 i32) (result i32)
    (call_indirect (type $binop) (local.get 1) (local.get 2) (local.get 0)))
  (func (export "table") (param i32) (result i32)
    (local.get 0)
    (block $b2 (result i32)
      (block $b1 (result i32)
        (block $b0 (result i32)
          (i32.const 100) (local.get 0) (br_table $b0 $b1 $b2)) (i32.const 1) (i32.add))
      (i32.const 2) (i32.add))
    (i32.add))
  (func (export "selects") (param i32) (result i64)
    (select (result i64) (i64.const 9) (global.get $g) (local.get 0)))
  (func $pair (param i32) (result i32 i32) (local.get 0) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "multi") (param i32) (result i32)
    (call $pair (local.get 0))
    (block (param i32 i32) (result i32) (i32.sub)))
  (func (export "simd") (param i32) (result i32)
    (local $v v128)
    (local.set $v (v128.const i32x4 1 2 3 4))
    (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get 0))))
    (local.set $v (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v)))
    (v128.store offset=64 (i32.const 0) (local.get $v))
    (local.set $v (v128.load32_lane 1 (i32.const 64) (local.get $v)))
    (local.set $v (i32x4.replace_lane 2 (local.get $v) (i32.load8_u (i32.const 17))))
    (i32.add (i32x4.extract_lane 1 (local.get $v))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 0 (v128.load32_splat (i32.const 64))))))
  (func (export "bulk") (param i32) (result i32)
    (memory.fill (i32.const 200) (local.get 0) (i32.const 100))
    (memory.copy (i32.const 300) (i32.const 16) (i32.const 8))
    (memory.init $p (i32.const 308) (i32.const 0) (i32.const 8))
    (table.init $passive (i32.const 2) (i32.const 0) (i32.const 1))
    (i32.add (i32.load8_u (i32.const 250))
      (i32.add (i32.load (i32.const 304)) (i32.load (i32.const 308)))))
  (func (export "refs") (param i32) (result i32)
    (i32.add (ref.is_null (ref.null func))
      (i32.add (ref.is_null (table.get (local.get 0))) (ref.is_null (ref.func $add)))))
  (func (export "numbers") (param f32) (result i32)
    (global.set $f (f64.add (global.get $f) (f64.promote_f32 (local.get 0))))
    (i32.add (i32.trunc_sat_f64_s (f64.mul (global.get $f) (f64.const 1e10)))
      (i32.add (i32.extend8_s (i32.const 0x80)) (global.get $k))))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "grow") (param i32) (result i32)
    (drop (memory.grow (local.get 0)))
    (memory.size))
  (func (export "loop") (param i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get $acc))
  (func (export "straight") (result i32) (i32.add (i32.const 1) (i32.const 2)))
  (func (export "fill") (param i32) (memory.fill (i32.const 0) (i32.const 0) (local.get 0))))`;

type Fn = (...args: number[]) => number | bigint;
let original: WebAssembly.Module;
let instrumented: ReturnType<typeof instrument>;

function fresh(): WebAssembly.Exports {
  return new WebAssembly.Instance(original).exports;
}

function metered(budget = 1n << 40n): { exports: WebAssembly.Exports; budget: WebAssembly.Global } {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(instrumented.code as Uint8Array<ArrayBuffer>), meterImports(instrumented.memory)).exports;
  const g = exports[BUDGET_EXPORT] as WebAssembly.Global;
  g.value = budget;
  return { exports, budget: g };
}

beforeAll(async () => {
  const code = await wat2wasm(FEATURES_WAT);
  original = new WebAssembly.Module(code as Uint8Array<ArrayBuffer>);
  instrumented = instrument(code, IMPORTS);
});

describe('metering instrumentation', () => {
  it('keeps every function’s results', () => {
    const calls: [string, number[]][] = [
      ['indirect', [0, 7, 3]], ['indirect', [1, 7, 3]], ['table', [0]], ['table', [1]], ['table', [2]], ['table', [9]],
      ['selects', [0]], ['selects', [1]], ['multi', [5]], ['simd', [10]], ['bulk', [3]], ['refs', [0]], ['refs', [3]],
      ['numbers', [0.25]], ['numbers', [-1e9]], ['fib', [15]], ['grow', [1]], ['grow', [9]], ['loop', [1000]],
    ];
    const a = fresh();
    const { exports: b } = metered();
    for (const [name, args] of calls) {
      const run = (e: WebAssembly.Exports) => {
        try {
          return (e[name] as Fn)(...args);
        } catch (err) {
          return `${(err as Error).constructor.name}: ${(err as Error).message}`;
        }
      };
      expect([name, args, run(b)]).toEqual([name, args, run(a)]);
    }
  });

  it('charges each call the length of its first basic block and each loop iteration the length of its own', () => {
    const { exports, budget } = metered(1000n);
    (exports.straight as Fn)();
    // i32.const, i32.const, i32.add, end
    expect(budget.value).toBe(1000n - 4n);
    budget.value = 1000n;
    (exports.loop as Fn)(10);
    // entry: loop; each pass: 10 instructions up to and including br_if
    expect(budget.value).toBe(1000n - 1n - 10n * 10n);
  });

  it('charges bulk operations for their size, one unit per 64 bytes', () => {
    const { exports, budget } = metered(1_000_000n);
    (exports.fill as Fn)(65536);
    // local.get, memory.fill … end: the first block (5 instructions), then 65536 / 64
    expect(budget.value).toBe(1_000_000n - 5n - 1024n);
  });

  it('traps with the budget below zero once it is spent, and never before', () => {
    const { exports, budget } = metered(200n);
    expect(() => (exports.loop as Fn)(1_000_000)).toThrow(WebAssembly.RuntimeError);
    expect(budget.value).toBeLessThan(0n);
    const enough = metered(1n + 10n * 10n);
    expect((enough.exports.loop as Fn)(10)).toBe(55);
    expect(enough.budget.value).toBe(0n);
    const oneShort = metered(10n * 10n);
    expect(() => (oneShort.exports.loop as Fn)(10)).toThrow(WebAssembly.RuntimeError);
  });

  it('imports memory capped at 512 pages, exports the budget and mutable globals, and says how to reset', async () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(instrumented.code as Uint8Array<ArrayBuffer>));
    expect(imports).toEqual([{ module: HOST_MODULE, name: 'memory', kind: 'memory' }]);
    expect(instrumented.memory).toEqual({ initial: 1, maximum: 4 });
    // The table is written by table.init, so this module's instances are not reused.
    expect(instrumented.reset).toBeUndefined();
    const plain = instrument(await wat2wasm('(module (memory 2) (global (mut i32) (i32.const 3)) (global i32 (i32.const 4)) (global (mut f32) (f32.const -0.5)) (data (i32.const 8) "xy") (data "p"))'), IMPORTS);
    expect(plain.memory).toEqual({ initial: 2, maximum: 512 });
    expect(plain.reset).toEqual({
      segments: [{ offset: 8, bytes: new TextEncoder().encode('xy') }],
      globals: [
        { name: `${GLOBAL_EXPORT_PREFIX}0`, value: 3 },
        { name: `${GLOBAL_EXPORT_PREFIX}2`, value: -0.5 },
      ],
    });
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(plain.code as Uint8Array<ArrayBuffer>)).map((e) => e.name);
    expect(exports).toEqual([BUDGET_EXPORT, `${GLOBAL_EXPORT_PREFIX}0`, `${GLOBAL_EXPORT_PREFIX}2`]);
    const nanGlobal = instrument(await wat2wasm('(module (global (mut f64) (f64.const nan:0x4)))'), IMPORTS);
    expect(nanGlobal.reset).toBeUndefined();
    const setsTable = instrument(await wat2wasm('(module (table 1 funcref) (func (table.set (i32.const 0) (ref.null func))))'), IMPORTS);
    expect(setsTable.reset).toBeUndefined();
  });

  it('turns a wasm start function into an export the host runs on first entry', async () => {
    const code = await wat2wasm('(module (global $x (export "x") (mut i32) (i32.const 0)) (func $s (global.set $x (i32.const 42))) (start $s))');
    const out = instrument(code, IMPORTS);
    const exports = new WebAssembly.Instance(new WebAssembly.Module(out.code as Uint8Array<ArrayBuffer>)).exports;
    expect((exports.x as WebAssembly.Global).value).toBe(0);
    (exports[BUDGET_EXPORT] as WebAssembly.Global).value = 100n;
    (exports[START_EXPORT] as () => void)();
    expect((exports.x as WebAssembly.Global).value).toBe(42);
  });

  it('refuses what eos-vm refuses: exceptions, tail calls, threads, several memories, reserved names', async () => {
    const refused = async (wat: string, features: Record<string, boolean> = {}) => {
      try {
        instrument(await wat2wasm(wat, features), IMPORTS);
        return undefined;
      } catch (e) {
        return e;
      }
    };
    const unsupported = { name: 'ModuleError', message: expect.stringMatching(/instruction psibase does not support/) };
    expect(await refused('(module (tag $e) (func (try (do (throw $e)) (catch_all))))', { exceptions: true })).toMatchObject(unsupported);
    expect(await refused('(module (func $f (return_call $f)))', { tail_call: true })).toMatchObject(unsupported);
    expect(await refused('(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))', { threads: true })).toMatchObject(unsupported);
    expect(await refused('(module (memory 1 1 shared))', { threads: true })).toBeInstanceOf(ModuleError);
    expect(await refused('(module (memory 1) (func (export "psiweb:budget")))')).toBeInstanceOf(ModuleError);
    expect(await refused('(module (memory 600))')).toBeInstanceOf(LimitError);
    expect(await refused('(module (import "env" "kvGet" (func (param i32))))')).toMatchObject({ message: 'service imports env.kvGet with the wrong signature' });
    expect(await refused('(module (import "env" "nope" (func)))')).toMatchObject({ message: 'service imports unknown function env.nope' });
  });

  it('refuses valid code with no room left for metering as a ModuleError, the same on every node', async () => {
    // 50000 locals is the JS API's limit; a bulk operation's charge needs one more.
    const full = await wat2wasm(`(module (memory 1) (func (local ${'i32 '.repeat(50000)}) (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))))`);
    expect(() => new ServiceHost().load(full)).toThrow(ModuleError);
  });
});

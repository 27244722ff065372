import { figure } from '../../test/bench-kit.ts';
import type { BenchFile } from '../../test/bench-kit.ts';
import { measure } from '../../test/measure.ts';
import { accountNumber } from '../protocol/names.ts';
import { packAction } from '../protocol/types.ts';
import type { Action } from '../protocol/types.ts';
import { ServiceHost } from './host.ts';
import { BUDGET_EXPORT, meterImports } from './meter.ts';
import { SCRIPT_SERVICE_WAT, Script, newState, scriptAction, scriptMethod, wat2wasm } from './test-kit.ts';

const LOOP_ITERATIONS = 1_000_000;
const LOOP_WAT = `
(module
  (memory (export "memory") 1)
  (func (export "start") (param i64))
  (func (export "spin") (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $acc))
  (func (export "called") (param i64 i64)))`;

/** Nested calls made by one action: enough that the action's own dispatch is noise. */
const CALLS_PER_ACTION = 1000;

/**
 * A caller whose action data is (u32 count, u32 doCall, packed Action): it loops `count`
 * times and, when doCall is set, calls the packed action on each pass. Running it with
 * doCall = 0 measures the same action and loop without the calls.
 */
const CALLER_WAT = `
(module
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "call" (func $call (param i32 i32 i64) (result i32)))
  (memory (export "memory") 2)
  (func (export "start") (param i64))
  (func (export "called") (param i64 i64) (local $len i32) (local $n i32) (local $doCall i32)
    (local.set $len (call $getCurrentAction))
    (drop (call $getResult (i32.const 1024) (local.get $len) (i32.const 0)))
    ;; packed Action: u16 fixed size, 3 x u64, u32 offset to rawData (= 4), u32 size, bytes
    (local.set $n (i32.load (i32.const 1058)))
    (local.set $doCall (i32.load (i32.const 1062)))
    (local.set $len (i32.sub (i32.load (i32.const 1054)) (i32.const 8)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (local.get $doCall) (then (drop (call $call (i32.const 1066) (local.get $len) (i64.const 0)))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))))`;

/** A callee that does nothing: what remains is the host's cost of a call. */
const EMPTY_WAT = `
(module
  (memory (export "memory") 1)
  (func (export "start") (param i64))
  (func (export "called") (param i64 i64)))`;

/**
 * Best µs per op of each function, measured in turns: figures that are differences or
 * ratios of two measurements must not compare a quiet moment with a busy one (other
 * work shares this machine's two cores).
 */
async function inTurns(fns: (() => unknown)[], turns = 4): Promise<number[]> {
  const best = fns.map(() => Infinity);
  for (let t = 0; t < turns; t++) {
    for (const [i, fn] of fns.entries()) best[i] = Math.min(best[i]!, (await measure(fn)).usPerOp);
  }
  return best;
}

function callerAction(count: number, doCall: boolean, inner: Action): Action {
  const packed = packAction(inner);
  const rawData = new Uint8Array(8 + packed.length);
  const view = new DataView(rawData.buffer);
  view.setUint32(0, count, true);
  view.setUint32(4, doCall ? 1 : 0, true);
  rawData.set(packed, 8);
  return { sender: accountNumber('alice'), service: accountNumber('alice'), method: scriptMethod, rawData };
}

const bench: BenchFile = async () => {
  const host = new ServiceHost();
  const script = await wat2wasm(SCRIPT_SERVICE_WAT);
  const caller = await wat2wasm(CALLER_WAT);
  const empty = await wat2wasm(EMPTY_WAT);
  const codes = new Map([
    [accountNumber('alice'), caller],
    [accountNumber('carol'), script],
    [accountNumber('dave'), empty],
  ]);
  const codeFor = (service: bigint) => {
    const code = codes.get(service);
    return code && { code };
  };
  // A warm transaction: its modules compiled and its instances started by a first run.
  // The CPU budget is raised so that the meter never ends a measured action.
  const tx = host.transaction({ state: newState(), codeFor, limits: { cpuBudget: 1n << 62n } });
  const run = (action: Action) => () => {
    const { error } = tx.runAction(action);
    if (error) throw error;
  };

  const perCall = async (inner: Action) => {
    const withCalls = run(callerAction(CALLS_PER_ACTION, true, inner));
    const withoutCalls = run(callerAction(CALLS_PER_ACTION, false, inner));
    withCalls();
    const [a, b] = await inTurns([withCalls, withoutCalls]);
    return (a! - b!) / CALLS_PER_ACTION;
  };
  const toScript = await perCall(scriptAction('alice', 'carol', new Script()));
  const toEmpty = await perCall({ sender: accountNumber('alice'), service: accountNumber('dave'), method: scriptMethod, rawData: new Uint8Array(0) });

  const plain = scriptAction('alice', 'carol', new Script());
  const warmAction = await measure(run(plain));
  const scriptCodeFor = () => ({ code: script });
  // host.runAction closes its transaction, so the next one reuses the instance.
  const reused = await measure(() => host.runAction({ state: newState(), codeFor: scriptCodeFor, action: plain }));
  // A transaction that is never closed leaves its instances to the garbage collector.
  const fresh = await measure(() => host.transaction({ state: newState(), codeFor: scriptCodeFor }).runAction(plain));

  const loop = await wat2wasm(LOOP_WAT);
  const unmetered = new WebAssembly.Instance(new WebAssembly.Module(loop as Uint8Array<ArrayBuffer>)).exports.spin as (n: number) => number;
  const loaded = host.load(loop);
  const meteredInstance = new WebAssembly.Instance(loaded.module, meterImports(loaded.memory));
  (meteredInstance.exports[BUDGET_EXPORT] as WebAssembly.Global).value = 1n << 62n;
  const metered = meteredInstance.exports.spin as (n: number) => number;
  const [plainLoop, meteredLoop] = (await inTurns([() => unmetered(LOOP_ITERATIONS), () => metered(LOOP_ITERATIONS)])) as [number, number];

  return [
    figure('vm: nested call overhead, warm (script service → script service)', 'node', toScript, 'µs', { op: '<=', value: 20, text: '≤ 20 µs' }),
    figure('vm: nested call overhead, warm (→ empty service)', 'node', toEmpty, 'µs'),
    figure('vm: top-level action in a warm transaction (script service)', 'node', warmAction.usPerOp, 'µs'),
    figure('vm: action in a new transaction, instance of a closed one reused (start, called)', 'node', reused.usPerOp, 'µs'),
    figure('vm: action in a new transaction, fresh instance (instantiate, start, called)', 'node', fresh.usPerOp, 'µs'),
    figure(`vm: loop of ${LOOP_ITERATIONS} iterations, unmetered`, 'node', plainLoop / 1000, 'ms'),
    figure(`vm: loop of ${LOOP_ITERATIONS} iterations, metered`, 'node', meteredLoop / 1000, 'ms'),
    figure('vm: metering overhead', 'node', meteredLoop / plainLoop, '×'),
  ];
};

export default bench;

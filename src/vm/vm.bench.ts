import { figure } from '../../test/bench-kit.ts';
import type { BenchFile } from '../../test/bench-kit.ts';
import { measure } from '../../test/measure.ts';
import { packAction } from '../protocol/types.ts';
import { ServiceHost } from './host.ts';
import { SCRIPT_SERVICE_WAT, Script, newState, scriptAction, wat2wasm } from './test-kit.ts';

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

const bench: BenchFile = async () => {
  const host = new ServiceHost();
  const code = await wat2wasm(SCRIPT_SERVICE_WAT);
  const codeFor = () => ({ code });

  const plain = scriptAction('alice', 'alice', new Script());
  const dispatch = await measure(() => host.runAction({ state: newState(), codeFor, action: plain }));

  // One transaction, one top-level action making 100 nested calls; per-call cost is
  // the difference from the same action without calls, divided by 100.
  const inner = packAction(scriptAction('alice', 'carol', new Script()));
  const calls = new Script();
  for (let i = 0; i < 100; i++) calls.call(inner);
  const withCalls = scriptAction('alice', 'alice', calls);
  const nested = await measure(() => host.runAction({ state: newState(), codeFor, action: withCalls }));
  const perCall = (nested.usPerOp - dispatch.usPerOp) / 100;

  const loop = await wat2wasm(LOOP_WAT);
  const unmetered = new WebAssembly.Instance(new WebAssembly.Module(loop as Uint8Array<ArrayBuffer>)).exports.spin as (n: number) => number;
  const metered = new WebAssembly.Instance(host.module(loop), {
    'psiweb:meter': {
      budget: new WebAssembly.Global({ value: 'i64', mutable: true }, 1n << 62n),
      exhausted: () => {
        throw new Error('budget');
      },
    },
  }).exports.spin as (n: number) => number;
  const plainLoop = await measure(() => unmetered(LOOP_ITERATIONS));
  const meteredLoop = await measure(() => metered(LOOP_ITERATIONS));

  return [
    figure('vm: nested call overhead (script service → script service)', 'node', perCall, 'µs', { op: '<=', value: 20, text: '≤ 20 µs' }),
    figure('vm: plain action dispatch (new transaction, instantiate, start, called)', 'node', dispatch.usPerOp, 'µs'),
    figure(`vm: loop of ${LOOP_ITERATIONS} iterations, unmetered`, 'node', plainLoop.usPerOp / 1000, 'ms'),
    figure(`vm: loop of ${LOOP_ITERATIONS} iterations, metered`, 'node', meteredLoop.usPerOp / 1000, 'ms'),
    figure('vm: metering overhead', 'node', meteredLoop.usPerOp / plainLoop.usPerOp, '×'),
  ];
};

export default bench;

import { beforeAll, describe, expect, it } from 'vitest';
import { accountNumber } from '../protocol/names.ts';
import { packAction } from '../protocol/types.ts';
import type { Action, ActionTrace } from '../protocol/types.ts';
import { CodeFlags } from './execution.ts';
import type { ServiceCode } from './execution.ts';
import { ServiceHost } from './host.ts';
import { Output, SCRIPT_SERVICE_WAT, Script, newState, scriptAction, wat2wasm } from './test-kit.ts';
import type { TransactionOptions } from './transaction.ts';

/**
 * A service whose state shows where it has been: each call counts in a global and in
 * memory, doubles a word its data segment set to 1, and reports those with how often
 * its wasm start function and its `start` ran and its memory size. The first byte of
 * its action data asks it to grow its memory (1) or to trap after counting (2).
 */
const COUNTER_WAT = `
(module
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "setRetval" (func $setRetval (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "\\01\\00\\00\\00")
  (global $calls (mut i32) (i32.const 0))
  (global $starts (mut i32) (i32.const 0))
  (global $wasmStarts (mut i32) (i32.const 0))
  (func $init (global.set $wasmStarts (i32.add (global.get $wasmStarts) (i32.const 1))))
  (start $init)
  (func (export "start") (param i64) (global.set $starts (i32.add (global.get $starts) (i32.const 1))))
  (func (export "called") (param i64 i64) (local $mode i32)
    (drop (call $getResult (i32.const 1024) (call $getCurrentAction) (i32.const 0)))
    (if (i32.load (i32.const 1050)) (then (local.set $mode (i32.load8_u (i32.const 1058)))))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store (i32.const 128) (i32.add (i32.load (i32.const 128)) (i32.const 1)))
    (i32.store (i32.const 64) (i32.mul (i32.load (i32.const 64)) (i32.const 2)))
    (if (i32.eq (local.get $mode) (i32.const 1)) (then (drop (memory.grow (i32.const 1)))))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then unreachable))
    (i32.store (i32.const 0) (global.get $calls))
    (i32.store (i32.const 4) (i32.load (i32.const 128)))
    (i32.store (i32.const 8) (i32.load (i32.const 64)))
    (i32.store (i32.const 12) (global.get $starts))
    (i32.store (i32.const 16) (global.get $wasmStarts))
    (i32.store (i32.const 20) (memory.size))
    (call $setRetval (i32.const 0) (i32.const 24))))`;

interface Seen {
  calls: number;
  counted: number;
  data: number;
  starts: number;
  wasmStarts: number;
  pages: number;
}

function seen(bytes: Uint8Array): Seen {
  const out = new Output(bytes);
  return { calls: out.u32(), counted: out.u32(), data: out.u32(), starts: out.u32(), wasmStarts: out.u32(), pages: out.u32() };
}

/** What a fresh counter reports after `n` calls in one transaction. */
const after = (n: number, pages = 1): Seen => ({ calls: n, counted: n, data: 2 ** n, starts: 1, wasmStarts: 1, pages });

const NORMAL = 0;
const GROW = 1;
const TRAP = 2;

let host: ServiceHost;
let counter: Uint8Array;
let script: Uint8Array;

beforeAll(async () => {
  counter = await wat2wasm(COUNTER_WAT);
  script = await wat2wasm(SCRIPT_SERVICE_WAT);
});

function codeFor(service: bigint): ServiceCode | undefined {
  if (service === accountNumber('carol')) return { code: counter };
  if (service === accountNumber('alice') || service === accountNumber('bob')) return { code: script, flags: CodeFlags.isPrivileged };
  return undefined;
}

const count = (mode = NORMAL): Action => ({
  sender: accountNumber('alice'),
  service: accountNumber('carol'),
  method: 0n,
  rawData: Uint8Array.of(mode),
});

function options(extra: Partial<TransactionOptions> = {}): TransactionOptions {
  return { state: newState(), codeFor, ...extra };
}

/** What the counter said to each of the script's calls. */
function nestedResults(retval: Uint8Array, calls: number): Seen[] {
  const out = new Output(retval);
  const results: Seen[] = [];
  for (let i = 0; i < calls; i++) {
    out.u32(); // call's result size
    expect(out.u32()).toBe(24);
    results.push(seen(out.take(24)));
  }
  return results;
}

function callCounter(times: number, flags: number[] = []): Action {
  const s = new Script();
  for (let i = 0; i < times; i++) s.call(packAction(count()), flags[i] ?? 0).getResult(24, 0);
  return scriptAction('alice', 'alice', s);
}

describe('service instances', () => {
  beforeAll(() => {
    host = new ServiceHost();
  });

  it('keep one instance per service for the whole transaction, its memory and globals too, as psibase does', () => {
    const tx = host.transaction(options());
    const first = tx.runAction(callCounter(3));
    expect(first.error).toBeUndefined();
    expect(nestedResults(first.trace.rawRetval, 3)).toEqual([after(1), after(2), after(3)]);
    const second = tx.runAction(count());
    expect(seen(second.trace.rawRetval)).toEqual(after(4));
    tx.close();
  });

  it('start every transaction from a fresh instance’s state, reused or not', () => {
    const loaded = host.load(counter);
    for (let i = 0; i < 3; i++) {
      const r = host.runAction({ ...options(), action: count() });
      expect(r.error).toBeUndefined();
      expect(seen(r.retval)).toEqual(after(1));
      // The closed transaction's instance is waiting for the next one.
      expect(loaded.idle).toHaveLength(1);
    }
    const tx = host.transaction(options());
    tx.runAction(count());
    expect(loaded.idle).toHaveLength(0);
    expect(seen(tx.runAction(count()).trace.rawRetval)).toEqual(after(2));
    tx.close();
  });

  it('do not carry a grown memory or a trapped run into the next transaction', () => {
    const grown = host.runAction({ ...options(), action: count(GROW) });
    expect(seen(grown.retval)).toEqual(after(1, 2));
    expect(seen(host.runAction({ ...options(), action: count() }).retval)).toEqual(after(1));
    const trapped = host.runAction({ ...options(), action: count(TRAP) });
    expect(trapped.error?.message).toMatch(/wasm trap: unreachable/);
    expect(seen(host.runAction({ ...options(), action: count() }).retval)).toEqual(after(1));
  });

  it('give a later action a fresh instance after one failed part-way', () => {
    const tx = host.transaction(options());
    expect(seen(tx.runAction(count()).trace.rawRetval)).toEqual(after(1));
    expect(tx.runAction(count(TRAP)).error).toBeDefined();
    expect(seen(tx.runAction(count()).trace.rawRetval)).toEqual(after(1));
    tx.close();
  });

  it('are separate for calls in another run mode (psibase’s altExecContexts)', () => {
    const r = host.runAction({ ...options(), action: callCounter(3, [0, 1, 0]) });
    expect(r.error).toBeUndefined();
    expect(nestedResults(r.retval, 3)).toEqual([after(1), after(1), after(2)]);
  });

  it('are separate for transactions open at the same time', () => {
    const a = host.transaction(options());
    const b = host.transaction(options());
    expect(seen(a.runAction(count()).trace.rawRetval)).toEqual(after(1));
    expect(seen(b.runAction(count()).trace.rawRetval)).toEqual(after(1));
    expect(seen(a.runAction(count()).trace.rawRetval)).toEqual(after(2));
    a.close();
    b.close();
  });

  it('cannot run after their transaction is closed', () => {
    const tx = host.transaction(options());
    tx.runAction(count());
    tx.close();
    expect(() => tx.runAction(count())).toThrow(/closed/);
  });
});

/**
 * A service that returns the whole of its memory as it finds it, then scribbles over
 * all of it: overlapping data segments, one far from the others, and two pages.
 */
const SNAPSHOT_WAT = `
(module
  (import "env" "setRetval" (func $setRetval (param i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) "abcdef")
  (data (i32.const 102) "XY")
  (data (i32.const 70000) "z")
  (global $g (mut i64) (i64.const 7))
  (func (export "start") (param i64))
  (func (export "called") (param i64 i64)
    (i64.store (i32.const 0) (global.get $g))
    (call $setRetval (i32.const 0) (i32.const 131072))
    (global.set $g (i64.const 9))
    (memory.fill (i32.const 0) (i32.const 0xab) (i32.const 131072))))`;

describe('instance reset', () => {
  it('gives a reused instance exactly a fresh instance’s memory and globals', async () => {
    const snapshot = await wat2wasm(SNAPSHOT_WAT);
    const codeFor = (): ServiceCode => ({ code: snapshot });
    const action: Action = { sender: 0n, service: accountNumber('dave'), method: 0n, rawData: new Uint8Array(0) };
    const expected = new Uint8Array(131072);
    expected[0] = 7;
    expected.set(new TextEncoder().encode('abXYef'), 100);
    expected[70000] = 'z'.charCodeAt(0);
    const reused = new ServiceHost();
    for (let i = 0; i < 3; i++) {
      const r = reused.runAction({ state: newState(), codeFor, action });
      expect(r.error).toBeUndefined();
      expect(r.retval).toEqual(expected);
      expect(reused.load(snapshot).idle).toHaveLength(1);
    }
  });
});

describe('nested calls', () => {
  beforeAll(() => {
    host = new ServiceHost();
  });

  it('give the callee its action exactly as psibase packs it', () => {
    const inner = scriptAction('alice', 'bob', new Script().getResult(200, 0));
    const r = host.runAction({ ...options(), action: scriptAction('alice', 'alice', new Script().call(packAction(inner)).getResult(200, 0)) });
    expect(r.error).toBeUndefined();
    const out = new Output(r.retval);
    const size = out.u32();
    expect(out.u32()).toBe(size);
    const calleeOut = new Output(out.take(size));
    const packed = packAction(inner);
    expect(calleeOut.u32()).toBe(packed.length);
    expect(calleeOut.take(200).subarray(0, packed.length)).toEqual(packed);
  });

  it('refuse an action with fields psibase does not know', () => {
    const packed = packAction(scriptAction('alice', 'bob', new Script()));
    const extended = new Uint8Array(packed.length + 4);
    const v = new DataView(extended.buffer);
    extended.set(packed.subarray(0, 30));
    v.setUint16(0, 32, true);
    v.setUint32(30, 0, true);
    const r = host.runAction({ ...options(), action: scriptAction('alice', 'alice', new Script().call(extended)) });
    expect(r.error?.message).toBe('call: invalid data format');
  });

  it('stop a callee that spends the whole budget with a CPU LimitError, in its trace and its caller’s', () => {
    const inner = scriptAction('alice', 'bob', new Script().loop());
    const r = host.runAction({ ...options({ limits: { cpuBudget: 100_000n } }), action: scriptAction('alice', 'alice', new Script().call(packAction(inner))) });
    expect(r.error).toMatchObject({ name: 'LimitError', kind: 'cpu' });
    const nested = r.trace.innerTraces[0]!.inner as { ActionTrace: ActionTrace };
    expect(nested.ActionTrace.error).toBe('CPU budget exhausted');
    expect(r.cpuUsed).toBeGreaterThanOrEqual(100_000n);
  });
});

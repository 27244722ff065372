import { simpleWasm } from '../../test/fixtures/psibase/simple.ts';
import { describe, expect, it } from 'vitest';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { ServiceHost } from './host.ts';
import { newState, wat2wasm } from './test-kit.ts';

const host = new ServiceHost();
const service = accountNumber('simple');

/** fracpack of the action arguments (a: i32, b: i32): u16 fixed size, then the fields. */
function args(a: number, b: number): Uint8Array {
  const out = new Uint8Array(10);
  const v = new DataView(out.buffer);
  v.setUint16(0, 8, true);
  v.setInt32(2, a, true);
  v.setInt32(6, b, true);
  return out;
}

function run(code: Uint8Array, method: string, rawData: Uint8Array) {
  return host.runAction({
    state: newState(),
    codeFor: () => ({ code }),
    action: { sender: accountNumber('alice'), service, method: methodNumber(method), rawData },
  });
}

/**
 * The imports of psibase's rust/cargo-psibase/test-data/simple.wasm (a wasm32-wasip1
 * service before cargo-psibase links its polyfill), each doing something observable.
 */
const SAME_IMPORTS_WAT = `
(module
  (import "env" "setRetval" (func $setRetval (param i32 i32)))
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "abortMessage" (func $abortMessage (param i32 i32)))
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi from wasi")
  (func (export "start") (param i64))
  (func (export "called") (param i64 i64)
    (local $n i32)
    (local.set $n (call $getCurrentAction))
    (drop (call $getResult (i32.const 1024) (local.get $n) (i32.const 0)))
    ;; method "exit" ends in proc_exit; anything else writes to stdout and returns env sizes
    (if (i64.eq (i64.load (i32.const 1042)) (i64.const ${methodNumber('exit')}))
      (then (call $proc_exit (i32.const 3))))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (i32.store (i32.const 100) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 104) (call $environ_sizes_get (i32.const 108) (i32.const 112)))
    (i32.store (i32.const 116) (call $environ_get (i32.const 0) (i32.const 0)))
    (i32.store (i32.const 120) (call $fd_write (i32.const 7) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $setRetval (i32.const 100) (i32.const 24)))
)`;

describe('wasi_snapshot_preview1 shim', () => {
  it('instantiates a module with simple.wasm’s import set and answers like psibase’s polyfill', async () => {
    const code = await wat2wasm(SAME_IMPORTS_WAT);
    const r = run(code, 'write', new Uint8Array(0));
    expect(r.error).toBeUndefined();
    expect(r.trace.innerTraces).toEqual([{ inner: { ConsoleTrace: { console: 'hi from wasi' } } }]);
    const v = new DataView(r.retval.buffer, r.retval.byteOffset);
    // fd_write ok, environ_sizes_get ok with 0 entries and 0 bytes, environ_get ok, fd 7 → EBADF
    expect([0, 4, 8, 12, 16, 20].map((o) => v.getInt32(o, true))).toEqual([0, 0, 0, 0, 0, 8]);
    const exit = run(code, 'exit', new Uint8Array(0));
    expect(exit.error?.message).toBe("service 'simple' aborted with message: ");
  });

  it('runs psibase’s simple.wasm (built by cargo-psibase) unchanged', () => {
    // psibase's rust/cargo-psibase/test-data/simple.wasm, kept in the repository (test/fixtures/psibase).
    const code = simpleWasm();
    const add = run(code, 'add', args(2, 40));
    expect(add.error).toBeUndefined();
    expect(new DataView(add.retval.buffer, add.retval.byteOffset).getInt32(0, true)).toBe(42);
    const mul = run(code, 'multiply', args(-3, 7));
    expect(new DataView(mul.retval.buffer, mul.retval.byteOffset).getInt32(0, true)).toBe(-21);
    const unknown = run(code, 'divide', args(1, 1));
    expect(unknown.error?.name).toBe('ServiceError');
  });
});

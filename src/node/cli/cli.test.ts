import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodNumber } from '../../protocol/names.ts';
import { serviceWasm } from '../service-build.ts';
import { runExec } from './exec.ts';
import { UsageError, capturingIo } from './io.ts';
import { runPush } from './push.ts';
import { parseStartArgs } from './start.ts';

// A cold services/build compiles db first.
const BUILD_TIMEOUT_MS = 180_000;


/** `hello`: prints, then returns its argument bytes; `fail`: aborts; serveSys: a fixed page. */
const WAT = `
(module
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "writeConsole" (func $writeConsole (param i32 i32)))
  (import "env" "abortMessage" (func $abortMessage (param i32 i32)))
  (import "env" "setRetval" (func $setRetval (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wat")
  (data (i32.const 48) "wat says no")
  (func (export "start") (param i64))
  (func (export "called") (param i64 i64)
    (local $size i32) (local $off i32)
    (local.set $size (call $getCurrentAction))
    (drop (call $getResult (i32.const 1024) (local.get $size) (i32.const 0)))
    ;; method "fail" aborts; anything else prints and echoes rawData
    (if (i64.eq (i64.load (i32.const 1042)) (i64.const ${BigInt.asIntN(64, methodNumber('fail')).toString()}))
      (then (call $abortMessage (i32.const 48) (i32.const 11))))
    (call $writeConsole (i32.const 16) (i32.const 14))
    (local.set $off (i32.load (i32.const 1050)))
    ;; rawData: an offset at +26 (relative to itself) to a u32 length and the bytes
    (call $setRetval (i32.add (i32.const 1054) (local.get $off)) (i32.load (i32.add (i32.const 1050) (local.get $off))))))
`;

let dir: string;
let watFile: string;
beforeAll(async () => {
  await serviceWasm('db');
  await serviceWasm('example');
  dir = mkdtempSync(join(tmpdir(), 'psiweb-cli-'));
  watFile = join(dir, 'echo.wat');
}, BUILD_TIMEOUT_MS);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('psiweb exec', () => {
  it('runs an action of a built service and prints its return value as hex', async () => {
    const io = capturingIo();
    const code = await runExec([join('services', 'build', 'example.wasm'), 'inc', '040005000000'], io);
    expect(code).toBe(0);
    expect(io.out).toBe('0500000000000000\n');
  });

  it("prints a service's abort message and exits 1", async () => {
    const io = capturingIo();
    expect(await runExec([join('services', 'build', 'example.wasm'), 'reset'], io)).toBe(1);
    expect(io.err).toBe("service 'example' aborted with message: unknown service action: reset\n");
    expect(io.out).toBe('');
  });

  it('runs a WAT module: console to stderr, return value to stdout', async () => {
    writeFileSync(watFile, WAT);
    const io = capturingIo();
    expect(await runExec([watFile, 'hello', 'cafe'], io)).toBe(0);
    expect(io.err).toBe('hello from wat\n');
    expect(io.out).toBe('cafe\n');
    const failed = capturingIo();
    expect(await runExec([watFile, 'fail'], failed)).toBe(1);
    expect(failed.err).toBe("service 'echo' aborted with message: wat says no\n");
  });

  it('answers --http with status, content type and body from serveSys', async () => {
    const { constantService, packOptionalReply, textReply } = await import('../../http/test-kit.ts');
    const file = join(dir, 'page.wasm');
    writeFileSync(file, await constantService({ retval: packOptionalReply(textReply(200, 'a page', [{ name: 'ETag', value: '"1"' }])) }));
    const io = capturingIo();
    expect(await runExec([file, '--http', 'GET', '/'], io)).toBe(0);
    expect(io.out).toBe('200 text/plain\nETag: "1"\n\na page\n');
  });

  it('refuses bad arguments with a UsageError naming the problem', async () => {
    const io = capturingIo();
    const bad = async (argv: string[], message: RegExp) => expect(runExec(argv, io)).rejects.toThrow(message);
    await bad([], /missing FILE/);
    await bad([join(dir, 'nope.wasm'), 'x'], /cannot read/);
    await bad([join('services', 'build', 'example.wasm')], /missing METHOD/);
    await bad([join('services', 'build', 'example.wasm'), 'inc', 'xyz'], /HEXARGS must be hex/);
    await bad([join('services', 'build', 'example.wasm'), 'in-c'], /invalid character in method name/);
    await bad([join('services', 'build', 'example.wasm'), 'inc', '--account', 'Not_A_Name'], /--account must be an account name/);
    await bad([join('services', 'build', 'example.wasm'), '--http', 'GET'], /--http takes a METHOD and a PATH/);
    writeFileSync(join(dir, 'broken.wat'), '(module (func');
    await bad([join(dir, 'broken.wat'), 'x'], /not valid WAT/);
  });

  it('reports a module that is not wasm as a failed run', async () => {
    const file = join(dir, 'junk.wasm');
    writeFileSync(file, 'not wasm at all');
    const io = capturingIo();
    expect(await runExec([file, 'x'], io)).toBe(1);
    expect(io.err).toContain('service code is not valid wasm');
  });
});

describe('psiweb push (arguments)', () => {
  const bad = (argv: string[], message: RegExp) => expect(runPush(argv, capturingIo())).rejects.toThrow(message);

  it('refuses bad arguments before touching the network', async () => {
    await bad(['alice', 'tokens', 'transfer'], /expected SENDER SERVICE METHOD JSON-ARGS, got 3/);
    await bad(['Alice!', 'tokens', 'transfer', '{}'], /SENDER must be a account name/);
    await bad(['alice', 'tokens', 'trans-fer', '{}'], /METHOD must be a method name/);
    await bad(['alice', 'tokens', 'transfer', '{nope'], /JSON-ARGS is not JSON/);
    await bad(['alice', 'tokens', 'transfer', '{}', '--wait', 'soon'], /--wait must be final or applied/);
    await bad(['alice', 'tokens', 'transfer', '{}', '--url', 'not a url'], /--url must be a URL/);
    await bad(['alice', 'tokens', 'transfer', '{"to":"bob","amount":"1","memo":""}', '--key', join(dir, 'missing.pem')], /cannot read --key/);
    await bad(['alice', 'tokens', 'transfer', '{}', '--bogus'], /Unknown option '--bogus'/);
  });

  it('dials only this machine', async () => {
    await expect(runPush(['alice', 'tokens', 'transfer', '{"to":"bob","amount":"1","memo":""}', '--url', 'http://example.com'], capturingIo())).rejects.toThrow(
      /only nodes on this machine .* can be reached, not packages.example.com/,
    );
  });

  it('reports an unreachable node as a failure', async () => {
    await expect(runPush(['alice', 'tokens', 'transfer', '{"to":"bob","amount":"1","memo":""}', '--url', 'http://psiweb.localhost:1'], capturingIo())).rejects.toThrow(
      /cannot reach http:\/\/packages.psiweb.localhost:1/,
    );
  });
});

describe('psiweb start (arguments)', () => {
  it('parses defaults and refuses bad values', () => {
    expect(parseStartArgs([])).toMatchObject({ port: 8080, rootHost: 'psiweb.localhost' });
    expect(parseStartArgs(['--port', '0', '--host', 'Dev.Localhost'])).toMatchObject({ port: 0, rootHost: 'dev.localhost' });
    expect(() => parseStartArgs(['--port', '70000'])).toThrow(UsageError);
    expect(() => parseStartArgs(['--port', '8o8o'])).toThrow(/--port must be a number/);
    expect(() => parseStartArgs(['--host', 'http://x'])).toThrow(/--host: root host must be a DNS name/);
    expect(() => parseStartArgs(['extra'])).toThrow(UsageError);
  });
});

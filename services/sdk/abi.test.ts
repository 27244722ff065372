// The modules the SDK builds must link against psibase's `env` exactly: same
// import names and wasm signatures as psibase's service API, and the exports a
// psibase node calls.
import binaryen from 'binaryen';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../scripts/build-services.ts';
import { TestChain } from './testing/host.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

type Sig = [params: string[], results: string[]];
const i32 = 'i32';
const i64 = 'i64';

/** psibase's native functions (api.hpp, check.hpp) as wasm32 signatures. */
const PSIBASE_ENV: Record<string, Sig> = {
  getResult: [[i32, i32, i32], [i32]],
  getKey: [[i32, i32], [i32]],
  writeConsole: [[i32, i32], []],
  abortMessage: [[i32, i32], []],
  getCurrentAction: [[], [i32]],
  call: [[i32, i32, i64], [i32]],
  setRetval: [[i32, i32], []],
  kvOpen: [[i32, i32, i32, i32], [i32]],
  kvOpenAt: [[i32, i32, i32, i32], [i32]],
  kvClose: [[i32], []],
  exportHandles: [[i32, i32], []],
  importHandles: [[], [i32]],
  kvPut: [[i32, i32, i32, i32, i32], []],
  kvRemove: [[i32, i32, i32], []],
  kvGet: [[i32, i32, i32], [i32]],
  kvGreaterEqual: [[i32, i32, i32, i32], [i32]],
  kvLessThan: [[i32, i32, i32, i32], [i32]],
  kvMax: [[i32, i32, i32], [i32]],
  clockTimeGet: [[i32, i32], [i32]],
  getRandom: [[i32, i32], []],
  setMaxCpuTime: [[i64], []],
  checkoutSubjective: [[], []],
  commitSubjective: [[], [i32]],
  abortSubjective: [[], []],
  socketOpen: [[i32, i32], [i32]],
  socketSend: [[i32, i32, i32, i32], [i32]],
  socketSetFlags: [[i32, i32, i32], [i32]],
  readFile: [[i32, i32], [i32]],
};

const typeName = (t: number): string => {
  if (t === binaryen.i32) return i32;
  if (t === binaryen.i64) return i64;
  if (t === binaryen.f32) return 'f32';
  if (t === binaryen.f64) return 'f64';
  return `type${t}`;
};

/** Imported functions of a module with their signatures, and whether it has a start section. */
function inspect(wasm: Uint8Array): { imports: Map<string, Sig>; exports: Map<string, Sig | 'memory'>; hasStart: boolean } {
  const mod = binaryen.readBinary(wasm);
  try {
    const imports = new Map<string, Sig>();
    const exports = new Map<string, Sig | 'memory'>();
    const sig = (f: binaryen.FunctionInfo): Sig => [
      binaryen.expandType(f.params).map(typeName),
      binaryen.expandType(f.results).map(typeName),
    ];
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (f.module) imports.set(`${f.module}.${f.base}`, sig(f));
    }
    for (let i = 0; i < mod.getNumExports(); i++) {
      const e = binaryen.getExportInfo(mod.getExportByIndex(i));
      exports.set(e.name, e.kind === binaryen.ExternalMemory ? 'memory' : sig(binaryen.getFunctionInfo(mod.getFunction(e.value))));
    }
    return { imports, exports, hasStart: mod.getStart() !== 0 };
  } finally {
    mod.dispose();
  }
}

let example: ReturnType<typeof inspect>;
let probe: ReturnType<typeof inspect>;
let exampleWasm: Uint8Array<ArrayBuffer>;
let probeWasm: Uint8Array<ArrayBuffer>;
beforeAll(async () => {
  exampleWasm = await compileService('services/example/example.ts');
  example = inspect(exampleWasm);
  probeWasm = await compileService('services/sdk/testing/probe.ts');
  probe = inspect(probeWasm);
}, COMPILE_TIMEOUT_MS);

describe('service ABI', () => {
  it('binds every psibase native function with its exact signature', () => {
    expect(Object.fromEntries(probe.imports)).toEqual(
      Object.fromEntries(Object.entries(PSIBASE_ENV).map(([name, s]) => [`env.${name}`, s])),
    );
  });

  it('imports only psibase env functions', () => {
    expect(example.imports.size).toBeGreaterThan(0);
    for (const [name, s] of example.imports) {
      expect(name.startsWith('env.'), name).toBe(true);
      expect(s).toEqual(PSIBASE_ENV[name.slice(4)]);
    }
    const mod = new WebAssembly.Module(exampleWasm);
    expect(WebAssembly.Module.imports(mod).every((i) => i.module === 'env' && i.kind === 'function')).toBe(true);
  });

  it('exports exactly start(i64), called(i64, i64) and memory, with no start section', () => {
    expect(Object.fromEntries(example.exports)).toEqual({
      start: [[i64], []],
      called: [[i64, i64], []],
      memory: 'memory',
    });
    expect(example.hasStart).toBe(false);
  });

  it('builds reproducibly', async () => {
    expect(await compileService('services/example/example.ts')).toEqual(exampleWasm);
  });

  it('routes AssemblyScript runtime aborts to abortMessage', () => {
    const chain = new TestChain();
    chain.deploy('probe', probeWasm);
    // (i32) tuple holding index 5 of a one-element array
    const args = new Uint8Array([4, 0, 5, 0, 0, 0]);
    expect(() => chain.push('alice', 'probe', 'trap', args)).toThrow(/^Index out of range \(~lib\/array\.ts:\d+:\d+\)$/);
  });
});

/**
 * Large core modules are compiled once per page for every plugin that holds the same
 * bytes (every QuickJS plugin holds the same 1.3 MB engine): by the hash recorded at
 * transpile time, checked against both plugins' bytes when a second one asks, so a
 * record whose hash lies gets a module of its own.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IdbTranspileCache } from './cache.ts';
import { compileCores, sha256Hex, type TranspiledComponent } from './component.ts';
import { coreModule } from './testing/core-module.ts';

const padOf = (m: WebAssembly.Module) => new Uint8Array(WebAssembly.Module.customSections(m, 'pad')[0]!);

async function entry(hash: string, engine: Uint8Array, engineHash?: string): Promise<TranspiledComponent> {
  return {
    hash,
    js: 'export function instantiate() { return {}; }',
    cores: [
      ['plugin.core.wasm', coreModule(10, hash.charCodeAt(0))],
      ['plugin.core3.wasm', engine],
    ],
    coreHashes: { 'plugin.core3.wasm': engineHash ?? (await sha256Hex(engine)) },
    imports: [],
    exports: [],
  };
}

describe('core modules shared between plugins', () => {
  it('two plugins holding the same engine get one compiled module for it, each its own for the rest', async () => {
    const engine = coreModule(300_000, 1);
    const a = await compileCores(await entry('a1', engine));
    const b = await compileCores(await entry('b2', engine.slice()));
    expect(b.get('plugin.core3.wasm')).toBe(a.get('plugin.core3.wasm'));
    expect(b.get('plugin.core.wasm')).not.toBe(a.get('plugin.core.wasm'));
  });

  it('a record whose hash does not match its bytes gets its own module, never the shared one', async () => {
    const engine = coreModule(300_000, 2);
    const other = coreModule(300_000, 3);
    const a = await compileCores(await entry('c3', engine));
    // Claims the engine's hash, holds other bytes.
    const liar = await compileCores(await entry('d4', other, await sha256Hex(engine)));
    expect(liar.get('plugin.core3.wasm')).not.toBe(a.get('plugin.core3.wasm'));
    expect(padOf(liar.get('plugin.core3.wasm')!)[10]).toBe(3);
    // …and the shared one stays the engine's.
    const again = await compileCores(await entry('e5', engine.slice()));
    expect(again.get('plugin.core3.wasm')).toBe(a.get('plugin.core3.wasm'));
  });

  it('a lying first record does not make its module the shared one', async () => {
    const engine = coreModule(300_000, 4);
    const other = coreModule(300_000, 5);
    const liar = await compileCores(await entry('f6', other, await sha256Hex(engine)));
    expect(padOf(liar.get('plugin.core3.wasm')!)[10]).toBe(5);
    const honest = await compileCores(await entry('g7', engine));
    expect(padOf(honest.get('plugin.core3.wasm')!)[10]).toBe(4);
    // The honest one's module is the one shared from then on.
    const next = await compileCores(await entry('g8', engine.slice()));
    expect(next.get('plugin.core3.wasm')).toBe(honest.get('plugin.core3.wasm'));
  });

  it('the hashes go through the IndexedDB cache; a record with a malformed one is refused', async () => {
    const cache = new IdbTranspileCache();
    const t = await entry('h8', coreModule(300_000, 6));
    await cache.put(t);
    const got = await new IdbTranspileCache().get('h8');
    expect(got!.coreHashes).toEqual(t.coreHashes);
    const a = await compileCores(got!);
    const b = await compileCores(await entry('i9', coreModule(300_000, 6)));
    expect(b.get('plugin.core3.wasm')).toBe(a.get('plugin.core3.wasm'));
    await cache.put({ ...t, hash: 'j0', coreHashes: { 'plugin.core3.wasm': 'not a hash' } });
    expect(await new IdbTranspileCache().get('j0')).toBeUndefined();
  });
});

/**
 * What the supervisor origin's worker keeps (vite.config.ts supervisorWorkerBuild), on a
 * made-up build output: the pages and their static imports precached, dynamic imports
 * and the wasm they name kept on first use, nothing of the root's PWA.
 */
import { describe, expect, it } from 'vitest';
import type { Rollup } from 'vite';
import { supervisorWorkerBuild } from '../vite.config.ts';

const chunk = (fileName: string, code: string, imports: string[] = [], dynamicImports: string[] = []) =>
  ({ type: 'chunk', fileName, code, imports, dynamicImports }) as unknown as Rollup.OutputChunk;
const asset = (fileName: string, source: string) => ({ type: 'asset', fileName, source }) as unknown as Rollup.OutputAsset;

function output(files: (Rollup.OutputChunk | Rollup.OutputAsset)[]): Rollup.OutputBundle {
  return Object.fromEntries(files.map((f) => [f.fileName, f]));
}

const BUILD = [
  asset('supervisor.html', '<script type="module" src="/assets/supervisor-1.js"></script><link rel="modulepreload" href="/assets/shared-1.js">'),
  asset('prompt.html', '<script type="module" src="/assets/prompt-1.js"></script>'),
  asset('index.html', '<script type="module" src="/assets/index-1.js"></script>'),
  chunk('assets/supervisor-1.js', 'import("/assets/jco-1.js")', ['assets/shared-1.js'], ['assets/jco-1.js']),
  chunk('assets/prompt-1.js', '', ['assets/shared-1.js']),
  chunk('assets/shared-1.js', ''),
  chunk('assets/jco-1.js', 'new URL("assets/bindgen-1.wasm", import.meta.url)', ['assets/runtime-1.js']),
  chunk('assets/runtime-1.js', ''),
  asset('assets/bindgen-1.wasm', 'wasm'),
  chunk('assets/index-1.js', ''),
];

describe('supervisorWorkerBuild', () => {
  it('precaches the pages and what they load at once, and keeps what they load later on first use', () => {
    const b = supervisorWorkerBuild(output(BUILD));
    expect(b.precache).toEqual(['/assets/prompt-1.js', '/assets/shared-1.js', '/assets/supervisor-1.js', '/prompt.html', '/supervisor.html']);
    expect(b.runtime).toEqual(['/assets/bindgen-1.wasm', '/assets/jco-1.js', '/assets/runtime-1.js']);
    expect(b.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives a changed page a new version, and refuses a build without the supervisor pages', () => {
    const v = supervisorWorkerBuild(output(BUILD)).version;
    const changed = BUILD.map((f) => (f.fileName === 'prompt.html' ? asset('prompt.html', `${(f as Rollup.OutputAsset).source as string}<p>new</p>`) : f));
    expect(supervisorWorkerBuild(output(changed)).version).not.toBe(v);
    expect(() => supervisorWorkerBuild(output(BUILD.filter((f) => f.fileName !== 'prompt.html')))).toThrow(/no prompt.html/);
  });
});

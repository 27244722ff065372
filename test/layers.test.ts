/**
 * The folders under src/ are layers, and imports point down only (ARCHITECTURE.md §2):
 * protocol ← crypto ← state ← vm ← chain ← consensus/net ← core ← http ← node ← supervisor ←
 * ui ← platform. src/errors.ts is below them all. Tests and benches follow the same
 * rule as the code beside them: a test that needs a higher layer lives in that layer.
 * src/core is the platform-free node core: neither it nor a layer below it imports the
 * service workers' code (sw/, a browser platform) either.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

export const LAYERS: readonly (readonly string[])[] = [['protocol'], ['crypto'], ['state'], ['vm'], ['chain'], ['consensus', 'net'], ['core'], ['http'], ['node'], ['supervisor'], ['ui'], ['platform']];
/** The highest layer that must not import sw/ (the node core, and what it stands on). */
export const PLATFORM_FREE_UP_TO = LAYERS.findIndex((l) => l.includes('core'));

/** A file's layer index; -1 for files directly in src/ (below every layer), undefined outside src/. */
export function layerOf(file: string): number | undefined {
  const m = /^src\/([^/]+)\//.exec(file);
  if (!m) return file.startsWith('src/') ? -1 : undefined;
  const i = LAYERS.findIndex((l) => l.includes(m[1]!));
  if (i < 0) throw new Error(`${file}: src/${m[1]} is not a layer; add it to LAYERS (and to ARCHITECTURE.md §2)`);
  return i;
}

/** Relative imports (static, re-exports, dynamic) of a file's text, resolved against its folder. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(normalize(join(dirname(file), m[1]!)));
  return out;
}

export function upwardImports(files: { file: string; text: string }[]): string[] {
  const found: string[] = [];
  for (const { file, text } of files) {
    const from = layerOf(file);
    if (from === undefined) continue;
    for (const target of importsOf(file, text)) {
      const to = layerOf(target);
      if (to !== undefined && to > from) found.push(`${file} imports ${target} (${LAYERS[from]?.join('/') ?? 'src'} → ${LAYERS[to]!.join('/')})`);
      else if (target.startsWith('sw/') && from <= PLATFORM_FREE_UP_TO) found.push(`${file} imports ${target} (${LAYERS[from]?.join('/') ?? 'src'} → sw)`);
    }
  }
  return found;
}

describe('layers', () => {
  it('no file under src/ imports from a higher layer', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(ts|mts)$/.test(f))
      .flatMap((file) => {
        try {
          return [{ file, text: readFileSync(file, 'utf8') }];
        } catch {
          return []; // deleted in the work tree
        }
      });
    expect(files.length).toBeGreaterThan(100);
    expect(upwardImports(files)).toEqual([]);
  });

  it('catches an upward import, a re-export and a dynamic one', () => {
    const found = upwardImports([
      { file: 'src/chain/x.ts', text: "import { a } from '../node/devnet.ts';" },
      { file: 'src/protocol/y.ts', text: "export { b } from '../crypto/keys.ts';\nconst m = await import('../state/index.ts');" },
      { file: 'src/http/z.ts', text: "import { c } from '../chain/executor.ts';\nimport { d } from './router.ts';" },
      { file: 'src/errors.ts', text: '' },
    ]);
    expect(found).toEqual([
      'src/chain/x.ts imports src/node/devnet.ts (chain → node)',
      'src/protocol/y.ts imports src/crypto/keys.ts (protocol → crypto)',
      'src/protocol/y.ts imports src/state/index.ts (protocol → state)',
    ]);
  });

  it('keeps the node core off its platforms: no src/node, src/node/browser, src/supervisor or sw/ import', () => {
    const found = upwardImports([
      { file: 'src/core/a.ts', text: "import { startPeer } from '../node/peer.ts';" },
      { file: 'src/core/b.ts', text: "import { BrowserNode } from '../node/browser/node.ts';" },
      { file: 'src/core/c.ts', text: "import type { X } from '../supervisor/x.ts';\nimport { Y } from '../../sw/root-sw.ts';" },
      { file: 'src/core/d.ts', text: "import { ConsensusNode } from '../consensus/node.ts';\nimport { Chain } from '../chain/executor.ts';" },
      { file: 'src/node/e.ts', text: "import { CoreNode } from '../core/node.ts';\nimport { Z } from '../../sw/root-push.ts';" },
    ]);
    expect(found).toEqual([
      'src/core/a.ts imports src/node/peer.ts (core → node)',
      'src/core/b.ts imports src/node/browser/node.ts (core → node)',
      'src/core/c.ts imports src/supervisor/x.ts (core → supervisor)',
      'src/core/c.ts imports sw/root-sw.ts (core → sw)',
    ]);
  });
});

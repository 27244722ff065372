/**
 * Dependencies point down the layer list of ARCHITECTURE.md §2 only:
 * protocol ← crypto ← state ← vm ← chain ← consensus/net ← http ← node ← supervisor ← ui ← platform.
 * A file may import its own layer and any layer below it; an import that points up a
 * layer fails here, naming the file and the import. Tests are held to the same rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const LAYERS: Readonly<Record<string, number>> = {
  protocol: 0,
  crypto: 1,
  state: 2,
  vm: 3,
  chain: 4,
  consensus: 5,
  net: 5,
  http: 6,
  node: 7,
  supervisor: 8,
  ui: 9,
  platform: 10,
};

const SRC = dirname(new URL(import.meta.url).pathname);

/** Relative module specifiers of static imports, re-exports and dynamic imports. */
function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(m[1]!);
  return out;
}

/** The imports in `file` (a path under src/) that point to a higher layer. */
function upwardImports(file: string, source: string): string[] {
  const layer = file.split('/')[0]!;
  const rank = LAYERS[layer];
  if (rank === undefined) return [];
  return importsOf(source).filter((spec) => {
    const target = normalize(join(dirname(file), spec));
    if (target.startsWith('..')) return false; // outside src/ (services/, test/)
    const targetRank = LAYERS[target.split('/')[0]!];
    return targetRank !== undefined && targetRank > rank;
  });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

describe('layers', () => {
  it('no file in src/ imports from a higher layer', () => {
    const bad: string[] = [];
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(100);
    for (const path of files) {
      const file = relative(SRC, path);
      for (const spec of upwardImports(file, readFileSync(path, 'utf8'))) bad.push(`${file} imports ${spec}`);
    }
    expect(bad).toEqual([]);
  });

  it('the check sees every import form, and lets imports down, sideways and out of src/ pass', () => {
    const source = [
      "import { a } from '../node/node.ts';",
      "export { b } from '../http/router.ts';",
      "const c = await import('../ui/explorer.ts');",
      "import '../supervisor/host.ts';",
      "import { d } from '../state/bytes.ts';",
      "import { e } from './fork-db.ts';",
      "import { f } from '../net/wire/index.ts';",
      "import { g } from '../../services/tokens/ui.ts';",
    ].join('\n');
    expect(upwardImports('consensus/node.ts', source)).toEqual(['../node/node.ts', '../http/router.ts', '../ui/explorer.ts', '../supervisor/host.ts']);
  });
});

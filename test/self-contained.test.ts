/**
 * A bare clone must pass `npm test`: nothing the suite runs may read files outside the
 * repository (the project's shared folder beside it, a psibase checkout on this machine, …).
 * Vectors and fixtures are copied into test/vectors and test/fixtures instead.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Built from pieces so this file does not match itself.
const OUTSIDE = new RegExp(['\\.\\./shared', '/work' + '/', '\\.mirror' + '/', 'gofractally\\+psibase'].join('|'));
const CODE = /\.(ts|mts|mjs|js|cjs|json|sh)$|^\.ci\//;

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  return out.split('\0').filter((f) => f && CODE.test(f) && !f.startsWith('node_modules/') && f !== 'package-lock.json');
}

describe('the repository is self-contained', () => {
  it('no source, test, script or CI file refers to a path outside the repository', () => {
    const offenders: string[] = [];
    for (const file of trackedFiles()) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // deleted in the work tree
      }
      text.split('\n').forEach((line, i) => {
        if (OUTSIDE.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('the vectors and fixtures the tests use are in the repository', () => {
    for (const f of ['test/vectors/psibase/fracpack-tests.json', 'test/vectors/psibase/names.json', 'test/fixtures/psibase/simple.wasm.gz']) {
      expect(readFileSync(f).length, f).toBeGreaterThan(0);
    }
  });
});

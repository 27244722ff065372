import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance, USAGE } from './conformance.ts';

const shared = join(process.cwd(), 'test/vectors/psibase');
const read = (p: string) => readFileSync(p, 'utf8');
const files = new Map<string, string>();
const fake = (p: string) => {
  const text = files.get(p);
  if (text === undefined) throw new Error(`ENOENT ${p}`);
  return text;
};

describe('conformance runner', () => {
  it('passes the shared fracpack and names vectors', () => {
    const f = runConformance(['fracpack', join(shared, 'fracpack-tests.json')], read);
    expect(f.code).toBe(0);
    expect(f.lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
    const n = runConformance(['names', join(shared, 'names.json')], read);
    expect(n.code).toBe(0);
    expect(n.lines).toEqual(['21 passed, 0 failed']);
  });

  it('reports a wrong fracpack vector and a wrong name with exit 1', () => {
    files.set('bad.json', JSON.stringify([{ schema: { u8: { Int: { bits: 8, isSigned: false } } }, values: [
      { type: 'u8', json: 1, fracpack: '01' },
      { type: 'u8', json: 2, fracpack: '01' },
      { type: 'u8', fracpack: '01', error: true },
    ] }]));
    const f = runConformance(['fracpack', 'bad.json'], fake);
    expect(f.code).toBe(1);
    expect(f.lines).toHaveLength(3);
    expect(f.lines.at(-1)).toBe('1 passed, 2 failed');

    files.set('names.json', JSON.stringify({ accounts: [['a', '331048532879956736'], ['b', '1']], methods: [], methods_parse_only: [['a', '2']] }));
    const n = runConformance(['names', 'names.json'], fake);
    expect(n.code).toBe(1);
    expect(n.lines.at(-1)).toBe('1 passed, 2 failed');
  });

  it('exits 2 with usage on bad arguments, unreadable or malformed files', () => {
    expect(runConformance([], fake)).toEqual({ code: 2, lines: [USAGE] });
    expect(runConformance(['other', 'x'], fake).code).toBe(2);
    expect(runConformance(['names', 'missing.json'], fake).code).toBe(2);
    files.set('garbage', '{not json');
    expect(runConformance(['fracpack', 'garbage'], fake).code).toBe(2);
    files.set('shape', JSON.stringify({ accounts: 3 }));
    expect(runConformance(['names', 'shape'], fake).code).toBe(2);
    expect(runConformance(['fracpack', 'shape'], fake).code).toBe(2);
  });

  it('the npm script prints failures and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-conf-'));
    const file = join(dir, 'names.json');
    writeFileSync(file, JSON.stringify({ accounts: [['a', '1']], methods: [] }));
    let status = 0;
    let out = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'bin/conformance.ts', 'names', file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { status: number; stdout: string };
      status = err.status;
      out = err.stdout;
    }
    expect(status).toBe(1);
    expect(out.trim().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });
});

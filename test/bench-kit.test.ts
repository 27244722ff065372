import { describe, expect, it } from 'vitest';
import { figure, missedTargets, verdict } from './bench-kit.ts';

const atLeast = { op: '>=' as const, value: 3000, text: '≥ 3,000/s' };
const atMost = { op: '<=' as const, value: 5, text: '≤ 5 ms' };

describe('bench targets', () => {
  it('a figure meets its target only when the measured value is on the right side', () => {
    expect(figure('a', 'node', 3000, '/s', atLeast).met).toBe(true);
    expect(figure('a', 'node', 2999, '/s', atLeast).met).toBe(false);
    expect(figure('b', 'node', 5, 'ms', atMost).met).toBe(true);
    expect(figure('b', 'node', 5.01, 'ms', atMost).met).toBe(false);
    expect(figure('c', 'node', NaN, 'ms', atMost).met).toBe(false);
    expect(figure('d', 'node', 1, 'ms').met).toBeUndefined();
    expect(figure('e', 'node', 1, 'ms', undefined, 'best of 5').how).toBe('best of 5');
  });

  it('the verdict fails and names every missed target with its measured value', () => {
    const figures = [
      figure('transfers/s', 'node', 2149, '/s', atLeast),
      figure('query p50', 'chromium', 7.5, 'ms', atMost),
      figure('query p50 ok', 'chromium', 2.5, 'ms', atMost),
      figure('no target', 'node', 1, 'ms'),
    ];
    expect(missedTargets(figures).map((f) => f.name)).toEqual(['transfers/s', 'query p50']);
    const v = verdict(figures, []);
    expect(v.ok).toBe(false);
    expect(v.line).toContain('2 target(s) missed');
    expect(v.line).toContain('transfers/s (node): measured 2,149 /s, target ≥ 3,000/s');
    expect(v.line).toContain('query p50 (chromium): measured 7.50 ms, target ≤ 5 ms');
    expect(v.line).not.toContain('query p50 ok');
  });

  it('a target with no verdict, or a bench file that failed, fails the run too', () => {
    expect(verdict([{ name: 'x', env: 'node', value: 1, unit: 'ms', target: '≤ 5 ms' }], []).ok).toBe(false);
    const v = verdict([figure('fine', 'node', 1, 'ms', atMost)], [{ file: 'src/x.bench.ts', error: 'boom' }]);
    expect(v.ok).toBe(false);
    expect(v.line).toContain('src/x.bench.ts: failed (boom)');
  });

  it('passes only when every target is met', () => {
    expect(verdict([figure('fine', 'node', 1, 'ms', atMost), figure('free', 'node', 9, 'ms')], [])).toEqual({ ok: true, line: 'bench: every target met (1 checked)' });
  });
});

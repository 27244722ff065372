import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function sim(...args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/sim.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('npm run sim', () => {
  it('--behaviour collude with f+1 of 3f+1 reports the conflicting irreversible blocks and exits 1', () => {
    const r = sim('--mode', 'bft', '--nodes', '4', '--byzantine', '2', '--behaviour', 'collude', '--seeds', '3');
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/^seed \d+: conflicting irreversible blocks at height \d+/m);
    expect(r.err).toMatch(/exceed f = 1/);
  }, 60_000);

  it('--unsafe-quorum 2f is caught with f colluders; the real quorum is not broken on the same seeds', () => {
    const broken = sim('--mode', 'bft', '--nodes', '4', '--byzantine', '1', '--behaviour', 'collude', '--unsafe-quorum', '2f', '--seeds', '3');
    expect(broken.status).toBe(1);
    expect(broken.out).toMatch(/conflicting irreversible blocks/);
    const sound = sim('--mode', 'bft', '--nodes', '4', '--byzantine', '1', '--behaviour', 'collude', '--seeds', '3');
    expect(sound.status).toBe(0);
    expect(sound.out).toMatch(/^3 passed, 0 failed$/m);
  }, 60_000);

  it('refuses flags that do not fit, with exit 2', () => {
    for (const args of [
      ['--unsafe-quorum', '3f'],
      ['--mode', 'cft', '--unsafe-quorum', '2f'],
      ['--mode', 'bft', '--behaviour', 'collude'],
      ['--mode', 'bft', '--nodes', '4', '--byzantine', '4'],
    ]) {
      const r = sim(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^usage: npm run sim/m);
    }
  }, 60_000);
});

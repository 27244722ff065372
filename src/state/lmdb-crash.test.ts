import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbStore } from './lmdb-store.ts';

const CHILD = fileURLToPath(new URL('./testing/lmdb-crash-child.ts', import.meta.url));
const COUNT = 100_000;

/** Runs the child until it starts committing, waits `delayMs`, then SIGKILLs it (never, when undefined). */
function commitAndKill(dir: string, delayMs: number | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(COUNT)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (delayMs !== undefined && out.includes('committing')) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

async function inspect(dir: string) {
  const store = LmdbStore.open(dir);
  try {
    const head = (await store.head())?.num ?? 0;
    const values = new Set<number>();
    const state = await store.getRange(Uint8Array.of(2), Uint8Array.of(3));
    for (const e of state) values.add(e.value[0]!);
    const markers = (await store.getRange(Uint8Array.of(3), Uint8Array.of(4))).map((e) => e.key[1]);
    return { head, count: state.length, values: [...values], markers, block: (await store.block(head))?.num };
  } finally {
    await store.close();
  }
}

describe('lmdb crash consistency', () => {
  it('a process killed in the middle of a block commit leaves the old or the new block, never a mix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-crash-'));
    try {
      const heads: number[] = [];
      for (const delayMs of [0, 5, 30, 100, undefined, 10, 300]) {
        await commitAndKill(dir, delayMs);
        const s = await inspect(dir);
        if (s.head === 0) {
          expect(s).toEqual({ head: 0, count: 0, values: [], markers: [], block: undefined });
        } else {
          expect(s.count).toBe(COUNT);
          expect(s.values).toEqual([s.head]);
          expect(s.markers).toEqual(Array.from({ length: s.head }, (_, k) => k + 1));
          expect(s.block).toBe(s.head);
        }
        heads.push(s.head);
      }
      for (let i = 1; i < heads.length; i++) expect(heads[i]! - heads[i - 1]!).toBeLessThanOrEqual(1);
      // The child that was not killed committed its block.
      expect(heads[4]).toBe(heads[3]! + 1);
      console.log('heads after each killed commit:', heads.join(' '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

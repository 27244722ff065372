/**
 * psiweb/playwright under Playwright's own runner (@playwright/test), as an app runs it:
 * test/playwright/*.pw.ts with psiwebUse in the config, one worker, two tests that must
 * each get a fresh devnet in the worker's one browser.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST_DIR, ensureProductionBuild } from './browser/devnet.ts';

beforeAll(async () => {
  await ensureProductionBuild();
}, 300_000);

describe('psiweb/playwright under @playwright/test', () => {
  it('runs the fixture tests: a fresh devnet per test in the worker browser, offline reads', async () => {
    const cli = join('node_modules', '@playwright', 'test', 'cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'test', '-c', join('test', 'playwright'), '--output', join('node_modules', '.psiweb-playwright-results')], {
      env: { ...process.env, PSIWEB_DIST: DIST_DIR, CI: '1' },
      timeout: 240_000,
    }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`playwright test failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`);
    });
    expect(stdout).toMatch(/\b2 passed\b/);
  }, 300_000);
});

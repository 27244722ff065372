// psiweb's fixture under Playwright's own runner, as an app would use it (run by
// test/playwright-runner.browser.test.ts with PSIWEB_DIST set to a production build).
import { defineConfig } from '@playwright/test';
import { psiwebUse } from 'psiweb/playwright';

export default defineConfig({
  testDir: '.',
  testMatch: '*.pw.ts',
  workers: 1,
  reporter: 'line',
  timeout: 90_000,
  use: { ...psiwebUse },
});

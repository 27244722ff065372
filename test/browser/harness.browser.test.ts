import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSourcePage, type TestPage } from './page-server.ts';

describe('browser harness', () => {
  let t: TestPage;
  beforeAll(async () => {
    t = await openSourcePage();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs TypeScript modules from src/ inside Chromium', async () => {
    const name = await t.page.evaluate(async () => {
      const m = await (globalThis as any).__psiwebImport('/src/errors.ts');
      return new m.DecodeError('x').name;
    });
    expect(name).toBe('DecodeError');
  });

  it('has IndexedDB, WebCrypto and a secure context on 127.0.0.1', async () => {
    const facts = await t.page.evaluate(() => ({
      idb: typeof indexedDB,
      subtle: typeof crypto.subtle,
      secure: isSecureContext,
    }));
    expect(facts).toEqual({ idb: 'object', subtle: 'object', secure: true });
  });
});

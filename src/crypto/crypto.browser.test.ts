import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSourcePage, type TestPage } from '../../test/browser/page-server.ts';
import { devKeyPair, generateKeyPair, privateKeyFromPem, sign, verify, verifyHash } from './keys.ts';
import type { KeyAlgorithm } from './keys.ts';

const message = new TextEncoder().encode('a packed psibase Transaction stands here');
const bytes = (a: number[]) => Uint8Array.from(a);

describe('crypto in Chromium and Node', () => {
  let t: TestPage;
  beforeAll(async () => {
    t = await openSourcePage();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signs in Chromium and verifies in Node', async () => {
    const out = await t.page.evaluate(async (msg) => {
      const k = await (globalThis as any).__psiwebImport('/src/crypto/keys.ts');
      const m = Uint8Array.from(msg);
      const p256 = await k.generateKeyPair('p256');
      const k1 = await k.devKeyPair('k1', 'browser');
      const p256Extractable = await k.generateKeyPair('p256', { extractable: true });
      return {
        p256: { der: [...p256.publicKeyDer], sig: [...(await k.sign(p256, m))] },
        k1: { der: [...k1.publicKeyDer], sig: [...(await k.sign(k1, m))] },
        hashSig: {
          der: [...p256Extractable.publicKeyDer],
          sig: [...(await k.signHash(p256Extractable, new Uint8Array(await crypto.subtle.digest('SHA-256', m))))],
        },
        pem: await k.privateKeyToPem(p256Extractable),
        pemDer: [...p256Extractable.publicKeyDer],
      };
    }, [...message]);
    for (const alg of ['p256', 'k1'] as const) {
      const { der, sig } = out[alg];
      expect(await verify(bytes(der), message, bytes(sig))).toBe(true);
      expect(verifyHash(bytes(der), sha256(message), bytes(sig))).toBe(true);
    }
    expect(await verify(bytes(out.hashSig.der), message, bytes(out.hashSig.sig))).toBe(true);
    // Chromium's PKCS#8 export, re-encoded by us, reads back in Node to the same key.
    const fromPem = await privateKeyFromPem(out.pem);
    expect(fromPem.publicKeyDer).toEqual(bytes(out.pemDer));
    // Dev keys derive the same in both places.
    expect((await devKeyPair('k1', 'browser')).publicKeyDer).toEqual(bytes(out.k1.der));
  });

  it('signs in Node and verifies in Chromium', async () => {
    const cases: { alg: KeyAlgorithm; der: number[]; sig: number[] }[] = [];
    for (const alg of ['p256', 'k1'] as const) {
      const pair = await generateKeyPair(alg);
      cases.push({ alg, der: [...pair.publicKeyDer], sig: [...(await sign(pair, message))] });
    }
    const results = await t.page.evaluate(
      async ({ msg, cases }) => {
        const k = await (globalThis as any).__psiwebImport('/src/crypto/keys.ts');
        const m = Uint8Array.from(msg);
        const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', m));
        const out = [];
        for (const c of cases) {
          const der = Uint8Array.from(c.der);
          const sig = Uint8Array.from(c.sig);
          const bad = sig.slice();
          bad[5]! ^= 1;
          out.push({
            alg: c.alg,
            message: await k.verify(der, m, sig),
            hash: k.verifyHash(der, hash, sig),
            tampered: await k.verify(der, m, bad),
          });
        }
        return out;
      },
      { msg: [...message], cases },
    );
    expect(results).toEqual([
      { alg: 'p256', message: true, hash: true, tampered: false },
      { alg: 'k1', message: true, hash: true, tampered: false },
    ]);
  });

  it('stores a non-extractable key in IndexedDB and signs with it after a reload', async () => {
    const stored = await t.page.evaluate(async () => {
      const k = await (globalThis as any).__psiwebImport('/src/crypto/keys.ts');
      const pair = await k.generateKeyPair('p256');
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('psiweb-crypto-test', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('keys');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('keys', 'readwrite');
        tx.objectStore('keys').put(pair, 'alice');
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      return { der: [...pair.publicKeyDer], extractable: pair.privateKey.extractable };
    });
    expect(stored.extractable).toBe(false);

    await t.page.reload();
    const after = await t.page.evaluate(async (msg) => {
      const k = await (globalThis as any).__psiwebImport('/src/crypto/keys.ts');
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('psiweb-crypto-test', 1);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const pair = await new Promise<any>((resolve, reject) => {
        const req = db.transaction('keys').objectStore('keys').get('alice');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      db.close();
      let exportRefused = false;
      try {
        await k.privateKeyToPem(pair);
      } catch (e) {
        exportRefused = (e as Error).name === 'AuthError';
      }
      return {
        isCryptoKey: pair.privateKey instanceof CryptoKey,
        extractable: pair.privateKey.extractable,
        exportRefused,
        der: [...pair.publicKeyDer],
        sig: [...(await k.sign(pair, Uint8Array.from(msg)))],
      };
    }, [...message]);
    expect(after).toMatchObject({ isCryptoKey: true, extractable: false, exportRefused: true, der: stored.der });
    expect(await verify(bytes(after.der), message, bytes(after.sig))).toBe(true);
  });
});

/**
 * Signature throughput. WebCrypto is asynchronous, so the P-256 figures are measured
 * with BATCH operations in flight (Promise.all), the way a node checks the proofs of
 * a block: each measured call runs a whole batch, and ops/s = batches/s × BATCH.
 * noble (secp256k1, P-256 over a raw hash) is synchronous and measured one at a time.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { measure } from '../../test/measure.ts';
import { generateKeyPair, sign, verify, verifyHash } from './keys.ts';

const BATCH = 64;
/** ARCHITECTURE.md §8: block validation budgets on ≥ 5k P-256 verifies/s in Chromium. */
const VERIFY_TARGET = { op: '>=' as const, value: 5000, text: '≥ 5,000/s' };

const bench: BenchFile = async (ctx) => {
  const figures: Figure[] = [];
  const message = new TextEncoder().encode('x'.repeat(200));
  const hash = sha256(message);

  const p256 = await generateKeyPair('p256');
  const p256Sig = await sign(p256, message);
  const signBatch = await measure(() => Promise.all(Array.from({ length: BATCH }, () => sign(p256, message))), {
    isAsync: true,
  });
  figures.push(figure(`P-256 sign, WebCrypto, ${BATCH} in flight`, 'node', signBatch.opsPerSec * BATCH, '/s'));
  const verifyBatch = await measure(
    () => Promise.all(Array.from({ length: BATCH }, () => verify(p256.publicKeyDer, message, p256Sig))),
    { isAsync: true },
  );
  figures.push(figure(`P-256 verify, WebCrypto, ${BATCH} in flight`, 'node', verifyBatch.opsPerSec * BATCH, '/s'));
  const p256Hash = await measure(() => verifyHash(p256.publicKeyDer, hash, p256Sig));
  figures.push(figure('P-256 verify of a raw hash, noble', 'node', p256Hash.opsPerSec, '/s'));

  const k1 = await generateKeyPair('k1');
  const k1Sig = await sign(k1, message);
  const k1Verify = await measure(() => verifyHash(k1.publicKeyDer, hash, k1Sig));
  figures.push(figure('secp256k1 verify, noble', 'node', k1Verify.opsPerSec, '/s'));

  const page = await ctx.page();
  const inPage = await page.evaluate(async (batch) => {
    const imp = (globalThis as any).__psiwebImport;
    const k = await imp('/src/crypto/keys.ts');
    const { measure: m } = await imp('/test/measure.ts');
    const msg = new TextEncoder().encode('x'.repeat(200));
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', msg));
    const pair = await k.generateKeyPair('p256');
    const sig = await k.sign(pair, msg);
    // No named helper functions in here: tsx would wrap them in a __name() the page lacks.
    const signed = await m(() => Promise.all(Array.from({ length: batch }, () => k.sign(pair, msg))), { isAsync: true });
    const verified = await m(() => Promise.all(Array.from({ length: batch }, () => k.verify(pair.publicKeyDer, msg, sig))), {
      isAsync: true,
    });
    const noble = await m(() => k.verifyHash(pair.publicKeyDer, hash, sig));
    const k1 = await k.generateKeyPair('k1');
    const k1Sig = await k.sign(k1, msg);
    const k1Verified = await m(() => k.verifyHash(k1.publicKeyDer, hash, k1Sig));
    return {
      sign: signed.opsPerSec * batch,
      verify: verified.opsPerSec * batch,
      noble: noble.opsPerSec,
      k1: k1Verified.opsPerSec,
    };
  }, BATCH);
  figures.push(figure(`P-256 sign, WebCrypto, ${BATCH} in flight`, 'chromium', inPage.sign, '/s'));
  figures.push(figure(`P-256 verify, WebCrypto, ${BATCH} in flight`, 'chromium', inPage.verify, '/s', VERIFY_TARGET));
  figures.push(figure('P-256 verify of a raw hash, noble', 'chromium', inPage.noble, '/s'));
  figures.push(figure('secp256k1 verify, noble', 'chromium', inPage.k1, '/s'));
  return figures;
};

export default bench;

/**
 * The producers' signature check consensus runs in a browser (noble P-256): a
 * signature over the data by the claim's key verifies; any other data, key or signature
 * does not — also once the genuine triple has been verified and remembered, and however
 * often a forgery is asked again. A remembered signature is not checked again; the
 * memory is bounded, the oldest forgotten first.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPair, sign } from '../crypto/keys.ts';
import { verifyP256Hash } from '../crypto/p256.ts';
import { claimVerifier } from './claim-verifier.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

/** A verifier whose checks are counted. */
function counted(remember?: number, subtle?: SubtleCrypto) {
  const calls = { n: 0 };
  const verify = claimVerifier({
    ...(remember !== undefined && { remember }),
    ...(subtle !== undefined && { subtle }),
    check: (point, hash, sig) => {
      calls.n++;
      return verifyP256Hash(point, hash, sig);
    },
  });
  return { verify, calls };
}

describe('claimVerifier', () => {
  it('verifies a producer’s signature, and refuses other data, another key and a changed signature, before and after remembering it', async () => {
    const key = await generateKeyPair('p256');
    const other = await generateKeyPair('p256');
    const data = bytes('a prepare for block 42');
    const sig = await sign(key, data);
    const verify = claimVerifier();
    const forged = sig.slice();
    forged[10]! ^= 1;
    for (let round = 0; round < 2; round++) {
      expect(verify(key.publicKeyDer, data, sig)).toBe(true);
      expect(verify(key.publicKeyDer, bytes('a prepare for block 43'), sig)).toBe(false);
      expect(verify(other.publicKeyDer, data, sig)).toBe(false);
      expect(verify(key.publicKeyDer, data, forged)).toBe(false);
      expect(verify(key.publicKeyDer, data, sig.slice(0, 63))).toBe(false);
      expect(verify(bytes('not a key'), data, sig)).toBe(false);
    }
  });

  it('checks a signature it verified once; a forgery every time it is asked', async () => {
    const key = await generateKeyPair('p256');
    const data = bytes('a commit for block 7');
    const sig = await sign(key, data);
    const forged = sig.slice();
    forged[40]! ^= 1;
    const { verify, calls } = counted();
    for (let i = 0; i < 5; i++) expect(verify(key.publicKeyDer, data, sig)).toBe(true);
    expect(calls.n).toBe(1);
    for (let i = 0; i < 3; i++) expect(verify(key.publicKeyDer, data, forged)).toBe(false);
    expect(calls.n).toBe(4);
  });

  it('remembers at most `remember` signatures, forgetting the oldest first', async () => {
    const key = await generateKeyPair('p256');
    const votes = await Promise.all(['a', 'b', 'c'].map(async (v) => ({ data: bytes(v), sig: await sign(key, bytes(v)) })));
    const { verify, calls } = counted(2);
    for (const v of votes) expect(verify(key.publicKeyDer, v.data, v.sig)).toBe(true);
    expect(calls.n).toBe(3);
    // b and c are remembered; a was forgotten and is checked again.
    expect(verify(key.publicKeyDer, votes[2]!.data, votes[2]!.sig)).toBe(true);
    expect(verify(key.publicKeyDer, votes[1]!.data, votes[1]!.sig)).toBe(true);
    expect(calls.n).toBe(3);
    expect(verify(key.publicKeyDer, votes[0]!.data, votes[0]!.sig)).toBe(true);
    expect(calls.n).toBe(4);
  });

  it('preverify (WebCrypto) makes the synchronous check find a genuine signature without running noble; a forgery, another key or other data still fail it', async () => {
    const key = await generateKeyPair('p256');
    const other = await generateKeyPair('p256');
    const data = bytes('a view change for term 9');
    const sig = await sign(key, data);
    const forged = sig.slice();
    forged[5]! ^= 1;
    const { verify, calls } = counted(undefined, globalThis.crypto.subtle);
    await verify.preverify(key.publicKeyDer, data, sig);
    expect(verify(key.publicKeyDer, data, sig)).toBe(true);
    expect(calls.n).toBe(0);
    // What WebCrypto refused is not remembered: the synchronous check runs, and refuses.
    await verify.preverify(key.publicKeyDer, data, forged);
    await verify.preverify(other.publicKeyDer, data, sig);
    await verify.preverify(key.publicKeyDer, bytes('other data'), sig);
    expect(verify(key.publicKeyDer, data, forged)).toBe(false);
    expect(verify(other.publicKeyDer, data, sig)).toBe(false);
    expect(verify(key.publicKeyDer, bytes('other data'), sig)).toBe(false);
    expect(calls.n).toBe(3);
    // Malformed input never rejects.
    await expect(verify.preverify(bytes('not a key'), data, sig)).resolves.toBeUndefined();
    await expect(verify.preverify(key.publicKeyDer, data, sig.slice(0, 10))).resolves.toBeUndefined();
  });

  it('without WebCrypto, preverify does nothing and the synchronous check runs', async () => {
    const key = await generateKeyPair('p256');
    const data = bytes('a confirm');
    const sig = await sign(key, data);
    const calls = { n: 0 };
    const verify = claimVerifier({ subtle: undefined, check: (p, h, s) => (calls.n++, verifyP256Hash(p, h, s)) });
    await verify.preverify(key.publicKeyDer, data, sig);
    expect(verify(key.publicKeyDer, data, sig)).toBe(true);
    expect(calls.n).toBe(1);
  });
});

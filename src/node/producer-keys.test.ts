import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { devKeyPair, devKeyScalar } from '../crypto/keys.ts';
import { signP256Hash, verifyP256Hash } from '../crypto/p256.ts';
import { parsePublicKey } from '../crypto/keys.ts';
import { p256ClaimVerifier, p256Signer } from './producer-keys.ts';

describe('producer keys on node:crypto', () => {
  it('signs as noble does verify, checks what noble signs, and refuses other keys, altered data and junk', async () => {
    const a = await devKeyPair('p256', 'a');
    const b = await devKeyPair('p256', 'b');
    const data = new TextEncoder().encode('block id');
    const sig = p256Signer(devKeyScalar('p256', 'a'))(data);
    const point = parsePublicKey(a.publicKeyDer).point;
    expect(verifyP256Hash(point, sha256(data), sig)).toBe(true);
    const verify = p256ClaimVerifier();
    expect(verify(a.publicKeyDer, data, sig)).toBe(true);
    expect(verify(a.publicKeyDer, data, signP256Hash(devKeyScalar('p256', 'a'), sha256(data)))).toBe(true);
    expect(verify(b.publicKeyDer, data, sig)).toBe(false);
    expect(verify(a.publicKeyDer, new TextEncoder().encode('block iD'), sig)).toBe(false);
    expect(verify(a.publicKeyDer, data, sig.subarray(1))).toBe(false);
    expect(verify(new Uint8Array([1, 2, 3]), data, sig)).toBe(false);
    const k1 = await devKeyPair('k1', 'a');
    expect(verify(k1.publicKeyDer, data, sig)).toBe(false);
  });
});

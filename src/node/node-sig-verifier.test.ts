import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, sign } from '../crypto/keys.ts';
import { encodeSpki } from '../crypto/der.ts';
import { sigVerifier } from '../chain/sig-verifier.ts';
import type { ProofToCheck } from '../chain/verify.ts';
import { nodeSigVerifier } from './node-sig-verifier.ts';

const outcome = (p: Promise<boolean>) => p.then((ok) => (ok ? 'valid' : 'invalid'), (e: unknown) => `throws ${(e as Error).name}`);

describe("verify-sig's twin on node:crypto", () => {
  it('gives the WebCrypto twin\'s verdict on every proof: good, forged, wrong length, other key, compressed key, k1, malformed key', async () => {
    const twin = sigVerifier(new Uint8Array(32));
    let twinCalls = 0;
    const counted = { ...twin, verify: (p: ProofToCheck) => (twinCalls++, twin.verify(p)) };
    const fast = nodeSigVerifier(counted);
    const key = await generateKeyPair('p256');
    const other = await generateKeyPair('p256');
    const k1 = await generateKeyPair('k1');
    const data = new TextEncoder().encode('block signature info');
    const good = await sign(key, data);
    const uncompressed = key.publicKeyDer.subarray(key.publicKeyDer.length - 65);
    const compressedDer = encodeSpki('p256', p256.Point.fromBytes(uncompressed).toBytes(true));
    const nobleSecret = p256.utils.randomSecretKey();
    const nobleDer = encodeSpki('p256', p256.getPublicKey(nobleSecret, false));
    const offCurve = encodeSpki('p256', Uint8Array.of(4, ...new Uint8Array(64).fill(7)));
    const proof = (rawData: Uint8Array, sig: Uint8Array): ProofToCheck => ({ hash: sha256(data), data, claim: { service: 1n, rawData }, proof: sig });
    const cases: [string, ProofToCheck, string, boolean][] = [
      ['good', proof(key.publicKeyDer, good), 'valid', false],
      ['forged', proof(key.publicKeyDer, good.map((x, i) => (i === 5 ? x ^ 1 : x))), 'invalid', false],
      ['all zero', proof(key.publicKeyDer, new Uint8Array(64)), 'invalid', false],
      ['too short', proof(key.publicKeyDer, good.subarray(0, 63)), 'invalid', false],
      ['another key', proof(other.publicKeyDer, good), 'invalid', false],
      // A signature by the right key over another digest of the data (the digest node:crypto is told to use is SHA-256's).
      ['noble key, over sha256', proof(nobleDer, p256.sign(sha256(data), nobleSecret, { prehash: false })), 'valid', false],
      ['noble key, over sha384', proof(nobleDer, p256.sign(sha384(data).subarray(0, 32), nobleSecret, { prehash: false })), 'invalid', false],
      ['compressed key', proof(compressedDer, good), 'valid', false],
      ['k1', proof(k1.publicKeyDer, await sign(k1, data)), 'valid', true],
      ['malformed key', proof(Uint8Array.of(1, 2, 3), good), 'throws DecodeError', true],
      ['off-curve key', proof(offCurve, good), 'throws DecodeError', true],
    ];
    for (const [name, p, expected, delegated] of cases) {
      const before = twinCalls;
      expect(await outcome(twin.verify(p)), name).toBe(expected);
      expect(await outcome(fast.verify(p)), name).toBe(expected);
      // P-256 proofs are node:crypto's own; the rest go to the twin.
      expect(twinCalls - before, name).toBe(delegated ? 1 : 0);
    }
  });
});

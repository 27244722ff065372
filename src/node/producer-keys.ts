/**
 * A producer's signing and its checks of other producers, on node:crypto (synchronous:
 * consensus signs and verifies inside its step). P-256 as verify-sig checks it: an
 * r‖s signature over sha256(data), keys as DER SubjectPublicKeyInfo (the claim's rawData).
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { encodePkcs8 } from '../crypto/der.ts';
import { p256PublicFromScalar } from '../crypto/p256.ts';
import { P256_VERIFY_DIGEST } from './node-sig-verifier.ts';

/** Most public keys kept parsed: a producer set is small; cleared wholesale when full. */
const KEY_CACHE_LIMIT = 1024;

/** Signs as the holder of a P-256 private scalar. */
export function p256Signer(scalar: Uint8Array): (data: Uint8Array) => Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(encodePkcs8('p256', scalar, p256PublicFromScalar(scalar))), format: 'der', type: 'pkcs8' });
  return (data) => new Uint8Array(nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }));
}

/** Checks a signature against the key in a claim's rawData (DER SPKI); false for anything that is not a P-256 key or signature. */
export function p256ClaimVerifier(): (claimRawData: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean {
  const keys = new Map<string, KeyObject | null>();
  return (der, data, signature) => {
    const id = Buffer.from(der).toString('hex');
    let key = keys.get(id);
    if (key === undefined) {
      if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
      try {
        const k = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
        key = k.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? k : null;
      } catch {
        key = null;
      }
      keys.set(id, key);
    }
    if (key === null || signature.length !== 64) return false;
    try {
      // null where it means SHA-256: naming the digest costs a lookup per call (node-sig-verifier.ts).
      return nodeVerify(P256_VERIFY_DIGEST, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  };
}

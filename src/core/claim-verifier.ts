/**
 * A producer's signature checked against the key of its claim, on any platform
 * (noble's P-256, synchronous: consensus verifies inside its step). The Node peer uses
 * node:crypto instead (src/node/producer-keys.ts), which is faster; the two agree:
 * an r‖s signature over sha256(data), the key as DER SubjectPublicKeyInfo (the claim's
 * rawData). Anything that is not a P-256 key or signature is false.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { parsePublicKey } from '../crypto/keys.ts';
import { verifyP256Hash } from '../crypto/p256.ts';
import { toHex } from '../state/bytes.ts';

/** Most public keys kept parsed: a producer set is small; cleared wholesale when full. */
const KEY_CACHE_LIMIT = 1024;

export function claimVerifier(): (claimRawData: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean {
  const points = new Map<string, Uint8Array | null>();
  return (der, data, signature) => {
    const id = toHex(der);
    let point = points.get(id);
    if (point === undefined) {
      if (points.size >= KEY_CACHE_LIMIT) points.clear();
      try {
        const key = parsePublicKey(der);
        point = key.alg === 'p256' ? key.point : null;
      } catch {
        point = null;
      }
      points.set(id, point);
    }
    if (point === null || signature.length !== 64) return false;
    try {
      return verifyP256Hash(point, sha256(data), signature);
    } catch {
      return false;
    }
  };
}

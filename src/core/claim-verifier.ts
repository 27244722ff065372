/**
 * A producer's signature checked against the key of its claim, on any platform
 * (noble's P-256, synchronous: consensus verifies inside its step). The Node peer uses
 * node:crypto instead (src/node/producer-keys.ts), which is faster; the two agree:
 * an r‖s signature over sha256(data), the key as DER SubjectPublicKeyInfo (the claim's
 * rawData). Anything that is not a P-256 key or signature is false.
 *
 * Signatures that verified are remembered (claim, sha256 of the data, signature): the
 * same vote comes again inside certificates, view changes (resent every few seconds) and
 * from several peers, and noble's verify in JS is the costliest thing a producing
 * browser's worker does under load (a browser BFT set fell into view changes it could
 * not get out of). A signature that failed is checked again each time.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { parsePublicKey } from '../crypto/keys.ts';
import { verifyP256Hash } from '../crypto/p256.ts';
import { toHex } from '../state/bytes.ts';

/** Most public keys kept parsed: a producer set is small; cleared wholesale when full. */
const KEY_CACHE_LIMIT = 1024;
/** Most verified signatures remembered; the oldest are forgotten first. */
export const VERIFIED_CACHE_LIMIT = 16_384;

export interface ClaimVerifierOptions {
  /** How many verified signatures to remember (VERIFIED_CACHE_LIMIT). */
  remember?: number;
  /** The check itself (verifyP256Hash; a test counts its calls). */
  check?: (point: Uint8Array, hash: Uint8Array, signature: Uint8Array) => boolean;
}

export function claimVerifier(options: ClaimVerifierOptions = {}): (claimRawData: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean {
  const remember = options.remember ?? VERIFIED_CACHE_LIMIT;
  const check = options.check ?? verifyP256Hash;
  const points = new Map<string, Uint8Array | null>();
  const verified = new Set<string>();
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
      const hash = sha256(data);
      const seen = `${id}|${toHex(hash)}|${toHex(signature)}`;
      if (verified.has(seen)) return true;
      if (!check(point, hash, signature)) return false;
      if (remember <= 0) return true;
      if (verified.size >= remember) verified.delete(verified.values().next().value!);
      verified.add(seen);
      return true;
    } catch {
      return false;
    }
  };
}

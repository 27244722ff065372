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
  /** WebCrypto for preverify (globalThis.crypto.subtle; undefined: preverify does nothing). */
  subtle?: SubtleCrypto | undefined;
}

/** The synchronous check consensus calls, and `preverify`, which checks ahead with WebCrypto. */
export interface ClaimVerifier {
  (claimRawData: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Checks a signature with WebCrypto (native, off the JS thread) and, if it verifies,
   * remembers it, so the synchronous check consensus makes at the message's turn finds it
   * at once instead of running noble's P-256 in JS. Never rejects; a signature that does
   * not verify here is checked again (and refused) then.
   */
  preverify(claimRawData: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<void>;
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export function claimVerifier(options: ClaimVerifierOptions = {}): ClaimVerifier {
  const remember = options.remember ?? VERIFIED_CACHE_LIMIT;
  const check = options.check ?? verifyP256Hash;
  const subtle = 'subtle' in options ? options.subtle : globalThis.crypto?.subtle;
  const points = new Map<string, Uint8Array | null>();
  const cryptoKeys = new Map<string, Promise<CryptoKey | null>>();
  const verified = new Set<string>();
  const note = (seen: string) => {
    if (remember <= 0) return;
    if (verified.size >= remember) verified.delete(verified.values().next().value!);
    verified.add(seen);
  };
  const pointOf = (id: string, der: Uint8Array): Uint8Array | null => {
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
    return point;
  };
  const verify = ((der, data, signature) => {
    const id = toHex(der);
    const point = pointOf(id, der);
    if (point === null || signature.length !== 64) return false;
    try {
      const hash = sha256(data);
      const seen = `${id}|${toHex(hash)}|${toHex(signature)}`;
      if (verified.has(seen)) return true;
      if (!check(point, hash, signature)) return false;
      note(seen);
      return true;
    } catch {
      return false;
    }
  }) as ClaimVerifier;
  verify.preverify = async (der, data, signature) => {
    if (!subtle || signature.length !== 64) return;
    const id = toHex(der);
    if (pointOf(id, der) === null) return;
    try {
      let key = cryptoKeys.get(id);
      if (!key) {
        if (cryptoKeys.size >= KEY_CACHE_LIMIT) cryptoKeys.clear();
        key = subtle.importKey('spki', new Uint8Array(der), ECDSA_P256, false, ['verify']).catch(() => null);
        cryptoKeys.set(id, key);
      }
      const k = await key;
      if (!k || !(await subtle.verify(ECDSA_SHA256, k, new Uint8Array(signature), new Uint8Array(data)))) return;
      note(`${id}|${toHex(sha256(data))}|${toHex(signature)}`);
    } catch {
      // Checked again, synchronously, at the message's turn.
    }
  };
  return verify;
}

/** CoreNode's `verify` and `preverify` from one ClaimVerifier. */
export function withPreverify(v: ClaimVerifier): { verify: ClaimVerifier; preverify: ClaimVerifier['preverify'] } {
  return { verify: v, preverify: v.preverify };
}

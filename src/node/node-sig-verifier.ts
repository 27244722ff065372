/**
 * verify-sig's native twin on Node's own crypto: P-256 proofs are checked by
 * node:crypto's verify on libuv's thread pool, where WebCrypto's verify in Node does
 * most of its work on the main thread (about 0.15 ms a proof, measured, against about
 * 0.05 ms here), which a follower pays for every block's signature while it catches up, and a producer
 * for every pushed transaction's proof.
 * The verdicts are the twin's: the same OpenSSL check of an r‖s signature over
 * sha256(data). Anything this does not handle itself (a key that does not parse or is
 * not P-256, an error from node:crypto) goes to the twin, so the twin's errors and
 * verdicts stand there.
 */
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { parsePublicKey } from '../crypto/keys.ts';
import { SIGNATURE_BYTES, uncompressedP256 } from '../crypto/p256.ts';
import type { NativeVerifier } from '../chain/verify.ts';

/** Keys by DER: an active chain sees the same few over and over. Cleared wholesale when full. */
const KEY_CACHE_LIMIT = 4096;

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/**
 * The digest argument for node:crypto's verify. Naming 'sha256' makes OpenSSL 3 fetch
 * the digest by name on the main thread for every call (about 0.06 ms, most of what a
 * queued verify costs the main thread, measured); `null` takes the key's default
 * digest, which for an EC key is SHA-256. That default is checked once here, with a
 * fresh key: a signature over SHA-256 must verify and one over SHA-384 must not;
 * otherwise every call names 'sha256'.
 */
export const P256_VERIFY_DIGEST: null | 'sha256' = (() => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('psiweb: which digest does null mean');
  const opts = { key: publicKey, dsaEncoding: 'ieee-p1363' as const };
  const over = (alg: string) => nodeSign(alg, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  try {
    return nodeVerify(null, data, opts, over('sha256')) && !nodeVerify(null, data, opts, over('sha384')) ? null : 'sha256';
  } catch {
    return 'sha256';
  }
})();

/** The P-256 key in a DER SubjectPublicKeyInfo, or null where the twin is to decide. */
function p256Key(der: Uint8Array): KeyObject | null {
  let parsed;
  try {
    parsed = parsePublicKey(der);
  } catch {
    return null;
  }
  if (parsed.alg !== 'p256') return null;
  const point = uncompressedP256(parsed.point);
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** `twin` (sigVerifier for verify-sig's code hash), with P-256 proofs checked by node:crypto. */
export function nodeSigVerifier(twin: NativeVerifier): NativeVerifier {
  const keys = new Map<string, KeyObject | null>();
  const keyFor = (der: Uint8Array): KeyObject | null => {
    const id = Buffer.from(der).toString('hex');
    let key = keys.get(id);
    if (key === undefined) {
      if (keys.size >= KEY_CACHE_LIMIT) keys.clear();
      key = p256Key(der);
      keys.set(id, key);
    }
    return key;
  };
  return {
    codeHash: twin.codeHash,
    verify(p) {
      const key = keyFor(p.claim.rawData);
      if (key === null) return twin.verify(p);
      if (p.proof.length !== SIGNATURE_BYTES) return Promise.resolve(false);
      return new Promise<boolean>((resolve) =>
        nodeVerify(P256_VERIFY_DIGEST, p.data, { key, dsaEncoding: 'ieee-p1363' }, p.proof, (e, ok) => (e ? resolve(twin.verify(p)) : resolve(ok))),
      );
    },
  };
}

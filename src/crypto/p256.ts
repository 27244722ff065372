/**
 * NIST P-256 (secp256r1) ECDSA, psibase's default key type (its plugins and CLI
 * generate P-256 keys).
 *
 * What psibase signs: VerifySig verifies with Botan's "Raw" EMSA, i.e. the 32-byte
 * transaction hash *is* the ECDSA message digest, and the proof is IEEE 1363 r‖s
 * (Signature_Format::Standard, 64 bytes). The hash is sha256(packed Transaction), and
 * psibase's signers (the CLI hashing the packed bytes, the WebCrypto plugin's
 * sign_prehash of the hash) all produce a signature whose digest is that hash.
 *
 * WebCrypto ECDSA always hashes its input with SHA-256 and cannot take a digest. So
 * the fast path passes it the *preimage*: sign/verify(packed Transaction) digests to
 * exactly the transaction hash and yields the same r‖s psibase expects. When only the
 * 32-byte hash is at hand, the `…Hash` functions use noble with prehash: false; they
 * are ~15× slower and need the secret scalar, so a non-extractable CryptoKey can only
 * sign through the message path.
 */
import { p256 } from '@noble/curves/nist.js';
import { DecodeError } from '../errors.ts';
import { SCALAR_BYTES, encodePkcs8, decodePkcs8 } from './der.ts';

const EC_PARAMS: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
export const SIGNATURE_BYTES = 2 * SCALAR_BYTES;

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

/** WebCrypto wants ArrayBuffer-backed views; copy when handed anything else. */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/** The SEC 1 uncompressed form; throws DecodeError if the point is not on P-256. */
export function uncompressedP256(point: Uint8Array): Uint8Array {
  if (point.length === 65 && point[0] === 0x04) {
    assertOnCurve(point);
    return point;
  }
  try {
    return p256.Point.fromBytes(point).toBytes(false);
  } catch (e) {
    throw new DecodeError('public key is not a point on P-256', { cause: e });
  }
}

export function assertOnCurve(point: Uint8Array): void {
  try {
    p256.Point.fromBytes(point).assertValidity();
  } catch (e) {
    throw new DecodeError('public key is not a point on P-256', { cause: e });
  }
}

export interface P256Generated {
  privateKey: CryptoKey;
  /** Uncompressed SEC 1 point (what psibase's generate_keypair writes into SPKI). */
  point: Uint8Array;
}

/** Private keys are non-extractable unless asked: they can still be stored in IndexedDB. */
export async function generateP256(extractable: boolean): Promise<P256Generated> {
  const pair = await subtle().generateKey(EC_PARAMS, extractable, ['sign', 'verify']);
  // WebCrypto public keys are always extractable; 'raw' is the uncompressed point.
  const point = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, point };
}

export function p256PublicFromScalar(scalar: Uint8Array): Uint8Array {
  if (!p256.utils.isValidSecretKey(scalar)) throw new DecodeError('not a valid P-256 private scalar');
  return p256.getPublicKey(scalar, false);
}

export async function importP256Scalar(scalar: Uint8Array, extractable: boolean): Promise<P256Generated> {
  const point = p256PublicFromScalar(scalar);
  const pkcs8 = encodePkcs8('p256', scalar, point);
  const privateKey = await subtle().importKey('pkcs8', buf(pkcs8), EC_PARAMS, extractable, ['sign']);
  return { privateKey, point };
}

/** The secret scalar of an extractable CryptoKey. */
export async function exportP256Scalar(key: CryptoKey): Promise<Uint8Array> {
  const der = new Uint8Array(await subtle().exportKey('pkcs8', key));
  return decodePkcs8(der).scalar;
}

/** Signature over sha256(message), r‖s. */
export async function signP256Message(key: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().sign(ECDSA_SHA256, key, buf(message)));
}

/**
 * Verification keys by point: an active chain sees the same few keys over and over,
 * and importKey costs about as much as a verify. Cleared wholesale when full.
 */
const VERIFY_KEY_CACHE_LIMIT = 4096;
const verifyKeys = new Map<string, Promise<CryptoKey>>();

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function verifyKey(point: Uint8Array): Promise<CryptoKey> {
  const id = hex(point);
  let key = verifyKeys.get(id);
  if (!key) {
    if (verifyKeys.size >= VERIFY_KEY_CACHE_LIMIT) verifyKeys.clear();
    // Compressed points are decompressed here: WebCrypto's raw import only promises
    // the uncompressed form.
    const raw = uncompressedP256(point);
    key = subtle().importKey('raw', buf(raw), EC_PARAMS, false, ['verify']);
    key.catch(() => verifyKeys.delete(id));
    verifyKeys.set(id, key);
  }
  return key;
}

/** Verifies an r‖s signature over sha256(message) through WebCrypto. */
export async function verifyP256Message(point: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (signature.length !== SIGNATURE_BYTES) return false;
  const key = await verifyKey(point);
  return subtle().verify(ECDSA_SHA256, key, buf(signature), buf(message));
}

/** Signs a 32-byte digest as is (prehash: false), like psibase's sign_prehash. */
export function signP256Hash(scalar: Uint8Array, hash: Uint8Array): Uint8Array {
  return p256.sign(hash, scalar, { prehash: false });
}

/**
 * Verifies r‖s over a 32-byte digest. lowS: false because Botan (VerifySig) accepts
 * either half of s, and WebCrypto signers produce both.
 */
export function verifyP256Hash(point: Uint8Array, hash: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return p256.verify(signature, hash, point, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

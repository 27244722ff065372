/**
 * secp256k1 ECDSA. psibase accepts K1 keys in VerifySig (Botan is built with
 * secp256k1) and its CLI signs with them; there is no WebCrypto support, so all of it
 * goes through noble. Same rule as P-256 (see p256.ts): the digest is the 32-byte
 * transaction hash itself, the proof is r‖s.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError } from '../errors.ts';
import { SCALAR_BYTES } from './der.ts';

const SIGNATURE_BYTES = 2 * SCALAR_BYTES;

export function assertOnK1(point: Uint8Array): void {
  try {
    secp256k1.Point.fromBytes(point).assertValidity();
  } catch (e) {
    throw new DecodeError('public key is not a point on secp256k1', { cause: e });
  }
}

export function randomK1Scalar(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/** Uncompressed SEC 1 point, the form psibase's key tools write into SPKI. */
export function k1PublicFromScalar(scalar: Uint8Array): Uint8Array {
  if (!secp256k1.utils.isValidSecretKey(scalar)) throw new DecodeError('not a valid secp256k1 private scalar');
  return secp256k1.getPublicKey(scalar, false);
}

/** Signs a 32-byte digest as is. Low-s, as libsecp256k1 (psibase's CLI) produces. */
export function signK1Hash(scalar: Uint8Array, hash: Uint8Array): Uint8Array {
  return secp256k1.sign(hash, scalar, { prehash: false });
}

/** Signature over sha256(message). */
export function signK1Message(scalar: Uint8Array, message: Uint8Array): Uint8Array {
  return signK1Hash(scalar, sha256(message));
}

/** lowS: false: Botan (VerifySig) does not reject high-s signatures, so neither do we. */
export function verifyK1Hash(point: Uint8Array, hash: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return secp256k1.verify(signature, hash, point, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

export function verifyK1Message(point: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyK1Hash(point, sha256(message), signature);
}

/**
 * Keys, claims and proofs as psibase's AuthSig / VerifySig use them, one API for both
 * curves:
 *
 * - the public key is DER SubjectPublicKeyInfo; it is the account's key in AuthSig and
 *   the rawData of the `verify-sig` Claim;
 * - the proof is an IEEE 1363 r‖s signature (64 bytes) whose ECDSA digest is the
 *   transaction hash, sha256(packed Transaction).
 *
 * `sign`/`verify` take the message (the packed Transaction) and digest it with SHA-256;
 * that is the WebCrypto fast path and the only way a non-extractable key can sign.
 * `signHash`/`verifyHash` take the 32-byte hash itself (see p256.ts for why both exist).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { AuthError, DecodeError } from '../errors.ts';
import { decodePkcs8, decodeSpki, encodePkcs8, encodeSpki, SCALAR_BYTES } from './der.ts';
import type { KeyAlgorithm } from './der.ts';
import {
  assertOnK1,
  k1PublicFromScalar,
  randomK1Scalar,
  signK1Hash,
  signK1Message,
  verifyK1Hash,
  verifyK1Message,
} from './k1.ts';
import {
  assertOnCurve,
  exportP256Scalar,
  generateP256,
  importP256Scalar,
  p256PublicFromScalar,
  signP256Hash,
  signP256Message,
  verifyP256Hash,
  verifyP256Message,
} from './p256.ts';
import { pemDecode, pemEncode } from './pem.ts';

export type { KeyAlgorithm } from './der.ts';

/**
 * A P-256 pair keeps its private key as a WebCrypto CryptoKey, non-extractable unless
 * asked otherwise; the whole object survives IndexedDB's structured clone.
 */
export interface P256KeyPair {
  readonly alg: 'p256';
  readonly privateKey: CryptoKey;
  readonly publicKeyDer: Uint8Array;
}

/** secp256k1 has no WebCrypto support: its private key is the raw 32-byte scalar. */
export interface K1KeyPair {
  readonly alg: 'k1';
  readonly privateKey: Uint8Array;
  readonly publicKeyDer: Uint8Array;
}

export type KeyPair = P256KeyPair | K1KeyPair;

export interface KeyOptions {
  /** P-256 only: allow exporting the private key (PEM, signHash). Default false. */
  extractable?: boolean;
}

const HASH_BYTES = 32;

function checkAlg(alg: unknown): KeyAlgorithm {
  if (alg !== 'p256' && alg !== 'k1') throw new DecodeError(`unknown key algorithm ${String(alg)}`);
  return alg;
}

function checkBytes(b: unknown, what: string): Uint8Array {
  if (!(b instanceof Uint8Array)) throw new DecodeError(`${what} must be a Uint8Array`);
  return b;
}

function checkHash(hash: unknown): Uint8Array {
  const h = checkBytes(hash, 'hash');
  if (h.length !== HASH_BYTES) throw new DecodeError(`hash must be ${HASH_BYTES} bytes, got ${h.length}`);
  return h;
}

export async function generateKeyPair(alg: KeyAlgorithm, options: KeyOptions = {}): Promise<KeyPair> {
  if (checkAlg(alg) === 'k1') return keyPairFromScalar('k1', randomK1Scalar());
  const { privateKey, point } = await generateP256(options.extractable ?? false);
  return { alg: 'p256', privateKey, publicKeyDer: encodeSpki('p256', point) };
}

/** A key pair from a known secret scalar (32 bytes, big-endian). */
export async function keyPairFromScalar(alg: KeyAlgorithm, scalar: Uint8Array, options: KeyOptions = {}): Promise<KeyPair> {
  checkBytes(scalar, 'private scalar');
  if (scalar.length !== SCALAR_BYTES) throw new DecodeError('private scalar must be 32 bytes');
  if (checkAlg(alg) === 'k1') {
    const point = k1PublicFromScalar(scalar);
    return { alg: 'k1', privateKey: new Uint8Array(scalar), publicKeyDer: encodeSpki('k1', point) };
  }
  const { privateKey, point } = await importP256Scalar(scalar, options.extractable ?? false);
  return { alg: 'p256', privateKey, publicKeyDer: encodeSpki('p256', point) };
}

/**
 * Reproducible keys for tests and local devnets: the scalar is SHA-256 of a domain
 * tag and `seed`, re-hashed in the (negligible) case it is out of range. psibase has
 * no well-known development key (its devnets boot without keys or with keys the
 * operator passes), so this only makes psiweb's own devnets and tests repeatable.
 * Never use it for a key that guards anything.
 */
export async function devKeyPair(alg: KeyAlgorithm, seed: string, options: KeyOptions = {}): Promise<KeyPair> {
  return keyPairFromScalar(alg, devKeyScalar(alg, seed), options);
}

/** The private scalar of devKeyPair(alg, seed), for signing synchronously (a devnet producer's blocks and votes). */
export function devKeyScalar(alg: KeyAlgorithm, seed: string): Uint8Array {
  let scalar = sha256(new TextEncoder().encode(`psiweb dev key ${alg}:${seed}`));
  for (;;) {
    try {
      if (alg === 'k1') k1PublicFromScalar(scalar);
      else p256PublicFromScalar(scalar);
      return scalar;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      scalar = sha256(scalar);
    }
  }
}

/** The DER SubjectPublicKeyInfo: AuthSig's key and the verify-sig claim's rawData. */
export function publicKeyDer(keyPair: KeyPair): Uint8Array {
  return keyPair.publicKeyDer;
}

/** Parses and checks a public key: known curve, SEC 1 point on that curve. */
export function parsePublicKey(der: Uint8Array): { alg: KeyAlgorithm; point: Uint8Array } {
  const key = decodeSpki(checkBytes(der, 'public key'));
  if (key.alg === 'p256') assertOnCurve(key.point);
  else assertOnK1(key.point);
  return key;
}

/** Signs sha256(message): with message = packed Transaction, this is psibase's proof. */
export async function sign(keyPair: KeyPair, message: Uint8Array): Promise<Uint8Array> {
  checkBytes(message, 'message');
  if (keyPair.alg === 'k1') return signK1Message(keyPair.privateKey, message);
  return signP256Message(keyPair.privateKey, message);
}

/**
 * Signs a 32-byte hash as the ECDSA digest. A non-extractable P-256 key cannot do
 * this (WebCrypto always hashes); sign the message instead.
 */
export async function signHash(keyPair: KeyPair, hash: Uint8Array): Promise<Uint8Array> {
  checkHash(hash);
  if (keyPair.alg === 'k1') return signK1Hash(keyPair.privateKey, hash);
  if (!keyPair.privateKey.extractable) {
    throw new AuthError('a non-extractable P-256 key can only sign messages (use sign, not signHash)');
  }
  return signP256Hash(await exportP256Scalar(keyPair.privateKey), hash);
}

/**
 * Verifies a proof over sha256(message). Malformed keys throw DecodeError; a signature
 * that does not verify (or has the wrong length) gives false.
 */
export async function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  checkBytes(message, 'message');
  checkBytes(signature, 'signature');
  const { alg, point } = decodeSpki(checkBytes(publicKey, 'public key'));
  if (alg === 'k1') {
    assertOnK1(point);
    return verifyK1Message(point, message, signature);
  }
  try {
    return await verifyP256Message(point, message, signature);
  } catch (e) {
    // importKey refuses points off the curve: that is a malformed key, not a bad signature.
    if (e instanceof DecodeError) throw e;
    throw new DecodeError('public key rejected by WebCrypto', { cause: e });
  }
}

/**
 * Verifies a proof whose digest is the given 32-byte hash, exactly VerifySig's
 * verifySys(transactionHash, claim, proof). Synchronous (noble), so it can serve a
 * synchronous host call; slower than `verify` for P-256.
 */
export function verifyHash(publicKey: Uint8Array, hash: Uint8Array, signature: Uint8Array): boolean {
  checkHash(hash);
  checkBytes(signature, 'signature');
  const { alg, point } = parsePublicKey(checkBytes(publicKey, 'public key'));
  return alg === 'k1' ? verifyK1Hash(point, hash, signature) : verifyP256Hash(point, hash, signature);
}

/** Like `verify`, but a signature that does not verify is an AuthError. */
export async function verifyOrThrow(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<void> {
  if (!(await verify(publicKey, message, signature))) throw new AuthError('signature invalid');
}

/** Like `verifyHash`, but a signature that does not verify is an AuthError. */
export function verifyHashOrThrow(publicKey: Uint8Array, hash: Uint8Array, signature: Uint8Array): void {
  if (!verifyHash(publicKey, hash, signature)) throw new AuthError('signature invalid');
}

/** "PUBLIC KEY" PEM, the text psibase shows for an AuthSig key. */
export function publicKeyToPem(der: Uint8Array): string {
  parsePublicKey(der);
  return pemEncode('PUBLIC KEY', der);
}

/** DER SubjectPublicKeyInfo from a "PUBLIC KEY" PEM, checked like psibase's from_json. */
export function publicKeyFromPem(pem: string): Uint8Array {
  const der = pemDecode(pem, 'PUBLIC KEY');
  parsePublicKey(der);
  return der;
}

/** "PRIVATE KEY" PEM (PKCS#8). P-256 keys must be extractable. */
export async function privateKeyToPem(keyPair: KeyPair): Promise<string> {
  const { point } = decodeSpki(keyPair.publicKeyDer);
  let scalar: Uint8Array;
  if (keyPair.alg === 'k1') scalar = keyPair.privateKey;
  else if (!keyPair.privateKey.extractable) throw new AuthError('the private key is not extractable');
  else scalar = await exportP256Scalar(keyPair.privateKey);
  return pemEncode('PRIVATE KEY', encodePkcs8(keyPair.alg, scalar, point));
}

/**
 * A key pair from a "PRIVATE KEY" PEM (PKCS#8, P-256 or secp256k1). A public point
 * inside the key must match the scalar (a mismatched file would sign with one key and
 * claim another), and its form is kept: AuthSig compares the claim's bytes with the
 * stored key, and psibase's CLI builds the claim from this very point, so a key set
 * in compressed form must keep claiming in compressed form.
 */
export async function privateKeyFromPem(pem: string, options: KeyOptions = {}): Promise<KeyPair> {
  const { alg, scalar, point } = decodePkcs8(pemDecode(pem, 'PRIVATE KEY'));
  const pair = await keyPairFromScalar(alg, scalar, options);
  if (!point) return pair;
  const derived = decodeSpki(pair.publicKeyDer).point;
  const same =
    point[0] === 0x04
      ? equalBytes(point, derived)
      : point[0] === (derived[64]! & 1 ? 0x03 : 0x02) && equalBytes(point.subarray(1), derived.subarray(1, 33));
  if (!same) throw new DecodeError('the public key in the PKCS#8 file does not belong to its private key');
  return { ...pair, publicKeyDer: encodeSpki(alg, point) };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

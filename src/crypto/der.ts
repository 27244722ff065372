/**
 * ASN.1 DER for elliptic-curve keys, the two containers psibase uses:
 *
 * - public keys: X.509 SubjectPublicKeyInfo (RFC 5480). AuthSig stores the DER bytes
 *   as the account's key and VerifySig's claim rawData is the same bytes, loaded with
 *   Botan's X509::load_key.
 * - private keys: PKCS#8 PrivateKeyInfo (RFC 5208/5958) wrapping a SEC1 ECPrivateKey
 *   (RFC 5915), as psibase's CLI and plugins read and write them.
 *
 * Only what those containers need: definite lengths, SEQUENCE, INTEGER, OCTET STRING,
 * BIT STRING, OBJECT IDENTIFIER and the context tags of ECPrivateKey.
 */
import { DecodeError } from '../errors.ts';

export type KeyAlgorithm = 'p256' | 'k1';

const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
const TAG_SEQUENCE = 0x30;
const TAG_CTX0 = 0xa0;
const TAG_CTX1 = 0xa1;
const TAG_CTX1_PRIMITIVE = 0x81;

// RFC 5480 §2.1.1: id-ecPublicKey 1.2.840.10045.2.1, parameters = namedCurve OID.
const OID_EC_PUBLIC_KEY = Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
// RFC 5480 §2.1.1.1: secp256r1 (prime256v1) 1.2.840.10045.3.1.7.
const OID_P256 = Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);
// SEC 2 §A.2.1: secp256k1 1.3.132.0.10.
const OID_K1 = Uint8Array.of(0x2b, 0x81, 0x04, 0x00, 0x0a);

const curveOid: Record<KeyAlgorithm, Uint8Array> = { p256: OID_P256, k1: OID_K1 };

/** Both curves have 32-byte field elements and scalars. */
export const SCALAR_BYTES = 32;

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fail(what: string): never {
  throw new DecodeError(`malformed DER: ${what}`);
}

/** A cursor over one level of TLVs. */
class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  peekTag(): number | undefined {
    return this.bytes[this.pos];
  }

  read(tag: number, what: string): Uint8Array {
    const b = this.bytes;
    if (b[this.pos] !== tag) fail(`expected ${what}`);
    let p = this.pos + 1;
    const first = b[p++];
    if (first === undefined) fail(`truncated ${what}`);
    let len = first;
    if (first & 0x80) {
      // Long form; 0x80 alone would be BER's indefinite length, which DER forbids.
      const n = first & 0x7f;
      if (n === 0 || n > 3) fail(`bad length in ${what}`);
      len = 0;
      for (let i = 0; i < n; i++) {
        const byte = b[p++];
        if (byte === undefined) fail(`truncated ${what}`);
        len = (len << 8) | byte;
      }
    }
    if (p + len > b.length) fail(`truncated ${what}`);
    this.pos = p + len;
    return b.subarray(p, p + len);
  }

  end(what: string): void {
    if (!this.done) fail(`trailing bytes after ${what}`);
  }
}

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const head =
    n < 0x80 ? [tag, n] : n < 0x100 ? [tag, 0x81, n] : [tag, 0x82, n >> 8, n & 0xff];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function readAlgorithm(r: Reader): KeyAlgorithm {
  const alg = new Reader(r.read(TAG_SEQUENCE, 'AlgorithmIdentifier'));
  if (!equal(alg.read(TAG_OID, 'algorithm OID'), OID_EC_PUBLIC_KEY)) {
    throw new DecodeError('unsupported key algorithm: only id-ecPublicKey keys are accepted');
  }
  // Explicit curve parameters (a SEQUENCE here) are not accepted: psibase's own tools
  // only ever write named curves.
  const curve = alg.read(TAG_OID, 'namedCurve OID');
  alg.end('AlgorithmIdentifier');
  if (equal(curve, OID_P256)) return 'p256';
  if (equal(curve, OID_K1)) return 'k1';
  throw new DecodeError('unsupported curve: only P-256 and secp256k1 are accepted');
}

function algorithmIdentifier(alg: KeyAlgorithm): Uint8Array {
  return tlv(TAG_SEQUENCE, concat(tlv(TAG_OID, OID_EC_PUBLIC_KEY), tlv(TAG_OID, curveOid[alg])));
}

/** BIT STRING holding whole bytes (first content byte = 0 unused bits). */
function readBitString(r: Reader, what: string): Uint8Array {
  const bits = r.read(TAG_BIT_STRING, what);
  if (bits[0] !== 0) fail(`${what} must have 0 unused bits`);
  return bits.subarray(1);
}

function checkPointShape(point: Uint8Array): void {
  // SEC 1 §2.3.3: 0x04‖x‖y (uncompressed) or 0x02/0x03‖x (compressed); both are
  // accepted by Botan, which is what VerifySig loads keys with.
  const ok =
    (point.length === 1 + 2 * SCALAR_BYTES && point[0] === 0x04) ||
    (point.length === 1 + SCALAR_BYTES && (point[0] === 0x02 || point[0] === 0x03));
  if (!ok) throw new DecodeError('public key is not a SEC 1 point on a 256-bit curve');
}

export interface DecodedPublicKey {
  alg: KeyAlgorithm;
  /** SEC 1 encoded point, compressed or uncompressed as it appeared. */
  point: Uint8Array;
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING } */
export function decodeSpki(der: Uint8Array): DecodedPublicKey {
  const outer = new Reader(der);
  const r = new Reader(outer.read(TAG_SEQUENCE, 'SubjectPublicKeyInfo'));
  outer.end('SubjectPublicKeyInfo');
  const alg = readAlgorithm(r);
  const point = readBitString(r, 'subjectPublicKey');
  r.end('SubjectPublicKeyInfo');
  checkPointShape(point);
  return { alg, point };
}

export function encodeSpki(alg: KeyAlgorithm, point: Uint8Array): Uint8Array {
  checkPointShape(point);
  return tlv(
    TAG_SEQUENCE,
    concat(algorithmIdentifier(alg), tlv(TAG_BIT_STRING, concat(Uint8Array.of(0), point))),
  );
}

export interface DecodedPrivateKey {
  alg: KeyAlgorithm;
  /** The secret scalar, 32 bytes big-endian. */
  scalar: Uint8Array;
  /** The public point, when the ECPrivateKey carries one. */
  point: Uint8Array | undefined;
}

/**
 * PrivateKeyInfo ::= SEQUENCE { version INTEGER (0|1), privateKeyAlgorithm,
 *   privateKey OCTET STRING (ECPrivateKey), [0] attributes OPTIONAL, [1] publicKey OPTIONAL }
 * ECPrivateKey ::= SEQUENCE { version INTEGER 1, privateKey OCTET STRING,
 *   [0] parameters OPTIONAL, [1] publicKey BIT STRING OPTIONAL }
 */
export function decodePkcs8(der: Uint8Array): DecodedPrivateKey {
  const outer = new Reader(der);
  const r = new Reader(outer.read(TAG_SEQUENCE, 'PrivateKeyInfo'));
  outer.end('PrivateKeyInfo');
  const version = r.read(TAG_INTEGER, 'PrivateKeyInfo version');
  if (version.length !== 1 || (version[0] !== 0 && version[0] !== 1)) fail('PrivateKeyInfo version must be 0 or 1');
  const alg = readAlgorithm(r);
  const inner = new Reader(r.read(TAG_OCTET_STRING, 'privateKey'));
  // RFC 5958 attributes ([0]) and outer publicKey ([1] IMPLICIT BIT STRING) are skipped:
  // the point is in ECPrivateKey or derived from the scalar.
  if (r.peekTag() === TAG_CTX0) r.read(TAG_CTX0, 'attributes');
  if (r.peekTag() === TAG_CTX1_PRIMITIVE) r.read(TAG_CTX1_PRIMITIVE, 'publicKey');
  r.end('PrivateKeyInfo');

  const ec = new Reader(inner.read(TAG_SEQUENCE, 'ECPrivateKey'));
  inner.end('ECPrivateKey');
  const ecVersion = ec.read(TAG_INTEGER, 'ECPrivateKey version');
  if (ecVersion.length !== 1 || ecVersion[0] !== 1) fail('ECPrivateKey version must be 1');
  const d = ec.read(TAG_OCTET_STRING, 'ECPrivateKey privateKey');
  // RFC 5915 §3 fixes the length at the order's byte length; some writers drop leading zeros.
  if (d.length === 0 || d.length > SCALAR_BYTES) fail('private scalar must be 1..32 bytes');
  const scalar = new Uint8Array(SCALAR_BYTES);
  scalar.set(d, SCALAR_BYTES - d.length);
  if (ec.peekTag() === TAG_CTX0) {
    const params = new Reader(ec.read(TAG_CTX0, 'ECPrivateKey parameters'));
    const oid = params.read(TAG_OID, 'ECPrivateKey namedCurve');
    if (!equal(oid, curveOid[alg])) fail('ECPrivateKey curve differs from the algorithm curve');
  }
  let point: Uint8Array | undefined;
  if (ec.peekTag() === TAG_CTX1) {
    const wrapped = new Reader(ec.read(TAG_CTX1, 'ECPrivateKey publicKey'));
    point = readBitString(wrapped, 'ECPrivateKey publicKey');
    wrapped.end('ECPrivateKey publicKey');
    checkPointShape(point);
  }
  ec.end('ECPrivateKey');
  return { alg, scalar, point };
}

/**
 * Canonical PKCS#8 (version 0) with the public point inside ECPrivateKey and no
 * parameters there, the shape RustCrypto writes; psibase's CLI requires the point
 * (it builds the claim from it).
 */
export function encodePkcs8(alg: KeyAlgorithm, scalar: Uint8Array, point: Uint8Array): Uint8Array {
  if (scalar.length !== SCALAR_BYTES) throw new DecodeError('private scalar must be 32 bytes');
  checkPointShape(point);
  const ecPrivateKey = tlv(
    TAG_SEQUENCE,
    concat(
      tlv(TAG_INTEGER, Uint8Array.of(1)),
      tlv(TAG_OCTET_STRING, scalar),
      tlv(TAG_CTX1, tlv(TAG_BIT_STRING, concat(Uint8Array.of(0), point))),
    ),
  );
  return tlv(
    TAG_SEQUENCE,
    concat(tlv(TAG_INTEGER, Uint8Array.of(0)), algorithmIdentifier(alg), tlv(TAG_OCTET_STRING, ecPrivateKey)),
  );
}

// The claim's key: a DER SubjectPublicKeyInfo (X.509, RFC 5280 §4.1; for EC keys
// RFC 5480 §2) naming id-ecPublicKey with a named curve, P-256 or secp256k1, and
// holding a SEC 1 point (SEC 1 v2 §2.3.3).
//
// What is accepted, and every abort message, is exactly what psiweb's native twin of
// this service accepts and says (src/crypto/der.ts `decodeSpki`), so the two give the
// same verdicts and the same traces. verify-sig.ts says where that is narrower than
// Botan, which psibase's VerifySig loads keys with.

import { abortWith } from "../sdk";

export const CURVE_P256: i32 = 0;
export const CURVE_K1: i32 = 1;

const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

// RFC 5480 §2.1.1: id-ecPublicKey 1.2.840.10045.2.1.
const OID_EC_PUBLIC_KEY: u8[] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
// RFC 5480 §2.1.1.1: secp256r1 (prime256v1, P-256) 1.2.840.10045.3.1.7.
const OID_P256: u8[] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
// SEC 2 v2 §A.2.1: secp256k1 1.3.132.0.10.
const OID_K1: u8[] = [0x2b, 0x81, 0x04, 0x00, 0x0a];

export class PublicKey {
  constructor(
    public curve: i32,
    /** The SEC 1 point as it appeared: 0x04‖x‖y or 0x02/0x03‖x. */
    public point: Uint8Array,
  ) {}
}

function fail(what: string): void {
  abortWith("malformed DER: " + what);
}

function equalBytes(a: Uint8Array, b: u8[]): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

/** A cursor over the TLVs of one constructed value (X.690 §8.1). */
class Reader {
  pos: i32 = 0;
  constructor(public bytes: Uint8Array) {}

  /** The contents of the next TLV, which must have tag `tag`. */
  read(tag: u8, what: string): Uint8Array {
    const b = this.bytes;
    if (this.pos >= b.length || b[this.pos] != tag) fail("expected " + what);
    let p = this.pos + 1;
    if (p >= b.length) fail("truncated " + what);
    const first = <i32>b[p++];
    let len = first;
    if (first & 0x80) {
      // X.690 §8.1.3.5 long form, up to 3 length bytes (no key comes close); 0x80 alone
      // is the indefinite form, which DER forbids (X.690 §10.1).
      const n = first & 0x7f;
      if (n == 0 || n > 3) fail("bad length in " + what);
      len = 0;
      for (let i = 0; i < n; i++) {
        if (p >= b.length) fail("truncated " + what);
        len = (len << 8) | <i32>b[p++];
      }
    }
    if (len > b.length - p) fail("truncated " + what);
    this.pos = p + len;
    return b.subarray(p, p + len);
  }

  end(what: string): void {
    if (this.pos < this.bytes.length) fail("trailing bytes after " + what);
  }
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING } */
export function parsePublicKey(der: Uint8Array): PublicKey {
  const outer = new Reader(der);
  const spki = new Reader(outer.read(TAG_SEQUENCE, "SubjectPublicKeyInfo"));
  outer.end("SubjectPublicKeyInfo");

  // AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ECParameters }, and
  // ECParameters is the namedCurve choice only: RFC 5480 §2.1.1 forbids implicitCurve
  // and specifiedCurve in PKIX.
  const alg = new Reader(spki.read(TAG_SEQUENCE, "AlgorithmIdentifier"));
  if (!equalBytes(alg.read(TAG_OID, "algorithm OID"), OID_EC_PUBLIC_KEY)) {
    abortWith("unsupported key algorithm: only id-ecPublicKey keys are accepted");
  }
  const oid = alg.read(TAG_OID, "namedCurve OID");
  alg.end("AlgorithmIdentifier");
  let curve = -1;
  if (equalBytes(oid, OID_P256)) curve = CURVE_P256;
  else if (equalBytes(oid, OID_K1)) curve = CURVE_K1;
  else abortWith("unsupported curve: only P-256 and secp256k1 are accepted");

  // The point's octets are the BIT STRING's contents after its unused-bits count
  // (RFC 5480 §2.2: ECPoint is mapped to subjectPublicKey as is), which must be 0.
  const bits = spki.read(TAG_BIT_STRING, "subjectPublicKey");
  if (bits.length == 0 || bits[0] != 0) fail("subjectPublicKey must have 0 unused bits");
  spki.end("SubjectPublicKeyInfo");
  const point = bits.subarray(1);

  // SEC 1 v2 §2.3.3: 0x04‖x‖y (uncompressed) or 0x02/0x03‖x (compressed), each
  // coordinate 32 bytes on these curves. The hybrid form (0x06/0x07) and the single
  // 0x00 octet of the point at infinity are refused.
  const ok = (point.length == 65 && point[0] == 0x04) ||
    (point.length == 33 && (point[0] == 0x02 || point[0] == 0x03));
  if (!ok) abortWith("public key is not a SEC 1 point on a 256-bit curve");
  return new PublicKey(curve, point);
}

// ECDSA verification (SEC 1 v2 §4.1.4; FIPS 186-4 §6.4.2) on P-256 (FIPS 186-4
// §D.1.2.3) and secp256k1 (SEC 2 v2 §2.4.1), both short Weierstrass curves
// y² = x³ + ax + b of prime order (cofactor 1), so any affine point on the curve is
// a valid public key (SEC 1 §3.2.2.1 needs no extra subgroup check).
//
// Points are in Jacobian coordinates (X, Y, Z) ↔ (X/Z², Y/Z³), Z = 0 being the point
// at infinity, with field elements in Montgomery form. u1·G + u2·Q is computed in one
// pass (Shamir's trick, as Straus' interleaving) over width-5 NAFs of u1 and u2.
//
// Everything here is public (key, hash, signature), so nothing needs to run in
// constant time; the code takes whatever branch is fastest.

import {
  add, addRaw, copy, equal, fromBytes, fromHex, fromMont, invert, isOdd, isZero, K1_PRIME, less,
  Modulus, mul, P256_PRIME, pow, setSmall, sqr, sub, subRaw, toMont, ZERO,
} from "./field";

/** A curve's constants, in Montgomery form where they are field elements. */
export class Curve {
  p: Modulus;
  n: Modulus;
  /** a = 0 (secp256k1) or a = -3 (P-256); the doubling formula depends on it. */
  aIsZero: bool;
  a: usize = heap.alloc(32);
  b: usize = heap.alloc(32);
  /** The base point G, affine, as a Jacobian point with Z = 1. */
  g: usize = heap.alloc(96);
  /** (p + 1)/4: both primes are 3 mod 4, so √c = c^((p+1)/4) when c is a square. */
  sqrtExp: usize = heap.alloc(32);
  /** p - n: x mod n can differ from x only when x ≥ n, i.e. for r < p - n. */
  pMinusN: usize = heap.alloc(32);
  /** "P-256" or "secp256k1", for messages. */
  name: string;

  constructor(name: string, p: string, pKind: i32, n: string, aIsZero: bool, b: string, gx: string, gy: string) {
    this.name = name;
    this.p = new Modulus(p, pKind);
    this.n = new Modulus(n);
    this.aIsZero = aIsZero;
    const t = T0;
    if (aIsZero) {
      setSmall(this.a, 0);
    } else {
      setSmall(t, 3);
      sub(t, ZERO, t, this.p);
      toMont(this.a, t, this.p);
    }
    fromHex(t, b);
    toMont(this.b, t, this.p);
    fromHex(t, gx);
    toMont(this.g, t, this.p);
    fromHex(t, gy);
    toMont(this.g + 32, t, this.p);
    copy(this.g + 64, this.p.one);
    setSmall(t, 1);
    addRaw(this.sqrtExp, this.p.m, t);
    shiftRight(this.sqrtExp, 2);
    subRaw(this.pMinusN, this.p.m, this.n.m);
  }
}

// Scratch, reused by every operation (an instance verifies one signature at a time).
const T0: usize = memory.data(32);
const T1: usize = memory.data(32);
const T2: usize = memory.data(32);
const T3: usize = memory.data(32);
const T4: usize = memory.data(32);
const T5: usize = memory.data(32);
const T6: usize = memory.data(32);
const T7: usize = memory.data(32);
const T8: usize = memory.data(32);
const NEG: usize = memory.data(96);
const ACC: usize = memory.data(96);
const TABLE_G: usize = memory.data(96 * 8);
const TABLE_Q: usize = memory.data(96 * 8);
const NAF_1: usize = memory.data(260);
const NAF_2: usize = memory.data(260);
const NAF_K: usize = memory.data(36);
const SCALAR_R: usize = memory.data(32);
const SCALAR_S: usize = memory.data(32);
const SCALAR_E: usize = memory.data(32);
const SCALAR_W: usize = memory.data(32);
const SCALAR_U1: usize = memory.data(32);
const SCALAR_U2: usize = memory.data(32);
let p256: Curve | null = null;
let k1: Curve | null = null;

/** NIST P-256: FIPS 186-4 §D.1.2.3 (a = -3). */
export function curveP256(): Curve {
  if (p256 === null) {
    p256 = new Curve(
      "P-256",
      "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
      P256_PRIME,
      "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
      false,
      "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
      "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
      "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    );
  }
  return p256!;
}

/** secp256k1: SEC 2 v2 §2.4.1 (a = 0, b = 7). */
export function curveK1(): Curve {
  if (k1 === null) {
    k1 = new Curve(
      "secp256k1",
      "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
      K1_PRIME,
      "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
      true,
      "0000000000000000000000000000000000000000000000000000000000000007",
      "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
      "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
    );
  }
  return k1!;
}

function shiftRight(a: usize, bits: u32): void {
  for (let i = 0; i < 8; i++) {
    const at = a + (<usize>i << 2);
    const hi: u32 = i < 7 ? load<u32>(at, 4) : 0;
    store<u32>(at, (load<u32>(at) >> bits) | (bits == 0 ? 0 : hi << (32 - bits)));
  }
}

/** out = x³ + ax + b (x in Montgomery form): the curve equation's right-hand side. */
function curveRhs(out: usize, x: usize, c: Curve): void {
  sqr(T8, x, c.p);
  if (!c.aIsZero) add(T8, T8, c.a, c.p);
  mul(T8, T8, x, c.p);
  add(out, T8, c.b, c.p);
}

/**
 * Decodes a SEC 1 point (SEC 1 v2 §2.3.4) into `out` as a Jacobian point with Z = 1.
 * Returns false when it is not on the curve: a coordinate ≥ p, an uncompressed point
 * off the curve, or a compressed x with no y. The encoding's shape (prefix, length)
 * was checked by the SPKI parser.
 */
export function decodePoint(out: usize, point: Uint8Array, c: Curve): bool {
  const p = c.p;
  const x = out;
  const y = out + 32;
  fromBytes(x, point.dataStart + 1);
  if (!less(x, p.m)) return false;
  toMont(x, x, p);
  curveRhs(T7, x, c);
  if (point[0] == 0x04) {
    fromBytes(y, point.dataStart + 33);
    if (!less(y, p.m)) return false;
    toMont(y, y, p);
    sqr(T6, y, p);
    if (!equal(T6, T7)) return false;
  } else {
    // §2.3.4 step 2.4.2: y = √(x³ + ax + b), the root whose parity is the prefix's low bit.
    pow(y, T7, c.sqrtExp, p);
    sqr(T6, y, p);
    if (!equal(T6, T7)) return false;
    fromMont(T6, y, p);
    if (isOdd(T6) != ((point[0] & 1) != 0)) sub(y, ZERO, y, p);
  }
  copy(out + 64, p.one);
  return true;
}

// ---- Jacobian point arithmetic (formulas from the Explicit-Formulas Database,
// hyperelliptic.org/EFD/g1p/auto-shortw-jacobian*.html). A point is 96 bytes: X, Y, Z.

function setInfinity(out: usize): void {
  memory.fill(out, 0, 96);
}

/** out = 2·a. Doubling the point at infinity (Z = 0) gives Z = 0 again. */
function double(out: usize, a: usize, c: Curve): void {
  const p = c.p;
  const X = a, Y = a + 32, Z = a + 64;
  if (c.aIsZero) {
    // dbl-2009-l (a = 0): 2M + 5S.
    sqr(T0, X, p); // A = X²
    sqr(T1, Y, p); // B = Y²
    sqr(T2, T1, p); // C = B²
    add(T3, X, T1, p);
    sqr(T3, T3, p);
    sub(T3, T3, T0, p);
    sub(T3, T3, T2, p);
    add(T3, T3, T3, p); // D = 2((X + B)² - A - C)
    add(T4, T0, T0, p);
    add(T4, T4, T0, p); // E = 3A
    sqr(T5, T4, p); // F = E²
    mul(T6, Y, Z, p);
    add(out + 64, T6, T6, p); // Z3 = 2YZ
    sub(T5, T5, T3, p);
    sub(out, T5, T3, p); // X3 = F - 2D
    sub(T3, T3, out, p);
    mul(T3, T4, T3, p); // E(D - X3)
    add(T2, T2, T2, p);
    add(T2, T2, T2, p);
    add(T2, T2, T2, p); // 8C
    sub(out + 32, T3, T2, p);
  } else {
    // dbl-2001-b (a = -3): 3M + 5S.
    sqr(T0, Z, p); // delta = Z²
    sqr(T1, Y, p); // gamma = Y²
    mul(T2, X, T1, p); // beta = X·gamma
    sub(T3, X, T0, p);
    add(T4, X, T0, p);
    mul(T3, T3, T4, p);
    add(T4, T3, T3, p);
    add(T3, T4, T3, p); // alpha = 3(X - delta)(X + delta)
    add(T4, Y, Z, p);
    sqr(T4, T4, p);
    sub(T4, T4, T1, p);
    sub(out + 64, T4, T0, p); // Z3 = (Y + Z)² - gamma - delta
    add(T2, T2, T2, p);
    add(T2, T2, T2, p); // 4beta
    sqr(T5, T3, p);
    sub(T5, T5, T2, p);
    sub(out, T5, T2, p); // X3 = alpha² - 8beta
    sub(T2, T2, out, p);
    mul(T2, T3, T2, p); // alpha(4beta - X3)
    sqr(T1, T1, p);
    add(T1, T1, T1, p);
    add(T1, T1, T1, p);
    add(T1, T1, T1, p); // 8gamma²
    sub(out + 32, T2, T1, p);
  }
}

/**
 * out = a + b (add-2007-bl, 11M + 5S), with the cases that formula cannot take: either
 * input at infinity, a = b (doubling) and a = -b (infinity).
 */
function addPoints(out: usize, a: usize, b: usize, c: Curve): void {
  const p = c.p;
  if (isZero(a + 64)) {
    memory.copy(out, b, 96);
    return;
  }
  if (isZero(b + 64)) {
    memory.copy(out, a, 96);
    return;
  }
  const X1 = a, Y1 = a + 32, Z1 = a + 64;
  const X2 = b, Y2 = b + 32, Z2 = b + 64;
  sqr(T0, Z1, p); // Z1Z1
  sqr(T1, Z2, p); // Z2Z2
  mul(T2, X1, T1, p); // U1 = X1·Z2Z2
  mul(T3, X2, T0, p); // U2 = X2·Z1Z1
  mul(T4, Y1, Z2, p);
  mul(T4, T4, T1, p); // S1 = Y1·Z2·Z2Z2
  mul(T5, Y2, Z1, p);
  mul(T5, T5, T0, p); // S2 = Y2·Z1·Z1Z1
  sub(T3, T3, T2, p); // H = U2 - U1
  sub(T5, T5, T4, p); // S2 - S1
  if (isZero(T3)) {
    // Same x: a = b (then S2 = S1) or a = -b.
    if (isZero(T5)) double(out, a, c);
    else setInfinity(out);
    return;
  }
  add(T5, T5, T5, p); // r = 2(S2 - S1)
  add(T6, Z1, Z2, p);
  sqr(T6, T6, p);
  sub(T6, T6, T0, p);
  sub(T6, T6, T1, p);
  mul(T6, T6, T3, p); // Z3 = ((Z1 + Z2)² - Z1Z1 - Z2Z2)·H, kept aside: out may alias a or b
  add(T0, T3, T3, p);
  sqr(T0, T0, p); // I = (2H)²
  mul(T1, T3, T0, p); // J = H·I
  mul(T2, T2, T0, p); // V = U1·I
  sqr(T7, T5, p);
  sub(T7, T7, T1, p);
  sub(T7, T7, T2, p);
  sub(out, T7, T2, p); // X3 = r² - J - 2V
  sub(T2, T2, out, p);
  mul(T2, T5, T2, p); // r(V - X3)
  mul(T4, T4, T1, p);
  add(T4, T4, T4, p); // 2·S1·J
  sub(out + 32, T2, T4, p);
  copy(out + 64, T6);
}

/** out = a + d·P from a table of odd multiples 1P, 3P, …, 15P (d odd, |d| ≤ 15). */
function addDigit(out: usize, a: usize, table: usize, d: i32, c: Curve): void {
  if (d > 0) {
    addPoints(out, a, table + 96 * <usize>(d >> 1), c);
  } else {
    const entry = table + 96 * <usize>((-d) >> 1);
    copy(NEG, entry);
    sub(NEG + 32, ZERO, entry + 32, c.p);
    copy(NEG + 64, entry + 64);
    addPoints(out, a, NEG, c);
  }
}

/** table[i] = (2i + 1)·P for i = 0..7. */
function oddMultiples(table: usize, point: usize, c: Curve): void {
  memory.copy(table, point, 96);
  double(ACC, point, c);
  for (let i: usize = 1; i < 8; i++) addPoints(table + 96 * i, table + 96 * (i - 1), ACC, c);
}

const WINDOW: i32 = 5;

/**
 * Width-5 NAF of k < 2^256 (Hankerson, Menezes, Vanstone, "Guide to Elliptic Curve
 * Cryptography", Alg. 3.35): digits 0 or odd in [-15, 15], least significant first,
 * at most one nonzero digit in any 5 consecutive ones. Returns the digit count.
 */
function naf(out: usize, k: usize): i32 {
  const K = NAF_K;
  memory.copy(K, k, 32);
  store<u32>(K, 0, 32);
  let count = 0;
  for (;;) {
    let nonzero: u32 = 0;
    for (let i: usize = 0; i < 9; i++) nonzero |= load<u32>(K + (i << 2));
    if (nonzero == 0) break;
    let d: i32 = 0;
    const low = load<u32>(K);
    if (low & 1) {
      d = <i32>(low & ((1 << WINDOW) - 1));
      if (d >= 1 << (WINDOW - 1)) d -= 1 << WINDOW;
      // k -= d. For d > 0 this clears low bits without a borrow; for d < 0 it carries.
      let carry: i64 = -<i64>d;
      for (let i: usize = 0; i < 9 && carry != 0; i++) {
        const v = <i64>load<u32>(K + (i << 2)) + carry;
        store<u32>(K + (i << 2), <u32>v);
        carry = v >> 32;
      }
    }
    store<i8>(out + <usize>count, <i8>d);
    count++;
    for (let i: usize = 0; i < 9; i++) {
      const at = K + (i << 2);
      const next: u32 = i < 8 ? load<u32>(at, 4) : 0;
      store<u32>(at, (load<u32>(at) >> 1) | (next << 31));
    }
  }
  return count;
}

/**
 * ECDSA signature verification, SEC 1 v2 §4.1.4 with the hash taken as given:
 * `hash` (32 bytes) is e's octet string, so e = hash mod n (§4.1.4 step 3; both
 * orders are 256 bits, so no bits are dropped). `sig` is r‖s, 32 big-endian bytes
 * each (IEEE 1363). `q` is the public key from `decodePoint`.
 */
export function verify(c: Curve, q: usize, hash: usize, sig: usize): bool {
  const n = c.n;
  const r = SCALAR_R, s = SCALAR_S, e = SCALAR_E, w = SCALAR_W, u1 = SCALAR_U1, u2 = SCALAR_U2;
  // Step 1: r and s must be in [1, n - 1].
  fromBytes(r, sig);
  fromBytes(s, sig + 32);
  if (isZero(r) || !less(r, n.m) || isZero(s) || !less(s, n.m)) return false;
  // Steps 2-3: e = hash mod n; hash < 2^256 < 2n, so one subtraction reduces it.
  fromBytes(e, hash);
  if (!less(e, n.m)) subRaw(e, e, n.m);
  // Step 4: w = s⁻¹ mod n, taken into Montgomery form so that the Montgomery products
  // with the plain e and r give the plain u1 = e·w, u2 = r·w.
  invert(w, s, n);
  toMont(w, w, n);
  mul(u1, e, w, n);
  mul(u2, r, w, n);
  // Step 5: R = u1·G + u2·Q.
  const len1 = naf(NAF_1, u1);
  const len2 = naf(NAF_2, u2);
  oddMultiples(TABLE_G, c.g, c);
  oddMultiples(TABLE_Q, q, c);
  setInfinity(ACC);
  for (let i = max(len1, len2) - 1; i >= 0; i--) {
    double(ACC, ACC, c);
    const d1: i32 = i < len1 ? <i32>load<i8>(NAF_1 + <usize>i) : 0;
    const d2: i32 = i < len2 ? <i32>load<i8>(NAF_2 + <usize>i) : 0;
    if (d1 != 0) addDigit(ACC, ACC, TABLE_G, d1, c);
    if (d2 != 0) addDigit(ACC, ACC, TABLE_Q, d2, c);
  }
  // Step 5 (cont.): R must not be the point at infinity.
  const Z = ACC + 64;
  if (isZero(Z)) return false;
  // Steps 6-8: v = x_R mod n must equal r. With x_R = X/Z², compare X with r·Z² in
  // the field instead of inverting Z. x_R < p and p < 2n, so x_R mod n = r means
  // x_R = r, or x_R = r + n when that is still below p.
  const p = c.p;
  sqr(T0, Z, p);
  toMont(T1, r, p); // r < n < p
  mul(T1, T1, T0, p);
  if (equal(T1, ACC)) return true;
  if (!less(r, c.pMinusN)) return false;
  addRaw(T1, r, n.m);
  toMont(T1, T1, p);
  mul(T1, T1, T0, p);
  return equal(T1, ACC);
}

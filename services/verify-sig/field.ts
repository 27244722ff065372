// Arithmetic modulo a 256-bit odd modulus (the field primes and the group orders of
// P-256 and secp256k1), in Montgomery form (Montgomery, "Modular multiplication without
// trial division", Math. Comp. 44, 1985) with R = 2^256.
//
// An element is 8 little-endian u32 limbs at a pointer into linear memory, always fully
// reduced (< m), so equal values have equal limbs. Every function reads all its inputs
// before it writes `out`, so `out` may alias an input.
//
// Limbs are 32 bits because wasm has no 64×64→128 multiply: a 32×32 product is exact in
// a u64. Products and reductions are written out in full (no loops): under psiweb's CPU
// meter every loop iteration and call pays a check, and straight-line code keeps the
// limbs in wasm locals, i.e. in registers. A group order n has no usable shape and is
// reduced by the general Montgomery product (`montMul`); the two field primes, where
// nearly all the work is, have sparse words, and their Montgomery reduction adds and
// subtracts instead of multiplying by p (`reduceP256`, `reduceK1`).

// @ts-ignore: decorator
@inline const M32: u64 = 0xffffffff;

/** How a modulus reduces: any odd m, or one of the two field primes' special forms. */
export const GENERIC: i32 = 0;
/** p = 2^256 - 2^224 + 2^192 + 2^96 - 1 (FIPS 186-4 §D.1.2.3). */
export const P256_PRIME: i32 = 1;
/** p = 2^256 - 2^32 - 977 (SEC 2 v2 §2.4.1). */
export const K1_PRIME: i32 = 2;

/** A modulus m with its Montgomery constants. */
export class Modulus {
  /** m itself. */
  readonly m: usize = heap.alloc(32);
  /** -m⁻¹ mod 2^32. */
  m0inv: u64 = 0;
  /** R mod m: 1 in Montgomery form. */
  readonly one: usize = heap.alloc(32);
  /** R² mod m: multiplying by it enters Montgomery form. */
  readonly r2: usize = heap.alloc(32);

  /**
   * `hex`: m as 64 big-endian hex digits; m must be odd and above 2^255. `kind` says
   * which reduction `mul` and `sqr` use (GENERIC, or the prime whose hex this is).
   */
  constructor(hex: string, public kind: i32 = GENERIC) {
    fromHex(this.m, hex);
    const m0 = load<u32>(this.m);
    // Newton's iteration x ← x(2 - m0·x) doubles the correct low bits each step
    // (m0·m0 ≡ 1 mod 8 gives 3 bits to start): 3, 6, 12, 24, 48.
    let inv: u32 = m0;
    for (let i = 0; i < 4; i++) inv *= 2 - m0 * inv;
    this.m0inv = <u64>(0 - inv);
    // R mod m = 2^256 - m, since 2^255 < m < 2^256.
    subRaw(this.one, ZERO, this.m);
    // R² mod m, which is 2^256 in Montgomery form: double R mod m (1 in Montgomery
    // form) 8 times to get 2^8, then square 5 times: 2^16, 2^32, 2^64, 2^128, 2^256.
    copy(this.r2, this.one);
    for (let i = 0; i < 8; i++) add(this.r2, this.r2, this.r2, this);
    for (let i = 0; i < 5; i++) sqr(this.r2, this.r2, this);
  }
}

/** The element 0. */
export const ZERO: usize = memory.data(32);
// Static memory is zero in a fresh instance; set it anyway rather than rely on that.
memory.fill(ZERO, 0, 32);

// Scratch; one verification runs at a time in an instance.
const POW_TABLE: usize = memory.data(32 * 16);
const POW_ACC: usize = memory.data(32);

/** Loads 64 big-endian hex digits. */
export function fromHex(out: usize, hex: string): void {
  for (let limb = 0; limb < 8; limb++) {
    let v: u32 = 0;
    for (let d = 0; d < 8; d++) {
      const c = hex.charCodeAt(56 - 8 * limb + d);
      v = (v << 4) | <u32>(c <= 57 ? c - 48 : (c | 32) - 87);
    }
    store<u32>(out + (<usize>limb << 2), v);
  }
}

/** 32 big-endian bytes at `bytes` → limbs (not reduced). */
export function fromBytes(out: usize, bytes: usize): void {
  for (let i = 0; i < 8; i++) {
    store<u32>(out + (<usize>i << 2), bswap<u32>(load<u32>(bytes + <usize>(28 - 4 * i))));
  }
}

export function copy(out: usize, a: usize): void {
  memory.copy(out, a, 32);
}

export function setSmall(out: usize, v: u32): void {
  memory.fill(out, 0, 32);
  store<u32>(out, v);
}

export function isZero(a: usize): bool {
  return (load<u64>(a) | load<u64>(a, 8) | load<u64>(a, 16) | load<u64>(a, 24)) == 0;
}

export function equal(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8) &&
    load<u64>(a, 16) == load<u64>(b, 16) && load<u64>(a, 24) == load<u64>(b, 24);
}

/** a < b as plain 256-bit integers. */
export function less(a: usize, b: usize): bool {
  for (let i = 7; i >= 0; i--) {
    const x = load<u32>(a + (<usize>i << 2));
    const y = load<u32>(b + (<usize>i << 2));
    if (x != y) return x < y;
  }
  return false;
}

/** out = a - b mod 2^256; returns the borrow (1 if a < b). */
export function subRaw(out: usize, a: usize, b: usize): u32 {
  let d: i64 = 0;
  for (let i = 0; i < 8; i++) {
    const at = <usize>i << 2;
    d += <i64>load<u32>(a + at) - <i64>load<u32>(b + at);
    store<u32>(out + at, <u32>d);
    d >>= 32;
  }
  return <u32>(-d);
}

/** out = a + b mod 2^256; returns the carry. */
export function addRaw(out: usize, a: usize, b: usize): u32 {
  let c: u64 = 0;
  for (let i = 0; i < 8; i++) {
    const at = <usize>i << 2;
    c += <u64>load<u32>(a + at) + <u64>load<u32>(b + at);
    store<u32>(out + at, <u32>c);
    c >>= 32;
  }
  return <u32>c;
}

/** The low bit of a plain (non-Montgomery) value. */
export function isOdd(a: usize): bool {
  return (load<u32>(a) & 1) != 0;
}

/** out = a + b mod m (a, b < m). */
export function add(out: usize, a: usize, b: usize, mod: Modulus): void {
  let c: u64 = <u64>load<u32>(a) + <u64>load<u32>(b);
  const t0 = c & M32; c >>= 32;
  c += <u64>load<u32>(a, 4) + <u64>load<u32>(b, 4);
  const t1 = c & M32; c >>= 32;
  c += <u64>load<u32>(a, 8) + <u64>load<u32>(b, 8);
  const t2 = c & M32; c >>= 32;
  c += <u64>load<u32>(a, 12) + <u64>load<u32>(b, 12);
  const t3 = c & M32; c >>= 32;
  c += <u64>load<u32>(a, 16) + <u64>load<u32>(b, 16);
  const t4 = c & M32; c >>= 32;
  c += <u64>load<u32>(a, 20) + <u64>load<u32>(b, 20);
  const t5 = c & M32; c >>= 32;
  c += <u64>load<u32>(a, 24) + <u64>load<u32>(b, 24);
  const t6 = c & M32; c >>= 32;
  c += <u64>load<u32>(a, 28) + <u64>load<u32>(b, 28);
  const t7 = c & M32; c >>= 32;
  const n = mod.m;
  finish(out, t0, t1, t2, t3, t4, t5, t6, t7, c,
    load<u32>(n), load<u32>(n, 4), load<u32>(n, 8), load<u32>(n, 12),
    load<u32>(n, 16), load<u32>(n, 20), load<u32>(n, 24), load<u32>(n, 28));
}

/** out = a - b mod m (a, b < m). */
export function sub(out: usize, a: usize, b: usize, mod: Modulus): void {
  let d: i64 = <i64>load<u32>(a) - <i64>load<u32>(b);
  const t0 = d & <i64>M32; d >>= 32;
  d += <i64>load<u32>(a, 4) - <i64>load<u32>(b, 4);
  const t1 = d & <i64>M32; d >>= 32;
  d += <i64>load<u32>(a, 8) - <i64>load<u32>(b, 8);
  const t2 = d & <i64>M32; d >>= 32;
  d += <i64>load<u32>(a, 12) - <i64>load<u32>(b, 12);
  const t3 = d & <i64>M32; d >>= 32;
  d += <i64>load<u32>(a, 16) - <i64>load<u32>(b, 16);
  const t4 = d & <i64>M32; d >>= 32;
  d += <i64>load<u32>(a, 20) - <i64>load<u32>(b, 20);
  const t5 = d & <i64>M32; d >>= 32;
  d += <i64>load<u32>(a, 24) - <i64>load<u32>(b, 24);
  const t6 = d & <i64>M32; d >>= 32;
  d += <i64>load<u32>(a, 28) - <i64>load<u32>(b, 28);
  const t7 = d & <i64>M32; d >>= 32;
  if (d == 0) {
    store<u32>(out, <u32>t0); store<u32>(out, <u32>t1, 4);
    store<u32>(out, <u32>t2, 8); store<u32>(out, <u32>t3, 12);
    store<u32>(out, <u32>t4, 16); store<u32>(out, <u32>t5, 20);
    store<u32>(out, <u32>t6, 24); store<u32>(out, <u32>t7, 28);
    return;
  }
  // Borrowed: a - b + m, which is below m; the carry out of the top limb cancels the borrow.
  const n = mod.m;
  let c: u64 = <u64>t0 + <u64>load<u32>(n);
  store<u32>(out, <u32>c); c >>= 32;
  c += <u64>t1 + <u64>load<u32>(n, 4); store<u32>(out, <u32>c, 4); c >>= 32;
  c += <u64>t2 + <u64>load<u32>(n, 8); store<u32>(out, <u32>c, 8); c >>= 32;
  c += <u64>t3 + <u64>load<u32>(n, 12); store<u32>(out, <u32>c, 12); c >>= 32;
  c += <u64>t4 + <u64>load<u32>(n, 16); store<u32>(out, <u32>c, 16); c >>= 32;
  c += <u64>t5 + <u64>load<u32>(n, 20); store<u32>(out, <u32>c, 20); c >>= 32;
  c += <u64>t6 + <u64>load<u32>(n, 24); store<u32>(out, <u32>c, 24); c >>= 32;
  c += <u64>t7 + <u64>load<u32>(n, 28); store<u32>(out, <u32>c, 28);
}

/**
 * Stores t = t8·2^256 + t0..t7, minus m when t ≥ m. Callers guarantee t < 2m, so one
 * subtraction gives t mod m.
 */
// @ts-ignore: decorator
@inline function finish(out: usize,
  t0: u64, t1: u64, t2: u64, t3: u64, t4: u64, t5: u64, t6: u64, t7: u64, t8: u64,
  n0: u64, n1: u64, n2: u64, n3: u64, n4: u64, n5: u64, n6: u64, n7: u64): void {
  let d: i64 = <i64>t0 - <i64>n0;
  const r0 = d; d >>= 32;
  d += <i64>t1 - <i64>n1; const r1 = d; d >>= 32;
  d += <i64>t2 - <i64>n2; const r2 = d; d >>= 32;
  d += <i64>t3 - <i64>n3; const r3 = d; d >>= 32;
  d += <i64>t4 - <i64>n4; const r4 = d; d >>= 32;
  d += <i64>t5 - <i64>n5; const r5 = d; d >>= 32;
  d += <i64>t6 - <i64>n6; const r6 = d; d >>= 32;
  d += <i64>t7 - <i64>n7; const r7 = d; d >>= 32;
  // t - m ≥ 0 exactly when the top carry t8 covers the final borrow d (0 or -1).
  if (<i64>t8 + d >= 0) {
    store<u32>(out, <u32>r0); store<u32>(out, <u32>r1, 4);
    store<u32>(out, <u32>r2, 8); store<u32>(out, <u32>r3, 12);
    store<u32>(out, <u32>r4, 16); store<u32>(out, <u32>r5, 20);
    store<u32>(out, <u32>r6, 24); store<u32>(out, <u32>r7, 28);
  } else {
    store<u32>(out, <u32>t0); store<u32>(out, <u32>t1, 4);
    store<u32>(out, <u32>t2, 8); store<u32>(out, <u32>t3, 12);
    store<u32>(out, <u32>t4, 16); store<u32>(out, <u32>t5, 20);
    store<u32>(out, <u32>t6, 24); store<u32>(out, <u32>t7, 28);
  }
}

/** out = a·b·R⁻¹ mod m (a, b < m): the Montgomery product. */
export function mul(out: usize, a: usize, b: usize, mod: Modulus): void {
  const kind = mod.kind;
  if (kind == GENERIC) {
    montMul(out, a, b, mod);
    return;
  }
  wideMul(a, b);
  if (kind == P256_PRIME) reduceP256(out);
  else reduceK1(out, <i64>mod.m0inv);
}

/** out = a²·R⁻¹ mod m (a < m). */
export function sqr(out: usize, a: usize, mod: Modulus): void {
  const kind = mod.kind;
  if (kind == GENERIC) {
    montSqr(out, a, mod);
    return;
  }
  wideSqr(a);
  if (kind == P256_PRIME) reduceP256(out);
  else reduceK1(out, <i64>mod.m0inv);
}

/** out = a·R mod m: a (< m) into Montgomery form. */
export function toMont(out: usize, a: usize, mod: Modulus): void {
  mul(out, a, mod.r2, mod);
}

/** out = a·R⁻¹ mod m: out of Montgomery form. */
export function fromMont(out: usize, a: usize, mod: Modulus): void {
  const one = memory.data(32);
  setSmall(one, 1);
  mul(out, a, one, mod);
}

/** a = (a + carry·2^256) / 2, for even a + carry·2^256. */
function halve(a: usize, carry: u32): void {
  for (let i: usize = 0; i < 8; i++) {
    const at = a + (i << 2);
    const next = i < 7 ? load<u32>(at, 4) : carry;
    store<u32>(at, (load<u32>(at) >> 1) | (next << 31));
  }
}

/** a/2 mod m, for a < m (m odd): a is halved as is when even, as a + m when odd. */
function halveMod(a: usize, mod: Modulus): void {
  halve(a, (load<u32>(a) & 1) != 0 ? addRaw(a, a, mod.m) : 0);
}

function isOne(a: usize): bool {
  return load<u64>(a) == 1 && (load<u64>(a, 8) | load<u64>(a, 16) | load<u64>(a, 24)) == 0;
}

const INV_U: usize = memory.data(32);
const INV_V: usize = memory.data(32);
const INV_X1: usize = memory.data(32);
const INV_X2: usize = memory.data(32);

/**
 * out = a⁻¹ mod m for plain (not Montgomery) a in [1, m - 1], m prime: binary
 * inversion (Hankerson, Menezes, Vanstone, "Guide to Elliptic Curve Cryptography",
 * Alg. 2.22): shifts and subtractions that keep x1·a ≡ u and x2·a ≡ v (mod m) until u
 * or v is 1. Its running time depends on a, which is public here (the signature's s).
 */
export function invert(out: usize, a: usize, mod: Modulus): void {
  const u = INV_U, v = INV_V, x1 = INV_X1, x2 = INV_X2;
  copy(u, a);
  copy(v, mod.m);
  setSmall(x1, 1);
  setSmall(x2, 0);
  while (!isOne(u) && !isOne(v)) {
    while ((load<u32>(u) & 1) == 0) {
      halve(u, 0);
      halveMod(x1, mod);
    }
    while ((load<u32>(v) & 1) == 0) {
      halve(v, 0);
      halveMod(x2, mod);
    }
    if (less(u, v)) {
      subRaw(v, v, u);
      sub(x2, x2, x1, mod);
    } else {
      subRaw(u, u, v);
      sub(x1, x1, x2, mod);
    }
  }
  copy(out, isOne(u) ? x1 : x2);
}

/**
 * out = a^e in Montgomery form (a in Montgomery form, e a plain 256-bit exponent),
 * left to right in fixed 4-bit windows: 256 squarings and at most 64 multiplications.
 * The exponents are public (m - 2, (p + 1)/4), so nothing here needs to be constant-time.
 */
export function pow(out: usize, a: usize, e: usize, mod: Modulus): void {
  copy(POW_TABLE, mod.one);
  for (let i = 1; i < 16; i++) mul(POW_TABLE + (<usize>i << 5), POW_TABLE + (<usize>(i - 1) << 5), a, mod);
  copy(POW_ACC, mod.one);
  for (let nibble = 63; nibble >= 0; nibble--) {
    if (nibble != 63) {
      sqr(POW_ACC, POW_ACC, mod);
      sqr(POW_ACC, POW_ACC, mod);
      sqr(POW_ACC, POW_ACC, mod);
      sqr(POW_ACC, POW_ACC, mod);
    }
    const w = (load<u32>(e + (<usize>(nibble >> 3) << 2)) >> (<u32>(nibble & 7) << 2)) & 15;
    if (w != 0) mul(POW_ACC, POW_ACC, POW_TABLE + (<usize>w << 5), mod);
  }
  copy(out, POW_ACC);
}

// Montgomery products, finely integrated product scanning (Koç, Acar, Kaliski,
// "Analyzing and comparing Montgomery multiplication algorithms", IEEE Micro 16(3),
// 1996, §FIPS): column k of the result sums every a_i·b_j and m_i·n_j with i + j = k;
// in columns 0..7 the digit m_k = (column · -m⁻¹) mod 2^32 is then chosen so that the
// column's low word becomes 0 and is dropped, and columns 8..15 are the result
// t = (a·b + M·m) / 2^256 < 2m, reduced by `finish`.
//
// Each 64-bit product is accumulated as its low and high 32-bit halves (`lo`, `hi`),
// so no carry is lost: a column has at most 16 products, so lo < 2^37 + carry-in and
// hi < 2^37. In `sqr` the a_i·a_j (i ≠ j) products are counted twice by doubling the
// halves, each below 2^33.
function montMul(out: usize, a: usize, b: usize, mod: Modulus): void {
  const a0: u64 = load<u32>(a, 0);
  const a1: u64 = load<u32>(a, 4);
  const a2: u64 = load<u32>(a, 8);
  const a3: u64 = load<u32>(a, 12);
  const a4: u64 = load<u32>(a, 16);
  const a5: u64 = load<u32>(a, 20);
  const a6: u64 = load<u32>(a, 24);
  const a7: u64 = load<u32>(a, 28);
  const b0: u64 = load<u32>(b, 0);
  const b1: u64 = load<u32>(b, 4);
  const b2: u64 = load<u32>(b, 8);
  const b3: u64 = load<u32>(b, 12);
  const b4: u64 = load<u32>(b, 16);
  const b5: u64 = load<u32>(b, 20);
  const b6: u64 = load<u32>(b, 24);
  const b7: u64 = load<u32>(b, 28);
  const n = mod.m;
  const n0: u64 = load<u32>(n, 0);
  const n1: u64 = load<u32>(n, 4);
  const n2: u64 = load<u32>(n, 8);
  const n3: u64 = load<u32>(n, 12);
  const n4: u64 = load<u32>(n, 16);
  const n5: u64 = load<u32>(n, 20);
  const n6: u64 = load<u32>(n, 24);
  const n7: u64 = load<u32>(n, 28);
  const k = mod.m0inv;
  let lo: u64 = 0;
  let hi: u64 = 0;
  let p: u64;
  // column 0
  p = a0 * b0; lo += p & M32; hi += p >> 32;
  const m0: u64 = (lo * k) & M32;
  p = m0 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 1
  p = a0 * b1; lo += p & M32; hi += p >> 32;
  p = a1 * b0; lo += p & M32; hi += p >> 32;
  p = m0 * n1; lo += p & M32; hi += p >> 32;
  const m1: u64 = (lo * k) & M32;
  p = m1 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 2
  p = a0 * b2; lo += p & M32; hi += p >> 32;
  p = a1 * b1; lo += p & M32; hi += p >> 32;
  p = a2 * b0; lo += p & M32; hi += p >> 32;
  p = m0 * n2; lo += p & M32; hi += p >> 32;
  p = m1 * n1; lo += p & M32; hi += p >> 32;
  const m2: u64 = (lo * k) & M32;
  p = m2 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 3
  p = a0 * b3; lo += p & M32; hi += p >> 32;
  p = a1 * b2; lo += p & M32; hi += p >> 32;
  p = a2 * b1; lo += p & M32; hi += p >> 32;
  p = a3 * b0; lo += p & M32; hi += p >> 32;
  p = m0 * n3; lo += p & M32; hi += p >> 32;
  p = m1 * n2; lo += p & M32; hi += p >> 32;
  p = m2 * n1; lo += p & M32; hi += p >> 32;
  const m3: u64 = (lo * k) & M32;
  p = m3 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 4
  p = a0 * b4; lo += p & M32; hi += p >> 32;
  p = a1 * b3; lo += p & M32; hi += p >> 32;
  p = a2 * b2; lo += p & M32; hi += p >> 32;
  p = a3 * b1; lo += p & M32; hi += p >> 32;
  p = a4 * b0; lo += p & M32; hi += p >> 32;
  p = m0 * n4; lo += p & M32; hi += p >> 32;
  p = m1 * n3; lo += p & M32; hi += p >> 32;
  p = m2 * n2; lo += p & M32; hi += p >> 32;
  p = m3 * n1; lo += p & M32; hi += p >> 32;
  const m4: u64 = (lo * k) & M32;
  p = m4 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 5
  p = a0 * b5; lo += p & M32; hi += p >> 32;
  p = a1 * b4; lo += p & M32; hi += p >> 32;
  p = a2 * b3; lo += p & M32; hi += p >> 32;
  p = a3 * b2; lo += p & M32; hi += p >> 32;
  p = a4 * b1; lo += p & M32; hi += p >> 32;
  p = a5 * b0; lo += p & M32; hi += p >> 32;
  p = m0 * n5; lo += p & M32; hi += p >> 32;
  p = m1 * n4; lo += p & M32; hi += p >> 32;
  p = m2 * n3; lo += p & M32; hi += p >> 32;
  p = m3 * n2; lo += p & M32; hi += p >> 32;
  p = m4 * n1; lo += p & M32; hi += p >> 32;
  const m5: u64 = (lo * k) & M32;
  p = m5 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 6
  p = a0 * b6; lo += p & M32; hi += p >> 32;
  p = a1 * b5; lo += p & M32; hi += p >> 32;
  p = a2 * b4; lo += p & M32; hi += p >> 32;
  p = a3 * b3; lo += p & M32; hi += p >> 32;
  p = a4 * b2; lo += p & M32; hi += p >> 32;
  p = a5 * b1; lo += p & M32; hi += p >> 32;
  p = a6 * b0; lo += p & M32; hi += p >> 32;
  p = m0 * n6; lo += p & M32; hi += p >> 32;
  p = m1 * n5; lo += p & M32; hi += p >> 32;
  p = m2 * n4; lo += p & M32; hi += p >> 32;
  p = m3 * n3; lo += p & M32; hi += p >> 32;
  p = m4 * n2; lo += p & M32; hi += p >> 32;
  p = m5 * n1; lo += p & M32; hi += p >> 32;
  const m6: u64 = (lo * k) & M32;
  p = m6 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 7
  p = a0 * b7; lo += p & M32; hi += p >> 32;
  p = a1 * b6; lo += p & M32; hi += p >> 32;
  p = a2 * b5; lo += p & M32; hi += p >> 32;
  p = a3 * b4; lo += p & M32; hi += p >> 32;
  p = a4 * b3; lo += p & M32; hi += p >> 32;
  p = a5 * b2; lo += p & M32; hi += p >> 32;
  p = a6 * b1; lo += p & M32; hi += p >> 32;
  p = a7 * b0; lo += p & M32; hi += p >> 32;
  p = m0 * n7; lo += p & M32; hi += p >> 32;
  p = m1 * n6; lo += p & M32; hi += p >> 32;
  p = m2 * n5; lo += p & M32; hi += p >> 32;
  p = m3 * n4; lo += p & M32; hi += p >> 32;
  p = m4 * n3; lo += p & M32; hi += p >> 32;
  p = m5 * n2; lo += p & M32; hi += p >> 32;
  p = m6 * n1; lo += p & M32; hi += p >> 32;
  const m7: u64 = (lo * k) & M32;
  p = m7 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 8
  p = a1 * b7; lo += p & M32; hi += p >> 32;
  p = a2 * b6; lo += p & M32; hi += p >> 32;
  p = a3 * b5; lo += p & M32; hi += p >> 32;
  p = a4 * b4; lo += p & M32; hi += p >> 32;
  p = a5 * b3; lo += p & M32; hi += p >> 32;
  p = a6 * b2; lo += p & M32; hi += p >> 32;
  p = a7 * b1; lo += p & M32; hi += p >> 32;
  p = m1 * n7; lo += p & M32; hi += p >> 32;
  p = m2 * n6; lo += p & M32; hi += p >> 32;
  p = m3 * n5; lo += p & M32; hi += p >> 32;
  p = m4 * n4; lo += p & M32; hi += p >> 32;
  p = m5 * n3; lo += p & M32; hi += p >> 32;
  p = m6 * n2; lo += p & M32; hi += p >> 32;
  p = m7 * n1; lo += p & M32; hi += p >> 32;
  const t0: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 9
  p = a2 * b7; lo += p & M32; hi += p >> 32;
  p = a3 * b6; lo += p & M32; hi += p >> 32;
  p = a4 * b5; lo += p & M32; hi += p >> 32;
  p = a5 * b4; lo += p & M32; hi += p >> 32;
  p = a6 * b3; lo += p & M32; hi += p >> 32;
  p = a7 * b2; lo += p & M32; hi += p >> 32;
  p = m2 * n7; lo += p & M32; hi += p >> 32;
  p = m3 * n6; lo += p & M32; hi += p >> 32;
  p = m4 * n5; lo += p & M32; hi += p >> 32;
  p = m5 * n4; lo += p & M32; hi += p >> 32;
  p = m6 * n3; lo += p & M32; hi += p >> 32;
  p = m7 * n2; lo += p & M32; hi += p >> 32;
  const t1: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 10
  p = a3 * b7; lo += p & M32; hi += p >> 32;
  p = a4 * b6; lo += p & M32; hi += p >> 32;
  p = a5 * b5; lo += p & M32; hi += p >> 32;
  p = a6 * b4; lo += p & M32; hi += p >> 32;
  p = a7 * b3; lo += p & M32; hi += p >> 32;
  p = m3 * n7; lo += p & M32; hi += p >> 32;
  p = m4 * n6; lo += p & M32; hi += p >> 32;
  p = m5 * n5; lo += p & M32; hi += p >> 32;
  p = m6 * n4; lo += p & M32; hi += p >> 32;
  p = m7 * n3; lo += p & M32; hi += p >> 32;
  const t2: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 11
  p = a4 * b7; lo += p & M32; hi += p >> 32;
  p = a5 * b6; lo += p & M32; hi += p >> 32;
  p = a6 * b5; lo += p & M32; hi += p >> 32;
  p = a7 * b4; lo += p & M32; hi += p >> 32;
  p = m4 * n7; lo += p & M32; hi += p >> 32;
  p = m5 * n6; lo += p & M32; hi += p >> 32;
  p = m6 * n5; lo += p & M32; hi += p >> 32;
  p = m7 * n4; lo += p & M32; hi += p >> 32;
  const t3: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 12
  p = a5 * b7; lo += p & M32; hi += p >> 32;
  p = a6 * b6; lo += p & M32; hi += p >> 32;
  p = a7 * b5; lo += p & M32; hi += p >> 32;
  p = m5 * n7; lo += p & M32; hi += p >> 32;
  p = m6 * n6; lo += p & M32; hi += p >> 32;
  p = m7 * n5; lo += p & M32; hi += p >> 32;
  const t4: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 13
  p = a6 * b7; lo += p & M32; hi += p >> 32;
  p = a7 * b6; lo += p & M32; hi += p >> 32;
  p = m6 * n7; lo += p & M32; hi += p >> 32;
  p = m7 * n6; lo += p & M32; hi += p >> 32;
  const t5: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 14
  p = a7 * b7; lo += p & M32; hi += p >> 32;
  p = m7 * n7; lo += p & M32; hi += p >> 32;
  const t6: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  const t7: u64 = lo & M32;
  const t8: u64 = lo >> 32;
  finish(out, t0, t1, t2, t3, t4, t5, t6, t7, t8, n0, n1, n2, n3, n4, n5, n6, n7);
}

function montSqr(out: usize, a: usize, mod: Modulus): void {
  const a0: u64 = load<u32>(a, 0);
  const a1: u64 = load<u32>(a, 4);
  const a2: u64 = load<u32>(a, 8);
  const a3: u64 = load<u32>(a, 12);
  const a4: u64 = load<u32>(a, 16);
  const a5: u64 = load<u32>(a, 20);
  const a6: u64 = load<u32>(a, 24);
  const a7: u64 = load<u32>(a, 28);
  const n = mod.m;
  const n0: u64 = load<u32>(n, 0);
  const n1: u64 = load<u32>(n, 4);
  const n2: u64 = load<u32>(n, 8);
  const n3: u64 = load<u32>(n, 12);
  const n4: u64 = load<u32>(n, 16);
  const n5: u64 = load<u32>(n, 20);
  const n6: u64 = load<u32>(n, 24);
  const n7: u64 = load<u32>(n, 28);
  const k = mod.m0inv;
  let lo: u64 = 0;
  let hi: u64 = 0;
  let p: u64;
  // column 0
  p = a0 * a0; lo += p & M32; hi += p >> 32;
  const m0: u64 = (lo * k) & M32;
  p = m0 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 1
  p = a0 * a1; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = m0 * n1; lo += p & M32; hi += p >> 32;
  const m1: u64 = (lo * k) & M32;
  p = m1 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 2
  p = a0 * a2; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a1; lo += p & M32; hi += p >> 32;
  p = m0 * n2; lo += p & M32; hi += p >> 32;
  p = m1 * n1; lo += p & M32; hi += p >> 32;
  const m2: u64 = (lo * k) & M32;
  p = m2 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 3
  p = a0 * a3; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a2; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = m0 * n3; lo += p & M32; hi += p >> 32;
  p = m1 * n2; lo += p & M32; hi += p >> 32;
  p = m2 * n1; lo += p & M32; hi += p >> 32;
  const m3: u64 = (lo * k) & M32;
  p = m3 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 4
  p = a0 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a3; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a2; lo += p & M32; hi += p >> 32;
  p = m0 * n4; lo += p & M32; hi += p >> 32;
  p = m1 * n3; lo += p & M32; hi += p >> 32;
  p = m2 * n2; lo += p & M32; hi += p >> 32;
  p = m3 * n1; lo += p & M32; hi += p >> 32;
  const m4: u64 = (lo * k) & M32;
  p = m4 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 5
  p = a0 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a3; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = m0 * n5; lo += p & M32; hi += p >> 32;
  p = m1 * n4; lo += p & M32; hi += p >> 32;
  p = m2 * n3; lo += p & M32; hi += p >> 32;
  p = m3 * n2; lo += p & M32; hi += p >> 32;
  p = m4 * n1; lo += p & M32; hi += p >> 32;
  const m5: u64 = (lo * k) & M32;
  p = m5 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 6
  p = a0 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a3; lo += p & M32; hi += p >> 32;
  p = m0 * n6; lo += p & M32; hi += p >> 32;
  p = m1 * n5; lo += p & M32; hi += p >> 32;
  p = m2 * n4; lo += p & M32; hi += p >> 32;
  p = m3 * n3; lo += p & M32; hi += p >> 32;
  p = m4 * n2; lo += p & M32; hi += p >> 32;
  p = m5 * n1; lo += p & M32; hi += p >> 32;
  const m6: u64 = (lo * k) & M32;
  p = m6 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 7
  p = a0 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = m0 * n7; lo += p & M32; hi += p >> 32;
  p = m1 * n6; lo += p & M32; hi += p >> 32;
  p = m2 * n5; lo += p & M32; hi += p >> 32;
  p = m3 * n4; lo += p & M32; hi += p >> 32;
  p = m4 * n3; lo += p & M32; hi += p >> 32;
  p = m5 * n2; lo += p & M32; hi += p >> 32;
  p = m6 * n1; lo += p & M32; hi += p >> 32;
  const m7: u64 = (lo * k) & M32;
  p = m7 * n0; lo += p & M32; hi += p >> 32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 8
  p = a1 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a4 * a4; lo += p & M32; hi += p >> 32;
  p = m1 * n7; lo += p & M32; hi += p >> 32;
  p = m2 * n6; lo += p & M32; hi += p >> 32;
  p = m3 * n5; lo += p & M32; hi += p >> 32;
  p = m4 * n4; lo += p & M32; hi += p >> 32;
  p = m5 * n3; lo += p & M32; hi += p >> 32;
  p = m6 * n2; lo += p & M32; hi += p >> 32;
  p = m7 * n1; lo += p & M32; hi += p >> 32;
  const t0: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 9
  p = a2 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a4 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = m2 * n7; lo += p & M32; hi += p >> 32;
  p = m3 * n6; lo += p & M32; hi += p >> 32;
  p = m4 * n5; lo += p & M32; hi += p >> 32;
  p = m5 * n4; lo += p & M32; hi += p >> 32;
  p = m6 * n3; lo += p & M32; hi += p >> 32;
  p = m7 * n2; lo += p & M32; hi += p >> 32;
  const t1: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 10
  p = a3 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a4 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a5 * a5; lo += p & M32; hi += p >> 32;
  p = m3 * n7; lo += p & M32; hi += p >> 32;
  p = m4 * n6; lo += p & M32; hi += p >> 32;
  p = m5 * n5; lo += p & M32; hi += p >> 32;
  p = m6 * n4; lo += p & M32; hi += p >> 32;
  p = m7 * n3; lo += p & M32; hi += p >> 32;
  const t2: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 11
  p = a4 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a5 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = m4 * n7; lo += p & M32; hi += p >> 32;
  p = m5 * n6; lo += p & M32; hi += p >> 32;
  p = m6 * n5; lo += p & M32; hi += p >> 32;
  p = m7 * n4; lo += p & M32; hi += p >> 32;
  const t3: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 12
  p = a5 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a6 * a6; lo += p & M32; hi += p >> 32;
  p = m5 * n7; lo += p & M32; hi += p >> 32;
  p = m6 * n6; lo += p & M32; hi += p >> 32;
  p = m7 * n5; lo += p & M32; hi += p >> 32;
  const t4: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 13
  p = a6 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = m6 * n7; lo += p & M32; hi += p >> 32;
  p = m7 * n6; lo += p & M32; hi += p >> 32;
  const t5: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  // column 14
  p = a7 * a7; lo += p & M32; hi += p >> 32;
  p = m7 * n7; lo += p & M32; hi += p >> 32;
  const t6: u64 = lo & M32;
  lo = (lo >> 32) + hi; hi = 0;
  const t7: u64 = lo & M32;
  const t8: u64 = lo >> 32;
  finish(out, t0, t1, t2, t3, t4, t5, t6, t7, t8, n0, n1, n2, n3, n4, n5, n6, n7);
}

// ---- The field primes: the 512-bit product first (product scanning, into WIDE), then
// a Montgomery reduction that uses the prime's shape instead of multiplying by it.
// Montgomery reduction (HAC Alg. 14.32) adds, for each word i = 0..7, m_i·p·2^(32i)
// with m_i chosen to clear word i, then drops the 8 cleared words. The words are kept
// signed in i64 locals, adding and subtracting m_i where p's shape puts ±1 words; `c`
// carries the exact value above the word being cleared.

/** The 16-word product a·b, little-endian, that a reduction consumes. */
const WIDE: usize = memory.data(64);

function wideMul(a: usize, b: usize): void {
  const a0: u64 = load<u32>(a, 0);
  const a1: u64 = load<u32>(a, 4);
  const a2: u64 = load<u32>(a, 8);
  const a3: u64 = load<u32>(a, 12);
  const a4: u64 = load<u32>(a, 16);
  const a5: u64 = load<u32>(a, 20);
  const a6: u64 = load<u32>(a, 24);
  const a7: u64 = load<u32>(a, 28);
  const b0: u64 = load<u32>(b, 0);
  const b1: u64 = load<u32>(b, 4);
  const b2: u64 = load<u32>(b, 8);
  const b3: u64 = load<u32>(b, 12);
  const b4: u64 = load<u32>(b, 16);
  const b5: u64 = load<u32>(b, 20);
  const b6: u64 = load<u32>(b, 24);
  const b7: u64 = load<u32>(b, 28);
  const t = WIDE;
  let lo: u64 = 0;
  let hi: u64 = 0;
  let p: u64;
  p = a0 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 0); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * b1; lo += p & M32; hi += p >> 32;
  p = a1 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 4); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * b2; lo += p & M32; hi += p >> 32;
  p = a1 * b1; lo += p & M32; hi += p >> 32;
  p = a2 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 8); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * b3; lo += p & M32; hi += p >> 32;
  p = a1 * b2; lo += p & M32; hi += p >> 32;
  p = a2 * b1; lo += p & M32; hi += p >> 32;
  p = a3 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 12); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * b4; lo += p & M32; hi += p >> 32;
  p = a1 * b3; lo += p & M32; hi += p >> 32;
  p = a2 * b2; lo += p & M32; hi += p >> 32;
  p = a3 * b1; lo += p & M32; hi += p >> 32;
  p = a4 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 16); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * b5; lo += p & M32; hi += p >> 32;
  p = a1 * b4; lo += p & M32; hi += p >> 32;
  p = a2 * b3; lo += p & M32; hi += p >> 32;
  p = a3 * b2; lo += p & M32; hi += p >> 32;
  p = a4 * b1; lo += p & M32; hi += p >> 32;
  p = a5 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 20); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * b6; lo += p & M32; hi += p >> 32;
  p = a1 * b5; lo += p & M32; hi += p >> 32;
  p = a2 * b4; lo += p & M32; hi += p >> 32;
  p = a3 * b3; lo += p & M32; hi += p >> 32;
  p = a4 * b2; lo += p & M32; hi += p >> 32;
  p = a5 * b1; lo += p & M32; hi += p >> 32;
  p = a6 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 24); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * b7; lo += p & M32; hi += p >> 32;
  p = a1 * b6; lo += p & M32; hi += p >> 32;
  p = a2 * b5; lo += p & M32; hi += p >> 32;
  p = a3 * b4; lo += p & M32; hi += p >> 32;
  p = a4 * b3; lo += p & M32; hi += p >> 32;
  p = a5 * b2; lo += p & M32; hi += p >> 32;
  p = a6 * b1; lo += p & M32; hi += p >> 32;
  p = a7 * b0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 28); lo = (lo >> 32) + hi; hi = 0;
  p = a1 * b7; lo += p & M32; hi += p >> 32;
  p = a2 * b6; lo += p & M32; hi += p >> 32;
  p = a3 * b5; lo += p & M32; hi += p >> 32;
  p = a4 * b4; lo += p & M32; hi += p >> 32;
  p = a5 * b3; lo += p & M32; hi += p >> 32;
  p = a6 * b2; lo += p & M32; hi += p >> 32;
  p = a7 * b1; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 32); lo = (lo >> 32) + hi; hi = 0;
  p = a2 * b7; lo += p & M32; hi += p >> 32;
  p = a3 * b6; lo += p & M32; hi += p >> 32;
  p = a4 * b5; lo += p & M32; hi += p >> 32;
  p = a5 * b4; lo += p & M32; hi += p >> 32;
  p = a6 * b3; lo += p & M32; hi += p >> 32;
  p = a7 * b2; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 36); lo = (lo >> 32) + hi; hi = 0;
  p = a3 * b7; lo += p & M32; hi += p >> 32;
  p = a4 * b6; lo += p & M32; hi += p >> 32;
  p = a5 * b5; lo += p & M32; hi += p >> 32;
  p = a6 * b4; lo += p & M32; hi += p >> 32;
  p = a7 * b3; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 40); lo = (lo >> 32) + hi; hi = 0;
  p = a4 * b7; lo += p & M32; hi += p >> 32;
  p = a5 * b6; lo += p & M32; hi += p >> 32;
  p = a6 * b5; lo += p & M32; hi += p >> 32;
  p = a7 * b4; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 44); lo = (lo >> 32) + hi; hi = 0;
  p = a5 * b7; lo += p & M32; hi += p >> 32;
  p = a6 * b6; lo += p & M32; hi += p >> 32;
  p = a7 * b5; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 48); lo = (lo >> 32) + hi; hi = 0;
  p = a6 * b7; lo += p & M32; hi += p >> 32;
  p = a7 * b6; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 52); lo = (lo >> 32) + hi; hi = 0;
  p = a7 * b7; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 56); lo = (lo >> 32) + hi; hi = 0;
  store<u32>(t, <u32>lo, 60);
}

function wideSqr(a: usize): void {
  const a0: u64 = load<u32>(a, 0);
  const a1: u64 = load<u32>(a, 4);
  const a2: u64 = load<u32>(a, 8);
  const a3: u64 = load<u32>(a, 12);
  const a4: u64 = load<u32>(a, 16);
  const a5: u64 = load<u32>(a, 20);
  const a6: u64 = load<u32>(a, 24);
  const a7: u64 = load<u32>(a, 28);
  const t = WIDE;
  let lo: u64 = 0;
  let hi: u64 = 0;
  let p: u64;
  p = a0 * a0; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 0); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * a1; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  store<u32>(t, <u32>lo, 4); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * a2; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a1; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 8); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * a3; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a2; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  store<u32>(t, <u32>lo, 12); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a3; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a2; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 16); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a3; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  store<u32>(t, <u32>lo, 20); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a3; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 24); lo = (lo >> 32) + hi; hi = 0;
  p = a0 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a1 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a4; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  store<u32>(t, <u32>lo, 28); lo = (lo >> 32) + hi; hi = 0;
  p = a1 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a2 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a4 * a4; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 32); lo = (lo >> 32) + hi; hi = 0;
  p = a2 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a3 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a4 * a5; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  store<u32>(t, <u32>lo, 36); lo = (lo >> 32) + hi; hi = 0;
  p = a3 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a4 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a5 * a5; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 40); lo = (lo >> 32) + hi; hi = 0;
  p = a4 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a5 * a6; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  store<u32>(t, <u32>lo, 44); lo = (lo >> 32) + hi; hi = 0;
  p = a5 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  p = a6 * a6; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 48); lo = (lo >> 32) + hi; hi = 0;
  p = a6 * a7; lo += (p & M32) << 1; hi += (p >> 32) << 1;
  store<u32>(t, <u32>lo, 52); lo = (lo >> 32) + hi; hi = 0;
  p = a7 * a7; lo += p & M32; hi += p >> 32;
  store<u32>(t, <u32>lo, 56); lo = (lo >> 32) + hi; hi = 0;
  store<u32>(t, <u32>lo, 60);
}


/**
 * P-256: p = 2^256 - 2^224 + 2^192 + 2^96 - 1, so -p⁻¹ ≡ 1 (mod 2^32) and m_i is word
 * i itself; m_i·p·2^(32i) adds m_i at words i+3, i+6, i+8 and subtracts it at i+7 (and
 * at i, which clears that word).
 */
function reduceP256(out: usize): void {
  const w = WIDE;
  const t0: i64 = load<u32>(w, 0);
  const t1: i64 = load<u32>(w, 4);
  const t2: i64 = load<u32>(w, 8);
  let t3: i64 = load<u32>(w, 12);
  let t4: i64 = load<u32>(w, 16);
  let t5: i64 = load<u32>(w, 20);
  let t6: i64 = load<u32>(w, 24);
  let t7: i64 = load<u32>(w, 28);
  let t8: i64 = load<u32>(w, 32);
  let t9: i64 = load<u32>(w, 36);
  let t10: i64 = load<u32>(w, 40);
  let t11: i64 = load<u32>(w, 44);
  let t12: i64 = load<u32>(w, 48);
  let t13: i64 = load<u32>(w, 52);
  let t14: i64 = load<u32>(w, 56);
  let t15: i64 = load<u32>(w, 60);
  let v: i64;
  let m: i64;
  v = t0; m = v & 0xffffffff; let c = v >> 32; t3 += m; t6 += m; t7 -= m; t8 += m;
  v = t1 + c; m = v & 0xffffffff; c = v >> 32; t4 += m; t7 += m; t8 -= m; t9 += m;
  v = t2 + c; m = v & 0xffffffff; c = v >> 32; t5 += m; t8 += m; t9 -= m; t10 += m;
  v = t3 + c; m = v & 0xffffffff; c = v >> 32; t6 += m; t9 += m; t10 -= m; t11 += m;
  v = t4 + c; m = v & 0xffffffff; c = v >> 32; t7 += m; t10 += m; t11 -= m; t12 += m;
  v = t5 + c; m = v & 0xffffffff; c = v >> 32; t8 += m; t11 += m; t12 -= m; t13 += m;
  v = t6 + c; m = v & 0xffffffff; c = v >> 32; t9 += m; t12 += m; t13 -= m; t14 += m;
  v = t7 + c; m = v & 0xffffffff; c = v >> 32; t10 += m; t13 += m; t14 -= m; t15 += m;
  // (T + M·p)/2^256 < 2p: words 8..15 plus the carry, normalised to 32-bit words.
  v = t8 + c; const r0 = v & 0xffffffff; v >>= 32;
  v += t9; const r1 = v & 0xffffffff; v >>= 32;
  v += t10; const r2 = v & 0xffffffff; v >>= 32;
  v += t11; const r3 = v & 0xffffffff; v >>= 32;
  v += t12; const r4 = v & 0xffffffff; v >>= 32;
  v += t13; const r5 = v & 0xffffffff; v >>= 32;
  v += t14; const r6 = v & 0xffffffff; v >>= 32;
  v += t15; const r7 = v & 0xffffffff; v >>= 32;
  finish(out, r0, r1, r2, r3, r4, r5, r6, r7, v,
    0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 1, 0xffffffff);
}

/**
 * secp256k1: p = 2^256 - 2^32 - 977, so m_i·p·2^(32i) adds m_i at word i+8 and
 * subtracts it at word i+1 and 977·m_i at word i; `k` is -p⁻¹ mod 2^32.
 */
function reduceK1(out: usize, k: i64): void {
  const w = WIDE;
  const t0: i64 = load<u32>(w, 0);
  let t1: i64 = load<u32>(w, 4);
  let t2: i64 = load<u32>(w, 8);
  let t3: i64 = load<u32>(w, 12);
  let t4: i64 = load<u32>(w, 16);
  let t5: i64 = load<u32>(w, 20);
  let t6: i64 = load<u32>(w, 24);
  let t7: i64 = load<u32>(w, 28);
  let t8: i64 = load<u32>(w, 32);
  let t9: i64 = load<u32>(w, 36);
  let t10: i64 = load<u32>(w, 40);
  let t11: i64 = load<u32>(w, 44);
  let t12: i64 = load<u32>(w, 48);
  let t13: i64 = load<u32>(w, 52);
  let t14: i64 = load<u32>(w, 56);
  let t15: i64 = load<u32>(w, 60);
  let v: i64;
  let m: i64;
  v = t0; m = (v * k) & 0xffffffff; let c = (v - 977 * m) >> 32; t1 -= m; t8 += m;
  v = t1 + c; m = (v * k) & 0xffffffff; c = (v - 977 * m) >> 32; t2 -= m; t9 += m;
  v = t2 + c; m = (v * k) & 0xffffffff; c = (v - 977 * m) >> 32; t3 -= m; t10 += m;
  v = t3 + c; m = (v * k) & 0xffffffff; c = (v - 977 * m) >> 32; t4 -= m; t11 += m;
  v = t4 + c; m = (v * k) & 0xffffffff; c = (v - 977 * m) >> 32; t5 -= m; t12 += m;
  v = t5 + c; m = (v * k) & 0xffffffff; c = (v - 977 * m) >> 32; t6 -= m; t13 += m;
  v = t6 + c; m = (v * k) & 0xffffffff; c = (v - 977 * m) >> 32; t7 -= m; t14 += m;
  v = t7 + c; m = (v * k) & 0xffffffff; c = (v - 977 * m) >> 32; t8 -= m; t15 += m;
  v = t8 + c; const r0 = v & 0xffffffff; v >>= 32;
  v += t9; const r1 = v & 0xffffffff; v >>= 32;
  v += t10; const r2 = v & 0xffffffff; v >>= 32;
  v += t11; const r3 = v & 0xffffffff; v >>= 32;
  v += t12; const r4 = v & 0xffffffff; v >>= 32;
  v += t13; const r5 = v & 0xffffffff; v >>= 32;
  v += t14; const r6 = v & 0xffffffff; v >>= 32;
  v += t15; const r7 = v & 0xffffffff; v >>= 32;
  finish(out, r0, r1, r2, r3, r4, r5, r6, r7, v,
    0xfffffc2f, 0xfffffffe, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff);
}

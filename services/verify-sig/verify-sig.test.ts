// verify-sig in wasm on psiweb's service host, in verify mode as the chain runs it
// (src/chain/verify.ts verifyInWasm), against signatures made by Node's crypto
// (OpenSSL), WebCrypto and noble, and against the native twin (src/chain/sig-verifier.ts)
// that the chain uses instead of this wasm when it can.
import crypto from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../scripts/build-services.ts';
import { pack } from '../../src/chain/native-tables.ts';
import { sigVerifier } from '../../src/chain/sig-verifier.ts';
import { startProof, verifyInWasm, type ProofToCheck, type VerifierDeps } from '../../src/chain/verify.ts';
import { encodeSpki, type KeyAlgorithm } from '../../src/crypto/der.ts';
import { verifyHash } from '../../src/crypto/keys.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { MemoryKv, WriteOverlay } from '../../src/state/index.ts';
import { CodeFlags, ServiceHost, type ServiceCode } from '../../src/vm/index.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

const VERIFY_SIG = accountNumber('verify-sig');
const subtle = crypto.webcrypto.subtle;
const curves = { p256, k1: secp256k1 } as const;
type Curve = (typeof curves)[KeyAlgorithm];

let service: ServiceCode;
const host = new ServiceHost();
const state = new WriteOverlay(new MemoryKv());
const wasmOnly: VerifierDeps = { host, codeFor: (_s, svc) => (svc === VERIFY_SIG ? service : undefined), nativeVerifiers: new Map() };
let withTwin: VerifierDeps;

beforeAll(async () => {
  const code = await compileService('services/verify-sig/verify-sig.ts');
  const codeHash = sha256(code);
  service = { code, codeHash, flags: CodeFlags.isVerify };
  const twin = sigVerifier(codeHash);
  withTwin = { ...wasmOnly, nativeVerifiers: new Map([[Buffer.from(codeHash).toString('hex'), twin]]) };
}, COMPILE_TIMEOUT_MS);

// ---- bytes and numbers

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const be32 = (v: bigint): Uint8Array => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
const num = (b: Uint8Array): bigint => BigInt('0x' + (hex(b) || '0'));
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
const rs = (r: bigint, s: bigint): Uint8Array => concat(be32(r), be32(s));
const order = (c: Curve): bigint => c.Point.Fn.ORDER;
const prime = (c: Curve): bigint => c.Point.Fp.ORDER;
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

/** A seeded generator (xorshift32), so a failing case can be reproduced. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    int: (n: number): number => next() % n,
    bytes: (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = b.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

// ---- DER, written by hand so that malformed keys can be made

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const head = n < 0x80 ? [tag, n] : n < 0x100 ? [tag, 0x81, n] : [tag, 0x82, n >> 8, n & 0xff];
  return concat(Uint8Array.from(head), body);
}
const OID = {
  ecPublicKey: Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01),
  p256: Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07),
  k1: Uint8Array.of(0x2b, 0x81, 0x04, 0x00, 0x0a),
  p384: Uint8Array.of(0x2b, 0x81, 0x04, 0x00, 0x22),
  rsaEncryption: Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01),
};
const seq = (...parts: Uint8Array[]) => tlv(0x30, concat(...parts));
const oid = (o: Uint8Array) => tlv(0x06, o);
const bitString = (point: Uint8Array, unused = 0) => tlv(0x03, concat(Uint8Array.of(unused), point));
const spki = (curveOid: Uint8Array, point: Uint8Array) => seq(seq(oid(OID.ecPublicKey), oid(curveOid)), bitString(point));

// ---- running one proof

interface Case {
  label: string;
  der: Uint8Array;
  /** The signed bytes; hash = sha256(data). Absent for cases built from a hash alone. */
  data?: Uint8Array;
  hash: Uint8Array;
  proof: Uint8Array;
}

function proofOf(c: Case): ProofToCheck {
  return { hash: c.hash, data: c.data ?? new Uint8Array(0), claim: { service: VERIFY_SIG, rawData: c.der }, proof: c.proof };
}

/** The wasm's verdict: undefined = valid, else the abort message as the chain reports it. */
function wasm(c: Case): string | undefined {
  return verifyInWasm(wasmOnly, state, proofOf(c));
}

/** The native twin's verdict through the chain's dispatch (it must not fall back to the wasm). */
async function twin(c: Case): Promise<string | undefined> {
  const pending = startProof(withTwin, state, proofOf(c));
  expect(pending, `${c.label}: the twin must be used`).toBeInstanceOf(Promise);
  return pending;
}

const aborted = (message: string) => `service 'verify-sig' aborted with message: ${message}`;
const INVALID = aborted('signature invalid');

// ---- keys and signatures from independent signers

interface Signer {
  alg: KeyAlgorithm;
  how: string;
  /** SEC 1 uncompressed point. */
  point: Uint8Array;
  /** r‖s over sha256(data). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

async function webCryptoP256(): Promise<Signer> {
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const point = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return {
    alg: 'p256',
    how: 'WebCrypto',
    point,
    sign: async (data) => new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, data)),
  };
}

function openSsl(alg: KeyAlgorithm): Signer {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: alg === 'p256' ? 'prime256v1' : 'secp256k1' });
  const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  // Node writes the same SPKI as psiweb's encoder: named curve, uncompressed point.
  const point = der.subarray(der.length - 65);
  expect(hex(encodeSpki(alg, point))).toBe(hex(der));
  return {
    alg,
    how: 'OpenSSL',
    point,
    sign: async (data) => new Uint8Array(crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })),
  };
}

function noble(alg: KeyAlgorithm): Signer {
  const c = curves[alg];
  const secret = c.utils.randomSecretKey();
  return {
    alg,
    how: 'noble',
    point: c.getPublicKey(secret, false),
    sign: async (data) => c.sign(sha256(data), secret, { prehash: false }),
  };
}

const compress = (alg: KeyAlgorithm, point: Uint8Array): Uint8Array => curves[alg].Point.fromBytes(point).toBytes(true);

/** The other half of s: (r, n - s) verifies whenever (r, s) does. */
function otherS(alg: KeyAlgorithm, proof: Uint8Array): Uint8Array {
  const n = order(curves[alg]);
  return rs(num(proof.subarray(0, 32)), n - num(proof.subarray(32)));
}

describe('verify-sig in wasm', () => {
  it('accepts signatures from OpenSSL, WebCrypto and noble on both curves, keys compressed or not, either half of s', async () => {
    const r = rng(1);
    const signers = [await webCryptoP256(), await webCryptoP256(), openSsl('p256'), noble('p256'), openSsl('k1'), openSsl('k1'), noble('k1'), noble('k1')];
    let count = 0;
    for (const signer of signers) {
      for (let i = 0; i < 12; i++) {
        const data = r.bytes(r.int(300));
        const proof = await signer.sign(data);
        const hash = sha256(data);
        const der = encodeSpki(signer.alg, i % 2 ? compress(signer.alg, signer.point) : signer.point);
        const label = `${signer.alg} ${signer.how} #${i}`;
        expect(wasm({ label, der, data, hash, proof }), label).toBeUndefined();
        expect(wasm({ label, der, data, hash, proof: otherS(signer.alg, proof) }), `${label} other s`).toBeUndefined();
        count += 2;
      }
    }
    expect(count).toBe(192);
  });

  it('rejects tampered signatures, hashes and keys', async () => {
    const r = rng(2);
    for (const alg of ['p256', 'k1'] as const) {
      const signer = openSsl(alg);
      const other = noble(alg);
      for (let i = 0; i < 16; i++) {
        const data = r.bytes(1 + r.int(200));
        const proof = await signer.sign(data);
        const hash = sha256(data);
        const der = encodeSpki(alg, signer.point);
        const label = `${alg} #${i}`;
        expect(wasm({ label, der, hash, proof: flipBit(proof, r.int(512)) }), `${label} proof bit`).toBe(INVALID);
        expect(wasm({ label, der, hash: flipBit(hash, r.int(256)), proof }), `${label} hash bit`).toBe(INVALID);
        expect(wasm({ label, der, hash: sha256(flipBit(data, r.int(data.length * 8))), proof }), `${label} data bit`).toBe(INVALID);
        expect(wasm({ label, der: encodeSpki(alg, other.point), hash, proof }), `${label} other key`).toBe(INVALID);
        // The other y for the same x is the key's negation: a valid point, the wrong key.
        const flipped = compress(alg, signer.point);
        flipped[0]! ^= 1;
        expect(wasm({ label, der: encodeSpki(alg, flipped), hash, proof }), `${label} negated key`).toBe(INVALID);
      }
    }
  });

  it('rejects r or s outside [1, n - 1] and proofs that are not 64 bytes', async () => {
    for (const alg of ['p256', 'k1'] as const) {
      const signer = noble(alg);
      const n = order(curves[alg]);
      const data = new TextEncoder().encode(`range ${alg}`);
      const hash = sha256(data);
      const good = await signer.sign(data);
      const der = encodeSpki(alg, signer.point);
      const [r, s] = [num(good.subarray(0, 32)), num(good.subarray(32))];
      expect(wasm({ label: 'good', der, hash, proof: good })).toBeUndefined();
      const bad: [string, Uint8Array][] = [
        ['r = 0', rs(0n, s)],
        ['s = 0', rs(r, 0n)],
        ['r = n', rs(n, s)],
        ['s = n', rs(r, n)],
        ['r = 2^256 - 1', rs(2n ** 256n - 1n, s)],
        ['s = 2^256 - 1', rs(r, 2n ** 256n - 1n)],
        ['empty', new Uint8Array(0)],
        ['63 bytes', good.subarray(0, 63)],
        ['65 bytes', concat(good, Uint8Array.of(0))],
        ['DER signature', derSignature(r, s)],
      ];
      // Same residues mod n as the valid signature: only the range check stops them.
      if (r + n < 2n ** 256n) bad.push(['r + n', rs(r + n, s)]);
      if (s + n < 2n ** 256n) bad.push(['s + n', rs(r, s + n)]);
      for (const [label, proof] of bad) {
        expect(wasm({ label, der, hash, proof }), `${alg} ${label}`).toBe(INVALID);
      }
    }
  });

  it('handles the edge cases of the arithmetic: x_R ≥ n, Q = G, R at infinity, e ≥ n, e = 0', () => {
    for (const alg of ['p256', 'k1'] as const) {
      const c = curves[alg];
      const n = order(c);
      const p = prime(c);
      const Fp = c.Point.Fp;
      const Fn = c.Point.Fn;
      const G = c.Point.BASE;
      const check = (label: string, point: Uint8Array, hash: Uint8Array, proof: Uint8Array, valid: boolean) => {
        const der = encodeSpki(alg, point);
        // noble over the hash (src/crypto verifyHash) is the independent reference here:
        // these cases have no preimage for WebCrypto or the twin to hash.
        expect(verifyHash(der, hash, proof), `${alg} ${label}: reference`).toBe(valid);
        expect(wasm({ label, der, hash, proof }), `${alg} ${label}`).toBe(valid ? undefined : INVALID);
      };

      // x_R in [n, p): then r = x_R - n, and only the second comparison accepts it.
      let x = n;
      let y: bigint | undefined;
      while (y === undefined) {
        x += 1n;
        const rhs = Fp.add(Fp.add(Fp.mul(Fp.sqr(x), x), Fp.mul(c.Point.CURVE().a, x)), c.Point.CURVE().b);
        try {
          y = Fp.sqrt(rhs);
        } catch {
          y = undefined;
        }
      }
      expect(x < p).toBe(true);
      const R = c.Point.fromAffine({ x, y });
      const r = x - n;
      const s = 0x1234567n;
      const e = num(sha256(new TextEncoder().encode('x_R >= n')));
      const w = Fn.inv(s);
      const [u1, u2] = [Fn.mul(mod(e, n), w), Fn.mul(r, w)];
      // Choose the key that makes R = u1·G + u2·Q.
      const Q = R.subtract(G.multiply(u1)).multiply(Fn.inv(u2));
      check('x_R >= n', Q.toBytes(false), be32(e), rs(r, s), true);
      check('x_R >= n, compressed key', Q.toBytes(true), be32(e), rs(r, s), true);
      check('x_R >= n, other s', Q.toBytes(false), be32(e), rs(r, s + 1n), false);

      // Small r and s, so that r + n and s + n still fit in 32 bytes: the same residues
      // mod n, refused only because they are out of range. R is the point with the
      // least x that has one, and the key is again chosen to fit.
      let xs = 0n;
      let ys: bigint | undefined;
      while (ys === undefined) {
        xs += 1n;
        try {
          ys = Fp.sqrt(Fp.add(Fp.add(Fp.mul(Fp.sqr(xs), xs), Fp.mul(c.Point.CURVE().a, xs)), c.Point.CURVE().b));
        } catch {
          ys = undefined;
        }
      }
      const small = 3n;
      const ws = Fn.inv(small);
      const Qs = c.Point.fromAffine({ x: xs, y: ys }).subtract(G.multiply(Fn.mul(mod(e, n), ws))).multiply(Fn.inv(Fn.mul(xs, ws)));
      check('small r, s', Qs.toBytes(false), be32(e), rs(xs, small), true);
      check('small r + n', Qs.toBytes(false), be32(e), rs(xs + n, small), false);
      check('small s + n', Qs.toBytes(false), be32(e), rs(xs, small + n), false);

      // Q = G and e = r: u1 = u2, so the first addition of the loop adds a point to itself.
      const k = 0xabcdefn;
      const rG = mod(G.multiply(k).toAffine().x, n);
      check('Q = G, u1 = u2', G.toBytes(false), be32(rG), rs(rG, Fn.mul(Fn.inv(k), mod(2n * rG, n))), true);
      // Q = G and e = -r: u1 + u2 = 0, so R is the point at infinity.
      check('R at infinity', G.toBytes(false), be32(n - rG), rs(rG, 77n), false);

      // e is the hash reduced mod n: hashes n + 5 and 5 are the same message.
      const secret = c.utils.randomSecretKey();
      const point = c.getPublicKey(secret, false);
      const sig5 = c.sign(be32(5n), secret, { prehash: false });
      check('e = n + 5', point, be32(n + 5n), sig5, true);
      check('e = 2^256 - 1', point, be32(2n ** 256n - 1n), c.sign(be32(2n ** 256n - 1n), secret, { prehash: false }), true);
      check('e = 0', point, be32(0n), c.sign(be32(0n), secret, { prehash: false }), true);
      check('e = n', point, be32(n), c.sign(be32(0n), secret, { prehash: false }), true);
    }
  });

  it('refuses malformed and unsupported keys with the twin\'s messages', async () => {
    const good = noble('p256');
    const k1 = noble('k1');
    const data = new TextEncoder().encode('keys');
    const hash = sha256(data);
    const proof = await good.sign(data);
    const der = encodeSpki('p256', good.point);
    const pointOff = good.point.slice();
    pointOff[64]! ^= 1;
    const notOnCurve = 'public key is not a point on P-256';
    const ed25519 = new Uint8Array(crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }));
    // A P-256 x with no y: x³ - 3x + b is not a square.
    let noY = 1n;
    for (;; noY++) {
      try {
        p256.Point.fromBytes(concat(Uint8Array.of(2), be32(noY)));
      } catch {
        break;
      }
    }
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'malformed DER: expected SubjectPublicKeyInfo'],
      ['one byte', Uint8Array.of(0x30), 'malformed DER: truncated SubjectPublicKeyInfo'],
      ['truncated', der.subarray(0, der.length - 1), 'malformed DER: truncated SubjectPublicKeyInfo'],
      ['trailing byte', concat(der, Uint8Array.of(0)), 'malformed DER: trailing bytes after SubjectPublicKeyInfo'],
      ['SET, not SEQUENCE', concat(Uint8Array.of(0x31), der.subarray(1)), 'malformed DER: expected SubjectPublicKeyInfo'],
      ['indefinite length', concat(Uint8Array.of(0x30, 0x80), der.subarray(2), Uint8Array.of(0, 0)), 'malformed DER: bad length in SubjectPublicKeyInfo'],
      ['4-byte length', concat(Uint8Array.of(0x30, 0x84, 0, 0, 0, der[1]!), der.subarray(2)), 'malformed DER: bad length in SubjectPublicKeyInfo'],
      ['length past the end', concat(Uint8Array.of(0x30, 0x82, 0xff, 0xff), der.subarray(2)), 'malformed DER: truncated SubjectPublicKeyInfo'],
      ['RSA key', seq(seq(oid(OID.rsaEncryption), tlv(0x05, new Uint8Array(0))), bitString(good.point)), 'unsupported key algorithm: only id-ecPublicKey keys are accepted'],
      ['Ed25519 key', ed25519, 'unsupported key algorithm: only id-ecPublicKey keys are accepted'],
      ['P-384 curve', spki(OID.p384, good.point), 'unsupported curve: only P-256 and secp256k1 are accepted'],
      ['explicit parameters', seq(seq(oid(OID.ecPublicKey), seq(tlv(0x02, Uint8Array.of(1)))), bitString(good.point)), 'malformed DER: expected namedCurve OID'],
      ['no parameters', seq(seq(oid(OID.ecPublicKey)), bitString(good.point)), 'malformed DER: expected namedCurve OID'],
      ['extra parameter', seq(seq(oid(OID.ecPublicKey), oid(OID.p256), tlv(0x05, new Uint8Array(0))), bitString(good.point)), 'malformed DER: trailing bytes after AlgorithmIdentifier'],
      ['OCTET STRING key', seq(seq(oid(OID.ecPublicKey), oid(OID.p256)), tlv(0x04, good.point)), 'malformed DER: expected subjectPublicKey'],
      ['unused bits', seq(seq(oid(OID.ecPublicKey), oid(OID.p256)), bitString(good.point, 1)), 'malformed DER: subjectPublicKey must have 0 unused bits'],
      ['empty BIT STRING', seq(seq(oid(OID.ecPublicKey), oid(OID.p256)), tlv(0x03, new Uint8Array(0))), 'malformed DER: subjectPublicKey must have 0 unused bits'],
      ['element after the key', seq(seq(oid(OID.ecPublicKey), oid(OID.p256)), bitString(good.point), tlv(0x05, new Uint8Array(0))), 'malformed DER: trailing bytes after SubjectPublicKeyInfo'],
      ['hybrid point', spki(OID.p256, concat(Uint8Array.of(6 | (good.point[64]! & 1)), good.point.subarray(1))), 'public key is not a SEC 1 point on a 256-bit curve'],
      ['point at infinity', spki(OID.p256, Uint8Array.of(0)), 'public key is not a SEC 1 point on a 256-bit curve'],
      ['short point', spki(OID.p256, good.point.subarray(0, 64)), 'public key is not a SEC 1 point on a 256-bit curve'],
      ['point with a trailing byte', spki(OID.p256, concat(good.point, Uint8Array.of(0))), 'public key is not a SEC 1 point on a 256-bit curve'],
      ['off the curve', spki(OID.p256, pointOff), notOnCurve],
      ['x = p', spki(OID.p256, concat(Uint8Array.of(4), be32(prime(p256)), good.point.subarray(33))), notOnCurve],
      ['y = y + p', spki(OID.p256, concat(good.point.subarray(0, 33), be32(num(good.point.subarray(33)) + prime(p256)))), notOnCurve],
      ['compressed x = p', spki(OID.p256, concat(Uint8Array.of(2), be32(prime(p256)))), notOnCurve],
      ['compressed x without y', spki(OID.p256, concat(Uint8Array.of(3), be32(noY))), notOnCurve],
      ['P-256 point named secp256k1', spki(OID.k1, good.point), 'public key is not a point on secp256k1'],
      ['secp256k1 x = 0', spki(OID.k1, concat(Uint8Array.of(2), be32(0n))), 'public key is not a point on secp256k1'],
      ['secp256k1 point named P-256', spki(OID.p256, k1.point), notOnCurve],
    ];
    for (const [label, key, message] of cases) {
      const c = { label, der: key, data, hash, proof };
      expect(wasm(c), label).toBe(aborted(message));
      expect(await twin(c), `${label}: twin`).toBe(aborted(message));
    }
    // Long-form lengths need not be minimal (BER, and Botan's decoder, allow it; so does the twin).
    const longForm = concat(Uint8Array.of(0x30, 0x81), der.subarray(1));
    expect(wasm({ label: 'long form', der: longForm, hash, proof })).toBeUndefined();
    expect(await twin({ label: 'long form', der: longForm, data, hash, proof })).toBeUndefined();
  });

  it('imports only what a verify service may use: no database, no calls', () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(new Uint8Array(service.code))).map((i) => `${i.module}.${i.name}`);
    expect(imports.sort()).toEqual(['env.abortMessage', 'env.getCurrentAction', 'env.getResult']);
  });

  it('answers only verifySys, and checks its arguments', () => {
    const run = (method: string, rawData: Uint8Array) =>
      host.runAction({
        state,
        codeFor: (s) => (s === VERIFY_SIG ? service : undefined),
        action: { sender: 0n, service: VERIFY_SIG, method: methodNumber(method), rawData },
      }).error?.message;
    expect(run('verify', new Uint8Array(2))).toBe(aborted('Unknown action'));
    const args = pack.verifyArgs({ transactionHash: new Uint8Array(32), claim: { service: VERIFY_SIG, rawData: new Uint8Array(0) }, proof: new Uint8Array(0) });
    expect(run('verifySys', args)).toBe(aborted('malformed DER: expected SubjectPublicKeyInfo'));
    expect(run('verifySys', args.subarray(0, 20))).toMatch(/aborted with message: fracpack: /);
  });
});

describe('verify-sig in wasm and its native twin', () => {
  it('give the same verdict and message on a few hundred valid and invalid proofs', async () => {
    const r = rng(3);
    const signers = [await webCryptoP256(), openSsl('p256'), noble('p256'), openSsl('k1'), noble('k1'), noble('k1')];
    const cases: Case[] = [];
    for (const signer of signers) {
      const other = signers.find((s) => s !== signer && s.alg === signer.alg)!;
      for (let i = 0; i < 10; i++) {
        const data = r.bytes(1 + r.int(300));
        const hash = sha256(data);
        const proof = await signer.sign(data);
        const point = i % 2 ? compress(signer.alg, signer.point) : signer.point;
        const der = encodeSpki(signer.alg, point);
        const label = `${signer.alg} ${signer.how} #${i}`;
        const tamperedData = flipBit(data, r.int(data.length * 8));
        cases.push(
          { label, der, data, hash, proof },
          { label: `${label} other s`, der, data, hash, proof: otherS(signer.alg, proof) },
          { label: `${label} proof bit`, der, data, hash, proof: flipBit(proof, r.int(512)) },
          { label: `${label} data bit`, der, data: tamperedData, hash: sha256(tamperedData), proof },
          { label: `${label} other key`, der: encodeSpki(signer.alg, other.point), data, hash, proof },
          { label: `${label} key bit`, der: flipBit(der, 8 * (der.length - 1 - r.int(32)) + r.int(8)), data, hash, proof },
          { label: `${label} s = 0`, der, data, hash, proof: rs(num(proof.subarray(0, 32)), 0n) },
          { label: `${label} r = n`, der, data, hash, proof: rs(order(curves[signer.alg]), num(proof.subarray(32))) },
          { label: `${label} short proof`, der, data, hash, proof: proof.subarray(1) },
        );
      }
    }
    const verdicts = { valid: 0, invalid: 0, badKey: 0 };
    for (const c of cases) {
      const fromWasm = wasm(c);
      expect(await twin(c), c.label).toBe(fromWasm);
      if (fromWasm === undefined) verdicts.valid++;
      else if (fromWasm === INVALID) verdicts.invalid++;
      else verdicts.badKey++;
    }
    expect(cases.length).toBe(540);
    // 60 signatures, each valid with either s; the flipped key bits mostly leave the curve.
    expect(verdicts.valid).toBe(120);
    expect(verdicts.badKey).toBeGreaterThan(0);
    expect(verdicts.invalid + verdicts.badKey).toBe(420);
  });
});

/** r, s as an ASN.1 DER Ecdsa-Sig-Value (RFC 5480 §2.2 of RFC 5758), which verify-sig does not take. */
function derSignature(r: bigint, s: bigint): Uint8Array {
  const int = (v: bigint) => {
    let b = be32(v);
    while (b.length > 1 && b[0] === 0 && !(b[1]! & 0x80)) b = b.subarray(1);
    if (b[0]! & 0x80) b = concat(Uint8Array.of(0), b);
    return tlv(0x02, b);
  };
  return seq(int(r), int(s));
}

describe('verify-sig field arithmetic', () => {
  it('matches BigInt on edge and random operands for both primes and both orders', async () => {
    const probe: ServiceCode = { code: await compileService('services/verify-sig/testing/field-probe.ts') };
    const PROBE = accountNumber('fieldprobe');
    const moduli = [prime(p256), order(p256), prime(secp256k1), order(secp256k1)];
    const R = 2n ** 256n;
    const r = rng(4);
    for (const [id, m] of moduli.entries()) {
      const rInv = modInverse(R % m, m);
      // Values whose words sit at 0 or 2^32 - 1, around m, and around the powers of two
      // where P-256's and secp256k1's primes have their ±1 words.
      const edges = [0n, 1n, 2n, 3n, m - 1n, m - 2n, m - 3n, (m - 1n) / 2n, (m + 1n) / 2n, R % m, (R * R) % m, 2n ** 255n];
      for (const k of [32n, 64n, 96n, 128n, 192n, 224n]) edges.push(2n ** k - 1n, 2n ** k, 2n ** k + 1n, m - 2n ** k, m - 2n ** k + 1n);
      for (let w = 0; w < 8; w++) edges.push((2n ** 32n - 1n) << BigInt(32 * w), m - ((2n ** 32n - 1n) << BigInt(32 * w)));
      const operands = edges.filter((v) => v >= 0n && v < m);
      for (let i = 0; i < 40; i++) operands.push(num(r.bytes(32)) % m);
      const ops: [number, bigint, bigint, bigint][] = [];
      for (const a of operands) {
        for (const b of operands) {
          ops.push([0, a, b, (a * b * rInv) % m], [2, a, b, (a + b) % m], [3, a, b, mod(a - b, m)]);
        }
        ops.push([1, a, 0n, (a * a * rInv) % m], [5, a, 0n, (a * R) % m], [6, a, 0n, (a * rInv) % m]);
        if (a !== 0n) ops.push([4, a, 0n, modInverse(a, m)]);
      }
      for (let start = 0; start < ops.length; start += 2000) {
        const batch = ops.slice(start, start + 2000);
        const rawData = concat(...batch.map(([op, a, b]) => concat(Uint8Array.of(id, op), be32(a), be32(b))));
        const result = host.runAction({
          state,
          codeFor: (s) => (s === PROBE ? probe : undefined),
          action: { sender: 0n, service: PROBE, method: methodNumber('field'), rawData },
        });
        expect(result.error).toBeUndefined();
        batch.forEach(([op, a, b, want], i) => {
          const got = num(result.retval.subarray(32 * i, 32 * i + 32));
          if (got !== want) expect.fail(`modulus ${id} op ${op}(${a.toString(16)}, ${b.toString(16)}) = ${got.toString(16)}, want ${want.toString(16)}`);
        });
      }
    }
  }, COMPILE_TIMEOUT_MS);
});

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0, m);
}

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthError, DecodeError } from '../errors.ts';
import { decodePkcs8, decodeSpki, encodeSpki } from './der.ts';
import type { KeyAlgorithm } from './der.ts';
import {
  devKeyPair,
  generateKeyPair,
  keyPairFromScalar,
  parsePublicKey,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyDer,
  publicKeyFromPem,
  publicKeyToPem,
  sign,
  signHash,
  verify,
  verifyHash,
  verifyHashOrThrow,
  verifyOrThrow,
} from './keys.ts';
import { pemDecode, pemEncode } from './pem.ts';

// Node's OpenSSL is an independent implementation to check our bytes against.
const nodeCurve: Record<KeyAlgorithm, string> = { p256: 'prime256v1', k1: 'secp256k1' };
const curveOrder: Record<KeyAlgorithm, bigint> = { p256: p256.Point.CURVE().n, k1: secp256k1.Point.CURVE().n };
const algs: KeyAlgorithm[] = ['p256', 'k1'];
const enc = new TextEncoder();
const message = enc.encode('a packed psibase Transaction stands here');

function nodeKey(der: Uint8Array) {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
}

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[i]! ^= 1;
  return out;
}

/** The other valid signature for the same (r, s): s ↦ n − s. */
function highS(sig: Uint8Array, n: bigint): Uint8Array {
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
  const out = new Uint8Array(sig);
  out.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

describe.each(algs)('%s keys', (alg) => {
  it('writes SubjectPublicKeyInfo with the exact OIDs (parsed by OpenSSL)', async () => {
    const pair = await generateKeyPair(alg);
    const der = publicKeyDer(pair);
    expect(nodeKey(der).asymmetricKeyDetails?.namedCurve).toBe(nodeCurve[alg]);
    // Uncompressed point, as psibase's key generation writes it.
    // 65-byte point after the curve's OID (P-256's OID is 3 bytes longer than K1's).
    expect(der.length).toBe(alg === 'p256' ? 91 : 88);
    expect(decodeSpki(der).point[0]).toBe(4);
  });

  it('signs sha256(message) as r‖s that OpenSSL verifies, and the hash path agrees', async () => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const sig = await sign(pair, message);
    expect(sig.length).toBe(64);
    expect(nodeVerify('sha256', message, { key: nodeKey(pair.publicKeyDer), dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
    // psibase's digest is the transaction hash itself: verifying it unhashed must agree.
    expect(verifyHash(pair.publicKeyDer, sha256(message), sig)).toBe(true);
    expect(await verify(pair.publicKeyDer, message, sig)).toBe(true);

    const hashSig = await signHash(pair, sha256(message));
    expect(await verify(pair.publicKeyDer, message, hashSig)).toBe(true);
    expect(nodeVerify('sha256', message, { key: nodeKey(pair.publicKeyDer), dsaEncoding: 'ieee-p1363' }, hashSig)).toBe(true);
  });

  it('verifies OpenSSL signatures, high-s included (Botan accepts both)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: nodeCurve[alg] });
    const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const sig = new Uint8Array(nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
    for (const s of [sig, highS(sig, curveOrder[alg])]) {
      expect(await verify(der, message, s)).toBe(true);
      expect(verifyHash(der, sha256(message), s)).toBe(true);
    }
  });

  it('accepts compressed points, as psibase does', async () => {
    const pair = await generateKeyPair(alg);
    const point = decodeSpki(pair.publicKeyDer).point;
    const curve = alg === 'p256' ? p256 : secp256k1;
    const compressed = encodeSpki(alg, curve.Point.fromBytes(point).toBytes(true));
    expect(compressed.length).toBe(alg === 'p256' ? 59 : 56);
    expect(nodeKey(compressed).asymmetricKeyDetails?.namedCurve).toBe(nodeCurve[alg]);
    const sig = await sign(pair, message);
    expect(await verify(compressed, message, sig)).toBe(true);
    expect(verifyHash(compressed, sha256(message), sig)).toBe(true);
  });

  it('rejects signatures that do not match', async () => {
    const pair = await generateKeyPair(alg);
    const other = await generateKeyPair(alg);
    const sig = await sign(pair, message);
    const hash = sha256(message);
    expect(await verify(pair.publicKeyDer, flip(message, 3), sig)).toBe(false);
    expect(await verify(pair.publicKeyDer, message, flip(sig, 10))).toBe(false);
    expect(await verify(pair.publicKeyDer, message, flip(sig, 50))).toBe(false);
    expect(await verify(other.publicKeyDer, message, sig)).toBe(false);
    expect(await verify(pair.publicKeyDer, message, sig.subarray(0, 63))).toBe(false);
    expect(await verify(pair.publicKeyDer, message, new Uint8Array(64))).toBe(false);
    expect(verifyHash(pair.publicKeyDer, flip(hash, 0), sig)).toBe(false);
    expect(verifyHash(pair.publicKeyDer, hash, flip(sig, 0))).toBe(false);
    await expect(verifyOrThrow(pair.publicKeyDer, flip(message, 0), sig)).rejects.toBeInstanceOf(AuthError);
    expect(() => verifyHashOrThrow(pair.publicKeyDer, flip(hash, 0), sig)).toThrow(AuthError);
    await expect(verifyOrThrow(pair.publicKeyDer, message, sig)).resolves.toBeUndefined();
  });

  it('round-trips keys through PEM, readable by OpenSSL both ways', async () => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const pubPem = publicKeyToPem(pair.publicKeyDer);
    expect(pubPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PUBLIC KEY-----\n$/);
    expect(publicKeyFromPem(pubPem)).toEqual(pair.publicKeyDer);
    expect(createPublicKey(pubPem).export({ format: 'der', type: 'spki' })).toEqual(Buffer.from(pair.publicKeyDer));

    const privPem = await privateKeyToPem(pair);
    const nodePriv = createPrivateKey(privPem);
    expect(createPublicKey(nodePriv).export({ format: 'der', type: 'spki' })).toEqual(Buffer.from(pair.publicKeyDer));
    // psibase's CLI takes the claim from the point inside the PKCS#8: it must be there.
    expect(decodePkcs8(pemDecode(privPem, 'PRIVATE KEY')).point).toBeDefined();

    const back = await privateKeyFromPem(privPem);
    expect(back.publicKeyDer).toEqual(pair.publicKeyDer);
    expect(await verify(pair.publicKeyDer, message, await sign(back, message))).toBe(true);
  });

  it('imports PKCS#8 written by OpenSSL', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: nodeCurve[alg] });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const pair = await privateKeyFromPem(pem);
    expect(pair.publicKeyDer).toEqual(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })));
    const sig = await sign(pair, message);
    expect(nodeVerify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
  });

  it('imports PKCS#8 without a public point, and keeps a compressed one', async () => {
    const scalar = sha256(enc.encode(`scalar ${alg}`));
    const oid = alg === 'p256' ? [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] : [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
    const algId = [0x30, 9 + oid.length, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, ...oid];
    const ecPriv = [0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20, ...scalar];
    const body = [0x02, 0x01, 0x00, ...algId, 0x04, ecPriv.length, ...ecPriv];
    const bare = Uint8Array.from([0x30, body.length, ...body]);
    const pair = await privateKeyFromPem(pemEncode('PRIVATE KEY', bare));
    expect(pair.publicKeyDer).toEqual((await keyPairFromScalar(alg, scalar)).publicKeyDer);

    const curve = alg === 'p256' ? p256 : secp256k1;
    const compressedPoint = curve.getPublicKey(scalar, true);
    const withPoint = [...ecPriv.slice(2), 0xa1, 0x24, 0x03, 0x22, 0x00, ...compressedPoint];
    const ec2 = [0x30, withPoint.length, ...withPoint];
    const body2 = [0x02, 0x01, 0x00, ...algId, 0x04, ec2.length, ...ec2];
    const compressedPkcs8 = Uint8Array.from([0x30, body2.length, ...body2]);
    const pair2 = await privateKeyFromPem(pemEncode('PRIVATE KEY', compressedPkcs8));
    expect(pair2.publicKeyDer).toEqual(encodeSpki(alg, compressedPoint));

    const wrongPoint = curve.getPublicKey(sha256(scalar), true);
    const bad = new Uint8Array(compressedPkcs8);
    bad.set(wrongPoint, bad.length - 33);
    await expect(privateKeyFromPem(pemEncode('PRIVATE KEY', bad))).rejects.toBeInstanceOf(DecodeError);
  });

  it('derives repeatable dev keys', async () => {
    const a = await devKeyPair(alg, 'alice');
    const a2 = await devKeyPair(alg, 'alice');
    const b = await devKeyPair(alg, 'bob');
    expect(a.publicKeyDer).toEqual(a2.publicKeyDer);
    expect(a.publicKeyDer).not.toEqual(b.publicKeyDer);
    expect(await verify(a.publicKeyDer, message, await sign(a2, message))).toBe(true);
  });
});

describe('extractability', () => {
  it('keeps P-256 private keys non-extractable by default', async () => {
    const pair = await generateKeyPair('p256');
    if (pair.alg !== 'p256') throw new Error('unreachable');
    expect(pair.privateKey.extractable).toBe(false);
    await expect(privateKeyToPem(pair)).rejects.toBeInstanceOf(AuthError);
    await expect(signHash(pair, sha256(message))).rejects.toBeInstanceOf(AuthError);
    expect(await verify(pair.publicKeyDer, message, await sign(pair, message))).toBe(true);
  });
});

describe('malformed input', () => {
  it('rejects other key types and curves with DecodeError', () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    expect(() => parsePublicKey(new Uint8Array(ed))).toThrow(DecodeError);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ format: 'der', type: 'spki' });
    expect(() => parsePublicKey(new Uint8Array(p384))).toThrow(DecodeError);
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    expect(() => publicKeyFromPem(rsaPem)).toThrow(DecodeError);
  });

  it('rejects points off the curve', async () => {
    const pair = await generateKeyPair('p256');
    const der = flip(pair.publicKeyDer, 90);
    expect(() => parsePublicKey(der)).toThrow(DecodeError);
    await expect(verify(der, message, new Uint8Array(64).fill(1))).rejects.toBeInstanceOf(DecodeError);
  });

  it('rejects bad PEM with DecodeError', async () => {
    const pair = await generateKeyPair('k1');
    const pem = publicKeyToPem(pair.publicKeyDer);
    expect(() => publicKeyFromPem(pem.replace('PUBLIC KEY-----\n', 'PUBLIC KEY-----\n!'))).toThrow(DecodeError);
    expect(() => publicKeyFromPem(pem.replace(/PUBLIC/g, 'PRIVATE'))).toThrow(DecodeError);
    expect(() => publicKeyFromPem(pem.replace('END PUBLIC', 'END PRIVATE'))).toThrow(DecodeError);
    expect(() => publicKeyFromPem('')).toThrow(DecodeError);
    expect(() => publicKeyFromPem('-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n')).toThrow(DecodeError);
    expect(() => publicKeyFromPem(42 as unknown as string)).toThrow(DecodeError);
    await expect(privateKeyFromPem(pem)).rejects.toBeInstanceOf(DecodeError);
    // Whitespace and CRLF inside the body carry no data.
    expect(publicKeyFromPem(pem.replace(/\n/g, '\r\n'))).toEqual(pair.publicKeyDer);
  });

  it('rejects wrong-size hashes and non-byte input with DecodeError', async () => {
    const pair = await generateKeyPair('k1');
    expect(() => verifyHash(pair.publicKeyDer, new Uint8Array(31), new Uint8Array(64))).toThrow(DecodeError);
    await expect(signHash(pair, new Uint8Array(33))).rejects.toBeInstanceOf(DecodeError);
    await expect(verify('x' as unknown as Uint8Array, message, new Uint8Array(64))).rejects.toBeInstanceOf(DecodeError);
    await expect(generateKeyPair('ed25519' as KeyAlgorithm)).rejects.toBeInstanceOf(DecodeError);
    await expect(keyPairFromScalar('k1', new Uint8Array(32))).rejects.toBeInstanceOf(DecodeError);
  });

  it('never fails with anything but DecodeError on mangled DER', async () => {
    const spki = (await generateKeyPair('p256')).publicKeyDer;
    const pkcs8 = pemDecode(await privateKeyToPem(await generateKeyPair('k1')), 'PRIVATE KEY');
    const mangled = (der: Uint8Array) =>
      fc.oneof(
        fc.nat({ max: der.length - 1 }).map((n) => der.subarray(0, n)),
        fc.tuple(fc.nat({ max: der.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const out = new Uint8Array(der);
          out[i]! ^= x;
          return out;
        }),
        fc.uint8Array({ maxLength: 140 }),
      );
    const onlyDecodeErrors = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    };
    fc.assert(fc.property(mangled(spki), (d) => onlyDecodeErrors(() => parsePublicKey(d))), { numRuns: 2000 });
    fc.assert(fc.property(mangled(pkcs8), (d) => onlyDecodeErrors(() => decodePkcs8(d))), { numRuns: 2000 });
  });
});

import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors.ts';
import { decodePkcs8, decodeSpki, encodePkcs8, encodeSpki } from './der.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const point = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : i));

describe('SubjectPublicKeyInfo', () => {
  // RFC 5480 headers: SEQ { SEQ { id-ecPublicKey, namedCurve }, BIT STRING (0 unused) }.
  it('writes the P-256 header byte for byte', () => {
    expect(hex(encodeSpki('p256', point).subarray(0, 26))).toBe('3059301306072a8648ce3d020106082a8648ce3d030107034200');
  });
  it('writes the secp256k1 header byte for byte', () => {
    expect(hex(encodeSpki('k1', point).subarray(0, 23))).toBe('3056301006072a8648ce3d020106052b8104000a034200');
  });
  it('reads back what it writes, compressed points included', () => {
    const compressed = Uint8Array.from({ length: 33 }, (_, i) => (i === 0 ? 3 : i));
    for (const alg of ['p256', 'k1'] as const) {
      expect(decodeSpki(encodeSpki(alg, point))).toEqual({ alg, point });
      expect(decodeSpki(encodeSpki(alg, compressed))).toEqual({ alg, point: compressed });
    }
  });
  it('rejects trailing bytes, unused bits and odd point shapes', () => {
    const der = encodeSpki('p256', point);
    expect(() => decodeSpki(Uint8Array.of(...der, 0))).toThrow(DecodeError);
    const unused = new Uint8Array(der);
    unused[25] = 1;
    expect(() => decodeSpki(unused)).toThrow(DecodeError);
    expect(() => encodeSpki('p256', point.subarray(0, 64))).toThrow(DecodeError);
    expect(() => encodeSpki('p256', Uint8Array.of(5, ...point.subarray(1)))).toThrow(DecodeError);
  });
});

describe('PKCS#8', () => {
  it('round-trips scalar and point, and pads short scalars', () => {
    const scalar = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    for (const alg of ['p256', 'k1'] as const) {
      expect(decodePkcs8(encodePkcs8(alg, scalar, point))).toEqual({ alg, scalar, point });
    }
    // A writer that dropped the scalar's leading zero byte: OCTET STRING of 31 bytes.
    const ec = [0x30, 0x24, 0x02, 0x01, 0x01, 0x04, 0x1f, ...scalar.subarray(1)];
    const algId = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex');
    const body = [0x02, 0x01, 0x00, ...algId, 0x04, ec.length, ...ec];
    const short = Uint8Array.of(0x30, body.length, ...body);
    expect(decodePkcs8(short)).toEqual({ alg: 'p256', scalar: Uint8Array.of(0, ...scalar.subarray(1)), point: undefined });
  });
});

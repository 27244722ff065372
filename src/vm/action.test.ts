import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packAction, unpackAction } from '../protocol/types.ts';
import type { Action } from '../protocol/types.ts';
import { decodeCanonicalAction, packCanonicalAction } from './action.ts';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const action = fc.record({ sender: u64, service: u64, method: u64, rawData: fc.uint8Array({ maxLength: 300 }) });

function decode(bytes: Uint8Array, at = 0): Action | undefined {
  const u8 = new Uint8Array(at + bytes.length + 7);
  u8.set(bytes, at);
  return decodeCanonicalAction(u8, new DataView(u8.buffer), at, bytes.length);
}

describe('canonical Action codec', () => {
  it('packs as packAction does and decodes what packAction gives, at any offset', () => {
    fc.assert(
      fc.property(action, fc.nat(64), (a, at) => {
        const packed = packAction(a);
        expect(packCanonicalAction(a)).toEqual(packed);
        expect(decode(packed, at)).toEqual(unpackAction(packed));
      }),
    );
  });

  it('declines every other encoding, valid or not, and leaves it to the general codec', () => {
    const a = { sender: 1n, service: 2n, method: 3n, rawData: Uint8Array.of(7, 8) };
    const packed = packAction(a);
    const edit = (f: (v: DataView, b: Uint8Array) => void, length = packed.length) => {
      const b = new Uint8Array(length);
      b.set(packed.subarray(0, Math.min(length, packed.length)));
      f(new DataView(b.buffer), b);
      return b;
    };
    expect(decode(edit(() => {}, packed.length + 1))).toBeUndefined(); // trailing byte
    expect(decode(edit(() => {}, packed.length - 1))).toBeUndefined(); // truncated
    expect(decode(edit((v) => v.setUint16(0, 32, true)))).toBeUndefined(); // unknown fields
    expect(decode(edit((v) => v.setUint32(26, 8, true)))).toBeUndefined(); // gap before the heap
    expect(decode(edit((v) => v.setUint32(30, 1, true)))).toBeUndefined(); // wrong size
    const emptyWithOffset = edit((v) => {
      v.setUint32(26, 4, true);
      v.setUint32(30, 0, true);
    }, 34);
    expect(decode(emptyWithOffset)).toBeUndefined(); // empty rawData must be offset 0
    expect(decode(new Uint8Array(10))).toBeUndefined();
  });

  it('leaves out-of-range values to packAction, which refuses them', () => {
    expect(() => packCanonicalAction({ sender: 1n << 64n, service: 0n, method: 0n, rawData: new Uint8Array(0) })).toThrow(/./);
  });
});

import { EncodeError } from '../../errors.ts';

const HEX = '0123456789ABCDEF';
const TABLE: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);

/** Upper-case hex, as psibase's JSON writes byte strings. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += TABLE[bytes[i]!]!;
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Parses hex of either case; anything else is an EncodeError (it is caller input). */
export function fromHex(s: unknown): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0) throw new EncodeError('expected a hex string of even length');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(s.charCodeAt(2 * i));
    const lo = nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new EncodeError('expected a hex string');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

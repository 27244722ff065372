import { EncodeError } from '../../errors.ts';
import type { Mode, Node } from './node.ts';
import { fail, type Stream } from './stream.ts';
import type { Writer } from './writer.ts';

type ReadAt = (s: Stream, p: number) => unknown;
type Write = (w: Writer, v: unknown) => void;

/** Integer of a JSON value: a number, a decimal string or a bigint. */
export function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new EncodeError(`expected an integer, got ${v}`);
    return BigInt(v);
  }
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
  throw new EncodeError(`expected an integer, got ${JSON.stringify(v)}`);
}

function rangeOf(bits: number, signed: boolean): [bigint, bigint] {
  if (bits === 1) return signed ? [-1n, 0n] : [0n, 1n];
  return signed ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n] : [0n, (1n << BigInt(bits)) - 1n];
}

/** Reads a little-endian integer of any supported width as a bigint (for custom types). */
export function readIntBig(n: Node, s: Stream, p: number): bigint {
  const v = s.view;
  switch (n.size) {
    case 1:
      return BigInt(n.signed ? v.getInt8(p) : v.getUint8(p));
    case 2:
      return BigInt(n.signed ? v.getInt16(p, true) : v.getUint16(p, true));
    case 4:
      return BigInt(n.signed ? v.getInt32(p, true) : v.getUint32(p, true));
    default:
      return n.signed ? v.getBigInt64(p, true) : v.getBigUint64(p, true);
  }
}

/** Writes an integer after checking that it fits the type. */
export function writeIntBig(n: Node, w: Writer, x: bigint): void {
  const [lo, hi] = rangeOf(n.bits, n.signed);
  if (x < lo || x > hi) throw new EncodeError(`${x} out of range for ${n.signed ? 'i' : 'u'}${n.bits}`);
  w.ensure(n.size);
  const v = w.view;
  const p = w.pos;
  switch (n.size) {
    case 1:
      v.setUint8(p, Number(BigInt.asUintN(8, x)));
      break;
    case 2:
      v.setUint16(p, Number(BigInt.asUintN(16, x)), true);
      break;
    case 4:
      v.setUint32(p, Number(BigInt.asUintN(32, x)), true);
      break;
    default:
      v.setBigUint64(p, BigInt.asUintN(64, x), true);
  }
  w.pos += n.size;
}

/**
 * Integer codecs. Up to 32 bits they are JSON numbers; 64-bit values are decimal
 * strings in psibase's JSON (they do not fit a double) and bigints in native form.
 */
export function readInt(n: Node, mode: Mode): [ReadAt, Write] {
  const { bits, signed } = n;
  if (bits === 1) {
    // Spec: a 1-bit integer (bool) MUST be 0 or 1 (or 0/-1 when signed).
    return [
      (s, p) => {
        const b = s.buf[p]!;
        if (b === 0) return 0;
        if (signed ? b !== 0xff : b !== 1) fail(`invalid 1-bit value ${b}`, p);
        return signed ? -1 : 1;
      },
      (w, v) => writeIntBig(n, w, toBigInt(v)),
    ];
  }
  if (bits === 64) {
    return [
      mode === 'json'
        ? (s, p) => (signed ? s.view.getBigInt64(p, true) : s.view.getBigUint64(p, true)).toString()
        : (s, p) => (signed ? s.view.getBigInt64(p, true) : s.view.getBigUint64(p, true)),
      (w, v) => writeIntBig(n, w, toBigInt(v)),
    ];
  }
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const readers: Record<number, ReadAt> = signed
    ? { 8: (s, p) => s.view.getInt8(p), 16: (s, p) => s.view.getInt16(p, true), 32: (s, p) => s.view.getInt32(p, true) }
    : { 8: (s, p) => s.buf[p]!, 16: (s, p) => s.view.getUint16(p, true), 32: (s, p) => s.view.getUint32(p, true) };
  return [
    readers[bits]!,
    (w, v) => {
      const x = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(toBigInt(v)) : NaN;
      if (!Number.isInteger(x) || x < min || x > max) throw new EncodeError(`${String(v)} is not a valid ${signed ? 'i' : 'u'}${bits}`);
      w.ensure(n.size);
      if (bits === 8) w.view.setUint8(w.pos, x & 0xff);
      else if (bits === 16) w.view.setUint16(w.pos, x & 0xffff, true);
      else w.view.setUint32(w.pos, x >>> 0, true);
      w.pos += n.size;
    },
  ];
}

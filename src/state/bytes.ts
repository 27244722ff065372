/**
 * Byte-string helpers for the state engine. Keys order bytewise (unsigned,
 * lexicographic, a proper prefix sorts first), as psibase's database does.
 */
import type { Bytes } from './types.ts';

export function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function hasPrefix(key: Bytes, prefix: Bytes, prefixLen = prefix.length): boolean {
  if (key.length < prefixLen) return false;
  for (let i = 0; i < prefixLen; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/**
 * The smallest key greater than every key that starts with `prefix`, or undefined when
 * there is none (the prefix is empty or all 0xff), so `[prefix, prefixEnd(prefix))` is
 * exactly the keys with that prefix.
 */
export function prefixEnd(prefix: Bytes): Bytes | undefined {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const end = prefix.slice(0, n);
  end[n - 1]!++;
  return end;
}

/** The smallest key greater than `key`: the key followed by one 0x00 byte. */
export function successor(key: Bytes): Bytes {
  const s = new Uint8Array(key.length + 1);
  s.set(key);
  return s;
}

/** Compares range ends where undefined means "past every key". */
export function compareEnd(a: Bytes | undefined, b: Bytes | undefined): number {
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  return compareBytes(a, b);
}

/** Whether `key` lies before the exclusive range end `end` (undefined = unbounded). */
export function before(key: Bytes, end: Bytes | undefined): boolean {
  return end === undefined || compareBytes(key, end) < 0;
}

export function toHex(bytes: Bytes): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A copy that owns exactly its bytes, so structured clone and storage do not drag a larger buffer along. */
export function compact(bytes: Bytes): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.constructor === Uint8Array) {
    return bytes;
  }
  return new Uint8Array(bytes);
}

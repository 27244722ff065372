// Upper-case hex, as psio writes byte strings and checksums (JSON, ETags).

const DIGITS = "0123456789ABCDEF";

export function toHex(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i < data.length; i++) {
    out += DIGITS.charAt(data[i] >> 4);
    out += DIGITS.charAt(data[i] & 15);
  }
  return out;
}

function nibble(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Decode hex (either case); null when `s` has an odd length or a non-hex character. */
export function fromHex(s: string): Uint8Array | null {
  if (s.length % 2 != 0) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(s.charCodeAt(2 * i));
    const lo = nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = <u8>((hi << 4) | lo);
  }
  return out;
}

// psio `to_key` encoding: bytes whose lexicographic order is the order of the values,
// with no key a prefix of another. Integers are big-endian; signed integers are offset
// by their minimum so negatives sort first; strings escape 0 as 0,1 and end with 0,0.

import { Bytes } from "./fracpack";

export class Key {
  private out: Bytes = new Bytes(32);

  u8(v: u8): Key { this.out.u8(v); return this; }
  u16(v: u16): Key { this.out.u16(bswap<u16>(v)); return this; }
  u32(v: u32): Key { this.out.u32(bswap<u32>(v)); return this; }
  u64(v: u64): Key { this.out.u64(bswap<u64>(v)); return this; }
  i8(v: i8): Key { return this.u8(<u8>v ^ 0x80); }
  i16(v: i16): Key { return this.u16(<u16>v ^ 0x8000); }
  i32(v: i32): Key { return this.u32(<u32>v ^ 0x80000000); }
  i64(v: i64): Key { return this.u64(<u64>v ^ 0x8000000000000000); }
  bool(v: bool): Key { return this.u8(v ? 1 : 0); }
  /** An AccountNumber or MethodNumber (a reflected struct of one u64). */
  name(v: u64): Key { return this.u64(v); }

  /** A `u8[]`: each byte, 0 escaped as 0,1, then 0,0. */
  bytes(b: Uint8Array): Key {
    for (let i = 0; i < b.length; i++) {
      this.out.u8(b[i]);
      if (b[i] == 0) this.out.u8(1);
    }
    this.out.u8(0);
    this.out.u8(0);
    return this;
  }

  str(s: string): Key { return this.bytes(Uint8Array.wrap(String.UTF8.encode(s))); }

  /** Already-encoded key bytes, appended as they are. */
  raw(b: Uint8Array): Key { this.out.append(b); return this; }

  finish(): Uint8Array { return this.out.toBytes(); }
}

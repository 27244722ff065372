// Test-only service: runs field.ts operations on operands vitest chooses, so that
// edge values (0, 1, m - 1, carries through every word) are checked against BigInt,
// which signatures alone almost never reach.
//
// field(rawData): a list of 66-byte records [modulus u8][op u8][a: 32 bytes][b: 32
// bytes], big-endian operands below the modulus; returns the 32-byte big-endian
// results, concatenated.

import { action, Call } from "../../sdk";
import { curveK1, curveP256 } from "../ecdsa";
import { add, fromBytes, fromMont, invert, Modulus, mul, sqr, sub, toMont } from "../field";
export { start, called } from "../../sdk";

const A: usize = memory.data(32);
const B: usize = memory.data(32);
const OUT: usize = memory.data(32);

function modulus(id: u8): Modulus {
  if (id == 0) return curveP256().p;
  if (id == 1) return curveP256().n;
  if (id == 2) return curveK1().p;
  return curveK1().n;
}

action("field", (c: Call): void => {
  const data = c.rawData;
  const count = data.length / 66;
  const result = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) {
    const at = data.dataStart + <usize>(i * 66);
    const mod = modulus(load<u8>(at));
    const op = load<u8>(at, 1);
    fromBytes(A, at + 2);
    fromBytes(B, at + 34);
    if (op == 0) mul(OUT, A, B, mod);
    else if (op == 1) sqr(OUT, A, mod);
    else if (op == 2) add(OUT, A, B, mod);
    else if (op == 3) sub(OUT, A, B, mod);
    else if (op == 4) invert(OUT, A, mod);
    else if (op == 5) toMont(OUT, A, mod);
    else fromMont(OUT, A, mod);
    for (let j = 0; j < 8; j++) {
      store<u32>(result.dataStart + <usize>(i * 32 + 28 - 4 * j), bswap<u32>(load<u32>(OUT + <usize>(4 * j))));
    }
  }
  c.ret(result);
});

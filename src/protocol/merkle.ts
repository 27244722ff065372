/**
 * psibase's Merkle tree (psibase/crypto.hpp, crypto.cpp): leaf = sha256(0x00 ‖ packed
 * value), node = sha256(0x01 ‖ left ‖ right), minimum depth with left subtrees filled
 * first, so an odd node at the right edge is carried up unpaired (never duplicated);
 * an empty tree's root is 32 zero bytes.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export function hashLeaf(packed: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + packed.length);
  buf.set(packed, 1);
  return sha256(buf);
}

export function combine(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return sha256(buf);
}

/** Incremental builder: a stack of complete left subtrees, as psibase keeps it. */
export class Merkle {
  private count = 0;
  private readonly stack: Uint8Array[] = [];

  /** Append a leaf given its packed (fracpack) value. */
  push(packed: Uint8Array): void {
    this.pushHash(hashLeaf(packed));
  }

  pushHash(leaf: Uint8Array): void {
    this.stack.push(leaf);
    // Each trailing 1 bit of the old count is a complete subtree to merge with.
    for (let x = this.count; (x & 1) !== 0; x = Math.floor(x / 2)) {
      const right = this.stack.pop()!;
      const left = this.stack.pop()!;
      this.stack.push(combine(left, right));
    }
    this.count++;
  }

  root(): Uint8Array {
    if (this.stack.length === 0) return new Uint8Array(32);
    let result = this.stack[this.stack.length - 1]!;
    for (let i = this.stack.length - 2; i >= 0; i--) result = combine(this.stack[i]!, result);
    return result;
  }
}

export function merkleRoot(packedLeaves: Iterable<Uint8Array>): Uint8Array {
  const m = new Merkle();
  for (const leaf of packedLeaves) m.push(leaf);
  return m.root();
}

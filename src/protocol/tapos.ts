/**
 * TaPoS references (block.hpp "Rules for TAPOS", Transact's getBlockSummary and
 * checkTapos). A transaction names a reference block by a one-byte index and the
 * last 4 bytes of its id:
 *  - one of the 128 most recent blocks: index = blockNum & 0x7f;
 *  - a block whose number is a multiple of 8192: index = (blockNum >> 13) | 0x80.
 */
import { DecodeError } from '../errors.ts';

/** Bytes 28..31 of the block id read as a little-endian u32 (psibase memcpy's them). */
export function refBlockSuffix(blockId: Uint8Array): number {
  if (blockId.length !== 32) throw new DecodeError(`block id must be 32 bytes, got ${blockId.length}`);
  return new DataView(blockId.buffer, blockId.byteOffset + 28, 4).getUint32(0, true);
}

/** The index a transaction uses to reference a recent block. */
export function recentRefBlockIndex(blockNum: number): number {
  return blockNum & 0x7f;
}

/** The index for a block number that is a multiple of 8192, or undefined otherwise. */
export function longRefBlockIndex(blockNum: number): number | undefined {
  return (blockNum & 0x1fff) === 0 ? ((blockNum >>> 13) | 0x80) & 0xff : undefined;
}

/** TaPoS fields for referencing the given block as a recent block (like headTapos). */
export function taposRef(blockNum: number, blockId: Uint8Array): { refBlockIndex: number; refBlockSuffix: number } {
  return { refBlockIndex: recentRefBlockIndex(blockNum), refBlockSuffix: refBlockSuffix(blockId) };
}

/**
 * The 256-slot suffix table Transact keeps (BlockSummary.blockSuffixes), updated when
 * a block becomes the head: its recent slot, and its long slot if it has one.
 */
export class BlockSuffixes {
  readonly slots = new Uint32Array(256);

  addHead(blockNum: number, blockId: Uint8Array): void {
    const suffix = refBlockSuffix(blockId);
    this.slots[recentRefBlockIndex(blockNum)] = suffix;
    const long = longRefBlockIndex(blockNum);
    if (long !== undefined) this.slots[long] = suffix;
  }

  /**
   * Transact's check against head block `headNum`: the index must name a block that
   * exists (the modular comparison is psibase's, byte arithmetic included) and the
   * suffix must match the slot.
   */
  accepts(refBlockIndex: number, suffix: number, headNum: number): boolean {
    // uint32 arithmetic, as in C++: a head below 2 wraps around and allows every index.
    const limit = ((refBlockIndex & 0x80 ? headNum >>> 13 : headNum) - 2) >>> 0;
    if (((refBlockIndex - 2) & 0x7f) > limit) return false;
    return this.slots[refBlockIndex] === suffix >>> 0;
  }
}

/**
 * Bounds-checked access to a service's linear memory. Pointers arrive as signed i32;
 * eos-vm rejects a span that does not lie inside memory, and so do we.
 */
import { ServiceError } from './errors.ts';

export class GuestMemory {
  constructor(private readonly memory: WebAssembly.Memory | undefined) {}

  /** A live view of `len` bytes at `ptr` (valid until memory grows). */
  bytes(ptr: number, len: number): Uint8Array {
    const p = ptr >>> 0;
    const n = len >>> 0;
    const buffer = this.memory?.buffer;
    if (buffer === undefined || p + n > buffer.byteLength) {
      if (n === 0 && p === 0) return new Uint8Array(0);
      throw new ServiceError(`out-of-bounds memory access: ${n} bytes at ${p}`);
    }
    return new Uint8Array(buffer, p, n);
  }

  /** A copy of `len` bytes at `ptr`. */
  read(ptr: number, len: number): Uint8Array {
    return this.bytes(ptr, len).slice();
  }

  write(ptr: number, data: Uint8Array): void {
    this.bytes(ptr, data.length).set(data);
  }

  u32(ptr: number): number {
    const b = this.bytes(ptr, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  setU32(ptr: number, value: number): void {
    const b = this.bytes(ptr, 4);
    new DataView(b.buffer, b.byteOffset, 4).setUint32(0, value >>> 0, true);
  }

  setU64(ptr: number, value: bigint): void {
    const b = this.bytes(ptr, 8);
    new DataView(b.buffer, b.byteOffset, 8).setBigUint64(0, BigInt.asUintN(64, value), true);
  }
}

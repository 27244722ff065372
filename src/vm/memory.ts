/**
 * Bounds-checked access to a service's linear memory. Pointers arrive as signed i32;
 * eos-vm rejects a span that does not lie inside memory, and so do we.
 *
 * The views over the memory's buffer are kept between host calls: asking V8 for
 * `memory.buffer` and building views on every call costs more than most host
 * functions. memory.grow detaches the old buffer (its views then read as empty), and
 * an access beyond the views' end takes fresh ones before it gives up.
 */
import { ServiceError } from './errors.ts';

const NO_BYTES = new Uint8Array(0);

export class GuestMemory {
  /** The whole memory; refreshed by `span` after a grow. */
  u8: Uint8Array = NO_BYTES;
  view: DataView = new DataView(NO_BYTES.buffer);

  constructor(private readonly memory: WebAssembly.Memory | undefined) {
    this.refresh();
  }

  private refresh(): void {
    if (this.memory === undefined) return;
    const buffer = this.memory.buffer;
    this.u8 = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  /** Checks that `len` bytes at `ptr` lie in memory and returns `ptr` as an offset. */
  span(ptr: number, len: number): number {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (p + n > this.u8.length) {
      this.refresh();
      if (p + n > this.u8.length) {
        if (n === 0 && p === 0) return 0;
        throw new ServiceError(`out-of-bounds memory access: ${n} bytes at ${p}`);
      }
    }
    return p;
  }

  /** A live view of `len` bytes at `ptr` (valid until memory grows). */
  bytes(ptr: number, len: number): Uint8Array {
    const p = this.span(ptr, len);
    return this.u8.subarray(p, p + (len >>> 0));
  }

  /** A copy of `len` bytes at `ptr`; zero bytes give one shared empty array (V8 makes each new one slowly). */
  read(ptr: number, len: number): Uint8Array {
    const p = this.span(ptr, len);
    const n = len >>> 0;
    return n === 0 ? NO_BYTES : this.u8.slice(p, p + n);
  }

  write(ptr: number, data: Uint8Array): void {
    this.u8.set(data, this.span(ptr, data.length));
  }

  u32(ptr: number): number {
    return this.view.getUint32(this.span(ptr, 4), true);
  }

  setU32(ptr: number, value: number): void {
    this.view.setUint32(this.span(ptr, 4), value >>> 0, true);
  }

  setU64(ptr: number, value: bigint): void {
    this.view.setBigUint64(this.span(ptr, 8), BigInt.asUintN(64, value), true);
  }
}

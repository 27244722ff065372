/**
 * A service's open kv handles, as psibase's BucketSet (psibase BucketSet.cpp): a handle
 * is an index into a per-service table; closing frees the slot and opening reuses the
 * lowest free one; at most `limit` slots.
 */
import { KvMode } from './dbs.ts';
import { LimitError, ServiceError } from './errors.ts';
import { toHex } from '../state/bytes.ts';

export interface Bucket {
  readonly db: number;
  readonly prefix: Uint8Array;
  readonly mode: KvMode;
}

export const canRead = (b: Bucket): boolean => b.mode === KvMode.read || b.mode === KvMode.readWrite;
export const canWrite = (b: Bucket): boolean => b.mode === KvMode.write || b.mode === KvMode.readWrite;
export const describeBucket = (b: Bucket): string => `db=${b.db} prefix=${toHex(b.prefix)} mode=${b.mode}`;

export class BucketSet {
  private readonly slots: (Bucket | undefined)[] = [];

  constructor(private readonly limit: number) {}

  open(bucket: Bucket): number {
    if (bucket.mode === KvMode.none) throw new ServiceError('Invalid mode');
    const free = this.slots.indexOf(undefined);
    if (free >= 0) {
      this.slots[free] = bucket;
      return free;
    }
    if (this.slots.length >= this.limit) throw new LimitError('handles', 'Too many database handles');
    this.slots.push(bucket);
    return this.slots.length - 1;
  }

  /** Adds imported buckets, filling free slots first (BucketSet::add). */
  add(buckets: readonly Bucket[]): number[] {
    const free = this.slots.reduce((n, s) => (s === undefined ? n + 1 : n), 0);
    if (buckets.length - free > this.limit - this.slots.length) throw new LimitError('handles', 'Too many database handles');
    return buckets.map((b) => this.open(b));
  }

  close(handle: number): void {
    this.get(handle);
    this.slots[handle >>> 0] = undefined;
  }

  get(handle: number): Bucket {
    const b = this.slots[handle >>> 0];
    if (b === undefined) throw new ServiceError('Invalid bucket');
    return b;
  }
}

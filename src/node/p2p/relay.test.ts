import { describe, expect, it } from 'vitest';
import { decodeRelayBatch, encodeRelayBatch, RelayBatchError } from './relay.ts';

describe('relay batches', () => {
  it('round-trip transactions of any size, and an empty batch', () => {
    const trxs = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(70_000).fill(9)];
    expect(decodeRelayBatch(encodeRelayBatch(trxs))).toEqual(trxs);
    expect(decodeRelayBatch(encodeRelayBatch([]))).toEqual([]);
  });

  it('refuses a body that is not a batch with a RelayBatchError', () => {
    const good = encodeRelayBatch([new Uint8Array([1, 2, 3])]);
    expect(() => decodeRelayBatch(good.subarray(0, 2))).toThrow(RelayBatchError);
    expect(() => decodeRelayBatch(good.subarray(0, good.length - 1))).toThrow(/runs past the end/);
    const huge = new Uint8Array(4);
    new DataView(huge.buffer).setUint32(0, 0xffffffff, true);
    expect(() => decodeRelayBatch(huge)).toThrow(RelayBatchError);
  });
});

/** The block the state benchmarks commit, shared by the Node and the Chromium side. */
import type { KvWrite } from '../overlay.ts';
import type { BlockCommit } from '../store.ts';

/** `n` keys over 10 tables of one service: 16-byte keys, 48-byte values, new keys per block. */
export function benchBlock(num: number, n: number): BlockCommit & { writes: KvWrite[] } {
  const writes: KvWrite[] = [];
  for (let i = 0; i < n; i++) {
    const key = new Uint8Array(16);
    key.set([0, 0, 0, 0, 0, 0, 1, i % 10, 0, 1]);
    const view = new DataView(key.buffer);
    view.setUint32(10, num);
    view.setUint16(14, i);
    writes.push([key, new Uint8Array(48).fill(i & 0xff)]);
  }
  const id = new Uint8Array(32).fill(num);
  return { writes, block: { num, id, bytes: new Uint8Array(512) }, head: { num, id } };
}

import { describe, expect, it } from 'vitest';
import { NativeTables, nativeSchema, pack, statusKey, type StatusRow } from './native-tables.ts';
import { WriteOverlay } from '../state/overlay.ts';
import { MemoryKv } from '../state/memory-kv.ts';

describe('native table codecs', () => {
  it('pack ProcessTransactionArgs as the schema does', () => {
    for (const transaction of [new Uint8Array(0), Uint8Array.of(7), new Uint8Array(300).map((_, i) => i)]) {
      expect(pack.processTransactionArgs(transaction)).toEqual(nativeSchema.type('ProcessTransactionArgs').encode({ transaction }));
    }
  });
});

describe('the status row, remembered by its bytes', () => {
  const claim = { service: 5n, rawData: Uint8Array.of(1, 2, 3) };
  const consensus = () => ({
    data: { BftConsensus: { producers: [{ name: 1n, auth: claim }, { name: 2n, auth: claim }] } },
    services: [{ codeNum: 9n, codeHash: new Uint8Array(32), vmType: 0, vmVersion: 0 }],
    wasmConfig: { numExecutionMemories: 32, vmOptions: { max_mutable_global_bytes: 1024, max_pages: 512, max_table_elements: 8192, max_stack_bytes: 1 << 20 } },
  });
  const header = { previous: new Uint8Array(32), blockNum: 7, time: 7_000_000n, producer: 1n, term: 1, commitNum: 6, consensusState: new Uint8Array(32), trxMerkleRoot: new Uint8Array(32), eventMerkleRoot: new Uint8Array(32), newConsensus: null, authCode: null };
  const row = (): StatusRow => ({ chainId: new Uint8Array(32).fill(3), current: { ...header }, head: { header: { ...header, blockNum: 6 }, blockId: new Uint8Array(32).fill(6) }, consensus: { current: consensus(), next: { consensus: consensus(), blockNum: 8 } } });

  it('a read of the bytes putStatus wrote is the row it wrote, and changing what a read returns changes no later read', () => {
    const state = new WriteOverlay(new MemoryKv());
    const packed = pack.statusRow(row());
    NativeTables.putStatus(state, row(), packed);
    const first = new NativeTables(state).status()!;
    expect(pack.statusRow(first)).toEqual(packed);
    // What BlockContext does to the row it reads: fields reassigned and the pending consensus edited in place.
    first.current.blockNum = 99;
    first.head!.header.blockNum = 99;
    first.consensus.next!.blockNum = 99;
    first.consensus.next!.consensus.services.push({ codeNum: 10n, codeHash: new Uint8Array(32), vmType: 0, vmVersion: 0 });
    first.consensus.next!.consensus.wasmConfig.vmOptions.max_pages = 1;
    (first.consensus.current.data as { BftConsensus: { producers: unknown[] } }).BftConsensus.producers.push({ name: 3n, auth: claim });
    first.consensus.next!.consensus.wasmConfig.numExecutionMemories = 1;
    const second = new NativeTables(state).status()!;
    expect(pack.statusRow(second)).toEqual(packed);
  });

  it('other bytes under the key are decoded', () => {
    const state = new WriteOverlay(new MemoryKv());
    NativeTables.putStatus(state, row(), pack.statusRow(row()));
    const other = row();
    other.current.blockNum = 42;
    NativeTables.put(state, statusKey(), pack.statusRow(other));
    expect(new NativeTables(state).status()!.current.blockNum).toBe(42);
  });
});

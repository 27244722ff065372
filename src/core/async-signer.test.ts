/**
 * A sole producer that signs asynchronously (CoreNode signAsync, as a
 * browser's WebCrypto key does): the stand-in signature consensus makes the block with
 * never leaves the core — what is broadcast, committed and served again carries
 * signAsync's signature — and a signer that fails halts production instead of
 * committing an unsigned block.
 */
import { describe, expect, it } from 'vitest';
import { Chain } from '../chain/executor.ts';
import { testServices } from '../chain/test-kit.ts';
import { blockId, blockSigningData } from '../consensus/block.ts';
import { decodeMessage } from '../net/wire/messages.ts';
import { accountNumber } from '../protocol/names.ts';
import { unpackSignedBlock } from '../protocol/types.ts';
import { bytesEqual } from '../state/bytes.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { CoreNode, patchStandIns } from './node.ts';

const T0_MS = 1_700_000_000_000;
const clock = { now: () => T0_MS + 100, setTimeout: () => 0, clearTimeout: () => undefined };

async function boot(signBlock: (data: Uint8Array) => Promise<Uint8Array>) {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await chain.boot({ services: await testServices(), producer: accountNumber('prod'), time: BigInt(T0_MS - 5000) * 1000n });
  const sent: Uint8Array[] = [];
  const node = await CoreNode.open({
    platform: { clock, chain, transport: { sendToProducer: () => false, sendToPeer: () => false, broadcast: (b) => void sent.push(b) } },
    name: 'prod',
    signAsync: signBlock,
    verify: () => true,
  });
  return { chain, node, sent };
}

describe('a sole producer signing blocks asynchronously', () => {
  it('broadcasts and commits each block with the signature signAsync made for its signing data', async () => {
    // Each signature names the call that made it; what each call signed is kept.
    const signed: Uint8Array[] = [];
    const { chain, node, sent } = await boot(async (data) => {
      signed.push(data);
      await new Promise((r) => setTimeout(r, 5));
      return new Uint8Array(64).fill(signed.length);
    });
    await node.produceBlock();
    await node.produceBlock();
    const blocks = sent.map((b) => decodeMessage(b)).filter((m) => m.kind === 'BlockMessage').map((m) => unpackSignedBlock((m as { value: { block: Uint8Array } }).value.block));
    expect(blocks.map((b) => b.block.header.blockNum)).toEqual([3, 4]);
    for (const b of blocks) {
      const call = b.signature[0]!;
      expect(call).toBeGreaterThan(0);
      expect(b.signature).toEqual(new Uint8Array(64).fill(call));
      expect(signed[call - 1]).toEqual(blockSigningData(blockId(b)));
      const stored = (await chain.blockByNum(b.block.header.blockNum))!;
      expect(bytesEqual(stored.signature, b.signature)).toBe(true);
    }
  });

  it('halts, committing nothing, when the signer fails', async () => {
    let calls = 0;
    const { chain, node, sent } = await boot(async () => {
      // (The first call is CoreNode.open learning the signature's length.)
      if (calls++ > 0) throw new Error('the key is gone');
      return new Uint8Array(64);
    });
    await expect(node.produceBlock()).rejects.toThrow(/halted.*the key is gone/);
    expect(chain.head!.num).toBe(2);
    expect(sent.filter((b) => decodeMessage(b).kind === 'BlockMessage')).toHaveLength(0);
  });

  it('does not open on a key that cannot sign', async () => {
    await expect(
      boot(async () => {
        throw new Error('the key is gone');
      }),
    ).rejects.toThrow(/the producer's key cannot sign: the key is gone/);
  });

  it('fills a stand-in wherever its bytes were packed, and nothing else', () => {
    const random = new Uint8Array([7, 7, 1, 2]);
    const real = new Uint8Array([9, 9, 9, 9]);
    const bytes = new Uint8Array([7, 7, 7, 1, 2, 0, 7, 7, 1, 2, 7, 7, 1]);
    expect(patchStandIns(bytes, [{ random, real }])).toBe(true);
    expect([...bytes]).toEqual([7, 9, 9, 9, 9, 0, 9, 9, 9, 9, 7, 7, 1]);
    expect(patchStandIns(bytes, [{ random, real }])).toBe(false);
  });
});

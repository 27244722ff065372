/**
 * A sole producer that signs its blocks asynchronously (CoreNode signBlock, as a
 * browser's WebCrypto key does): the stand-in signature consensus makes the block with
 * never leaves the core — what is broadcast, committed and served again carries
 * signBlock's signature — and a signer that fails halts production instead of
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
import { CoreNode } from './node.ts';

const T0_MS = 1_700_000_000_000;
const clock = { now: () => T0_MS + 100, setTimeout: () => 0, clearTimeout: () => undefined };

async function boot(signBlock: (data: Uint8Array) => Promise<Uint8Array>) {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await chain.boot({ services: await testServices(), producer: accountNumber('prod'), time: BigInt(T0_MS - 5000) * 1000n });
  const sent: Uint8Array[] = [];
  const node = await CoreNode.open({
    platform: { clock, chain, transport: { sendToProducer: () => false, sendToPeer: () => false, broadcast: (b) => void sent.push(b) } },
    name: 'prod',
    sign: () => new Uint8Array(64),
    signBlock,
    verify: () => true,
  });
  return { chain, node, sent };
}

describe('a sole producer signing blocks asynchronously', () => {
  it('broadcasts and commits each block with the signature signBlock made for its signing data', async () => {
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
    for (const [i, b] of blocks.entries()) {
      expect(b.signature).toEqual(new Uint8Array(64).fill(i + 1));
      expect(signed[i]).toEqual(blockSigningData(blockId(b)));
      const stored = (await chain.blockByNum(b.block.header.blockNum))!;
      expect(bytesEqual(stored.signature, b.signature)).toBe(true);
    }
  });

  it('halts, committing nothing, when the signer fails', async () => {
    const { chain, node, sent } = await boot(async () => {
      throw new Error('the key is gone');
    });
    await expect(node.produceBlock()).rejects.toThrow(/halted.*the key is gone/);
    expect(chain.head!.num).toBe(2);
    expect(sent.filter((b) => decodeMessage(b).kind === 'BlockMessage')).toHaveLength(0);
  });
});

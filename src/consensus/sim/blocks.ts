/**
 * Blocks for the simulator and tests: psibase SignedBlocks whose content is a marker
 * in `trxMerkleRoot` (block number, and 0xba in front for content the executor
 * refuses), signed with the simulator's keys.
 */
import { packSignedBlock, unpackSignedBlock, type Block, type BlockHeader, type Consensus, type SignedBlock } from '../../protocol/types.ts';
import { blockSigningData, headerId, makeConsensus, producerSetOf } from '../block.ts';
import { sameSet } from '../producers.ts';
import type { BlockSource, ConsensusMode, JointConsensus, ProducerName, Signer } from '../types.ts';
import { simClaim } from './keys.ts';

/** First byte of `trxMerkleRoot` that the simulator's executor refuses. */
export const BAD_CONTENT = 0xba;

export function marker(num: number, tag = 0): Uint8Array {
  const m = new Uint8Array(32);
  new DataView(m.buffer).setUint32(28, num >>> 0);
  new DataView(m.buffer).setUint32(24, tag >>> 0);
  return m;
}

/** The simulator's producer set as psibase `Consensus` (claims from keys.ts). */
export function simConsensus(mode: ConsensusMode, producers: readonly ProducerName[]): Consensus {
  return makeConsensus(mode, producers.map((name) => ({ name, auth: simClaim(name) })));
}

/** Sign a block as its producer does: BlockSignatureInfo of its id. */
export function signBlock(block: Block, signer: Signer, aux: Uint8Array | null = null): SignedBlock {
  return { block, signature: signer.sign(blockSigningData(headerId(block.header))), auxConsensusData: aux };
}

/** A copy of `b`'s block with header fields changed (re-sign it with `signBlock`). */
export function withHeader(b: SignedBlock, change: Partial<BlockHeader>): Block {
  return { header: { ...b.block.header, ...change }, transactions: b.block.transactions };
}

/** A deep copy through the codec (what a peer would hold). */
export function copyBlock(b: SignedBlock): SignedBlock {
  return unpackSignedBlock(packSignedBlock(b));
}

/**
 * The simulator's executor: a block's content is its number; a block refused when its
 * marker starts with BAD_CONTENT; `change` (if any) is carried by the first block whose
 * parent is at least `change.at` ms old.
 */
export function simBlockSource(change?: { at: number; consensus: Consensus }): BlockSource {
  const target = change ? producerSetOf(change.consensus) : undefined;
  return {
    build(parent: SignedBlock, fields, joint: JointConsensus): Block {
      const ph = parent.block.header;
      const wants = change && target && !joint.next && Number(ph.time) / 1000 >= change.at && !sameSet(joint.current, target);
      return {
        header: {
          ...fields,
          consensusState: new Uint8Array(32),
          trxMerkleRoot: marker(fields.blockNum),
          eventMerkleRoot: new Uint8Array(32),
          newConsensus: wants ? change.consensus : null,
          authCode: null,
        },
        transactions: [],
      };
    },
    validate: (b) => b.block.header.trxMerkleRoot[0] !== BAD_CONTENT,
  };
}

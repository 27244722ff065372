/** Transaction and block ids (psibase block.hpp / block.cpp). */
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError } from '../errors.ts';
import { packBlockHeader, type BlockHeader, type SignedTransaction } from './types.ts';

/** Transaction id: sha256 of the packed inner Transaction, exactly as it was signed. */
export function transactionId(trx: SignedTransaction | Uint8Array): Uint8Array {
  return sha256(trx instanceof Uint8Array ? trx : trx.transaction);
}

/**
 * Block id: sha256 of the packed header without `authCode` (BlockInfo::makeBlockId
 * resets it), with the first 4 bytes replaced by the big-endian block number so ids
 * sort and reveal their height.
 */
export function blockId(header: BlockHeader): Uint8Array {
  const id = sha256(packBlockHeader({ ...header, authCode: null }));
  new DataView(id.buffer, id.byteOffset, 4).setUint32(0, header.blockNum, false);
  return id;
}

/** The block number carried in a block id's first 4 bytes. */
export function blockNumFromId(id: Uint8Array): number {
  if (id.length !== 32) throw new DecodeError(`block id must be 32 bytes, got ${id.length}`);
  return new DataView(id.buffer, id.byteOffset, 4).getUint32(0, false);
}

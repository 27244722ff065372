/**
 * Block ids and the bytes that consensus signatures cover. The header encoding sits
 * behind `BlockCodec` so the fracpack `BlockHeader` of src/protocol can replace the
 * default without touching the state machines.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { BlockHeader, BlockId, ConsensusMessage, PreparedCertificate, ProducerSet } from './types.ts';

export interface BlockCodec {
  encodeHeader(header: BlockHeader): Uint8Array;
}

function encodeSet(set: ProducerSet | undefined): string {
  return set === undefined ? '-' : `${set.mode}:${set.producers.join(',')}`;
}

/** Unambiguous text encoding: numbers are decimal, names and payload cannot contain '|' (checked on receipt). */
export const defaultCodec: BlockCodec = {
  encodeHeader(h) {
    return utf8ToBytes(
      `${h.num}|${h.previous}|${h.producer}|${h.term}|${h.time}|${h.commitNum}|${encodeSet(h.newConsensus)}|${h.payload}`,
    );
  },
};

export const NULL_ID: BlockId = '0'.repeat(64);

/** psibase: block id = sha256 of the header with the first 4 bytes replaced by the big-endian block number. */
/**
 * Ids of header objects already hashed. Headers are immutable values, and one decoded
 * block reaches several code paths (and, in the simulator, several nodes).
 */
const idCache = new WeakMap<BlockHeader, { codec: BlockCodec; id: BlockId }>();

export function blockId(header: BlockHeader, codec: BlockCodec = defaultCodec): BlockId {
  const cached = idCache.get(header);
  if (cached && cached.codec === codec) return cached.id;
  const id = hashHeader(header, codec);
  idCache.set(header, { codec, id });
  return id;
}

function hashHeader(header: BlockHeader, codec: BlockCodec): BlockId {
  const hash = sha256(codec.encodeHeader(header));
  const view = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  view.setUint32(0, header.num >>> 0, false);
  return bytesToHex(hash);
}

/** Block number from an id, without the block (psibase BlockInfo::blockNum). */
export function numFromId(id: BlockId): number {
  return parseInt(id.slice(0, 8), 16);
}

export function blockSigningBytes(id: BlockId): Uint8Array {
  return utf8ToBytes(`block|${id}`);
}

function certText(c: PreparedCertificate | undefined): string {
  return c === undefined ? '-' : `${c.blockId}:${c.term}:${c.num}`;
}

/**
 * The bytes a message signature covers: its type and every field but the signature.
 * A prepared certificate is covered by id; its prepares carry their own signatures.
 */
export function messageSigningBytes(m: ConsensusMessage): Uint8Array {
  switch (m.type) {
    case 'confirm':
      return utf8ToBytes(`confirm|${m.term}|${m.producer}|${m.blockNum}|${m.blockId}`);
    case 'requestVote':
      return utf8ToBytes(`requestVote|${m.term}|${m.producer}|${m.lastTerm}|${m.lastNum}`);
    case 'vote':
    case 'prepare':
    case 'commit':
      return utf8ToBytes(`${m.type}|${m.term}|${m.producer}|${m.subject}|${m.value}`);
    case 'viewChange':
      return utf8ToBytes(`viewChange|${m.term}|${m.producer}|${certText(m.prepared)}`);
    case 'block':
    case 'requestBlocks':
      return utf8ToBytes(m.type);
  }
}

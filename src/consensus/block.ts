/**
 * Block ids and the bytes that consensus signatures cover. The header encoding sits
 * behind `BlockCodec` so the fracpack `BlockHeader` of src/protocol can replace the
 * default without touching the state machines.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { BlockHeader, BlockId, ConsensusMessage, PreparedCertificate, ProducerSet } from './types.ts';

const utf8 = new TextEncoder();
let scratch = new Uint8Array(512);

/**
 * UTF-8 bytes of `text` in a buffer that the next call overwrites: for handing straight
 * to a `Signer` or `Verifier`, which read `data` only during the call (types.ts). The
 * texts are ASCII but for names; a plain loop into a reused buffer beats both the
 * platform encoder and a fresh typed array, whose allocation and collection were a
 * top cost at one signature check per message per node.
 */
export function lentTextBytes(text: string): Uint8Array {
  const n = text.length;
  if (n > scratch.length) scratch = new Uint8Array(2 * n);
  const out = scratch;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return utf8.encode(text);
    out[i] = c;
  }
  return out.subarray(0, n);
}

/** UTF-8 bytes of `text`, owned by the caller. */
export function textBytes(text: string): Uint8Array {
  return lentTextBytes(text).slice();
}

export interface BlockCodec {
  encodeHeader(header: BlockHeader): Uint8Array;
}

function encodeSet(set: ProducerSet | undefined): string {
  return set === undefined ? '-' : `${set.mode}:${set.producers.join(',')}`;
}

/** Unambiguous text encoding: numbers are decimal, names and payload cannot contain '|' (checked on receipt). */
export const defaultCodec: BlockCodec = {
  encodeHeader(h) {
    return textBytes(
      `${h.num}|${h.previous}|${h.producer}|${h.term}|${h.time}|${h.commitNum}|${encodeSet(h.newConsensus)}|${h.payload}`,
    );
  },
};

export const NULL_ID: BlockId = '0'.repeat(64);

/**
 * Ids of header objects already hashed. Headers are immutable values, and one decoded
 * block reaches several code paths (and, in the simulator, several nodes).
 */
const idCache = new WeakMap<BlockHeader, { codec: BlockCodec; id: BlockId }>();

/** psibase: block id = sha256 of the header with the first 4 bytes replaced by the big-endian block number. */
export function blockId(header: BlockHeader, codec: BlockCodec = defaultCodec): BlockId {
  const cached = idCache.get(header);
  if (cached && cached.codec === codec) return cached.id;
  const id = hashHeader(header, codec);
  idCache.set(header, { codec, id });
  return id;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Hex through `join`, which yields one flat string. Appending char pairs (as noble's
 * `bytesToHex` does) yields a deep rope that V8 flattens again and again wherever the
 * id is read: every signing text and map key of a block carries its id.
 */
function toHex(bytes: Uint8Array): string {
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX[bytes[i]!]!;
  return parts.join('');
}

function hashHeader(header: BlockHeader, codec: BlockCodec): BlockId {
  const hash = sha256(codec.encodeHeader(header));
  const view = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  view.setUint32(0, header.num >>> 0, false);
  return toHex(hash);
}

/** Block number from an id, without the block (psibase BlockInfo::blockNum). */
export function numFromId(id: BlockId): number {
  return parseInt(id.slice(0, 8), 16);
}

/** The text a block signature covers: its id, which commits to the whole header. */
export function blockSigningText(id: BlockId): string {
  return `block|${id}`;
}

export function blockSigningBytes(id: BlockId): Uint8Array {
  return textBytes(blockSigningText(id));
}

function certText(c: PreparedCertificate | undefined): string {
  return c === undefined ? '-' : `${c.blockId}:${c.term}:${c.num}`;
}

/**
 * The text a message signature covers: its type and every field but the signature.
 * A prepared certificate is covered by id; its prepares carry their own signatures.
 * Every signed message's text names its producer, so equal texts mean equal signers.
 */
export function messageSigningText(m: ConsensusMessage): string {
  switch (m.type) {
    case 'confirm':
      return `confirm|${m.term}|${m.producer}|${m.blockNum}|${m.blockId}`;
    case 'requestVote':
      return `requestVote|${m.term}|${m.producer}|${m.lastTerm}|${m.lastNum}`;
    case 'vote':
    case 'prepare':
    case 'commit':
      return `${m.type}|${m.term}|${m.producer}|${m.subject}|${m.value}`;
    case 'viewChange':
      return `viewChange|${m.term}|${m.producer}|${certText(m.prepared)}`;
    case 'block':
    case 'requestBlocks':
      return m.type;
  }
}

/** The bytes a message signature covers (`messageSigningText` as UTF-8). */
export function messageSigningBytes(m: ConsensusMessage): Uint8Array {
  return textBytes(messageSigningText(m));
}

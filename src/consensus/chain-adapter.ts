/**
 * The consensus state machines over real psibase blocks (src/protocol):
 *
 * - `protocolCodec`: a consensus block's `payload` is the hex of the packed protocol
 *   `Block` (header and transactions), and its id is psibase's block id of that
 *   header (src/protocol/ids.ts), so ids, `previous` links and signatures are the
 *   chain's own. `projectHeader` derives the consensus fields from the protocol
 *   header; `matchesPayload` is the check a `BlockSource.validate` must make, since
 *   the id commits only to the payload.
 * - `ProducerKeys` (Verifier) and `p256Signer` (Signer) over src/crypto, keyed by the
 *   producers' auth claims from `newConsensus`.
 *
 * Verification is synchronous inside `step()` (noble's `verifyHash`), not done ahead
 * of `step()` by the caller: which signatures a message needs checked (the view
 * changes and votes inside a block's certificates, against the producer set that
 * governs that block) is decided by the state machine's own rules, and a caller
 * checking them first would have to repeat those rules. Each check is remembered for
 * commits and view changes (node.ts), which come back in certificates.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ConsensusError } from '../errors.ts';
import { verifyHash } from '../crypto/keys.ts';
import { signP256Hash } from '../crypto/p256.ts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { fromHex } from '../protocol/fracpack/index.ts';
import { blockId as protocolBlockId } from '../protocol/ids.ts';
import { accountName } from '../protocol/names.ts';
import {
  packBlock,
  packBlockHeader,
  unpackBlock,
  type Block,
  type Claim,
  type Consensus,
  type Producer,
  type SignedBlock as ProtocolSignedBlock,
} from '../protocol/types.ts';
import type { BlockCodec } from './block.ts';
import type { BlockHeader, ProducerName, ProducerSet, SignedBlock, Signer, Verifier } from './types.ts';

/** psibase BlockSignatureInfo prefix (block.hpp): what a producer signs for a block is this ‖ block id. */
const BLOCK_SIGNATURE_PREFIX = Uint8Array.of(0x00, 0xce, 0xa8, 0x42);
/** Consensus messages are signed under their own tag, so no message text can pass for a block signature. */
const MESSAGE_TAG = new TextEncoder().encode('psiweb consensus message\0');
const BLOCK_TEXT = 'block|';

/** Lowercase hex, as consensus block ids are (block.ts). */
const toHex = (b: Uint8Array): string => bytesToHex(b);

export function producersOf(c: Consensus): Producer[] {
  return 'CftConsensus' in c.data ? c.data.CftConsensus.producers : c.data.BftConsensus.producers;
}

/** psibase `Consensus` → the mode and producer names the state machines read. */
export function projectConsensus(c: Consensus): ProducerSet {
  return { mode: 'CftConsensus' in c.data ? 'cft' : 'bft', producers: producersOf(c).map((p) => accountName(p.name)) };
}

const blockCache = new Map<string, Block>();
/** Payloads decoded recently; a block is hashed and checked by several paths. */
const BLOCK_CACHE_SIZE = 256;

/** The protocol block a consensus payload carries. Throws DecodeError on a malformed payload. */
export function payloadBlock(payload: string): Block {
  let b = blockCache.get(payload);
  if (!b) {
    b = unpackBlock(fromHex(payload));
    if (blockCache.size >= BLOCK_CACHE_SIZE) blockCache.clear();
    blockCache.set(payload, b);
  }
  return b;
}

/**
 * The consensus header of a protocol block. Times are ms (psibase's are µs). A
 * single producer's block carries its own number as `commitNum` in psibase (it is
 * irreversible at once); the state machines count a block's `commitNum` as what was
 * irreversible before it, so that case maps to the number before.
 */
export function projectHeader(block: Block): BlockHeader {
  const h = block.header;
  return {
    num: h.blockNum,
    previous: toHex(h.previous),
    producer: accountName(h.producer),
    term: h.term,
    time: Number(h.time / 1000n),
    commitNum: Math.min(h.commitNum, h.blockNum - 1),
    ...(h.newConsensus ? { newConsensus: projectConsensus(h.newConsensus) } : {}),
    payload: toHex(packBlock(block)),
  };
}

function sameSet(a: ProducerSet | undefined, b: ProducerSet | undefined): boolean {
  if (!a || !b) return a === b;
  return a.mode === b.mode && a.producers.length === b.producers.length && a.producers.every((p, i) => p === b.producers[i]);
}

/** Whether a consensus header's fields are those of the protocol block in its payload. */
export function matchesPayload(h: BlockHeader): boolean {
  let p: BlockHeader;
  try {
    p = projectHeader(payloadBlock(h.payload));
  } catch {
    return false;
  }
  return (
    p.num === h.num &&
    p.previous === h.previous &&
    p.producer === h.producer &&
    p.term === h.term &&
    p.time === h.time &&
    p.commitNum === h.commitNum &&
    sameSet(p.newConsensus, h.newConsensus)
  );
}

/** Ids are psibase's: sha256 of the packed protocol header without `authCode`, number in front. */
export const protocolCodec: BlockCodec = {
  encodeHeader(h) {
    let block: Block;
    try {
      block = payloadBlock(h.payload);
    } catch {
      // An undecodable payload still needs an id; this one can match no protocol block.
      return new TextEncoder().encode(`undecodable|${h.payload}`);
    }
    return packBlockHeader({ ...block.header, authCode: null });
  },
};

/** The consensus block for a protocol block (the proof, psibase's auxConsensusData, travels beside it). */
export function toConsensusBlock(signed: ProtocolSignedBlock): SignedBlock {
  return { header: projectHeader(signed.block), signature: toHex(signed.signature) };
}

/** The protocol block a consensus block carries, for the executor. */
export function toProtocolBlock(b: SignedBlock): ProtocolSignedBlock {
  return { block: payloadBlock(b.header.payload), signature: fromHex(b.signature), auxConsensusData: null };
}

/**
 * The 32-byte digest a producer signs for `data`: for a block signing text
 * (`block|<id>`), sha256 of psibase's BlockSignatureInfo, which is what the
 * producer's verify service checks; for a message, sha256 of the tagged text.
 */
export function signingDigest(data: Uint8Array): Uint8Array {
  if (data.length === BLOCK_TEXT.length + 64 && String.fromCharCode(...data.subarray(0, BLOCK_TEXT.length)) === BLOCK_TEXT) {
    const id = fromHex(String.fromCharCode(...data.subarray(BLOCK_TEXT.length)));
    const info = new Uint8Array(BLOCK_SIGNATURE_PREFIX.length + id.length);
    info.set(BLOCK_SIGNATURE_PREFIX);
    info.set(id, BLOCK_SIGNATURE_PREFIX.length);
    return sha256(info);
  }
  const tagged = new Uint8Array(MESSAGE_TAG.length + data.length);
  tagged.set(MESSAGE_TAG);
  tagged.set(data, MESSAGE_TAG.length);
  return sha256(tagged);
}

/**
 * Signs with a P-256 private scalar (deterministic RFC 6979 through noble), so the
 * consensus signature of a block equals the one the executor's prover puts in it.
 */
export function p256Signer(scalar: Uint8Array): Signer {
  const key = new Uint8Array(scalar);
  return { sign: (data) => toHex(signP256Hash(key, signingDigest(data))) };
}

/** Signs as a producer whose claim is empty: psibase requires an empty block signature then. */
export const unsignedSigner: Signer = { sign: () => '' };

/**
 * Producers' keys from their auth claims (the claim's rawData is the DER public key
 * verify-sig checks). Keys are added from the genesis set and from each validated
 * block's `newConsensus`; a producer's earlier keys stay accepted, which matters only
 * if a producer rotates its key (then its old key can still sign consensus messages
 * until this object is rebuilt).
 */
export class ProducerKeys implements Verifier {
  private readonly claims = new Map<ProducerName, Claim[]>();

  constructor(initial?: Consensus) {
    if (initial) this.add(initial);
  }

  add(c: Consensus): void {
    for (const p of producersOf(c)) {
      const name = accountName(p.name);
      const known = this.claims.get(name) ?? [];
      if (!known.some((k) => k.service === p.auth.service && toHex(k.rawData) === toHex(p.auth.rawData))) known.push(p.auth);
      this.claims.set(name, known);
    }
  }

  verify(producer: ProducerName, data: Uint8Array, signature: string): boolean {
    const claims = this.claims.get(producer);
    if (!claims) return false;
    let digest: Uint8Array | undefined;
    let sig: Uint8Array;
    try {
      sig = fromHex(signature);
    } catch {
      return false;
    }
    for (const claim of claims) {
      // psibase: a producer with no claim signs nothing, and its signature must be empty.
      if (claim.service === 0n) {
        if (sig.length === 0) return true;
        continue;
      }
      digest ??= signingDigest(data);
      try {
        if (verifyHash(claim.rawData, digest, sig)) return true;
      } catch {
        // A malformed key in a claim verifies nothing.
      }
    }
    return false;
  }
}

/** The protocol block id of a consensus block, as hex; throws if its payload does not decode. */
export function protocolIdHex(b: SignedBlock): string {
  const block = payloadBlock(b.header.payload);
  if (!block) throw new ConsensusError('block payload does not decode');
  return toHex(protocolBlockId(block.header));
}

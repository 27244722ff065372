/**
 * psibase blocks as consensus reads them: ids (src/protocol/ids.ts) as hex map keys,
 * the bytes a block signature covers, and producer sets by name from `Consensus`.
 */
import { blockId as protocolBlockId } from '../protocol/ids.ts';
import { accountName, accountNumber } from '../protocol/names.ts';
import type { BlockHeader, Claim, Consensus, Producer, SignedBlock } from '../protocol/types.ts';
import type { BlockId, ConsensusMode, ProducerName, ProducerSet } from './types.ts';

export const NULL_ID: BlockId = '0'.repeat(64);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex through `join` (one flat string: ids are map keys read again and again). */
export function hexOf(bytes: Uint8Array): string {
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX[bytes[i]!]!;
  return parts.join('');
}

/** Bytes of a hex id (the caller's own ids: always 64 valid digits). */
export function idBytes(id: BlockId): Uint8Array {
  const out = new Uint8Array(id.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(id.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Ids of headers already hashed: one decoded block reaches several code paths. */
const idCache = new WeakMap<BlockHeader, BlockId>();
const idBytesCache = new WeakMap<BlockHeader, Uint8Array>();

/** psibase's block id of a header, as bytes (hashed once per header object; do not modify the result). */
export function headerIdBytes(header: BlockHeader): Uint8Array {
  let id = idBytesCache.get(header);
  if (id === undefined) {
    id = protocolBlockId(header);
    idBytesCache.set(header, id);
  }
  return id;
}

/** psibase's block id of a header, as hex. */
export function headerId(header: BlockHeader): BlockId {
  let id = idCache.get(header);
  if (id === undefined) {
    id = hexOf(headerIdBytes(header));
    idCache.set(header, id);
  }
  return id;
}

export function blockId(b: SignedBlock): BlockId {
  return headerId(b.block.header);
}

/** Block number from an id, without the block (psibase BlockInfo::blockNum). */
export function numFromId(id: BlockId): number {
  return parseInt(id.slice(0, 8), 16);
}

/** psibase BlockSignatureInfo (block.hpp): what a producer signs for a block, 00 ce a8 'B' ‖ id. */
export function blockSigningData(id: BlockId): Uint8Array {
  const out = new Uint8Array(36);
  out[1] = 0xce;
  out[2] = 0xa8;
  out[3] = 0x42;
  out.set(idBytes(id), 4);
  return out;
}

export function producersOf(c: Consensus): Producer[] {
  return 'CftConsensus' in c.data ? c.data.CftConsensus.producers : c.data.BftConsensus.producers;
}

const sets = new WeakMap<Consensus, ProducerSet>();

/** psibase `Consensus` → the mode, producer names and claims the state machines read. */
export function producerSetOf(c: Consensus): ProducerSet {
  let s = sets.get(c);
  if (!s) {
    const ps = producersOf(c);
    s = { mode: 'CftConsensus' in c.data ? 'cft' : 'bft', producers: ps.map((p) => accountName(p.name)), claims: ps.map((p) => p.auth) };
    sets.set(c, s);
  }
  return s;
}

/** Defaults for the parts of `Consensus` that consensus does not read (services, wasm config). */
export const DEFAULT_WASM_CONFIG: Consensus['wasmConfig'] = {
  numExecutionMemories: 32,
  vmOptions: { max_mutable_global_bytes: 1024, max_pages: 512, max_table_elements: 8192, max_stack_bytes: 1 << 20 },
};

/** A `Consensus` naming `producers` with their claims (tests, the simulator, devnet genesis). */
export function makeConsensus(mode: ConsensusMode, producers: readonly { name: ProducerName; auth: Claim }[]): Consensus {
  const list = producers.map((p) => ({ name: accountNumber(p.name), auth: p.auth }));
  return {
    data: mode === 'cft' ? { CftConsensus: { producers: list } } : { BftConsensus: { producers: list } },
    services: [],
    wasmConfig: DEFAULT_WASM_CONFIG,
  };
}

/** The claim `producer` signs with in `set`, if it is a member. */
export function claimIn(set: ProducerSet, producer: ProducerName): Claim | undefined {
  const i = set.producers.indexOf(producer);
  return i < 0 ? undefined : set.claims[i];
}

export function sameClaim(a: Claim, b: Claim): boolean {
  if (a.service !== b.service || a.rawData.length !== b.rawData.length) return false;
  for (let i = 0; i < a.rawData.length; i++) if (a.rawData[i] !== b.rawData[i]) return false;
  return true;
}

/** µs of a ms clock reading, as psibase block times are. */
export function usOf(ms: number): bigint {
  return BigInt(Math.floor(ms * 1000));
}

import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { toHex } from './fracpack/index.ts';
import { blockId, blockNumFromId, transactionId } from './ids.ts';
import { combine, hashLeaf, Merkle, merkleRoot } from './merkle.ts';
import { accountNumber } from './names.ts';
import { BlockSuffixes, longRefBlockIndex, recentRefBlockIndex, refBlockSuffix, taposRef } from './tapos.ts';
import { packBlockHeader, packTransaction, type BlockHeader } from './types.ts';

const header: BlockHeader = {
  previous: new Uint8Array(32).fill(7),
  blockNum: 0x01020304,
  time: 1_700_000_000_000_000n,
  producer: accountNumber('prod'),
  term: 1,
  commitNum: 0x01020303,
  consensusState: new Uint8Array(32),
  trxMerkleRoot: new Uint8Array(32),
  eventMerkleRoot: new Uint8Array(32),
  newConsensus: null,
  authCode: null,
};

describe('ids', () => {
  it('transaction id is sha256 of the packed inner transaction', () => {
    const inner = packTransaction({ tapos: { expiration: 1n, refBlockSuffix: 0, flags: 0, refBlockIndex: 0 }, actions: [], claims: [] });
    expect(transactionId({ transaction: inner, proofs: [] })).toEqual(sha256(inner));
    expect(transactionId(inner)).toEqual(sha256(inner));
  });

  it('block id is sha256 of the header with the big-endian block number in front', () => {
    const id = blockId(header);
    const h = sha256(packBlockHeader(header));
    expect(toHex(id.subarray(0, 4))).toBe('01020304');
    expect(id.subarray(4)).toEqual(h.subarray(4));
    expect(blockNumFromId(id)).toBe(0x01020304);
  });

  it('block id ignores authCode, as makeBlockId resets it', () => {
    const withCode = { ...header, authCode: [{ vmType: 0, vmVersion: 0, code: new Uint8Array([1]) }] };
    expect(blockId(withCode)).toEqual(blockId(header));
    expect(blockId({ ...header, term: 2 })).not.toEqual(blockId(header));
  });
});

describe('merkle', () => {
  const leaves = [1, 2, 3, 4, 5].map((i) => new Uint8Array([i]));
  const L = leaves.map((l) => sha256(new Uint8Array([0, ...l])));
  const N = (a: Uint8Array, b: Uint8Array) => sha256(new Uint8Array([1, ...a, ...b]));

  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    expect(hashLeaf(leaves[0]!)).toEqual(L[0]);
    expect(combine(L[0]!, L[1]!)).toEqual(N(L[0]!, L[1]!));
  });

  it('builds minimum-depth trees, left subtrees first, odd nodes carried up', () => {
    expect(merkleRoot([])).toEqual(new Uint8Array(32));
    expect(merkleRoot(leaves.slice(0, 1))).toEqual(L[0]);
    expect(merkleRoot(leaves.slice(0, 2))).toEqual(N(L[0]!, L[1]!));
    expect(merkleRoot(leaves.slice(0, 3))).toEqual(N(N(L[0]!, L[1]!), L[2]!));
    expect(merkleRoot(leaves.slice(0, 4))).toEqual(N(N(L[0]!, L[1]!), N(L[2]!, L[3]!)));
    expect(merkleRoot(leaves)).toEqual(N(N(N(L[0]!, L[1]!), N(L[2]!, L[3]!)), L[4]!));
  });

  it('gives intermediate roots while growing', () => {
    const m = new Merkle();
    m.push(leaves[0]!);
    m.push(leaves[1]!);
    m.push(leaves[2]!);
    expect(m.root()).toEqual(merkleRoot(leaves.slice(0, 3)));
  });
});

describe('tapos', () => {
  const id = new Uint8Array(32).map((_, i) => i);
  it('suffix is the last 4 id bytes as a little-endian u32', () => {
    expect(refBlockSuffix(id)).toBe(0x1f1e1d1c);
  });
  it('indexes recent blocks by the low 7 bits and 8192-multiples with the high bit', () => {
    expect(recentRefBlockIndex(0x1234)).toBe(0x34);
    expect(longRefBlockIndex(8192 * 5)).toBe(0x85);
    expect(longRefBlockIndex(8193)).toBeUndefined();
    expect(taposRef(300, id)).toEqual({ refBlockIndex: 300 & 0x7f, refBlockSuffix: 0x1f1e1d1c });
  });
  it('accepts references the way Transact checks them', () => {
    const s = new BlockSuffixes();
    s.addHead(8192 * 3, id);
    expect(s.accepts(0, 0x1f1e1d1c, 8192 * 3)).toBe(true);
    expect(s.accepts(0x83, 0x1f1e1d1c, 8192 * 3)).toBe(true);
    expect(s.accepts(0x83, 0x1f1e1d1d, 8192 * 3)).toBe(false);
    // 0x85 names block 5*8192, which does not exist yet at head 3*8192.
    expect(s.accepts(0x85, 0, 8192 * 3)).toBe(false);
  });
});

import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { p256PublicFromScalar } from '../crypto/p256.ts';
import { encodeSpki } from '../crypto/der.ts';
import { verifyHash } from '../crypto/keys.ts';
import { encodeMessage } from '../net/wire/messages.ts';
import { blockId as protocolBlockId } from '../protocol/ids.ts';
import { accountNumber } from '../protocol/names.ts';
import type { Block, Consensus } from '../protocol/types.ts';
import { blockId, blockSigningData, hexOf } from './block.ts';
import { p256Signer, ProducerKeys } from './chain-adapter.ts';
import { preimageOf, signed } from './messages.ts';

const scalarOf = (seed: string) => sha256(new TextEncoder().encode(`chain-adapter test ${seed}`));
const spkiOf = (scalar: Uint8Array) => encodeSpki('p256', p256PublicFromScalar(scalar));
const VERIFY_SIG = accountNumber('verify-sig');

function consensus(kind: 'CftConsensus' | 'BftConsensus', names: string[]): Consensus {
  const producers = names.map((n) => ({ name: accountNumber(n), auth: { service: VERIFY_SIG, rawData: spkiOf(scalarOf(n)) } }));
  return {
    data: kind === 'CftConsensus' ? { CftConsensus: { producers } } : { BftConsensus: { producers } },
    services: [],
    wasmConfig: { numExecutionMemories: 32, vmOptions: { max_mutable_global_bytes: 1024, max_pages: 512, max_table_elements: 8192, max_stack_bytes: 1 << 20 } },
  };
}

function block(o: Partial<Block['header']> = {}): Block {
  return {
    header: {
      previous: new Uint8Array(32).fill(7),
      blockNum: 9,
      time: 1_700_000_000_500_000n,
      producer: accountNumber('alice'),
      term: 3,
      commitNum: 7,
      consensusState: new Uint8Array(32).fill(1),
      trxMerkleRoot: new Uint8Array(32).fill(2),
      eventMerkleRoot: new Uint8Array(32).fill(3),
      newConsensus: consensus('BftConsensus', ['alice', 'bob', 'carol', 'dave']),
      authCode: null,
      ...o,
    },
    transactions: [],
  };
}

describe('producer keys over psibase preimages', () => {
  it("uses psibase's block ids", () => {
    const b = block();
    expect(blockId({ block: b, signature: new Uint8Array(0) })).toBe(hexOf(protocolBlockId(b.header)));
  });

  it('signs blocks as psibase producers do (BlockSignatureInfo) and verifies by auth claim', () => {
    const keys = new ProducerKeys(consensus('CftConsensus', ['alice', 'bob']));
    const alice = p256Signer(scalarOf('alice'));
    const id = blockId({ block: block(), signature: new Uint8Array(0) });
    const sig = alice.sign(blockSigningData(id));
    // What verify-sig checks: the signature over sha256(00 ce a8 'B' ‖ id) with the claim's key.
    const info = new Uint8Array([0x00, 0xce, 0xa8, 0x42, ...protocolBlockId(block().header)]);
    expect(verifyHash(spkiOf(scalarOf('alice')), sha256(info), sig)).toBe(true);
    expect(keys.verify('alice', blockSigningData(id), sig)).toBe(true);
    expect(keys.verify('bob', blockSigningData(id), sig)).toBe(false);
    expect(keys.verify('carol', blockSigningData(id), sig)).toBe(false);
  });

  it('signs consensus messages as psibase does: the type byte and the packed message, never as a block', () => {
    const keys = new ProducerKeys(consensus('BftConsensus', ['alice', 'bob', 'carol', 'dave']));
    const carol = p256Signer(scalarOf('carol'));
    const commit = { block_id: new Uint8Array(32), producer: accountNumber('carol'), signer: { service: VERIFY_SIG, rawData: spkiOf(scalarOf('carol')) } };
    const m = signed('CommitMessage', commit, carol);
    if (m.kind !== 'SignedMessage<CommitMessage>') throw new Error('not a signed commit');
    const preimage = preimageOf('CommitMessage', m.value.data);
    expect(preimage).toEqual(encodeMessage({ kind: 'CommitMessage', value: commit }));
    expect(preimage[0]).toBe(39);
    expect(verifyHash(spkiOf(scalarOf('carol')), sha256(preimage), m.value.signature)).toBe(true);
    expect(keys.verify('carol', preimage, m.value.signature)).toBe(true);
    expect(keys.verify('carol', encodeMessage({ kind: 'CommitMessage', value: { ...commit, block_id: new Uint8Array(32).fill(1) } }), m.value.signature)).toBe(false);
    expect(keys.verify('carol', blockSigningData('00'.repeat(32)), m.value.signature)).toBe(false);
    expect(keys.verify('carol', preimage, Uint8Array.of(1, 2, 3))).toBe(false);
  });

  it('accepts an empty signature only from a producer whose claim is empty', () => {
    const c = consensus('CftConsensus', ['alice']);
    const open: Consensus = { ...c, data: { CftConsensus: { producers: [{ name: accountNumber('prod'), auth: { service: 0n, rawData: new Uint8Array(0) } }] } } };
    const keys = new ProducerKeys(open);
    keys.add(c);
    expect(keys.verify('prod', blockSigningData('00'.repeat(32)), new Uint8Array(0))).toBe(true);
    expect(keys.verify('alice', blockSigningData('00'.repeat(32)), new Uint8Array(0))).toBe(false);
  });
});

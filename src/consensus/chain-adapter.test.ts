import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { p256PublicFromScalar } from '../crypto/p256.ts';
import { encodeSpki } from '../crypto/der.ts';
import { verifyHash } from '../crypto/keys.ts';
import { bytesToHex as toHex } from '@noble/hashes/utils.js';
import { fromHex } from '../protocol/fracpack/index.ts';
import { blockId as protocolBlockId } from '../protocol/ids.ts';
import { accountNumber } from '../protocol/names.ts';
import type { Block, Consensus } from '../protocol/types.ts';
import { blockId, blockSigningBytes, messageSigningBytes } from './block.ts';
import { matchesPayload, p256Signer, ProducerKeys, projectHeader, protocolCodec, toConsensusBlock, toProtocolBlock } from './chain-adapter.ts';

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

describe('consensus over protocol blocks', () => {
  it("gives consensus blocks psibase's block ids and projects the header", () => {
    const b = block();
    const h = projectHeader(b);
    // Lowercase, as every consensus id, so `previous` finds its parent.
    expect(blockId(h, protocolCodec)).toBe(toHex(protocolBlockId(b.header)));
    expect(projectHeader(block({ blockNum: 10, previous: protocolBlockId(b.header) })).previous).toBe(blockId(h, protocolCodec));
    expect(h).toMatchObject({ num: 9, previous: '07'.repeat(32), producer: 'alice', term: 3, time: 1_700_000_000_500, commitNum: 7 });
    expect(h.newConsensus).toEqual({ mode: 'bft', producers: ['alice', 'bob', 'carol', 'dave'] });
    // A lone producer's block names itself committed; consensus counts what came before.
    expect(projectHeader(block({ commitNum: 9, newConsensus: null })).commitNum).toBe(8);
  });

  it('rejects a consensus header whose fields disagree with the block it carries', () => {
    const h = projectHeader(block());
    expect(matchesPayload(h)).toBe(true);
    expect(matchesPayload({ ...h, term: 4 })).toBe(false);
    expect(matchesPayload({ ...h, commitNum: 8 })).toBe(false);
    expect(matchesPayload({ ...h, newConsensus: { mode: 'cft', producers: ['alice'] } })).toBe(false);
    expect(matchesPayload({ ...h, newConsensus: undefined })).toBe(false);
    expect(matchesPayload({ ...h, payload: 'zz' })).toBe(false);
  });

  it('signs blocks as psibase producers do (BlockSignatureInfo) and verifies by auth claim', () => {
    const keys = new ProducerKeys(consensus('CftConsensus', ['alice', 'bob']));
    const alice = p256Signer(scalarOf('alice'));
    const b = block();
    const id = blockId(projectHeader(b), protocolCodec);
    const sig = alice.sign(blockSigningBytes(id));
    // What verify-sig checks: the signature over sha256(prefix ‖ id) with the claim's key.
    const info = new Uint8Array([0x00, 0xce, 0xa8, 0x42, ...fromHex(id)]);
    expect(verifyHash(spkiOf(scalarOf('alice')), sha256(info), fromHex(sig))).toBe(true);
    expect(keys.verify('alice', blockSigningBytes(id), sig)).toBe(true);
    expect(keys.verify('bob', blockSigningBytes(id), sig)).toBe(false);
    expect(keys.verify('carol', blockSigningBytes(id), sig)).toBe(false);
    // Round trip through the protocol block the executor applies.
    const round = toConsensusBlock(toProtocolBlock({ header: projectHeader(b), signature: sig }));
    expect(round.signature).toBe(sig);
    expect(blockId(round.header, protocolCodec)).toBe(id);
  });

  it('signs consensus messages under their own tag, never as a block', () => {
    const keys = new ProducerKeys(consensus('BftConsensus', ['alice', 'bob', 'carol', 'dave']));
    const carol = p256Signer(scalarOf('carol'));
    const m = { type: 'commit', term: 3, producer: 'carol', subject: '00'.repeat(32), value: 9, signature: '' } as const;
    const sig = carol.sign(messageSigningBytes(m));
    expect(keys.verify('carol', messageSigningBytes(m), sig)).toBe(true);
    expect(keys.verify('carol', messageSigningBytes({ ...m, value: 10 }), sig)).toBe(false);
    expect(keys.verify('carol', blockSigningBytes('00'.repeat(32)), sig)).toBe(false);
    expect(keys.verify('carol', messageSigningBytes(m), 'not hex')).toBe(false);
  });

  it('accepts an empty signature only from a producer whose claim is empty', () => {
    const c = consensus('CftConsensus', ['alice']);
    const open: Consensus = { ...c, data: { CftConsensus: { producers: [{ name: accountNumber('prod'), auth: { service: 0n, rawData: new Uint8Array(0) } }] } } };
    const keys = new ProducerKeys(open);
    keys.add(c);
    expect(keys.verify('prod', blockSigningBytes('00'.repeat(32)), '')).toBe(true);
    expect(keys.verify('alice', blockSigningBytes('00'.repeat(32)), '')).toBe(false);
  });
});

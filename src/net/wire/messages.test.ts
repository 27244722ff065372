import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { devKeyPair, publicKeyDer, sign, verify } from '../../crypto/keys.ts';
import { DecodeError, EncodeError } from '../../errors.ts';
import { fromHex, toHex } from '../../protocol/fracpack/index.ts';
import { accountNumber } from '../../protocol/names.ts';
import { packSignedBlock } from '../../protocol/types.ts';
import { p2pJsonEqual } from './conformance.ts';
import { MessageDecodeError, MessageEncodeError, UnknownMessageTypeError, type WireDecodeReason } from './errors.ts';
import {
  blockConfirmOf,
  blockOf,
  decodeMessage,
  decodeMessageAs,
  encodeMessage,
  MESSAGE_TYPES,
  messageFromJson,
  messageToJson,
  openSignedMessage,
  packBlockConfirm,
  parseKind,
  packPayload,
  payloadFromJson,
  payloadToJson,
  unpackPayload,
  signedPreimage,
  signingPreimage,
  signMessage,
  unpackBlockConfirm,
  type AnyMessage,
  type MessageKind,
  type PrepareMessage,
  type ViewChangeMessage,
} from './messages.ts';

interface Vector {
  type: string;
  json: unknown;
  hex: string;
}
const dir = join(process.cwd(), 'test/vectors/p2p');
const vectors = JSON.parse(readFileSync(join(dir, 'psibase-messages.json'), 'utf8')) as Vector[];
const confirms = JSON.parse(readFileSync(join(dir, 'psibase-block-confirm.json'), 'utf8')) as Vector[];
const first = (type: string) => vectors.find((v) => v.type === type)!;
const bytesOf = (type: string) => fromHex(first(type).hex);

function refused(fn: () => unknown, reason?: WireDecodeReason): MessageDecodeError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a MessageDecodeError').toBeInstanceOf(MessageDecodeError);
  expect(err).toBeInstanceOf(DecodeError);
  if (reason) expect((err as MessageDecodeError).reason).toBe(reason);
  return err as MessageDecodeError;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('p2p wire codec: round trips', () => {
  it('every psibase vector: bytes → native → bytes, native → JSON → native', () => {
    for (const v of vectors) {
      const kind = v.type as MessageKind;
      const bytes = fromHex(v.hex);
      const value = decodeMessageAs(kind, bytes);
      expect(toHex(encodeMessage({ kind, value } as AnyMessage)), v.type).toBe(v.hex.toUpperCase());
      const json = messageToJson(kind, value);
      // not just equivalent: the same JSON text psio::convert_to_json printed
      expect(JSON.stringify(json), v.type).toBe(JSON.stringify(v.json));
      const back = messageFromJson(kind, json);
      expect(toHex(encodeMessage({ kind, value: back } as AnyMessage))).toBe(v.hex.toUpperCase());
    }
  });

  it('the wire decoder reads signed kinds as SignedMessage<T> and the rest as themselves', () => {
    for (const v of vectors) {
      const p = parseKind(v.type)!;
      const bytes = fromHex(v.hex);
      expect(bytes[0]).toBe(MESSAGE_TYPES[p.name]);
      if (!p.signed && v.type !== p.name) continue;
      const isSignedKind = ['ConfirmMessage', 'RequestVoteRequest', 'RequestVoteResponse', 'PrepareMessage', 'CommitMessage', 'ViewChangeMessage'].includes(p.name);
      if (isSignedKind && !p.signed) {
        // What psibase signs is never what it sends: the unsigned form is refused on the wire.
        refused(() => decodeMessage(bytes));
        continue;
      }
      const m = decodeMessage(bytes);
      expect(m.kind).toBe(v.type);
      if ('message' in m) {
        // the decoded inner message is exactly what the C++ JSON's hex `data` packs
        const data = (v.json as { data: string }).data;
        expect(toHex(encodeMessage({ kind: p.name, value: m.message } as AnyMessage))).toBe(
          toHex(new Uint8Array([MESSAGE_TYPES[p.name]])) + data.toUpperCase(),
        );
      }
    }
  });

  it('random PrepareMessage and ViewChangeMessage values round-trip, signed and unsigned', () => {
    const name = fc.constantFrom('prod-a', 'prod-b', 'x', '').map((s) => accountNumber(s));
    const bytes = (n?: number) => fc.uint8Array(n === undefined ? { maxLength: 80 } : { minLength: n, maxLength: n });
    const claim = fc.record({ service: name, rawData: bytes() });
    const confirm = fc.record({ producer: name, signature: bytes() });
    const prepare: fc.Arbitrary<PrepareMessage> = fc.record({ block_id: bytes(32), producer: name, signer: claim });
    const view: fc.Arbitrary<ViewChangeMessage> = fc.record({
      term: fc.nat(0xffffffff),
      producer: name,
      signer: claim,
      best_prepared: bytes(32),
      best_prepared_term: fc.nat(0xffffffff),
      prepares: fc.array(confirm, { maxLength: 4 }),
      nextPrepares: fc.option(fc.array(confirm, { maxLength: 4 })),
    });
    fc.assert(
      fc.property(prepare, view, bytes(), (p, vc, sig) => {
        for (const [kind, value] of [
          ['PrepareMessage', p],
          ['ViewChangeMessage', vc],
        ] as const) {
          const wire = encodeMessage({ kind, value } as AnyMessage);
          expect(p2pJsonEqual(messageToJson(kind, decodeMessageAs(kind, wire)), messageToJson(kind, value))).toBe(true);
          const signed = { data: wire.slice(1), signature: sig };
          const m = decodeMessage(encodeMessage({ kind: `SignedMessage<${kind}>`, value: signed } as AnyMessage));
          expect(m.kind).toBe(`SignedMessage<${kind}>`);
          if (!('message' in m)) throw new Error(m.kind);
          expect(toHex(m.value.signature)).toBe(toHex(sig));
          expect(toHex(signedPreimage(kind, m.value))).toBe(toHex(wire));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('p2p wire codec: signing preimage', () => {
  it("is the unsigned message's wire bytes, which psibase's C++ put in SignedMessage.data", () => {
    // For each signed vector, psibase's own unsigned vector of the same message (same
    // JSON for `data`) is type byte + to_frac(msg) = serialize_unsigned_message(msg), the
    // bytes sign_message signs; the receiver rebuilds the same bytes from type + data.
    let checked = 0;
    for (const v of vectors.filter((x) => x.type.startsWith('SignedMessage<'))) {
      const p = parseKind(v.type)!;
      const signed = decodeMessageAs(v.type as MessageKind, fromHex(v.hex)) as { data: Uint8Array; signature: Uint8Array };
      const pre = signedPreimage(p.name as 'PrepareMessage', signed);
      const unsigned = vectors.find((u) => u.type === p.name && u.hex.toUpperCase() === toHex(pre));
      if (!unsigned) continue; // a few signed vectors have no unsigned twin in the file
      const message = openSignedMessage(p.name as 'PrepareMessage', signed as never);
      expect(toHex(signingPreimage(p.name as 'PrepareMessage', message))).toBe(unsigned.hex.toUpperCase());
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it('a real P-256 signature by the signer claim verifies over the preimage after the wire', async () => {
    const key = await devKeyPair('p256', 'p2p-wire-test');
    const msg: PrepareMessage = {
      block_id: new Uint8Array(32).fill(7),
      producer: accountNumber('prod-a'),
      signer: { service: accountNumber('verify-sig'), rawData: publicKeyDer(key) },
    };
    const signed = await signMessage('PrepareMessage', msg, (pre, claim) => {
      expect(toHex(claim.rawData)).toBe(toHex(publicKeyDer(key)));
      expect(pre[0]).toBe(38);
      return sign(key, pre);
    });
    const wire = encodeMessage({ kind: 'SignedMessage<PrepareMessage>', value: signed });
    expect(wire[0]).toBe(38);
    const got = decodeMessage(wire);
    if (got.kind !== 'SignedMessage<PrepareMessage>') throw new Error(got.kind);
    const pre = signedPreimage('PrepareMessage', got.value);
    expect(await verify(got.message.signer.rawData, pre, got.value.signature)).toBe(true);
    // the preimage is type byte + message: a signature over the message alone does not verify
    expect(await verify(got.message.signer.rawData, pre.subarray(1), got.value.signature)).toBe(false);
    // nor one moved to another message type with the same body (CommitMessage packs differently,
    // but the type byte alone must already change the preimage)
    const other = pre.slice();
    other[0] = 39;
    expect(await verify(got.message.signer.rawData, other, got.value.signature)).toBe(false);
  });
});

describe('p2p wire codec: blocks and BlockConfirm', () => {
  it("reads a BFT block's auxConsensusData as psibase's BlockConfirm", () => {
    const bft = vectors.filter((v) => v.type === 'BlockMessage')[1]!;
    const m = decodeMessageAs('BlockMessage', fromHex(bft.hex));
    const block = blockOf(m);
    expect(block.block.header.blockNum).toBe(1234);
    const bc = blockConfirmOf(block)!;
    expect(p2pJsonEqual(payloadToJson('BlockConfirm', bc), confirms[0]!.json)).toBe(true);
    expect(toHex(packBlockConfirm(bc))).toBe(confirms[0]!.hex.toUpperCase());
    // the block's own bytes are kept verbatim
    expect(toHex(packSignedBlock(block))).toBe(toHex(m.block));
    const cft = blockOf(decodeMessageAs('BlockMessage', bytesOf('BlockMessage')));
    expect(blockConfirmOf(cft)).toBeNull();
  });

  it('BlockConfirm and ProducerConfirm vectors give the JSON text and bytes psio printed', () => {
    for (const v of confirms) {
      const name = v.type as 'BlockConfirm' | 'ProducerConfirm';
      const value = unpackPayload(name, fromHex(v.hex));
      expect(JSON.stringify(payloadToJson(name, value))).toBe(JSON.stringify(v.json));
      expect(toHex(packPayload(name, payloadFromJson(name, v.json)))).toBe(v.hex.toUpperCase());
    }
  });

  it('a RoutingEnvelope carries a whole wire message', () => {
    const env = decodeMessageAs('RoutingEnvelope', bytesOf('RoutingEnvelope'));
    expect(decodeMessage(env.data).kind).toBe('SignedMessage<PrepareMessage>');
  });

  it('BlockConfirm refuses bad bytes with a typed error', () => {
    refused(() => unpackBlockConfirm(fromHex(confirms[0]!.hex).subarray(0, 10)), 'truncated');
  });
});

describe('p2p wire codec: rejects malformed input', () => {
  it('no bytes, unknown type bytes', () => {
    refused(() => decodeMessage(new Uint8Array(0)), 'empty');
    for (const t of [0, 2, 7, 31, 33, 46, 63, 127, 128, 255]) {
      const e = refused(() => decodeMessage(new Uint8Array([t, 0, 0])), 'unknown-type');
      expect(e).toBeInstanceOf(UnknownMessageTypeError);
      expect((e as UnknownMessageTypeError).typeByte).toBe(t);
    }
    refused(() => decodeMessageAs('PrepareMessage', bytesOf('CommitMessage')), 'wrong-type');
    refused(() => decodeMessageAs('Nope' as MessageKind, bytesOf('CommitMessage')), 'unknown-type');
  });

  it('every truncation of every vector', () => {
    for (const v of vectors) {
      const b = fromHex(v.hex);
      for (let n = 1; n < b.length; n++) refused(() => decodeMessageAs(v.type as MessageKind, b.subarray(0, n)));
    }
    refused(() => decodeMessage(bytesOf('InitMessage').subarray(0, 5)), 'truncated');
    refused(() => decodeMessage(bytesOf('SignedMessage<CommitMessage>').slice(0, -1)), 'truncated');
  });

  it("everything psio refuses in the edge-case vectors, the wire decoder refuses too; psio's extended message is read", () => {
    const edge = JSON.parse(readFileSync(join(dir, 'psibase-edge-cases.json'), 'utf8')) as Array<Vector & { error?: boolean }>;
    for (const v of edge) {
      if (v.error) refused(() => decodeMessage(fromHex(v.hex)));
      else if (v.type.startsWith('SignedMessage<')) {
        const m = decodeMessage(fromHex(v.hex));
        expect(m.kind).toBe(v.type);
        expect(toHex((m.value as { data: Uint8Array }).data)).toBe((v.json as { data: string }).data);
      }
    }
  });

  it('extra data after the message', () => {
    for (const v of vectors) {
      const b = concat(fromHex(v.hex), new Uint8Array([0]));
      refused(() => decodeMessageAs(v.type as MessageKind, b), 'trailing');
    }
  });

  it('wrong fixed sizes', () => {
    // RouteSeqnoRequest: u16 fixed size 12 (producer 8, seqno 2, ttl 2). 10 ends inside ttl;
    // 14 leaves 2 unknown bytes that are not offsets.
    const seq = bytesOf('RouteSeqnoRequest');
    expect(toHex(seq.subarray(0, 3))).toBe('050C00');
    const short = seq.slice();
    short[1] = 10;
    refused(() => decodeMessage(short), 'malformed');
    const long = concat(seq.slice(), new Uint8Array(2));
    long[1] = 14;
    refused(() => decodeMessage(long), 'malformed');
    // CommitMessage is definitionWillNotChange: a packed extension is not allowed.
    refused(() => decodeMessageAs('CommitMessage', concat(bytesOf('CommitMessage'), new Uint8Array(4))));
    // A Checksum256 of 31 bytes cannot be encoded.
    const pm = decodeMessageAs('PrepareMessage', bytesOf('PrepareMessage'));
    expect(() => encodeMessage({ kind: 'PrepareMessage', value: { ...pm, block_id: new Uint8Array(31) } })).toThrow(MessageEncodeError);
  });

  it('malformed contents: bool, nested block, signed data', () => {
    const hello = bytesOf('HelloRequest');
    hello[7] = 2; // committed
    refused(() => decodeMessage(hello), 'malformed');

    const block = bytesOf('BlockMessage');
    // the nested SignedBlock's own fixed size header (after type 1, header 2, offset 4, size 4)
    block[11]! ^= 0xff;
    refused(() => decodeMessage(block));

    // SignedMessage<PrepareMessage> whose data is a CommitMessage body (no size header)
    const commit = bytesOf('CommitMessage').subarray(1);
    const sig = new Uint8Array(64);
    expect(() => encodeMessage({ kind: 'SignedMessage<PrepareMessage>', value: { data: commit, signature: sig } })).toThrow(MessageEncodeError);
    const forged = concat(new Uint8Array([38, 8, 0, 0, 0]), new Uint8Array([8 + commit.length, 0, 0, 0]), new Uint8Array([commit.length, 0, 0, 0]), commit, new Uint8Array([64, 0, 0, 0]), sig);
    refused(() => decodeMessage(forged));
  });

  it('accepts unknown extension fields of an extensible message and keeps signed data verbatim', () => {
    // PrepareMessage with one more (future) field: an offset to a u32 list, as fracpack extends structs
    const body = bytesOf('PrepareMessage').subarray(1);
    const fixed = body[0]! | (body[1]! << 8);
    const grown = new Uint8Array(body.length + 4 + 8);
    grown.set(body.subarray(0, 2 + fixed));
    new DataView(grown.buffer).setUint16(0, fixed + 4, true);
    // existing offsets in the fixed area point 4 bytes further now
    const dv = new DataView(grown.buffer);
    const signerAt = 2 + 32 + 8;
    dv.setUint32(signerAt, body[signerAt]! | (body[signerAt + 1]! << 8), true);
    dv.setUint32(signerAt, dv.getUint32(signerAt, true) + 4, true);
    const extAt = 2 + fixed;
    grown.set(body.subarray(2 + fixed), extAt + 4);
    dv.setUint32(extAt, grown.length - 8 - extAt, true);
    dv.setUint32(grown.length - 8, 4, true);
    dv.setUint32(grown.length - 4, 0xabcdef, true);
    const signed = encodeMessage({ kind: 'SignedMessage<PrepareMessage>', value: { data: grown, signature: new Uint8Array([1]) } });
    const m = decodeMessage(signed);
    if (m.kind !== 'SignedMessage<PrepareMessage>') throw new Error(m.kind);
    expect(toHex(m.value.data)).toBe(toHex(grown));
    expect(toHex(m.message.block_id)).toBe(toHex(decodeMessageAs('PrepareMessage', bytesOf('PrepareMessage')).block_id));
    expect(toHex(signedPreimage('PrepareMessage', m.value))).toBe(toHex(concat(new Uint8Array([38]), grown)));
  });

  it('bad kinds and values are MessageEncodeErrors, and failed decodes leave the input alone', () => {
    expect(() => encodeMessage({ kind: 'Nope', value: {} } as unknown as AnyMessage)).toThrow(MessageEncodeError);
    expect(() => encodeMessage({ kind: 'InitMessage', value: { version: -1 } })).toThrow(MessageEncodeError);
    expect(() => encodeMessage({ kind: 'InitMessage', value: {} } as unknown as AnyMessage)).toThrow(EncodeError);
    expect(() => messageFromJson('PrepareMessage', { block_id: 'zz', producer: 'a', signer: { service: 'a', rawData: '' } })).toThrow(MessageEncodeError);
    expect(() => messageFromJson('RouteUpdateMessage', { producer: 'NOT A NAME!', seqno: { value: 1 }, metric: { value: 1 } })).toThrow(MessageEncodeError);
    expect(() => signingPreimage('InitMessage' as 'PrepareMessage', { version: 1 } as never)).toThrow(MessageEncodeError);
    const b = bytesOf('ViewChangeMessage');
    const copy = b.slice();
    refused(() => decodeMessage(b.subarray(0, 20)));
    expect(toHex(b)).toBe(toHex(copy));
  });
});

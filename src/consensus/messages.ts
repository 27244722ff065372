/**
 * psibase's consensus messages (src/net/wire) as the state machine builds and reads
 * them. Signed messages are signed exactly as psibase signs them: the producer's
 * claim over the type byte ‖ the packed message (message_serializer.hpp); received
 * ones are checked over the type byte ‖ `data` as it arrived (routing_base.hpp).
 * Shape checks are the fracpack decoder's (src/net/wire decodeMessage).
 */
import {
  MESSAGE_TYPES,
  encodeMessage,
  type AnyMessage,
  type Messages,
  type ProducerConfirm,
  type SignedMessage,
  type SignedMessageName,
  type WireMessage,
} from '../net/wire/messages.ts';
import { accountNumber } from '../protocol/names.ts';
import { packSignedBlock, type Claim, type SignedBlock } from '../protocol/types.ts';
import { idBytes } from './block.ts';
import type { BlockId, ProducerName, Signer, Vote } from './types.ts';

/** A signed wire message as the machine sends it: the wrapper, and the message inside (as decodeMessage gives it). */
export function signed<K extends SignedMessageName>(name: K, message: Messages[K], signer: Signer): WireMessage {
  const preimage = encodeMessage({ kind: name, value: message } as AnyMessage);
  const signature = signer.sign(preimage);
  const value: SignedMessage<Messages[K]> = { data: preimage.slice(1), signature };
  return { kind: `SignedMessage<${name}>`, value, message } as WireMessage;
}

/** The bytes a received SignedMessage<T>'s signature covers: T's type byte, then `data` as received. */
export function preimageOf(name: SignedMessageName, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = MESSAGE_TYPES[name];
  out.set(data, 1);
  return out;
}

/**
 * The packed SignedBlock of each block object sent: a broadcast is packed once. Kept
 * with the signature it was packed with: a producer that signs asynchronously (the
 * core's signBlock) puts its signature into the block after consensus made it.
 */
const packed = new WeakMap<SignedBlock, { signature: Uint8Array; bytes: Uint8Array }>();

export function blockMessage(b: SignedBlock): WireMessage {
  let entry = packed.get(b);
  if (!entry || entry.signature !== b.signature) {
    entry = { signature: b.signature, bytes: packSignedBlock(b) };
    packed.set(b, entry);
  }
  return { kind: 'BlockMessage', value: { block: entry.bytes } };
}

/** Remember the bytes a block arrived as, so forwarding it does not pack it again. */
export function notePacked(b: SignedBlock, bytes: Uint8Array): void {
  packed.set(b, { signature: b.signature, bytes });
}

export function helloMessage(id: BlockId, num: number, committed: boolean): WireMessage {
  return { kind: 'HelloRequest', value: { xid: { _id: idBytes(id), _num: num }, committed } };
}

/** The PrepareMessage / CommitMessage a vote stands for, packed with its type byte: what its signature covers. */
export function votePreimage(v: Pick<Vote, 'kind' | 'blockId' | 'producer' | 'signer'>): Uint8Array {
  const name = v.kind === 'prepare' ? 'PrepareMessage' : 'CommitMessage';
  return encodeMessage({ kind: name, value: { block_id: idBytes(v.blockId), producer: accountNumber(v.producer), signer: v.signer } });
}

/** A vote as psibase's SignedMessage<PrepareMessage | CommitMessage>. */
export function voteMessage(v: Vote): WireMessage {
  const name = v.kind === 'prepare' ? 'PrepareMessage' : 'CommitMessage';
  const message = { block_id: idBytes(v.blockId), producer: accountNumber(v.producer), signer: v.signer };
  const data = votePreimage(v).subarray(1);
  return { kind: `SignedMessage<${name}>`, value: { data, signature: v.signature }, message } as WireMessage;
}

/** Sign a vote: the signature covers the packed PrepareMessage / CommitMessage. */
export function signVote(kind: Vote['kind'], blockId: BlockId, producer: ProducerName, signer: Claim, key: Signer): Vote {
  const v = { kind, blockId, producer, signer };
  return { ...v, signature: key.sign(votePreimage(v)) };
}

/** ProducerConfirms sorted by producer account number, as psibase writes them. */
export function confirmsOf(votes: readonly Vote[]): ProducerConfirm[] {
  return votes
    .map((v) => ({ producer: accountNumber(v.producer), signature: v.signature }))
    .sort((a, b) => (a.producer < b.producer ? -1 : a.producer > b.producer ? 1 : 0));
}

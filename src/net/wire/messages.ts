/**
 * psibase's peer protocol on the wire: every message is one type byte followed by the
 * fracpack of the message (message_serializer.hpp serialize_unsigned_message). Messages
 * with a `signer` travel as SignedMessage<T> under the same type byte (routing_base.hpp
 * try_recv_impl: `NeedsSignature<T> ? SignedMessage<T> : T`).
 *
 * Values come in two forms: native (u64 and names as bigint, bytes as Uint8Array, absent
 * optionals as null, nested packed values kept as their bytes) and psibase's JSON form
 * (names as strings, bytes as hex, u64 as decimal strings), as psio::convert_to_json
 * writes them.
 */
import { EncodeError, PsiwebError } from '../../errors.ts';
import { FracSchema, type FracType } from '../../protocol/fracpack/index.ts';
import { unpackSignedBlock, type Claim, type SignedBlock } from '../../protocol/types.ts';
import { MessageDecodeError, MessageEncodeError, UnknownMessageTypeError } from './errors.ts';
import { netSchema, SIGNED_MESSAGE_NAMES } from './schema.ts';

export { SIGNED_MESSAGE_NAMES, netSchema } from './schema.ts';

// ---------------------------------------------------------------------------------------
// Native forms

export interface InitMessage {
  version: number;
}
export interface RoutingEnvelope {
  destination: bigint;
  /** A whole message for `destination`: its type byte and fracpack. */
  data: Uint8Array;
}
export interface SequenceNumber {
  value: number;
}
export interface RouteMetric {
  value: number;
}
export interface RouteUpdateMessage {
  producer: bigint;
  seqno: SequenceNumber;
  metric: RouteMetric;
  /** RouterId (u64). */
  router?: bigint | null;
}
export interface RouteSeqnoRequest {
  producer: bigint;
  seqno: SequenceNumber;
  ttl: number;
}
export type RequestRoutesMessage = Record<string, never>;
export interface ExtendedBlockId {
  _id: Uint8Array;
  _num: number;
}
export interface HelloRequest {
  xid: ExtendedBlockId;
  committed: boolean;
}
export interface BlockMessage {
  /** The packed SignedBlock (psio::shared_view_ptr<SignedBlock>); see `blockOf`. */
  block: Uint8Array;
}
export interface BlockHeaderMessage {
  /** The packed SignedBlock (psio::shared_view_ptr<SignedBlock>); see `blockOf`. */
  block: Uint8Array;
}
export interface ConfirmMessage {
  term: number;
  follower_id: bigint;
  head_num: number;
  signer: Claim;
}
export interface RequestVoteRequest {
  term: number;
  candidate_id: bigint;
  last_log_index: number;
  last_log_term: number;
  signer: Claim;
}
export interface RequestVoteResponse {
  term: number;
  candidate_id: bigint;
  voter_id: bigint;
  vote_granted: boolean;
  signer: Claim;
}
export interface PrepareMessage {
  block_id: Uint8Array;
  producer: bigint;
  signer: Claim;
}
export interface CommitMessage {
  block_id: Uint8Array;
  producer: bigint;
  signer: Claim;
}
export interface ProducerConfirm {
  producer: bigint;
  signature: Uint8Array;
}
export interface ViewChangeMessage {
  term: number;
  producer: bigint;
  signer: Claim;
  best_prepared: Uint8Array;
  best_prepared_term: number;
  prepares: ProducerConfirm[];
  nextPrepares?: ProducerConfirm[] | null;
}
export type RequestViewMessage = Record<string, never>;
/** What BFT blocks carry, packed, in SignedBlock.auxConsensusData (bft.hpp). */
export interface BlockConfirm {
  blockNum: number;
  commits: ProducerConfirm[];
  nextCommits?: ProducerConfirm[] | null;
}

/** SignedMessage<T>: the packed T exactly as signed, and the signature over it (T only names what `data` holds). */
export interface SignedMessage<T> {
  data: Uint8Array;
  signature: Uint8Array;
}

export interface Messages {
  InitMessage: InitMessage;
  RoutingEnvelope: RoutingEnvelope;
  RouteUpdateMessage: RouteUpdateMessage;
  RouteSeqnoRequest: RouteSeqnoRequest;
  RequestRoutesMessage: RequestRoutesMessage;
  HelloRequest: HelloRequest;
  BlockMessage: BlockMessage;
  ConfirmMessage: ConfirmMessage;
  RequestVoteRequest: RequestVoteRequest;
  RequestVoteResponse: RequestVoteResponse;
  PrepareMessage: PrepareMessage;
  CommitMessage: CommitMessage;
  ViewChangeMessage: ViewChangeMessage;
  RequestViewMessage: RequestViewMessage;
  BlockHeaderMessage: BlockHeaderMessage;
}
export type MessageName = keyof Messages;
export type SignedMessageName = (typeof SIGNED_MESSAGE_NAMES)[number];
export type UnsignedMessageName = Exclude<MessageName, SignedMessageName>;
export type SignedKind = `SignedMessage<${SignedMessageName}>`;
/** A message kind as psibase names the C++ type: `PrepareMessage`, `SignedMessage<PrepareMessage>` … */
export type MessageKind = MessageName | SignedKind;
export type KindValue<K extends MessageKind> = K extends MessageName
  ? Messages[K]
  : K extends `SignedMessage<${infer M extends SignedMessageName}>`
    ? SignedMessage<Messages[M]>
    : never;

/** Any message with its kind, as `encodeMessage` takes it. */
export type AnyMessage = { [K in MessageKind]: { kind: K; value: KindValue<K> } }[MessageKind];

/** A message as it travels between peers: signed kinds arrive as SignedMessage<T>, with T decoded. */
export type WireMessage =
  | { [K in UnsignedMessageName]: { kind: K; value: Messages[K] } }[UnsignedMessageName]
  | { [K in SignedMessageName]: { kind: `SignedMessage<${K}>`; value: SignedMessage<Messages[K]>; message: Messages[K] } }[SignedMessageName];

/** The type byte of each message (the `static constexpr unsigned type` of each struct). */
export const MESSAGE_TYPES: Readonly<Record<MessageName, number>> = Object.freeze({
  InitMessage: 1,
  RoutingEnvelope: 3,
  RouteUpdateMessage: 4,
  RouteSeqnoRequest: 5,
  RequestRoutesMessage: 6,
  HelloRequest: 32,
  BlockMessage: 34,
  ConfirmMessage: 35,
  RequestVoteRequest: 36,
  RequestVoteResponse: 37,
  PrepareMessage: 38,
  CommitMessage: 39,
  ViewChangeMessage: 40,
  RequestViewMessage: 41,
  BlockHeaderMessage: 44,
});

const signedNames: ReadonlySet<string> = new Set(SIGNED_MESSAGE_NAMES);
const byTypeByte = new Map<number, MessageName>(Object.entries(MESSAGE_TYPES).map(([k, v]) => [v, k as MessageName]));

export function isSignedMessageName(name: string): name is SignedMessageName {
  return signedNames.has(name);
}

/** Splits a kind into its message name and whether it is the SignedMessage<…> wrapper. */
export function parseKind(kind: string): { name: MessageName; signed: boolean } | undefined {
  const m = /^SignedMessage<(\w+)>$/.exec(kind);
  if (m) return isSignedMessageName(m[1]!) ? { name: m[1]!, signed: true } : undefined;
  return Object.hasOwn(MESSAGE_TYPES, kind) ? { name: kind as MessageName, signed: false } : undefined;
}

// ---------------------------------------------------------------------------------------
// Codecs

const native = new FracSchema(
  {
    ...netSchema,
    // SignedMessage<T> with `data` as plain bytes: the wire decoder checks them once, by
    // decoding T from them strictly (what psio's shared_view_ptr check amounts to: T
    // unpacks and uses every byte), instead of once for the wrapper and again for T.
    ...Object.fromEntries(SIGNED_MESSAGE_NAMES.map((n) => [`@SignedRaw<${n}>`, { Struct: { data: 'hex', signature: 'hex' } }])),
  },
  { mode: 'native' },
);
const json = new FracSchema(netSchema);

/** Names of the non-message types with codecs here (no type byte). */
export type WirePayloadName = 'BlockConfirm' | 'ProducerConfirm' | 'ExtendedBlockId';
const payloadNames: ReadonlySet<string> = new Set(['BlockConfirm', 'ProducerConfirm', 'ExtendedBlockId']);
interface Payloads {
  BlockConfirm: BlockConfirm;
  ProducerConfirm: ProducerConfirm;
  ExtendedBlockId: ExtendedBlockId;
}

function checkedKind(kind: unknown): { name: MessageName; signed: boolean } {
  const k = typeof kind === 'string' ? parseKind(kind) : undefined;
  if (!k) throw new MessageEncodeError(`p2p: unknown message kind ${JSON.stringify(kind)}`);
  return k;
}

function classify(e: unknown, what: string): MessageDecodeError {
  if (e instanceof MessageDecodeError) return e;
  const text = e instanceof Error ? e.message : String(e);
  const reason = / need \d+ bytes, have \d+/.test(text) ? 'truncated' : /unused trailing bytes/.test(text) ? 'trailing' : 'malformed';
  return new MessageDecodeError(reason, `p2p: ${what}: ${text}`, { cause: e });
}

function encodeWith(t: FracType, typeByte: number, value: unknown, what: string): Uint8Array {
  let body: Uint8Array;
  try {
    body = t.encode(value);
  } catch (e) {
    if (e instanceof EncodeError) throw new MessageEncodeError(`p2p: ${what}: ${e.message}`, { cause: e });
    throw e;
  }
  const out = new Uint8Array(body.length + 1);
  out[0] = typeByte;
  out.set(body, 1);
  return out;
}

/** The message's bytes on the wire: its type byte, then its fracpack. */
export function encodeMessage(msg: AnyMessage): Uint8Array {
  if (typeof msg !== 'object' || msg === null) throw new MessageEncodeError('p2p: expected {kind, value}');
  const { name } = checkedKind(msg.kind);
  return encodeWith(native.type(msg.kind), MESSAGE_TYPES[name], msg.value, msg.kind);
}

function typeByteOf(bytes: Uint8Array): MessageName {
  if (!(bytes instanceof Uint8Array)) throw new MessageDecodeError('malformed', 'p2p: expected bytes');
  if (bytes.length === 0) throw new MessageDecodeError('empty', 'p2p: empty message (no type byte)');
  const name = byTypeByte.get(bytes[0]!);
  if (name === undefined) throw new UnknownMessageTypeError(bytes[0]!);
  return name;
}

function decodeBody(t: FracType, bytes: Uint8Array, what: string): unknown {
  try {
    // Compatible decoding, as psio::from_frac: unknown trailing fields of extensible
    // structs are accepted, leftover bytes after the message are not.
    return t.decode(bytes.subarray(1));
  } catch (e) {
    throw classify(e, what);
  }
}

/**
 * Decode a message as psinode receives it: by its type byte, signed kinds as
 * SignedMessage<T> (with `message`, the decoded T). Every failure is a MessageDecodeError.
 */
export function decodeMessage(bytes: Uint8Array): WireMessage {
  const name = typeByteOf(bytes);
  if (!signedNames.has(name)) return { kind: name, value: decodeBody(native.type(name), bytes, name) } as WireMessage;
  const kind = `SignedMessage<${name}>`;
  const value = decodeBody(native.type(`@SignedRaw<${name}>`), bytes, kind) as SignedMessage<unknown>;
  let message: unknown;
  try {
    message = native.type(name).decode(value.data);
  } catch (e) {
    // the framing was fine: what is inside `data` is not a valid T
    const inner = classify(e, `${kind} data`);
    throw inner.reason === 'malformed' ? inner : new MessageDecodeError('malformed', inner.message, { cause: e });
  }
  return { kind, value, message } as WireMessage;
}

/** Decode bytes as one given kind (e.g. the unsigned form of a signed message, its signing preimage). */
/** Consensus messages psibase forwards in envelopes (those with a validate_message): Confirm … RequestView. */
export const ROUTED_TYPES: ReadonlySet<number> = new Set([35, 36, 37, 38, 39, 40, 41]);

/** Whether `bytes` decode as a psibase peer message (a routed payload is checked so before it is forwarded). */
export function decodesAsMessage(bytes: Uint8Array): boolean {
  try {
    decodeMessage(bytes);
    return true;
  } catch {
    return false;
  }
}

/** psinode's routing messages (shortest_path_routing.hpp), which the routing state machine takes. */
export function isRoutingKind(kind: string): boolean {
  return kind === 'RouteUpdateMessage' || kind === 'RouteSeqnoRequest' || kind === 'RequestRoutesMessage' || kind === 'RoutingEnvelope';
}

export function decodeMessageAs<K extends MessageKind>(kind: K, bytes: Uint8Array): KindValue<K> {
  const k = parseKind(kind);
  if (!k) throw new MessageDecodeError('unknown-type', `p2p: unknown message kind ${JSON.stringify(kind)}`);
  const name = typeByteOf(bytes);
  if (name !== k.name)
    throw new MessageDecodeError('wrong-type', `p2p: type byte ${bytes[0]} is ${name}, not ${kind}`, { details: { typeByte: bytes[0] } });
  return decodeBody(native.type(kind), bytes, kind) as KindValue<K>;
}

// ---------------------------------------------------------------------------------------
// JSON

/** psibase's JSON form of a native message value (as psio::convert_to_json writes it). */
export function messageToJson<K extends MessageKind>(kind: K, value: KindValue<K>): unknown {
  checkedKind(kind);
  return convert(native.type(kind), json.type(kind), value, kind);
}

/** A native message value from psibase's JSON form; bad JSON is a MessageEncodeError. */
export function messageFromJson<K extends MessageKind>(kind: K, value: unknown): KindValue<K> {
  checkedKind(kind);
  return convert(json.type(kind), native.type(kind), value, kind) as KindValue<K>;
}

function convert(from: FracType, to: FracType, value: unknown, what: string): unknown {
  try {
    return to.decode(from.encode(value));
  } catch (e) {
    if (e instanceof PsiwebError) throw new MessageEncodeError(`p2p: ${what}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Fracpack codecs (no type byte) of the types messages carry: BlockConfirm, ProducerConfirm, ExtendedBlockId. */
export function packPayload<K extends WirePayloadName>(name: K, value: Payloads[K]): Uint8Array {
  if (!payloadNames.has(name)) throw new MessageEncodeError(`p2p: unknown payload type ${JSON.stringify(name)}`);
  try {
    return native.type(name).encode(value);
  } catch (e) {
    if (e instanceof EncodeError) throw new MessageEncodeError(`p2p: ${name}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function unpackPayload<K extends WirePayloadName>(name: K, bytes: Uint8Array): Payloads[K] {
  if (!payloadNames.has(name)) throw new MessageDecodeError('unknown-type', `p2p: unknown payload type ${JSON.stringify(name)}`);
  try {
    return native.type(name).decode(bytes) as Payloads[K];
  } catch (e) {
    throw classify(e, name);
  }
}

export function payloadToJson<K extends WirePayloadName>(name: K, value: Payloads[K]): unknown {
  if (!payloadNames.has(name)) throw new MessageEncodeError(`p2p: unknown payload type ${JSON.stringify(name)}`);
  return convert(native.type(name), json.type(name), value, name);
}

export function payloadFromJson<K extends WirePayloadName>(name: K, value: unknown): Payloads[K] {
  if (!payloadNames.has(name)) throw new MessageEncodeError(`p2p: unknown payload type ${JSON.stringify(name)}`);
  return convert(json.type(name), native.type(name), value, name) as Payloads[K];
}

export const packBlockConfirm = (v: BlockConfirm): Uint8Array => packPayload('BlockConfirm', v);
export const unpackBlockConfirm = (b: Uint8Array): BlockConfirm => unpackPayload('BlockConfirm', b);

/** The SignedBlock a BlockMessage or BlockHeaderMessage carries. */
export function blockOf(msg: BlockMessage | BlockHeaderMessage): SignedBlock {
  return unpackSignedBlock(msg.block);
}

/** The BlockConfirm in a BFT block's auxConsensusData, or null if it has none. */
export function blockConfirmOf(block: SignedBlock): BlockConfirm | null {
  return block.auxConsensusData ? unpackBlockConfirm(block.auxConsensusData) : null;
}

// ---------------------------------------------------------------------------------------
// Signing
//
// What psibase signs: message_serializer.hpp sign_message calls
// `chain().sign(serialize_unsigned_message(msg), msg.signer)`, and
// serialize_unsigned_message writes `Msg::type` as one byte and then `psio::to_frac(msg)`.
// So the preimage is exactly the unsigned message's wire bytes: encodeMessage({kind: name,
// value: msg}). The receiver (routing_base.hpp verify_signature) rebuilds it from what
// arrived, `T::type` followed by `msg.data` (the packed T as received, not re-packed),
// and verifies against the claim in `data->signer()`; `signedPreimage` does the same.
// Message type 0 is reserved so these preimages never collide with block signatures.

/** The bytes psibase signs for a message: its type byte and its fracpack. */
export function signingPreimage<K extends SignedMessageName>(name: K, msg: Messages[K]): Uint8Array {
  if (!isSignedMessageName(name)) throw new MessageEncodeError(`p2p: ${JSON.stringify(name)} is not a signed message`);
  return encodeMessage({ kind: name, value: msg } as AnyMessage);
}

/** The bytes a receiver verifies a SignedMessage<T>'s signature over: T's type byte, then `data`. */
export function signedPreimage(name: SignedMessageName, signed: SignedMessage<unknown>): Uint8Array {
  if (!isSignedMessageName(name)) throw new MessageEncodeError(`p2p: ${JSON.stringify(name)} is not a signed message`);
  const out = new Uint8Array(signed.data.length + 1);
  out[0] = MESSAGE_TYPES[name];
  out.set(signed.data, 1);
  return out;
}

/** Pack `msg` as SignedMessage<T> with a signature made over its preimage by the signer's claim. */
export async function signMessage<K extends SignedMessageName>(
  name: K,
  msg: Messages[K],
  sign: (preimage: Uint8Array, claim: Claim) => Uint8Array | Promise<Uint8Array>,
): Promise<SignedMessage<Messages[K]>> {
  const preimage = signingPreimage(name, msg);
  const signature = await sign(preimage, msg.signer);
  return { data: preimage.slice(1), signature };
}

/** The message inside a SignedMessage<T>, decoded (checked as the wire decoder checks it). */
export function openSignedMessage<K extends SignedMessageName>(name: K, signed: SignedMessage<Messages[K]>): Messages[K] {
  if (!isSignedMessageName(name)) throw new MessageDecodeError('unknown-type', `p2p: ${JSON.stringify(name)} is not a signed message`);
  try {
    return native.type(name).decode(signed.data) as Messages[K];
  } catch (e) {
    throw classify(e, name);
  }
}

/**
 * psibase's protocol types in native form (u64 names as bigint, bytes as Uint8Array,
 * absent optionals as null) with their fracpack codecs, compiled once from
 * `protocolSchema`. JSON conversion uses psibase's JSON form (names as strings,
 * bytes as hex, times as ISO 8601).
 */
import { FracSchema, toHex as hexUpper, type FracType } from './fracpack/index.ts';
import { protocolSchema } from './schema.ts';
import { accountName, methodName } from './names.ts';

export { protocolSchema } from './schema.ts';

export interface Action {
  sender: bigint;
  service: bigint;
  method: bigint;
  rawData: Uint8Array;
}

export interface Claim {
  service: bigint;
  rawData: Uint8Array;
}

export interface Tapos {
  /** Seconds since the UNIX epoch. */
  expiration: bigint;
  refBlockSuffix: number;
  flags: number;
  refBlockIndex: number;
}

export interface Transaction {
  tapos: Tapos;
  actions: Action[];
  claims: Claim[];
}

export interface SignedTransaction {
  /** The packed Transaction exactly as signed; its sha256 is the transaction id. */
  transaction: Uint8Array;
  proofs: Uint8Array[];
  subjectiveData?: Uint8Array[] | null;
}

export interface BlockHeaderAuthAccount {
  codeNum: bigint;
  codeHash: Uint8Array;
  vmType: number;
  vmVersion: number;
}

export interface VMOptions {
  max_mutable_global_bytes: number;
  max_pages: number;
  max_table_elements: number;
  max_stack_bytes: number;
}

export interface BlockHeaderWasmConfig {
  numExecutionMemories: number;
  vmOptions: VMOptions;
}

export interface Producer {
  name: bigint;
  auth: Claim;
}

export interface CftConsensus {
  producers: Producer[];
}
export interface BftConsensus {
  producers: Producer[];
}
export type ConsensusData = { CftConsensus: CftConsensus } | { BftConsensus: BftConsensus };

export interface Consensus {
  data: ConsensusData;
  services: BlockHeaderAuthAccount[];
  wasmConfig: BlockHeaderWasmConfig;
}

export interface BlockHeaderCode {
  vmType: number;
  vmVersion: number;
  code: Uint8Array;
}

export interface PendingConsensus {
  consensus: Consensus;
  blockNum: number;
}

export interface JointConsensus {
  current: Consensus;
  next?: PendingConsensus | null;
}

export interface BlockHeader {
  previous: Uint8Array;
  blockNum: number;
  /** Microseconds since the UNIX epoch. */
  time: bigint;
  producer: bigint;
  term: number;
  commitNum: number;
  consensusState: Uint8Array;
  trxMerkleRoot: Uint8Array;
  eventMerkleRoot: Uint8Array;
  newConsensus?: Consensus | null;
  authCode?: BlockHeaderCode[] | null;
}

export interface Block {
  header: BlockHeader;
  transactions: SignedTransaction[];
}

export interface SignedBlock {
  block: Block;
  signature: Uint8Array;
  auxConsensusData?: Uint8Array | null;
}

export interface TransactionInfo {
  transactionId: Uint8Array;
  signatureHash: Uint8Array;
  subjectiveDataHash: Uint8Array;
}

export interface HttpHeader {
  name: string;
  value: string;
}

export interface HttpRequest {
  host: string;
  method: string;
  target: string;
  contentType: string;
  headers: HttpHeader[];
  body: Uint8Array;
}

export interface HttpReply {
  status: number;
  contentType: string;
  body: Uint8Array;
  headers: HttpHeader[];
}

export interface ActionTrace {
  action: Action;
  rawRetval: Uint8Array;
  innerTraces: InnerTrace[];
  /** Nanoseconds, including inner actions. */
  totalTime: bigint;
  error?: string | null;
}
export interface EventTrace {
  name: string;
  data: Uint8Array;
}
export interface ConsoleTrace {
  console: string;
}
export interface InnerTrace {
  inner: { ConsoleTrace: ConsoleTrace } | { EventTrace: EventTrace } | { ActionTrace: ActionTrace };
}
export interface TransactionTrace {
  actionTraces: ActionTrace[];
  error?: string | null;
}

/** Names of the types in `protocolSchema` that have native interfaces here. */
export type ProtocolTypeName = keyof ProtocolTypes;
interface ProtocolTypes {
  Action: Action;
  Claim: Claim;
  Tapos: Tapos;
  Transaction: Transaction;
  SignedTransaction: SignedTransaction;
  BlockHeaderAuthAccount: BlockHeaderAuthAccount;
  Producer: Producer;
  Consensus: Consensus;
  JointConsensus: JointConsensus;
  BlockHeader: BlockHeader;
  Block: Block;
  SignedBlock: SignedBlock;
  TransactionInfo: TransactionInfo;
  HttpHeader: HttpHeader;
  HttpRequest: HttpRequest;
  HttpReply: HttpReply;
  ActionTrace: ActionTrace;
  InnerTrace: InnerTrace;
  TransactionTrace: TransactionTrace;
}

const native = new FracSchema(
  {
    ...protocolSchema,
    // The same layout as SignedTransaction with the nested Transaction kept as bytes,
    // so openSignedTransaction checks and decodes the inner bytes only once.
    '@SignedTransactionOuter': {
      Object: { transaction: 'hex', proofs: { List: 'hex' }, subjectiveData: { Option: { List: 'hex' } } },
    },
  },
  { mode: 'native' },
);
const json = new FracSchema(protocolSchema);

/** Native fracpack codec of a protocol type. */
export function protocolType(name: ProtocolTypeName): FracType {
  return native.type(name);
}

export function packProtocol<K extends ProtocolTypeName>(name: K, value: ProtocolTypes[K]): Uint8Array {
  return native.type(name).encode(value);
}

export function unpackProtocol<K extends ProtocolTypeName>(name: K, bytes: Uint8Array): ProtocolTypes[K] {
  return native.type(name).decode(bytes) as ProtocolTypes[K];
}

/** psibase's JSON form of a native value. */
export function toJson<K extends ProtocolTypeName>(name: K, value: ProtocolTypes[K]): unknown {
  return json.type(name).decode(native.type(name).encode(value));
}

/** A native value from psibase's JSON form; bad JSON is an EncodeError. */
export function fromJson<K extends ProtocolTypeName>(name: K, value: unknown): ProtocolTypes[K] {
  return native.type(name).decode(json.type(name).encode(value)) as ProtocolTypes[K];
}

const codec = <K extends ProtocolTypeName>(name: K) => {
  const t = native.type(name);
  return [(v: ProtocolTypes[K]) => t.encode(v), (b: Uint8Array) => t.decode(b) as ProtocolTypes[K]] as const;
};

export const [packAction, unpackAction] = codec('Action');
export const [packClaim, unpackClaim] = codec('Claim');
export const [packTapos, unpackTapos] = codec('Tapos');
export const [packTransaction, unpackTransaction] = codec('Transaction');
export const [packSignedTransaction, unpackSignedTransaction] = codec('SignedTransaction');
export const [packBlockHeader, unpackBlockHeader] = codec('BlockHeader');
export const [packConsensus, unpackConsensus] = codec('Consensus');
export const [packJointConsensus, unpackJointConsensus] = codec('JointConsensus');
export const [packProducer, unpackProducer] = codec('Producer');
export const [packBlock, unpackBlock] = codec('Block');
export const [packSignedBlock, unpackSignedBlock] = codec('SignedBlock');
export const [packTransactionInfo, unpackTransactionInfo] = codec('TransactionInfo');
export const [packHttpRequest, unpackHttpRequest] = codec('HttpRequest');
export const [packHttpReply, unpackHttpReply] = codec('HttpReply');
export const [packActionTrace, unpackActionTrace] = codec('ActionTrace');
export const [packTransactionTrace, unpackTransactionTrace] = codec('TransactionTrace');

const outer = native.type('@SignedTransactionOuter');
const transactionType = native.type('Transaction');

/** Decode a SignedTransaction and its inner Transaction in one pass over the bytes. */
export function openSignedTransaction(bytes: Uint8Array): { signed: SignedTransaction; transaction: Transaction } {
  const signed = outer.decode(bytes) as SignedTransaction;
  return { signed, transaction: transactionType.decode(signed.transaction) as Transaction };
}

function actionTraceJson(t: ActionTrace): unknown {
  const a = t.action;
  return {
    action: { sender: accountName(a.sender), service: accountName(a.service), method: methodName(a.method), rawData: hexUpper(a.rawData) },
    rawRetval: hexUpper(t.rawRetval),
    innerTraces: t.innerTraces.map(({ inner }) => ({
      inner:
        'ActionTrace' in inner
          ? { ActionTrace: actionTraceJson(inner.ActionTrace) }
          : 'EventTrace' in inner
            ? { EventTrace: { name: inner.EventTrace.name, data: hexUpper(inner.EventTrace.data) } }
            : { ConsoleTrace: { console: inner.ConsoleTrace.console } },
    })),
    totalTime: String(BigInt.asIntN(64, t.totalTime)),
    error: t.error ?? null,
  };
}

/**
 * A TransactionTrace in psibase's JSON form: exactly `toJson('TransactionTrace', trace)`
 * (a test holds them equal), written directly instead of through fracpack and back,
 * since every pushed transaction's answer is one.
 */
export function transactionTraceJson(trace: TransactionTrace): unknown {
  return { actionTraces: trace.actionTraces.map(actionTraceJson), error: trace.error ?? null };
}

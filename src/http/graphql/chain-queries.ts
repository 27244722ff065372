/**
 * The GraphQL queries psiweb answers for psibase's system services, over chain state
 * at one block:
 *  - `producers.<root>/graphql` (psibase's RProducers ProducerQuery): `producers`,
 *    `nextProducers`, `jointStart`, from the status row's consensus.
 *  - `accounts.<root>/graphql` (psibase's RAccounts AccountsQuery): `getAccount`,
 *    `getAccounts`, from the accounts service's Account table (table 1, keyed by the
 *    account number, as psibase's Table lays it out and services/accounts keeps it).
 *  - `transact.<root>/graphql` (psibase's RTransact TransactQuery): `snapshotInfo`,
 *    always null: psiweb's transact keeps no snapshot schedule.
 *  - `tokens.<root>/graphql` (psibase's Tokens query service): tokens-queries.ts.
 *  - `explorer.<root>/graphql` (psibase's Explorer Query): `blocks`, a connection over
 *    the block log (DbId::blockLog, keyed by the big-endian block number), each node a
 *    Block `{ header { blockNum previous time producer … } transactions { … } }`.
 * Values are psibase's JSON: account names as strings, times as ISO 8601, bytes as
 * upper-case hex, u32 as numbers (GraphQL Float, as psio maps them), u8/u16 as Int.
 *
 * A request reads the committed head's state: the status row first, then the block
 * log. When a block commits while the query runs (the head changes), the query is run
 * again on the new head, so an answer never mixes two blocks.
 */
import { NativeTables, statusKey, type StatusRow } from '../../chain/native-tables.ts';
import { producersOf } from '../../chain/block-context.ts';
import { FracSchema, toHex } from '../../protocol/fracpack/index.ts';
import { accountName, accountNumber } from '../../protocol/names.ts';
import { protocolSchema, type ConsensusData, type Producer } from '../../protocol/types.ts';
import type { KvReader, StateDb } from '../../state/index.ts';
import { findMiss } from '../../state/retry.ts';
import { bytesEqual } from '../../state/bytes.ts';
import { DbId, dbKey } from '../../vm/dbs.ts';
import { DEFAULT_MAX_PAGE, connectionArgs, connectionType, connectionField, kvIndex, makeConnection, type ConnectionArgs, type KeyedIndex, type OrderedIndex } from './connection.ts';
import { GraphqlError } from './errors.ts';
import { tableIndexPrefix } from './tables.ts';
import { TOKENS, TOKENS_GRAPHQL } from './tokens-queries.ts';
import { execute, type ExecutionLimits } from './execute.ts';
import type { GraphqlRunner } from './serve.ts';
import { buildSchema } from './introspection.ts';
import { GraphqlFloat, GraphqlInt, GraphqlString, list, nonNull, variantUnion, type FieldDef, type ObjectType, type ScalarType, type Schema, type TypeRef } from './schema.ts';

const jsonSchema = new FracSchema(protocolSchema, { mode: 'json' });
const BLOCK_LOG_PREFIX = dbKey(DbId.blockLog, new Uint8Array(0));

/** The status row's key in chain state. */
const STATUS_STATE_KEY = dbKey(DbId.native, statusKey());

/**
 * The last status row decoded, with its bytes: every request reads the row (twice: at
 * the start and to check the head did not move), and it changes once a block, so
 * decoding it each time is wasted work. The decoded row is shared: nothing may change it.
 */
let lastStatus: { raw: Uint8Array; row: StatusRow } | undefined;

function statusOf(raw: Uint8Array | undefined): StatusRow | undefined {
  if (!raw) return undefined;
  if (lastStatus && bytesEqual(lastStatus.raw, raw)) return lastStatus.row;
  // NativeTables decodes it as the chain does, over a reader holding only this row.
  const row = new NativeTables({ get: (key: Uint8Array) => (bytesEqual(key, STATUS_STATE_KEY) ? raw : undefined) } as KvReader).status()!;
  lastStatus = { raw, row };
  return row;
}

/** What the queries read: chain state at the head when the request began. */
export class ChainSnapshot {
  private constructor(
    private readonly state: StateDb,
    /** The status row's bytes (a copy: a store may reuse the buffer it read into). */
    private readonly statusRaw: Uint8Array | undefined,
  ) {}

  #status: StatusRow | undefined | null = null;

  /** The status row at the snapshot's head (decoded on first use). */
  get status(): StatusRow | undefined {
    if (this.#status === null) this.#status = statusOf(this.statusRaw);
    return this.#status;
  }

  /** The store the snapshot reads (an identity for per-store caches). */
  get store(): object {
    return this.state;
  }

  static async open(state: StateDb): Promise<ChainSnapshot> {
    const raw = await readNow(state, (r) => r.get(STATUS_STATE_KEY)?.slice());
    return new ChainSnapshot(state, raw);
  }

  /** Synchronous reads of committed state (retried over IndexedDB's range cache). */
  read<T>(f: (reader: KvReader) => T): Promise<T> {
    return this.state.run(() => f(this.state.reader));
  }

  /**
   * The same, answered at once when the reads hit (over IndexedDB: the range cache holds
   * them), so a resolver need not wait a turn for data already in memory.
   */
  readNow<T>(f: (reader: KvReader) => T): T | Promise<T> {
    return readNow(this.state, f);
  }

  /** Whether the head is still the block this snapshot began at (the status row, which every block changes, is unchanged). */
  async current(): Promise<boolean> {
    const now = await readNow(this.state, (r) => r.get(STATUS_STATE_KEY));
    if (!now || !this.statusRaw) return now === this.statusRaw;
    return bytesEqual(now, this.statusRaw);
  }
}

/** `f` over `state`'s reader, at once when nothing misses, else loaded and run again (StateDb.run). */
function readNow<T>(state: StateDb, f: (reader: KvReader) => T): T | Promise<T> {
  if (!state.cache) return f(state.reader);
  try {
    return f(state.reader);
  } catch (e) {
    if (findMiss(e)) return state.run(() => f(state.reader));
    throw e;
  }
}

// ---- service tables ----

export { tableIndexPrefix } from './tables.ts';

export interface TableIndexRef {
  service: bigint;
  table: number;
  /** 0 (the primary index) unless given. */
  index?: number;
}

/**
 * A connection field over a service table's index at the snapshot (psibase's
 * makeConnection over a TableIndex): `decode` turns a row's packed bytes into the
 * node. A page is read and decoded in one StateDb.run, so it is one block's, also over
 * IndexedDB; rows of a secondary index are found through their primary key.
 */
export function tableConnectionField<Key>(
  node: ObjectType<any>,
  key: ScalarType,
  keyBytes: (k: Key) => Uint8Array,
  where: TableIndexRef,
  decode: (row: Uint8Array) => unknown,
  description?: string,
  maxPage = DEFAULT_MAX_PAGE,
): FieldDef<ChainSnapshot> {
  const prefix = tableIndexPrefix(where.service, where.table, where.index ?? 0);
  const primary = tableIndexPrefix(where.service, where.table, 0).subarray(0, -1);
  return {
    type: nonNull(connectionType(node)),
    args: connectionArgs(key),
    ...(description !== undefined && { description }),
    resolve: (_parent, args, snap) =>
      snap.read((r) => {
        const rowOf = (value: Uint8Array) => {
          if (!where.index) return value;
          const row = r.get(concatBytes(primary, value));
          if (!row) throw new GraphqlError(`a secondary index entry of table ${where.table} points at no row`);
          return row;
        };
        const c = makeConnection(kvIndex(r, prefix, rowOf), args as ConnectionArgs<Key>, keyBytes, maxPage);
        // Every row is read here, inside this run: nothing of the page is read later.
        const edges = c.edges.map((e) => {
          const value = decode(e.node() as Uint8Array);
          return { cursor: e.cursor, node: () => value };
        });
        return { edges, pageInfo: c.pageInfo };
      }),
  };
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** An account name (a String argument) as the u64 key psibase's tables sort it by. */
export function accountKeyBytes(name: string): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, accountArg(name));
  return k;
}

// ---- types ----

const obj = (name: string, fields: Record<string, TypeRef>): ObjectType => ({
  kind: 'OBJECT',
  name,
  fields: () => Object.fromEntries(Object.entries(fields).map(([k, type]) => [k, { type }])),
});

const S = nonNull(GraphqlString);
const F = nonNull(GraphqlFloat);
const I = nonNull(GraphqlInt);

// ---- producers ----

const ClaimType = obj('Claim', { service: S, rawData: S });
const ProducerType = obj('Producer', { name: S, auth: nonNull(ClaimType) });

const producerJson = (p: Producer) => ({ name: accountName(p.name), auth: { service: accountName(p.auth.service), rawData: toHex(p.auth.rawData) } });

const CftConsensusType = obj('CftConsensus', { producers: nonNull(list(nonNull(ProducerType))) });
const BftConsensusType = obj('BftConsensus', { producers: nonNull(list(nonNull(ProducerType))) });
/** psibase's ConsensusData (std::variant<CftConsensus, BftConsensus>). */
const ConsensusDataType = variantUnion('ConsensusData', [CftConsensusType, BftConsensusType]);
const BlockHeaderAuthAccountType = obj('BlockHeaderAuthAccount', { codeNum: S, codeHash: S, vmType: I, vmVersion: I });
const VMOptionsType = obj('VMOptions', { max_mutable_global_bytes: F, max_pages: F, max_table_elements: F, max_stack_bytes: F });
const WasmConfigType = obj('BlockHeaderWasmConfig', { numExecutionMemories: F, vmOptions: nonNull(VMOptionsType) });
const ConsensusType = obj('Consensus', {
  data: nonNull(ConsensusDataType),
  services: nonNull(list(nonNull(BlockHeaderAuthAccountType))),
  wasmConfig: nonNull(WasmConfigType),
});

/** The status row's ConsensusData in psibase's JSON. */
function consensusDataJson(d: ConsensusData): unknown {
  return 'CftConsensus' in d ? { CftConsensus: { producers: d.CftConsensus.producers.map(producerJson) } } : { BftConsensus: { producers: d.BftConsensus.producers.map(producerJson) } };
}

const ProducerQuery: ObjectType<ChainSnapshot> = {
  kind: 'OBJECT',
  name: 'ProducerQuery',
  fields: () => ({
    producers: {
      type: nonNull(list(nonNull(ProducerType))),
      description: "The current block producers (the status row's consensus)",
      resolve: (_p, _a, snap) => (snap.status ? producersOf(snap.status.consensus.current).map(producerJson) : []),
    },
    nextProducers: {
      type: nonNull(list(nonNull(ProducerType))),
      description: 'The producers being changed to; empty except while the chain changes producers',
      resolve: (_p, _a, snap) => (snap.status?.consensus.next ? producersOf(snap.status.consensus.next.consensus).map(producerJson) : []),
    },
    consensus: {
      type: nonNull(ConsensusDataType),
      description: 'The current consensus algorithm and its producers',
      resolve: (_p, _a, snap) => (snap.status ? consensusDataJson(snap.status.consensus.current.data) : { CftConsensus: { producers: [] } }),
    },
    nextConsensus: {
      type: ConsensusDataType,
      description: 'The consensus being changed to, while a change is under way',
      resolve: (_p, _a, snap) => (snap.status?.consensus.next ? consensusDataJson(snap.status.consensus.next.consensus.data) : null),
    },
    jointStart: {
      type: GraphqlFloat,
      description: 'The block the producer change began at, while one is under way',
      resolve: (_p, _a, snap) => snap.status?.consensus.next?.blockNum ?? null,
    },
  }),
};

// ---- accounts ----

export const ACCOUNTS = accountNumber('accounts');
/** Accounts.hpp: AccountTable is the service's table 1. */
export const ACCOUNT_TABLE = 1;
/** At most this many names per getAccounts. */
export const MAX_ACCOUNT_NAMES = 1000;

export const accountRowSchema = new FracSchema(
  { ...protocolSchema, Account: { Object: { accountNum: 'AccountNumber', authService: 'AccountNumber', authSequence: 'u64' } } },
  { mode: 'json' },
);

/** The Account row's key: service ‖ table (u16) ‖ index 0 ‖ account (all big-endian). */
function accountKey(account: bigint): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, account);
  return concatBytes(tableIndexPrefix(ACCOUNTS, ACCOUNT_TABLE), k);
}

function accountArg(name: string): bigint {
  try {
    return accountNumber(name);
  } catch (e) {
    throw new GraphqlError(`${JSON.stringify(name)} is not an account name`, { cause: e });
  }
}

async function getAccount(snap: ChainSnapshot, name: string): Promise<unknown> {
  const raw = await snap.read((r) => r.get(accountKey(accountArg(name))));
  return raw ? accountRowSchema.type('Account').decode(raw) : null;
}

export const AccountType = obj('Account', { accountNum: S, authService: S, authSequence: S });

const AccountsQuery: ObjectType<ChainSnapshot> = {
  kind: 'OBJECT',
  name: 'AccountsQuery',
  fields: () => ({
    getAccount: {
      type: AccountType,
      args: { accountName: { type: nonNull(GraphqlString) } },
      resolve: (_p, a, snap) => getAccount(snap, a.accountName as string),
    },
    getAccounts: {
      type: nonNull(list(AccountType)),
      args: { accountNames: { type: nonNull(list(nonNull(GraphqlString))) } },
      resolve: async (_p, a, snap) => {
        const names = a.accountNames as string[];
        if (names.length > MAX_ACCOUNT_NAMES) throw new GraphqlError(`getAccounts takes at most ${MAX_ACCOUNT_NAMES} names, got ${names.length}`);
        const out: unknown[] = [];
        for (const n of names) out.push(await getAccount(snap, n));
        return out;
      },
    },
  }),
};

// ---- transact ----

const SnapInfoType = obj('SnapInfo', { lastSnapshot: S, snapshotInterval: F });

const TransactQuery: ObjectType<ChainSnapshot> = {
  kind: 'OBJECT',
  name: 'TransactQuery',
  fields: () => ({
    snapshotInfo: { type: SnapInfoType, description: 'The snapshot schedule; psiweb takes no snapshots, so always null', resolve: () => null },
  }),
};

// ---- explorer ----


const ActionType = obj('Action', { sender: S, service: S, method: S, rawData: S });
const TaposType = obj('Tapos', { expiration: S, refBlockSuffix: F, flags: I, refBlockIndex: I });
const TransactionType = obj('Transaction', { tapos: nonNull(TaposType), actions: nonNull(list(nonNull(ActionType))), claims: nonNull(list(nonNull(ClaimType))) });
const SignedTransactionType = obj('SignedTransaction', { transaction: nonNull(TransactionType), proofs: nonNull(list(S)), subjectiveData: list(S) });
const BlockHeaderCodeType = obj('BlockHeaderCode', { vmType: I, vmVersion: I, code: S });
const BlockHeaderType = obj('BlockHeader', {
  previous: S,
  blockNum: F,
  time: S,
  producer: S,
  term: F,
  commitNum: F,
  consensusState: S,
  trxMerkleRoot: S,
  eventMerkleRoot: S,
  newConsensus: ConsensusType,
  authCode: list(nonNull(BlockHeaderCodeType)),
});
const BlockType = obj('Block', { header: nonNull(BlockHeaderType), transactions: nonNull(list(nonNull(SignedTransactionType))) });

/** A u32 key (block number) as the block log's key bytes; throws for anything else. */
export function u32KeyBytes(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new GraphqlError(`a block number is a whole number from 0 to 4294967295, got ${v}`);
  // Byte by byte: a DataView over a small array makes V8 move it off its heap first.
  const b = new Uint8Array(4);
  b[0] = v >>> 24;
  b[1] = (v >>> 16) & 0xff;
  b[2] = (v >>> 8) & 0xff;
  b[3] = v & 0xff;
  return b;
}

/** A block log key's number (the key within the log: 4 bytes, big-endian), or undefined for another length. */
function logKeyNum(key: Uint8Array): number | undefined {
  if (key.length !== 4) return undefined;
  return ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
}

/**
 * The block log at the snapshot: its blocks are numbered without gaps from the first
 * entry to the last, so a position is a block number, and a key bound is found by
 * arithmetic on its number rather than by a search over key bytes.
 */
async function blockLog(snap: ChainSnapshot): Promise<OrderedIndex<number, unknown>> {
  const range = await snap.readNow((r) => {
    const last = r.max(BLOCK_LOG_PREFIX);
    if (!last) return undefined;
    // The first entry is the genesis block, by far the largest, and reading it copies and
    // checksums all of it: remember its number per store (blocks are only ever added
    // above it; a fork switch rewrites reversible blocks, never the first).
    let first = firstLogBlock.get(snap.store);
    if (first === undefined || first > blockNumOf(last.key)) {
      const entry = r.greaterEqual(BLOCK_LOG_PREFIX, BLOCK_LOG_PREFIX.length);
      if (!entry) return undefined;
      first = blockNumOf(entry.key);
      firstLogBlock.set(snap.store, first);
    }
    return { first, last: blockNumOf(last.key) };
  });
  const firstNum = range?.first ?? 0;
  const size = range ? range.last - range.first + 1 : 0;
  const clampPos = (p: number) => Math.min(Math.max(p, 0), size);
  // Keys are 4 bytes; a bound of another length (a cursor) sorts as bytes do: a shorter
  // key before every key it prefixes, a longer one after the key that prefixes it.
  const bound = (key: Uint8Array, strict: boolean): number => {
    const num = logKeyNum(key);
    if (num !== undefined) return clampPos(num - firstNum + (strict ? 1 : 0));
    const head = new Uint8Array(4);
    head.set(key.subarray(0, 4));
    const n = logKeyNum(head)!;
    // Shorter: the first key >= it (and > it) is the one its zero-padding names.
    // Longer: every key <= its first 4 bytes is smaller, so both bounds start after it.
    return clampPos(n - firstNum + (key.length > 4 ? 1 : 0));
  };
  return {
    begin: () => 0,
    end: () => size,
    lowerBound: (k) => bound(k, false),
    upperBound: (k) => bound(k, true),
    next: (i) => i + 1,
    prev: (i) => i - 1,
    cmp: (a, b) => a - b,
    key: (pos) => u32KeyBytes(firstNum + pos),
    node: (pos) => {
      const num = firstNum + pos;
      const raw = snap.readNow((r) => r.get(dbKey(DbId.blockLog, u32KeyBytes(num))));
      return raw instanceof Promise ? raw.then((b) => blockNode(num, b)) : blockNode(num, raw);
    },
  };
}

function blockNode(num: number, raw: Uint8Array | undefined): unknown {
  if (!raw) throw new GraphqlError(`block ${num} is not in this node's block log`);
  return decodedBlock(num, raw);
}

/** The first block number of each store's block log (the log is never pruned from below). */
const firstLogBlock = new WeakMap<object, number>();

/**
 * Decoded blocks of the log, by number, with the bytes they came from: a page of blocks
 * is asked for again and again (the explorer follows the head), and decoding a block to
 * psibase's JSON costs more than reading it. An entry counts only while the log still
 * holds the same bytes at that number (a fork switch rewrites reversible blocks).
 */
const DECODED_BLOCKS_MAX = 256;
const decodedBlocks = new Map<number, { raw: Uint8Array; json: unknown }>();

function decodedBlock(num: number, raw: Uint8Array): unknown {
  const hit = decodedBlocks.get(num);
  if (hit && bytesEqual(hit.raw, raw)) {
    decodedBlocks.delete(num);
    decodedBlocks.set(num, hit);
    return hit.json;
  }
  const json = jsonSchema.type('Block').decode(raw);
  decodedBlocks.delete(num);
  decodedBlocks.set(num, { raw: raw.slice(), json });
  if (decodedBlocks.size > DECODED_BLOCKS_MAX) decodedBlocks.delete(decodedBlocks.keys().next().value!);
  return json;
}


function blockNumOf(key: Uint8Array): number {
  const k = key.subarray(BLOCK_LOG_PREFIX.length);
  if (k.length !== 4) throw new GraphqlError(`the block log has a malformed key (${toHex(key)})`);
  return new DataView(k.buffer, k.byteOffset, 4).getUint32(0, false);
}

const ExplorerQuery: ObjectType<ChainSnapshot> = {
  kind: 'OBJECT',
  name: 'Query',
  fields: () => ({
    blocks: connectionField<ChainSnapshot, unknown, number>(BlockType, GraphqlFloat, u32KeyBytes, blockLog, 'The block log, keyed by block number'),
  }),
};

/** Each service psiweb answers GraphQL for, by account number. */
export const CHAIN_GRAPHQL: ReadonlyMap<bigint, Schema<ChainSnapshot>> = new Map([
  [accountNumber('producers'), buildSchema(ProducerQuery)],
  [ACCOUNTS, buildSchema(AccountsQuery)],
  [accountNumber('transact'), buildSchema(TransactQuery)],
  [accountNumber('explorer'), buildSchema(ExplorerQuery)],
  [TOKENS, TOKENS_GRAPHQL],
]);

/** How many times a query is run again when a block commits while it runs. */
export const HEAD_ATTEMPTS = 3;

/**
 * Runs each request on a snapshot of `state`'s head; when the head moved on before the
 * answer was complete, runs it again on the new head (at most `attempts` times).
 */
export function chainRunner(schema: Schema<ChainSnapshot>, state: StateDb, attempts = HEAD_ATTEMPTS, limits?: ExecutionLimits): GraphqlRunner {
  return async (request) => {
    for (let i = 0; i < attempts; i++) {
      const snap = await ChainSnapshot.open(state);
      const answer = await execute(schema, request, snap, limits);
      if (await snap.current()) return answer;
    }
    return { errors: [{ message: `the chain's head moved on while this query ran, ${attempts} times over; ask again` }] };
  };
}

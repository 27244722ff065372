/**
 * psibase's native tables (nativeTables.hpp): the rows native code and privileged
 * services share in DbId.native, with psibase's keys and fracpack row formats, and the
 * checks native code applies to every service write there (NativeFunctions.cpp
 * verifyWriteConstrained).
 *
 * Keys are psio::convert_to_key tuples: integers big-endian, checksums as raw bytes.
 * Every native key starts with (u16 table, u8 index = 0).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { FracSchema } from '../protocol/fracpack/index.ts';
import { protocolSchema } from '../protocol/schema.ts';
import type { Action, BlockHeader, Claim, Consensus, JointConsensus } from '../protocol/types.ts';
import { bytesEqual } from '../state/bytes.ts';
import type { KvReader, KvWriter } from '../state/types.ts';
import { DbId, dbKey } from '../vm/dbs.ts';
import { ServiceError } from '../vm/errors.ts';
import { CodeFlags } from '../vm/execution.ts';

export const NativeTable = {
  status: 1,
  code: 2,
  codeByHash: 3,
  transactionWasmConfig: 5,
  proofWasmConfig: 6,
  config: 7,
  notify: 8,
  scheduledSnapshot: 12,
} as const;

/** NotifyType (nativeTables.hpp): which NotifyRow a callback list lives in. */
export const NotifyType = {
  acceptBlock: 0,
  acceptTransaction: 1,
  rejectTransaction: 2,
  nextTransaction: 3,
  preverifyTransaction: 4,
} as const;

export const nativeSchema = new FracSchema(
  {
    ...protocolSchema,
    BlockInfo: { Object: { header: 'BlockHeader', blockId: 'Checksum256' } },
    StatusRow: {
      Object: { chainId: 'Checksum256', current: 'BlockHeader', head: { Option: 'BlockInfo' }, consensus: 'JointConsensus' },
    },
    ConfigRow: { Object: { maxKeySize: 'u32', maxValueSize: 'u32' } },
    // maxHandles is not reflected in psibase, so it is not part of the row.
    WasmConfigRow: { Object: { numExecutionMemories: 'u32', vmOptions: 'VMOptions' } },
    CodeRow: { Object: { codeNum: 'AccountNumber', flags: 'u64', codeHash: 'Checksum256', vmType: 'u8', vmVersion: 'u8' } },
    CodeByHashRow: { Object: { codeHash: 'Checksum256', vmType: 'u8', vmVersion: 'u8', code: 'hex' } },
    NotifyRow: { Object: { type: 'u32', actions: { List: 'Action' } } },
    ScheduledSnapshotRow: { Object: { blockNum: 'u32' } },
    GenesisService: { Object: { service: 'AccountNumber', flags: 'u64', vmType: 'u8', vmVersion: 'u8', code: 'hex' } },
    GenesisActionData: { Object: { memo: 'string', services: { List: 'GenesisService' } } },
    // shared_view_ptr<Transaction> has the wire layout of a byte list.
    ProcessTransactionArgs: { Object: { transaction: 'hex' } },
    VerifyArgs: { Object: { transactionHash: 'Checksum256', claim: 'Claim', proof: 'hex' } },
    '@proofs': { List: 'hex' },
    '@emptyTuple': { Tuple: [] },
  },
  { mode: 'native' },
);

export interface BlockInfo {
  header: BlockHeader;
  blockId: Uint8Array;
}

export interface StatusRow {
  chainId: Uint8Array;
  current: BlockHeader;
  head: BlockInfo | null;
  consensus: JointConsensus;
}

export interface CodeRow {
  codeNum: bigint;
  flags: bigint;
  codeHash: Uint8Array;
  vmType: number;
  vmVersion: number;
}

export interface CodeByHashRow {
  codeHash: Uint8Array;
  vmType: number;
  vmVersion: number;
  code: Uint8Array;
}

export interface WasmConfigRow {
  numExecutionMemories: number;
  vmOptions: { max_mutable_global_bytes: number; max_pages: number; max_table_elements: number; max_stack_bytes: number };
}

export interface NotifyRow {
  type: number;
  actions: Action[];
}

/** One service installed by the genesis action (block.hpp GenesisService). */
export interface GenesisService {
  service: bigint;
  flags: bigint;
  vmType: number;
  vmVersion: number;
  code: Uint8Array;
}

export interface GenesisActionData {
  memo: string;
  services: GenesisService[];
}

export interface VerifyArgs {
  transactionHash: Uint8Array;
  claim: Claim;
  proof: Uint8Array;
}

const type = (name: string) => nativeSchema.type(name);

export const pack = {
  statusRow: (v: StatusRow) => type('StatusRow').encode(v),
  codeRow: (v: CodeRow) => type('CodeRow').encode(v),
  codeByHashRow: (v: CodeByHashRow) => type('CodeByHashRow').encode(v),
  genesisActionData: (v: GenesisActionData) => type('GenesisActionData').encode(v),
  processTransactionArgs: packProcessTransactionArgs,
  verifyArgs: (v: VerifyArgs) => type('VerifyArgs').encode(v),
  proofs: (v: readonly Uint8Array[]) => type('@proofs').encode(v),
  emptyTuple: () => type('@emptyTuple').encode([]),
  jointConsensus: (v: JointConsensus) => type('JointConsensus').encode(v),
};

/**
 * ProcessTransactionArgs, written directly (every transaction packs one): u16 fixed
 * size 4, the u32 offset of `transaction` (0 when empty, else 4), then its u32 length
 * and bytes.
 */
function packProcessTransactionArgs(transaction: Uint8Array): Uint8Array {
  const n = transaction.length;
  const out = new Uint8Array(n === 0 ? 6 : 10 + n);
  out[0] = 4;
  if (n > 0) {
    out[2] = 4;
    out[6] = n & 0xff;
    out[7] = (n >>> 8) & 0xff;
    out[8] = (n >>> 16) & 0xff;
    out[9] = n >>> 24;
    out.set(transaction, 10);
  }
  return out;
}

/** Decodes a row strictly (psio::fracpack_validate_strict: no unknown fields). */
export function decodeStrict<T>(name: string, bytes: Uint8Array): T {
  const { value, hasUnknown } = type(name).decodeWithInfo(bytes);
  if (hasUnknown) throw new ServiceError(`${name} has unknown fields`);
  return value as T;
}

// Keys are built byte by byte: they are small enough to live on V8's heap, and a
// DataView over one would make V8 move it off the heap first (codeKey is built for
// every service every transaction runs).
const scratch = new DataView(new ArrayBuffer(8));

function putU32BE(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function prefix(table: number, extra: number): { key: Uint8Array } {
  const key = new Uint8Array(3 + extra);
  key[0] = table >>> 8;
  key[1] = table & 0xff;
  return { key };
}

// Singleton rows' keys never change; stores do not mutate the keys they are given.
const STATUS_KEY = prefix(NativeTable.status, 0).key;
const CONFIG_KEY = prefix(NativeTable.config, 0).key;
const WASM_CONFIG_KEYS = {
  [NativeTable.transactionWasmConfig]: prefix(NativeTable.transactionWasmConfig, 0).key,
  [NativeTable.proofWasmConfig]: prefix(NativeTable.proofWasmConfig, 0).key,
};
const STORED_STATUS_KEY = dbKey(DbId.native, STATUS_KEY);

export function statusKey(): Uint8Array {
  return STATUS_KEY;
}

export function configKey(): Uint8Array {
  return CONFIG_KEY;
}

export function wasmConfigKey(table: typeof NativeTable.transactionWasmConfig | typeof NativeTable.proofWasmConfig): Uint8Array {
  return WASM_CONFIG_KEYS[table];
}

export function codeKey(account: bigint): Uint8Array {
  const { key } = prefix(NativeTable.code, 8);
  scratch.setBigUint64(0, account, false);
  for (let i = 0; i < 8; i++) key[3 + i] = scratch.getUint8(i);
  return key;
}

export function codeByHashKey(codeHash: Uint8Array, vmType: number, vmVersion: number): Uint8Array {
  const { key } = prefix(NativeTable.codeByHash, 34);
  key.set(codeHash, 3);
  key[35] = vmType;
  key[36] = vmVersion;
  return key;
}

export function notifyKey(type: number): Uint8Array {
  const { key } = prefix(NativeTable.notify, 4);
  putU32BE(key, 3, type);
  return key;
}

/** The block log's key (db.kvPut(DbId::blockLog, blockNum, block)): the big-endian number. */
export function blockLogKey(blockNum: number): Uint8Array {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, blockNum, false);
  return key;
}

/**
 * Status rows by the bytes object they were written as or read from (overlays return
 * the object put): each entry is a copy no caller sees, so a read returns a copy of it.
 * Stored values are never changed in place (an overlay or store keeps what it was given).
 */
const statusOfBytes = new WeakMap<Uint8Array, StatusRow>();

/** A copy of a status row that its holder may change as BlockContext does (fields reassigned, the pending consensus edited). */
function cloneStatus(s: StatusRow): StatusRow {
  const next = s.consensus.next;
  return {
    chainId: s.chainId,
    current: { ...s.current },
    head: s.head && { header: { ...s.head.header }, blockId: s.head.blockId },
    consensus: {
      current: cloneConsensus(s.consensus.current),
      next: next && { blockNum: next.blockNum, consensus: cloneConsensus(next.consensus) },
    },
  };
}

function cloneConsensus(c: Consensus): Consensus {
  const data = 'CftConsensus' in c.data ? { CftConsensus: { producers: [...c.data.CftConsensus.producers] } } : { BftConsensus: { producers: [...c.data.BftConsensus.producers] } };
  return { data, services: [...c.services], wasmConfig: structuredCloneConfig(c.wasmConfig) };
}

function structuredCloneConfig<T extends { vmOptions: object }>(w: T): T {
  return { ...w, vmOptions: { ...w.vmOptions } };
}

/** The last proof / transaction WasmConfigRow decoded, by its bytes. */
const lastWasmConfig: Record<number, { raw: Uint8Array; row: WasmConfigRow } | undefined> = {};

/** Typed reads and writes of the native tables over chain state (DbId-prefixed keys). */
export class NativeTables {
  constructor(private readonly state: KvReader) {}

  private get(key: Uint8Array): Uint8Array | undefined {
    return this.state.get(dbKey(DbId.native, key));
  }

  status(): StatusRow | undefined {
    const raw = this.state.get(STORED_STATUS_KEY);
    if (!raw) return undefined;
    // The row a block wrote (putStatus) comes back as the same bytes object from the
    // overlays over the state: the row it was encoded from, not decoded again.
    const known = statusOfBytes.get(raw);
    if (known) return cloneStatus(known);
    const row = type('StatusRow').decode(raw) as StatusRow;
    statusOfBytes.set(raw, cloneStatus(row));
    return row;
  }

  /** Writes the status row (packed `packed`, the encoding of `status`), remembered by its bytes so a read of them need not decode. */
  static putStatus(state: KvWriter, status: StatusRow, packed: Uint8Array): void {
    statusOfBytes.set(packed, cloneStatus(status));
    state.put(STORED_STATUS_KEY, packed);
  }

  code(account: bigint): CodeRow | undefined {
    const raw = this.get(codeKey(account));
    return raw && (type('CodeRow').decode(raw) as CodeRow);
  }

  codeByHash(codeHash: Uint8Array, vmType: number, vmVersion: number): CodeByHashRow | undefined {
    const raw = this.get(codeByHashKey(codeHash, vmType, vmVersion));
    return raw && (type('CodeByHashRow').decode(raw) as CodeByHashRow);
  }

  /** WasmConfigRow of a table, or psibase's defaults when the row is absent. */
  wasmConfig(table: typeof NativeTable.transactionWasmConfig | typeof NativeTable.proofWasmConfig): WasmConfigRow {
    const raw = this.get(wasmConfigKey(table));
    if (raw) {
      // Read every block (updateAuthServices) and almost never changed: the last decode is kept by its bytes.
      const last = lastWasmConfig[table];
      if (last && bytesEqual(last.raw, raw)) return structuredCloneConfig(last.row);
      const row = type('WasmConfigRow').decode(raw) as WasmConfigRow;
      lastWasmConfig[table] = { raw: raw.slice(), row: structuredCloneConfig(row) };
      return row;
    }
    return {
      numExecutionMemories: 32,
      vmOptions: { max_mutable_global_bytes: 1024, max_pages: 512, max_table_elements: 8192, max_stack_bytes: 1024 * 1024 },
    };
  }

  /** ConfigRow, or psibase's defaults. */
  config(): { maxKeySize: number; maxValueSize: number } {
    const raw = this.get(configKey());
    if (raw) return type('ConfigRow').decode(raw) as { maxKeySize: number; maxValueSize: number };
    return { maxKeySize: 128, maxValueSize: 8 << 20 };
  }

  static put(state: KvWriter, key: Uint8Array, value: Uint8Array): void {
    state.put(dbKey(DbId.native, key), value);
  }
}

/** What native writes by services did that the block must know about. */
export interface NativeWriteEffects {
  /** Accounts whose CodeRow changed to or from a verify service. */
  modifiedAuthAccounts: Set<bigint>;
  /** codeByHash keys (hex) that were removed. */
  removedCode: Set<string>;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export function codeByHashKeyHex(codeHash: Uint8Array, vmType: number, vmVersion: number): string {
  return hex(codeByHashKey(codeHash, vmType, vmVersion));
}

function expectKey(key: Uint8Array, expected: Uint8Array, row: string): void {
  if (!bytesEqual(key, expected)) throw new ServiceError(`${row} has incorrect key`);
}

function strict<T>(name: string, bytes: Uint8Array): T {
  try {
    return decodeStrict<T>(name, bytes);
  } catch {
    throw new ServiceError(`${name} has invalid format`);
  }
}

/**
 * verifyWriteConstrained / verifyRemoveConstrained: a service's write to the native
 * db must be a well-formed row under its own key. Returns nothing; throws a
 * ServiceError (failing the action) with psibase's message otherwise.
 */
export function checkNativeWrite(
  effects: NativeWriteEffects,
  key: Uint8Array,
  value: Uint8Array | undefined,
  existing: Uint8Array | undefined,
): void {
  if (key.length < 2) throw new ServiceError('Unrecognized key in nativeConstrained');
  const table = (key[0]! << 8) | key[1]!;
  if (value === undefined) {
    if (existing === undefined) return;
    if (table === NativeTable.code) {
      const old = type('CodeRow').decode(existing) as CodeRow;
      if (old.flags & CodeFlags.isVerify) effects.modifiedAuthAccounts.add(old.codeNum);
    } else if (table === NativeTable.codeByHash) {
      const old = type('CodeByHashRow').decode(existing) as CodeByHashRow;
      effects.removedCode.add(codeByHashKeyHex(old.codeHash, old.vmType, old.vmVersion));
    }
    return;
  }
  switch (table) {
    case NativeTable.status:
      strict('StatusRow', value);
      expectKey(key, statusKey(), 'StatusRow');
      return;
    case NativeTable.code: {
      const row = strict<CodeRow>('CodeRow', value);
      const old = existing && (type('CodeRow').decode(existing) as CodeRow);
      if ((old && old.flags & CodeFlags.isVerify) || row.flags & CodeFlags.isVerify) effects.modifiedAuthAccounts.add(row.codeNum);
      expectKey(key, codeKey(row.codeNum), 'CodeRow');
      return;
    }
    case NativeTable.codeByHash: {
      const row = strict<CodeByHashRow>('CodeByHashRow', value);
      if (!bytesEqual(sha256(row.code), row.codeHash)) throw new ServiceError('CodeByHashRow has incorrect codeHash');
      expectKey(key, codeByHashKey(row.codeHash, row.vmType, row.vmVersion), 'CodeByHashRow');
      return;
    }
    case NativeTable.config: {
      const row = strict<{ maxKeySize: number; maxValueSize: number }>('ConfigRow', value);
      expectKey(key, configKey(), 'ConfigRow');
      if (row.maxKeySize > 128) throw new ServiceError('maxKeySize too big for triedent');
      if (row.maxValueSize > 15 << 20) throw new ServiceError('maxValueSize too big for triedent');
      return;
    }
    case NativeTable.transactionWasmConfig:
    case NativeTable.proofWasmConfig:
      strict('WasmConfigRow', value);
      expectKey(key, wasmConfigKey(table), 'WasmConfigRow');
      return;
    case NativeTable.notify:
      // Processed only subjectively, so any bytes are acceptable (as in psibase).
      return;
    case NativeTable.scheduledSnapshot: {
      const row = strict<{ blockNum: number }>('ScheduledSnapshotRow', value);
      const expected = prefix(NativeTable.scheduledSnapshot, 4);
      putU32BE(expected.key, 3, row.blockNum);
      expectKey(key, expected.key, 'ScheduledSnapshotRow');
      return;
    }
    default:
      throw new ServiceError('Unrecognized key in nativeConstrained');
  }
}

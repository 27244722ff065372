/**
 * One block being produced or replayed (psibase BlockContext, TransactionContext::
 * execTransaction): starting it from the status row, the genesis action, handing each
 * transaction to transact's `processTransaction`, transact's `startBlock`, and finishing
 * the block (writeRevision): consensus bookkeeping, merkle root, block id, status row and
 * block log. All state changes land in the block's overlay; the caller commits it.
 *
 * Every method that executes is synchronous and may throw CacheMissError: the caller
 * (executor.ts) runs it through StateDb.run, which reloads and runs it again, so each
 * keeps its effects on this object until it has succeeded.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { blockId } from '../protocol/ids.ts';
import { Merkle } from '../protocol/merkle.ts';
import {
  packTransaction,
  packTransactionInfo,
  type Action,
  type Block,
  type BlockHeader,
  type BlockHeaderAuthAccount,
  type BlockHeaderCode,
  type Consensus,
  type Producer,
  type SignedTransaction,
  type Transaction,
  type TransactionTrace,
} from '../protocol/types.ts';
import { bytesEqual, compareBytes } from '../state/bytes.ts';
import type { WriteOverlay } from '../state/overlay.ts';
import type { KvReader } from '../state/types.ts';
import { DbId, dbKey } from '../vm/dbs.ts';
import { ServiceError } from '../vm/errors.ts';
import { CodeFlags } from '../vm/execution.ts';
import type { Limits, ServiceCode, ServiceHost } from '../vm/index.ts';
import {
  BLOCK_SIGNATURE_PREFIX,
  GENESIS_BLOCK_NUM,
  ONE_SECOND_US,
  PROCESS_TRANSACTION_EXPORT,
  START_BLOCK,
  TAPOS_DO_NOT_BROADCAST,
  TRANSACT,
} from './constants.ts';
import { ChainHaltError } from './errors.ts';
import {
  NativeTable,
  NativeTables,
  blockLogKey,
  checkNativeWrite,
  codeByHashKey,
  codeByHashKeyHex,
  codeKey,
  nativeSchema,
  pack,
  statusKey,
  type CodeRow,
  type GenesisActionData,
  type NativeWriteEffects,
  type StatusRow,
} from './native-tables.ts';

const EMPTY = new Uint8Array(0);
const ZERO32 = new Uint8Array(32);

export interface BlockContextDeps {
  host: ServiceHost;
  codeFor: (state: KvReader, service: bigint) => ServiceCode | undefined;
  limits?: Partial<Limits> | undefined;
}

export function emptyConsensus(): Consensus {
  return {
    data: { CftConsensus: { producers: [] } },
    services: [],
    wasmConfig: {
      numExecutionMemories: 0,
      vmOptions: { max_mutable_global_bytes: 0, max_pages: 0, max_table_elements: 0, max_stack_bytes: 0 },
    },
  };
}

function emptyHeader(): BlockHeader {
  return {
    previous: ZERO32,
    blockNum: 0,
    time: 0n,
    producer: 0n,
    term: 0,
    commitNum: 0,
    consensusState: ZERO32,
    trxMerkleRoot: ZERO32,
    eventMerkleRoot: ZERO32,
    newConsensus: null,
    authCode: null,
  };
}

export function producersOf(c: Consensus): Producer[] {
  return 'CftConsensus' in c.data ? c.data.CftConsensus.producers : c.data.BftConsensus.producers;
}

/**
 * The producer sets the block after `status`'s head is made under: a pending change
 * takes over once the head commits the block that named it (psibase's start_block).
 */
export function consensusAfterHead(status: StatusRow): StatusRow['consensus'] {
  const next = status.consensus.next;
  return next && status.head && next.blockNum <= status.head.header.commitNum ? { current: next.consensus, next: null } : status.consensus;
}

function singleProducer(status: StatusRow): boolean {
  const prods = producersOf(status.consensus.current);
  if (prods.length === 1) return !status.consensus.next;
  return prods.length === 0;
}

/** BlockSignatureInfo (block.hpp): what a producer signs. */
export function blockSignatureData(id: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + id.length);
  out.set(BLOCK_SIGNATURE_PREFIX);
  out.set(id, 4);
  return out;
}

/** sha256 of an empty list of proofs: most transactions' subjectiveDataHash. */
let emptyProofsHash: Uint8Array | undefined;

function proofsHash(proofs: readonly Uint8Array[]): Uint8Array {
  if (proofs.length > 0) return sha256(pack.proofs(proofs));
  return (emptyProofsHash ??= sha256(pack.proofs([])));
}

/**
 * TransactionInfo (block.hpp): the merkle leaf of a transaction in its block. `id`, when
 * the caller has it, must be the transaction's id (sha256 of `trx.transaction`).
 */
export function transactionInfo(trx: SignedTransaction, id?: Uint8Array): Uint8Array {
  return packTransactionInfo({
    transactionId: id ?? sha256(trx.transaction),
    signatureHash: proofsHash(trx.proofs),
    subjectiveDataHash: proofsHash(trx.subjectiveData ?? []),
  });
}

/** `ids`, where given, are the transactions' ids, as for transactionInfo. */
export function transactionMerkleRoot(trxs: readonly SignedTransaction[], ids?: readonly (Uint8Array | undefined)[]): Uint8Array {
  const m = new Merkle();
  for (let i = 0; i < trxs.length; i++) m.push(transactionInfo(trxs[i]!, ids?.[i]));
  return m.root();
}

/** The result of executing one transaction. */
export interface ExecResult {
  trace: TransactionTrace;
  /** Results of subjective calls, recorded when producing. */
  subjectiveData: Uint8Array[];
}

export class BlockContext {
  readonly header: BlockHeader = emptyHeader();
  readonly transactions: SignedTransaction[] = [];
  /** Per transaction in the block: its id if exec was given it (computed when needed otherwise), and its expiration. */
  private readonly ids: (Uint8Array | undefined)[] = [];
  private readonly expirations: bigint[] = [];
  isGenesisBlock = false;
  needGenesisAction = false;
  private started = false;
  /** The limits transactions run with, until a native write may have changed them (readTxLimits). */
  private txLimits: Partial<Limits> | undefined;
  private readonly effects: NativeWriteEffects = { modifiedAuthAccounts: new Set(), removedCode: new Set() };

  constructor(
    private readonly deps: BlockContextDeps,
    /** The block's write overlay over the committed head state. */
    readonly state: WriteOverlay,
    readonly producing: boolean,
  ) {}

  private get tables(): NativeTables {
    return new NativeTables(this.state);
  }

  private putStatus(status: StatusRow): void {
    NativeTables.putStatus(this.state, status, pack.statusRow(status));
  }

  /** BlockContext::start(time, producer, term, irreversible). */
  start(time: bigint | undefined, producer: bigint, term: number, irreversible: number): StatusRow {
    if (this.started) throw new ChainHaltError('block has already been started');
    const status: StatusRow = this.tables.status() ?? {
      chainId: ZERO32,
      current: emptyHeader(),
      head: null,
      consensus: { current: emptyConsensus(), next: null },
    };
    const h = this.header;
    h.producer = producer;
    h.term = term;
    if (status.head) {
      h.previous = status.head.blockId;
      h.blockNum = status.head.header.blockNum + 1;
      if (time !== undefined) {
        if (time <= status.head.header.time) throw new ChainHaltError('block is in the past');
        h.time = time;
      } else {
        h.time = status.head.header.time + ONE_SECOND_US;
      }
    } else {
      this.isGenesisBlock = true;
      this.needGenesisAction = true;
      h.blockNum = GENESIS_BLOCK_NUM;
      if (time !== undefined) h.time = time;
    }
    status.consensus = consensusAfterHead(status);
    h.commitNum = singleProducer(status) ? h.blockNum - 1 : irreversible;
    if (!status.head) status.consensus.next = { consensus: emptyConsensus(), blockNum: h.blockNum };
    status.current = { ...h };
    this.putStatus(status);
    this.started = true;
    return status;
  }

  /** BlockContext::start(Block): replaying a received block. */
  startFrom(header: BlockHeader): StatusRow {
    const status = this.start(header.time, header.producer, header.term, header.commitNum);
    if (!bytesEqual(header.previous, this.header.previous)) throw new ChainHaltError('block previous does not match expected');
    if (header.blockNum !== this.header.blockNum) throw new ChainHaltError('block num does not match expected');
    return status;
  }

  /** The startBlock transaction (BlockContext::callStartBlock); none in the genesis block. */
  startBlockTransaction(): SignedTransaction | undefined {
    if (this.header.blockNum === GENESIS_BLOCK_NUM) return undefined;
    const seconds = (this.header.time + ONE_SECOND_US + ONE_SECOND_US - 1n) / ONE_SECOND_US;
    const trx: Transaction = {
      tapos: { expiration: seconds, refBlockSuffix: 0, flags: 0, refBlockIndex: 0 },
      actions: [{ sender: 0n, service: TRANSACT, method: START_BLOCK, rawData: pack.emptyTuple() }],
      claims: [],
    };
    return { transaction: packTransaction(trx), proofs: [], subjectiveData: null };
  }

  /**
   * Runs one transaction in a savepoint (BlockContext::exec with undo): on success its
   * writes stay and it joins the block; on failure everything it did is undone and the
   * trace carries the error. Throws only CacheMissError (after undoing its writes).
   * `id`, if the caller has it, is the transaction's id (sha256 of signed.transaction),
   * which the block then need not compute again.
   */
  exec(signed: SignedTransaction, trx: Transaction, mode: 'transaction' | 'speculative' = 'transaction', id?: Uint8Array): ExecResult {
    const sp = this.state.savepoint();
    const effects: NativeWriteEffects = { modifiedAuthAccounts: new Set(), removedCode: new Set() };
    let result: ExecResult;
    try {
      result = this.execInner(signed, trx, mode, effects);
    } catch (e) {
      this.state.rollback(sp);
      throw e;
    }
    if (result.trace.error != null) {
      this.state.rollback(sp);
      return result;
    }
    this.state.release(sp);
    if (mode === 'transaction') {
      for (const a of effects.modifiedAuthAccounts) this.effects.modifiedAuthAccounts.add(a);
      for (const k of effects.removedCode) this.effects.removedCode.add(k);
      if (this.needGenesisAction) this.needGenesisAction = false;
      this.transactions.push(this.producing ? { ...signed, subjectiveData: result.subjectiveData } : signed);
      this.ids.push(id);
      this.expirations.push(trx.tapos.expiration);
    }
    return result;
  }

  /**
   * Runs a transaction as it would run next in this block and then undoes everything it
   * did, keeping it out of the block: the trace says whether it would succeed here.
   * Throws only CacheMissError (after undoing its writes).
   */
  tryExec(signed: SignedTransaction, trx: Transaction): ExecResult {
    const sp = this.state.savepoint();
    try {
      return this.execInner(signed, trx, 'transaction', { modifiedAuthAccounts: new Set(), removedCode: new Set() });
    } finally {
      this.state.rollback(sp);
    }
  }

  private execInner(signed: SignedTransaction, trx: Transaction, mode: 'transaction' | 'speculative', effects: NativeWriteEffects): ExecResult {
    const trace: TransactionTrace = { actionTraces: [], error: null };
    if (mode === 'transaction' && trx.tapos.flags & TAPOS_DO_NOT_BROADCAST) {
      trace.error = 'cannot commit a do_not_broadcast transaction';
      return { trace, subjectiveData: [] };
    }
    if (!this.producing && signed.subjectiveData == null) {
      trace.error = 'Missing subjective data';
      return { trace, subjectiveData: [] };
    }
    if (this.needGenesisAction) {
      if (trx.actions.length !== 1) {
        trace.error = 'genesis transaction must have exactly 1 action';
        return { trace, subjectiveData: [] };
      }
      const action = trx.actions[0]!;
      const at = { action, rawRetval: EMPTY, innerTraces: [], totalTime: 0n, error: null as string | null };
      trace.actionTraces.push(at);
      try {
        this.execGenesisAction(action, effects);
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        at.error = trace.error = e.message;
      }
      return { trace, subjectiveData: [] };
    }
    const limits = (this.txLimits ??= this.readTxLimits());
    const state = this.state;
    const tx = this.deps.host.transaction({
      state,
      codeFor: (s) => this.deps.codeFor(state, s),
      mode,
      producing: this.producing,
      subjectiveData: signed.subjectiveData ?? [],
      kvNotifyService: TRANSACT,
      onNativeWrite: (key, value, existing) => {
        // The limits may come from the rows being written; read them again next time.
        this.txLimits = undefined;
        checkNativeWrite(effects, key, value, existing);
      },
      limits,
    });
    const action: Action = { sender: 0n, service: TRANSACT, method: 0n, rawData: pack.processTransactionArgs(signed.transaction) };
    // Closing hands the instances back to the host, so the next transaction reuses
    // them instead of paying V8 for fresh ones (also after a cache miss escapes).
    try {
      const { trace: at, error } = tx.runAction(action, PROCESS_TRANSACTION_EXPORT);
      trace.actionTraces.push(at);
      if (error) trace.error = error.message;
      return { trace, subjectiveData: tx.subjectiveDataOut };
    } finally {
      tx.close();
    }
  }

  /**
   * A transaction's limits from the WasmConfigRow and ConfigRow. Each transaction of the
   * block uses them; they are read again after any native write (see execInner), which
   * is the only way a transaction changes them.
   */
  private readTxLimits(): Partial<Limits> {
    const wasm = this.tables.wasmConfig(NativeTable.transactionWasmConfig);
    const config = this.tables.config();
    return {
      ...this.deps.limits,
      maxServices: wasm.numExecutionMemories,
      maxStackBytes: wasm.vmOptions.max_stack_bytes,
      maxKeySize: config.maxKeySize,
      maxValueSize: config.maxValueSize,
    };
  }

  /** execGenesisAction: install each GenesisService's CodeRow and code (native setCode). */
  private execGenesisAction(action: Action, effects: NativeWriteEffects): void {
    this.txLimits = undefined;
    let data: GenesisActionData;
    try {
      const decoded = nativeSchema.type('GenesisActionData').decodeWithInfo(action.rawData);
      if (decoded.hasUnknown) throw new ServiceError('unknown fields');
      data = decoded.value as GenesisActionData;
    } catch (e) {
      throw new ServiceError(`genesis action data is invalid: ${(e as Error).message}`, { cause: e });
    }
    for (const s of data.services) {
      if (s.service === 0n) throw new ServiceError('account 0 is reserved');
      if (this.tables.code(s.service)) throw new ServiceError('account already created');
      if (s.code.length === 0) throw new ServiceError("native setCode can't clear code");
      if (s.flags & CodeFlags.isVerify) effects.modifiedAuthAccounts.add(s.service);
      const codeHash = sha256(s.code);
      const row: CodeRow = { codeNum: s.service, flags: s.flags, codeHash, vmType: s.vmType, vmVersion: s.vmVersion };
      NativeTables.put(this.state, codeKey(s.service), pack.codeRow(row));
      const existing = this.tables.codeByHash(codeHash, s.vmType, s.vmVersion);
      NativeTables.put(
        this.state,
        codeByHashKey(codeHash, s.vmType, s.vmVersion),
        pack.codeByHashRow(existing ?? { codeHash, vmType: s.vmType, vmVersion: s.vmVersion, code: s.code }),
      );
    }
  }

  /**
   * updateAuthServices (BlockContext.cpp): when verify services changed in this block,
   * or the proof wasm config did, the next consensus lists the new set and the header
   * carries the code validators have not seen.
   */
  private updateAuthServices(status: StatusRow): void {
    const target = status.consensus.next ? status.consensus.next.consensus : status.consensus.current;
    const current = target.services;
    const origKeys = new Set(current.map((s) => codeByHashKeyHex(s.codeHash, s.vmType, s.vmVersion)));
    const visited = new Map<string, boolean>();
    const authCode: BlockHeaderCode[] = [];
    const hasCode = (a: BlockHeaderAuthAccount, existing = true): boolean => {
      const key = codeByHashKeyHex(a.codeHash, a.vmType, a.vmVersion);
      let found = visited.get(key);
      if (found === undefined) {
        const known = existing || origKeys.has(key);
        found = known && !this.effects.removedCode.has(key);
        if (!found) {
          const code = this.tables.codeByHash(a.codeHash, a.vmType, a.vmVersion);
          if (code) {
            if (!known) authCode.push({ vmType: code.vmType, vmVersion: code.vmVersion, code: code.code });
            found = true;
          }
        }
        visited.set(key, found);
      }
      return found;
    };
    const modified = [...this.effects.modifiedAuthAccounts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const result: BlockHeaderAuthAccount[] = [];
    let i = 0;
    for (const account of modified) {
      let existing: BlockHeaderAuthAccount | undefined;
      while (i < current.length) {
        const c = current[i]!;
        if (c.codeNum < account) {
          if (hasCode(c)) result.push(c);
          i++;
        } else {
          if (c.codeNum === account) {
            existing = c;
            i++;
          }
          break;
        }
      }
      const row = this.tables.code(account);
      if (row && row.flags & CodeFlags.isVerify) {
        const item = { codeNum: row.codeNum, codeHash: row.codeHash, vmType: row.vmType, vmVersion: row.vmVersion };
        const same = existing !== undefined && sameAuth(existing, item);
        if (hasCode(item, same)) result.push(item);
      }
    }
    for (; i < current.length; i++) if (hasCode(current[i]!)) result.push(current[i]!);

    const proof = this.tables.wasmConfig(NativeTable.proofWasmConfig);
    const wasmConfig = { numExecutionMemories: proof.numExecutionMemories, vmOptions: proof.vmOptions };
    const servicesChanged = result.length !== current.length || result.some((r, j) => !sameAuth(r, current[j]!));
    const configChanged = JSON.stringify(wasmConfig) !== JSON.stringify(target.wasmConfig);
    if (!servicesChanged && !configChanged) return;
    this.header.authCode = authCode;
    if (!status.consensus.next) {
      status.consensus.next = {
        consensus: { data: status.consensus.current.data, services: result, wasmConfig },
        blockNum: status.current.blockNum,
      };
    } else {
      status.consensus.next.consensus.services = result;
      status.consensus.next.consensus.wasmConfig = wasmConfig;
      status.consensus.next.blockNum = status.current.blockNum;
    }
  }

  /**
   * BlockContext::writeRevision, up to the block id: consensus bookkeeping, roots and
   * the new head in the status row, and the block in the block log. `prove` signs
   * BlockSignatureInfo (psibase's Prover); its result goes to DbId.blockProof.
   */
  finish(): { block: Block; id: Uint8Array } {
    if (this.needGenesisAction) throw new ChainHaltError('missing genesis action in block');
    const status = this.tables.status();
    if (!status) throw new ChainHaltError('missing status record');
    this.updateAuthServices(status);
    const h = this.header;
    const next = status.consensus.next;
    if (next && next.blockNum === status.current.blockNum) {
      const prods = producersOf(next.consensus);
      if (prods.length === 0) prods.push({ name: h.producer, auth: { service: 0n, rawData: EMPTY } });
      status.current.newConsensus = h.newConsensus = next.consensus;
    }
    if (singleProducer(status)) {
      if (h.commitNum !== h.blockNum - 1) throw new ChainHaltError('Forbidden consensus update');
      status.current.commitNum = h.commitNum = h.blockNum;
    }
    status.current.consensusState = h.consensusState = sha256(pack.jointConsensus(status.consensus));
    status.current.trxMerkleRoot = h.trxMerkleRoot = transactionMerkleRoot(this.transactions, this.transactionIds());
    h.eventMerkleRoot = status.current.eventMerkleRoot;
    const id = blockId(h);
    status.head = { header: { ...h, authCode: null }, blockId: id };
    if (this.isGenesisBlock) status.chainId = id;
    status.current = { ...status.current, previous: id, blockNum: h.blockNum + 1, time: h.time + ONE_SECOND_US };
    this.putStatus(status);
    const block: Block = { header: h, transactions: this.transactions };
    this.state.put(dbKey(DbId.blockLog, blockLogKey(h.blockNum)), nativeSchema.type('Block').encode(block));
    return { block, id };
  }

  /** The ids of the block's transactions, in order. */
  transactionIds(): Uint8Array[] {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) ids[i] ??= sha256(this.transactions[i]!.transaction);
    return ids as Uint8Array[];
  }

  /** The block's transactions' ids with their expirations (seconds), in order. */
  included(): { id: Uint8Array; expiration: bigint }[] {
    const ids = this.transactionIds();
    return ids.map((id, i) => ({ id, expiration: this.expirations[i]! }));
  }

  /** Records the block's signature as psibase does (DbId.blockProof). */
  putProof(signature: Uint8Array): void {
    this.state.put(dbKey(DbId.blockProof, blockLogKey(this.header.blockNum)), signature);
  }
}

function sameAuth(a: BlockHeaderAuthAccount, b: BlockHeaderAuthAccount): boolean {
  return a.codeNum === b.codeNum && compareBytes(a.codeHash, b.codeHash) === 0 && a.vmType === b.vmType && a.vmVersion === b.vmVersion;
}

/**
 * The block executor: boots a chain, produces blocks, applies received ones and commits
 * each through the state engine's atomic commitBlock (write set, block and head in one
 * store transaction). It owns the retry protocol: every synchronous step runs through
 * StateDb.run, so on the browser a read that misses the range cache loads the range and
 * re-runs the step from its start; lmdb and memory stores never miss.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, StateError } from '../errors.ts';
import { blockId, blockNumFromId } from '../protocol/ids.ts';
import {
  openSignedTransaction,
  packSignedBlock,
  packSignedTransaction,
  packTransaction,
  transactionTraceJson,
  unpackSignedBlock,
  unpackTransaction,
  type Block,
  type SignedBlock,
  type SignedTransaction,
  type Transaction,
  type TransactionTrace,
} from '../protocol/types.ts';
import { bytesEqual, toHex } from '../state/bytes.ts';
import { WriteOverlay } from '../state/overlay.ts';
import type { StateDb } from '../state/state-db.ts';
import type { KvReader } from '../state/types.ts';
import { ServiceHost, type Limits, type ServiceCode } from '../vm/index.ts';
import { DbId, dbKey } from '../vm/dbs.ts';
import { ServiceError } from '../vm/errors.ts';
import { BlockContext, blockSignatureData, consensusAfterHead, producersOf } from './block-context.ts';
import { GENESIS_BLOCK_NUM, ONE_SECOND_US } from './constants.ts';
import { BlockValidationError, ChainHaltError, TransactionRejectedError } from './errors.ts';
import { NativeTables, codeKey, nativeSchema, pack, type CodeRow, type GenesisService, type StatusRow } from './native-tables.ts';
import { startNativeProof, startProof, transactionProofs, verifyInWasm, type NativeVerifier, type PendingProof, type ProofResult, type VerifierDeps } from './verify.ts';

/** Most block signature checks begun ahead of their blocks (Chain.beginSignatureCheck). */
const MAX_EARLY_SIGNATURES = 4096;

/** Signs BlockSignatureInfo with the producer's claim (psibase's Prover). */
export type BlockProver = (data: Uint8Array, claim: { service: bigint; rawData: Uint8Array }) => Promise<Uint8Array>;

export interface ChainInit {
  state: StateDb;
  host?: ServiceHost;
  /** Host implementations of verify services, used where the service's code hash matches. */
  nativeVerifiers?: readonly NativeVerifier[];
  limits?: Partial<Limits>;
  /**
   * Commit every block with an undo record, so that `revertTo` can take back blocks
   * that are not yet irreversible (a node under multi-producer consensus switching
   * forks). Needs a state whose store can revert (StateDb.revertible).
   */
  reversible?: boolean;
}

/** A transaction decoded once: its bytes, inner Transaction and id. */
export interface OpenedTransaction {
  signed: SignedTransaction;
  transaction: Transaction;
  id: Uint8Array;
}

export function openTransaction(input: Uint8Array | SignedTransaction): OpenedTransaction {
  let signed: SignedTransaction;
  let transaction: Transaction;
  try {
    if (input instanceof Uint8Array) ({ signed, transaction } = openSignedTransaction(input));
    else ({ signed, transaction } = openSignedTransaction(packSignedTransaction(input)));
  } catch (e) {
    throw new TransactionRejectedError('malformed', `transaction is malformed: ${(e as Error).message}`, undefined, { cause: e });
  }
  return { signed, transaction, id: sha256(signed.transaction) };
}

/**
 * openTransaction of a transaction decoded as part of a block: the block's decode
 * checked it (its inner Transaction as FracPack too), so only the inner Transaction is
 * decoded, instead of packing the transaction again and decoding both layers.
 */
function openInBlock(t: SignedTransaction, id?: Uint8Array): OpenedTransaction {
  let transaction: Transaction;
  try {
    transaction = unpackTransaction(t.transaction);
  } catch (e) {
    throw new TransactionRejectedError('malformed', `transaction is malformed: ${(e as Error).message}`, undefined, { cause: e });
  }
  return { signed: t, transaction, id: id ?? sha256(t.transaction) };
}

/** Transactions at least this large have their ids hashed by WebCrypto, where the platform has it. */
const PLATFORM_HASH_BYTES = 64 * 1024;

/**
 * The ids of a block's large transactions (a service's code, a site's files), hashed by
 * the platform's WebCrypto (native, and off the thread in a browser) rather than in JS:
 * the devnet's 2 MB genesis took ~100 ms of a browser node's thread in JS. The same
 * SHA-256; undefined where small or where there is no WebCrypto.
 */
async function platformIds(transactions: readonly SignedTransaction[]): Promise<(Uint8Array | undefined)[]> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle || !transactions.some((t) => t.transaction.length >= PLATFORM_HASH_BYTES)) return [];
  return Promise.all(
    transactions.map((t) =>
      t.transaction.length >= PLATFORM_HASH_BYTES
        ? subtle.digest('SHA-256', t.transaction as Uint8Array<ArrayBuffer>).then(
            (d) => new Uint8Array(d),
            () => undefined, // hashed in JS instead
          )
        : undefined,
    ),
  );
}

export interface ProduceOptions {
  producer: bigint;
  /** Microseconds; defaults to one second after the head. */
  time?: bigint;
  term?: number;
  irreversible?: number;
  transactions?: readonly (Uint8Array | SignedTransaction | OpenedTransaction)[];
  prover?: BlockProver;
}

export interface ProducedBlock {
  block: SignedBlock;
  id: Uint8Array;
  bytes: Uint8Array;
  /** Traces of the transactions in the block, in order (the startBlock one first). */
  traces: TransactionTrace[];
  /** Candidates left out, with why (a candidate that did not decode has an all-zero id). */
  rejected: { id: Uint8Array; error: TransactionRejectedError }[];
}

export interface StartBlockOptions {
  producer: bigint;
  /** Microseconds; defaults to one second after the head. */
  time?: bigint;
  term?: number;
  irreversible?: number;
  /** Signs the block when it is finished. */
  prover?: BlockProver;
}

interface BuilderHooks {
  exec(t: OpenedTransaction): Promise<{ trace: TransactionTrace }>;
  isRecent(key: string): boolean;
  finish(prover: BlockProver | undefined): Promise<Omit<ProducedBlock, 'traces' | 'rejected'>>;
  release(builder: BlockBuilder): void;
}

/**
 * A block being built (psibase's leader between start_block and finish_block). Each
 * transaction pushed runs once, into the block: its trace is final for the block, so a
 * client waiting for `applied` can have it at once. Pushes and the finish run one at a
 * time, in call order. Proofs are the caller's to check before pushing (psibase checks
 * them as the transaction arrives, against the head state).
 */
export class BlockBuilder {
  /** Transactions in the block after its startBlock one, in order, with their traces. */
  readonly transactions: { t: OpenedTransaction; trace: TransactionTrace }[] = [];
  private readonly keys = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private state: 'open' | 'finishing' | 'done' = 'open';

  constructor(
    private readonly bc: BlockContext,
    /** The startBlock transaction's trace (none in the genesis block). */
    private readonly startTraces: readonly TransactionTrace[],
    private readonly hooks: BuilderHooks,
    private readonly prover: BlockProver | undefined,
  ) {}

  get num(): number {
    return this.bc.header.blockNum;
  }

  /** The block's time, microseconds. */
  get time(): bigint {
    return this.bc.header.time;
  }

  /** Whether more transactions can go in (not yet finishing or finished). */
  get open(): boolean {
    return this.state === 'open';
  }

  /** Whether the block holds this transaction (hex id). */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs a transaction into the block. Resolves with its trace once it is in; rejects
   * with TransactionRejectedError ('duplicate', or 'failed' with the trace) and leaves
   * the block as it was when it cannot go in.
   */
  push(t: OpenedTransaction): Promise<TransactionTrace> {
    return this.serial(async () => {
      if (this.state !== 'open') throw new ChainHaltError(`block ${this.num} is no longer open`);
      const key = toHex(t.id);
      if (this.keys.has(key) || this.hooks.isRecent(key)) throw new TransactionRejectedError('duplicate', 'duplicate transaction', undefined, { details: { id: key } });
      const { trace } = await this.hooks.exec(t);
      if (trace.error != null) throw new TransactionRejectedError('failed', trace.error, trace);
      this.keys.add(key);
      this.transactions.push({ t, trace });
      return trace;
    });
  }

  /** Finishes, signs and commits the block, after every push made before this call. */
  finish(): Promise<ProducedBlock> {
    return this.serial(async () => {
      if (this.state !== 'open') throw new ChainHaltError(`block ${this.num} is no longer open`);
      this.state = 'finishing';
      try {
        const done = await this.hooks.finish(this.prover);
        return { ...done, traces: [...this.startTraces, ...this.transactions.map((e) => e.trace)], rejected: [] };
      } finally {
        this.state = 'done';
        this.hooks.release(this);
      }
    });
  }

  /** Throws the block away (nothing of it was committed); its transactions are the caller's to push again. */
  abandon(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.hooks.release(this);
  }
}

export type InitTransactions = readonly (Uint8Array | SignedTransaction)[];

export interface BootOptions {
  services: GenesisService[];
  producer: bigint;
  time?: bigint;
  memo?: string;
  /**
   * Transactions that init the services, in the genesis block after the genesis
   * transaction; or a function building them (called once, before the block starts).
   */
  initTransactions?: InitTransactions | (() => InitTransactions | Promise<InitTransactions>);
  prover?: BlockProver;
}

export class Chain {
  readonly state: StateDb;
  readonly host: ServiceHost;
  private readonly limits: Partial<Limits> | undefined;
  private readonly verifiers: Map<string, NativeVerifier>;
  private readonly codeCache = new Map<string, Uint8Array>();
  private readonly codeRows = new Map<bigint, { raw: Uint8Array; code: ServiceCode }>();
  private statusRow: StatusRow | undefined;
  /**
   * Ids of transactions in blocks this executor committed, until they expire (hex id →
   * expiration seconds): a cheap duplicate check ahead of Transact's own, which also
   * covers blocks from before a restart.
   */
  private readonly recent = new Map<string, bigint>();
  /** The open block of startBlock, until it is finished or abandoned: no other block may commit meanwhile. */
  private building: BlockBuilder | undefined;
  /** Blocks commit with undo records (ChainInit.reversible). */
  readonly reversible: boolean;

  private constructor(init: ChainInit) {
    this.state = init.state;
    this.reversible = init.reversible === true;
    if (this.reversible && !init.state.revertible) throw new StateError('a reversible chain needs a state that can take back blocks');
    this.host = init.host ?? new ServiceHost();
    this.limits = init.limits;
    this.verifiers = new Map((init.nativeVerifiers ?? []).map((v) => [toHex(v.codeHash), v]));
  }

  static async open(init: ChainInit): Promise<Chain> {
    const chain = new Chain(init);
    await chain.reloadStatus();
    return chain;
  }

  private async reloadStatus(): Promise<void> {
    this.statusRow = await this.state.run(() => new NativeTables(this.state.reader).status());
  }

  /** The status row at the head (chain id, head block, consensus). */
  get status(): StatusRow | undefined {
    return this.statusRow;
  }

  get head(): { num: number; id: Uint8Array; time: bigint } | undefined {
    const h = this.statusRow?.head;
    return h ? { num: h.header.blockNum, id: h.blockId, time: h.header.time } : undefined;
  }

  get chainId(): Uint8Array | undefined {
    return this.statusRow?.head ? this.statusRow.chainId : undefined;
  }

  /**
   * A service's code at `state` (ExecutionContextImpl::getCode), code bytes cached by
   * hash. Every transaction asks this for each service it runs, so the answer is also
   * kept per service with the CodeRow bytes it came from: while the stored row is the
   * same, so is the answer (one object, whose codeHash the host's module cache knows).
   */
  readonly codeFor = (state: KvReader, service: bigint): ServiceCode | undefined => {
    const raw = state.get(dbKey(DbId.native, codeKey(service)));
    if (!raw) return undefined;
    const known = this.codeRows.get(service);
    if (known && bytesEqual(known.raw, raw)) return known.code;
    const row = nativeSchema.type('CodeRow').decode(raw) as CodeRow;
    if (row.codeHash.every((b) => b === 0)) throw new ServiceError('service account has no code');
    const key = `${toHex(row.codeHash)}:${row.vmType}:${row.vmVersion}`;
    let code = this.codeCache.get(key);
    if (!code) {
      const c = new NativeTables(state).codeByHash(row.codeHash, row.vmType, row.vmVersion);
      if (!c) throw new ServiceError('service code record is missing');
      code = c.code;
      this.codeCache.set(key, code);
    }
    if (row.vmType !== 0) throw new ServiceError('vmType is not 0');
    if (row.vmVersion !== 0) throw new ServiceError('vmVersion is not 0');
    const result: ServiceCode = { code, codeHash: row.codeHash, flags: row.flags & 3n };
    this.codeRows.set(service, { raw, code: result });
    return result;
  };

  private get verifierDeps(): VerifierDeps {
    return { host: this.host, codeFor: this.codeFor, nativeVerifiers: this.verifiers, limits: this.limits };
  }

  private blockContext(producing: boolean, reader: KvReader = this.state.reader): BlockContext {
    return new BlockContext({ host: this.host, codeFor: this.codeFor, limits: this.limits }, new WriteOverlay(reader), producing);
  }

  /**
   * Checks every proof of the given transactions against the head state, all native
   * checks at once. Returns, per transaction, undefined or the first failure.
   */
  async verifyTransactions(trxs: readonly OpenedTransaction[], reader: KvReader = this.state.reader): Promise<ProofResult[]> {
    const pending = await this.state.run(() =>
      trxs.map((t): PendingProof[] => {
        try {
          return transactionProofs(t.signed.transaction, t.transaction, t.signed.proofs, t.id).map((p) =>
            startProof(this.verifierDeps, reader, p),
          );
        } catch (e) {
          if (e instanceof ServiceError) return [e.message];
          throw e;
        }
      }),
    );
    return Promise.all(pending.map(async (proofs) => (await Promise.all(proofs)).find((r) => r !== undefined)));
  }

  /** Verifies a block signature with the producer's claim (VerifyProver over BlockSignatureInfo). */
  private async verifyBlockSignature(claim: { service: bigint; rawData: Uint8Array }, id: Uint8Array, signature: Uint8Array, reader: KvReader): Promise<ProofResult> {
    if (claim.service === 0n) return signature.length === 0 ? undefined : 'unexpected block signature';
    const key = toHex(id);
    const early = this.earlySignatures.get(key);
    if (early) this.earlySignatures.delete(key);
    const data = blockSignatureData(id);
    const p = { hash: sha256(data), data, claim, proof: signature };
    return this.state.run(() => {
      const code = this.codeFor(reader, claim.service);
      // The check begun when the block arrived is this one if it was made with the same
      // claim, signature and verify code (codeFor gives one object while a service's code row is unchanged).
      if (early && early.code === code && early.claim.service === claim.service && bytesEqual(early.claim.rawData, claim.rawData) && bytesEqual(early.signature, signature)) return early.result;
      return startNativeProof(this.verifierDeps, code, p) ?? verifyInWasm(this.verifierDeps, reader, p);
    });
  }

  /** Block signature checks begun before their blocks ran (beginSignatureCheck), by block id (hex). */
  private readonly earlySignatures = new Map<string, { claim: { service: bigint; rawData: Uint8Array }; code: ServiceCode; signature: Uint8Array; result: Promise<ProofResult> }>();

  /**
   * Begins the native check of a received block's signature now, with its producer's
   * claim and verify code at the head, so it runs on the crypto threads while the
   * blocks before it run (a node catching up receives many at once). validateOn takes
   * this check only if the claim, signature and verify code it finds at the block's
   * parent are the same; otherwise it checks again. `id` is the block id of the
   * header. Nothing is begun for a claim without a native verifier (its wasm would run
   * here, synchronously) or when the code is not at hand.
   */
  beginSignatureCheck(signed: SignedBlock, id: Uint8Array): void {
    const status = this.statusRow;
    if (!status || signed.signature.length === 0) return;
    // The producer's claim in the consensus the block after the head is under (BlockContext.start:
    // the pending one once the head commits the block that named it), else in the pending one.
    const name = signed.block.header.producer;
    const after = consensusAfterHead(status);
    const sets = after.next ? [after.current, after.next.consensus] : [after.current];
    let claim: { service: bigint; rawData: Uint8Array } | undefined;
    for (const c of sets) if ((claim = producersOf(c).find((p) => p.name === name && p.auth.service !== 0n)?.auth)) break;
    if (!claim || claim.service === 0n) return;
    const key = toHex(id);
    if (this.earlySignatures.has(key)) return;
    let code: ServiceCode | undefined;
    try {
      code = this.codeFor(this.state.reader, claim.service);
    } catch {
      return; // e.g. a cache miss of an asynchronous store: validateOn checks it then
    }
    const data = blockSignatureData(id);
    const result = code && startNativeProof(this.verifierDeps, code, { hash: sha256(data), data, claim, proof: signed.signature });
    if (!result || !code) return;
    // Only a head start: a block never validated leaves its entry, so the map is bounded.
    if (this.earlySignatures.size >= MAX_EARLY_SIGNATURES) this.earlySignatures.clear();
    this.earlySignatures.set(key, { claim, code, signature: signed.signature, result });
  }

  /** Boots a new chain: the genesis block holds the genesis transaction, then `initTransactions`. */
  async boot(options: BootOptions): Promise<ProducedBlock> {
    if (this.statusRow?.head) throw new ChainHaltError('chain is already booted');
    this.assertNotBuilding();
    const genesis = genesisTransaction(options.services, options.memo ?? '', options.time ?? 0n);
    const init = typeof options.initTransactions === 'function' ? await options.initTransactions() : (options.initTransactions ?? []);
    return this.produce({
      producer: options.producer,
      ...(options.time !== undefined && { time: options.time }),
      ...(options.prover && { prover: options.prover }),
      transactions: [genesis, ...init],
      strict: true,
    });
  }

  /** Produces, signs and commits the next block from candidate transactions. */
  async produceBlock(options: ProduceOptions): Promise<ProducedBlock> {
    if (!this.statusRow?.head) throw new TransactionRejectedError('notBooted', 'the chain has not been booted');
    this.assertNotBuilding();
    return this.produce(options);
  }

  private assertNotBuilding(): void {
    if (this.building) throw new ChainHaltError(`block ${this.building.num} is being built: finish or abandon it first`);
  }

  /**
   * Opens the next block on the head, as a psibase leader does (start_block): its
   * startBlock transaction runs now, then transactions go in one by one as they arrive
   * (BlockBuilder.push) until the block is finished, signed and committed. Until then
   * no other block can be produced or applied on this chain.
   */
  async startBlock(options: StartBlockOptions): Promise<BlockBuilder> {
    if (!this.statusRow?.head) throw new TransactionRejectedError('notBooted', 'the chain has not been booted');
    this.assertNotBuilding();
    const { bc, status, traces } = await this.openBlock(options);
    const claim = producersOf(status.consensus.current).find((p) => p.name === options.producer)?.auth ?? {
      service: 0n,
      rawData: new Uint8Array(0),
    };
    const builder = new BlockBuilder(
      bc,
      traces,
      {
        exec: (t) => this.state.run(() => bc.exec(t.signed, t.transaction, 'transaction', t.id)),
        isRecent: (key) => this.recent.has(key),
        finish: async (prover) => {
          const { block, id } = await this.state.run(() => bc.finish());
          const signature = claim.service === 0n || !prover ? new Uint8Array(0) : await prover(blockSignatureData(id), claim);
          bc.putProof(signature);
          const signed: SignedBlock = { block, signature, auxConsensusData: null };
          const bytes = packSignedBlock(signed);
          await this.commit(bc, id, bytes);
          return { block: signed, id, bytes };
        },
        release: (b) => {
          if (this.building === b) this.building = undefined;
        },
      },
      options.prover,
    );
    this.building = builder;
    return builder;
  }

  /** Starts a block being produced on the head and runs its startBlock transaction (none in the genesis block). */
  private async openBlock(options: { time?: bigint | undefined; producer: bigint; term?: number | undefined; irreversible?: number | undefined }) {
    const bc = this.blockContext(true);
    const status = await this.state.run(() => bc.start(options.time, options.producer, options.term ?? 0, options.irreversible ?? 0));
    const traces: TransactionTrace[] = [];
    const startTrx = bc.startBlockTransaction();
    if (startTrx) {
      const opened = openTransaction(startTrx);
      const r = await this.state.run(() => bc.exec(opened.signed, opened.transaction));
      // Transact relies on startBlock; if it fails no block can be built (psibase halts).
      if (r.trace.error != null) throw new ChainHaltError(`startBlock failed: ${r.trace.error}`, { details: { trace: r.trace } });
      traces.push(r.trace);
    }
    return { bc, status, traces };
  }

  private async produce(options: ProduceOptions & { strict?: boolean }, known?: ProofResult[]): Promise<ProducedBlock> {
    const { bc, status, traces } = await this.openBlock(options);
    const rejected: ProducedBlock['rejected'] = [];
    const candidates: OpenedTransaction[] = [];
    for (const t of options.transactions ?? []) {
      try {
        candidates.push(isOpened(t) ? t : openTransaction(t));
      } catch (e) {
        if (options.strict) throw e;
        rejected.push({ id: new Uint8Array(32), error: e as TransactionRejectedError });
      }
    }
    // Native proof checks run on WebCrypto's threads while the transactions execute.
    // psibase checks proofs first; the block comes out the same because, if any proof
    // failed, the block is built again with that verdict known up front.
    // In the genesis block no verify service exists yet, so (as in psibase) only
    // transactions without claims can be in it.
    const verification: Promise<ProofResult[]> = known ? Promise.resolve(known) : this.verifyTransactions(candidates);
    verification.catch(() => undefined);
    const inBlock = new Set<string>();
    for (const [i, t] of candidates.entries()) {
      const failed = known?.[i];
      const key = toHex(t.id);
      let error: TransactionRejectedError | undefined;
      if (inBlock.has(key) || this.recent.has(key)) {
        error = new TransactionRejectedError('duplicate', 'duplicate transaction');
      } else if (failed !== undefined) {
        error = new TransactionRejectedError('signature', failed);
      } else {
        const r = await this.state.run(() => bc.exec(t.signed, t.transaction, 'transaction', t.id));
        if (r.trace.error == null) {
          traces.push(r.trace);
          inBlock.add(key);
        } else {
          error = new TransactionRejectedError('failed', r.trace.error, r.trace);
        }
      }
      if (error) {
        if (options.strict) throw error;
        rejected.push({ id: t.id, error });
      }
    }
    const checks = await verification;
    if (!known && checks.some((c) => c !== undefined)) {
      const again = await this.produce({ ...options, transactions: candidates }, checks);
      again.rejected.unshift(...rejected.filter((r) => r.error.reason === 'malformed'));
      return again;
    }
    const { block, id } = await this.state.run(() => bc.finish());
    const claim = producersOf(status.consensus.current).find((p) => p.name === options.producer)?.auth ?? {
      service: 0n,
      rawData: new Uint8Array(0),
    };
    const signature = claim.service === 0n || !options.prover ? new Uint8Array(0) : await options.prover(blockSignatureData(id), claim);
    bc.putProof(signature);
    const signed: SignedBlock = { block, signature, auxConsensusData: null };
    const bytes = packSignedBlock(signed);
    await this.commit(bc, id, bytes);
    return { block: signed, id, bytes, traces, rejected };
  }

  /** Validates and applies a block received from a peer on top of the head. */
  async applyBlock(input: Uint8Array | SignedBlock): Promise<{ id: Uint8Array; traces: TransactionTrace[] }> {
    this.assertNotBuilding();
    const v = await this.validateBlock(input, this.state.reader);
    await this.commit(v.bc, v.id, v.bytes);
    return { id: v.id, traces: v.traces };
  }

  /**
   * Validates and applies consecutive blocks from a peer on top of the head, each fully
   * validated (as applyBlock) against the state the blocks before it leave, then commits
   * the valid ones together in one store transaction where the state can
   * (StateDb.commitsBlocksTogether; otherwise one by one). A crash leaves the head
   * before them or after the last valid one. Stops at the first block that fails: the
   * blocks before it are committed, and `error` is why it failed (applied.length is its
   * index).
   */
  async applyBlocks(inputs: readonly (Uint8Array | SignedBlock)[]): Promise<{ applied: { id: Uint8Array; traces: TransactionTrace[] }[]; error?: unknown }> {
    this.assertNotBuilding();
    const applied: { id: Uint8Array; traces: TransactionTrace[] }[] = [];
    if (inputs.length <= 1 || !this.state.commitsBlocksTogether || this.reversible) {
      for (const input of inputs) {
        try {
          applied.push(await this.applyBlock(input));
        } catch (error) {
          return { applied, error };
        }
      }
      return { applied };
    }
    // Writes of the blocks validated so far, under the next block's own overlay.
    const pending = new WriteOverlay(this.state.reader);
    const valid: ValidatedBlock[] = [];
    let error: unknown;
    for (const input of inputs) {
      try {
        const v = await this.validateBlock(input, pending);
        for (const [k, value] of v.bc.state.writes()) {
          if (value === undefined) pending.remove(k);
          else pending.put(k, value);
        }
        valid.push(v);
      } catch (e) {
        error = e;
        break;
      }
    }
    if (valid.length > 0) {
      const last = valid[valid.length - 1]!;
      await this.state.commitBlocks({
        writes: pending.writes(),
        blocks: valid.map((v) => ({ num: v.bc.header.blockNum, id: v.id, bytes: v.bytes })),
        head: { num: last.bc.header.blockNum, id: last.id },
      });
      await this.reloadStatus();
      for (const v of valid) {
        this.noteIncluded(v.bc);
        applied.push({ id: v.id, traces: v.traces });
      }
    }
    return error === undefined ? { applied } : { applied, error };
  }

  /**
   * Every check of applyBlock against the state `reader` shows (the state at the
   * block's parent, which need not be the head: consensus validates blocks on forks),
   * committing nothing. The result's write set (`bc.state.writes()`) is the block's own
   * changes; `commitValidated` commits it once the head is the block's parent.
   */
  validateOn(input: Uint8Array | SignedBlock | DecodedBlock, reader: KvReader, options: ValidateOptions = {}): Promise<ValidatedBlock> {
    return this.validateBlock(input, reader, options);
  }

  /** Commits a block validated (validateOn) or built (buildOn, then sealBuilt) on the state of the head. */
  async commitValidated(v: ValidatedBlock): Promise<void> {
    this.assertNotBuilding();
    const head = this.head;
    if (!head || !bytesEqual(v.bc.header.previous, head.id)) throw new ChainHaltError(`block ${v.bc.header.blockNum} does not follow the head`);
    await this.commit(v.bc, v.id, v.bytes);
  }

  /**
   * Commits consecutive blocks validated on the head's state (validateOn, each on the
   * one before it) that are already irreversible, in one store transaction (one disk
   * sync) without undo records, dropping the undo records of the blocks below them: a
   * node catching up. A crash leaves the head before them or after the last. Where the
   * state cannot commit blocks together, they commit one by one.
   */
  async commitIrreversible(vs: readonly ValidatedBlock[]): Promise<void> {
    this.assertNotBuilding();
    const head = this.head;
    let previous = head?.id;
    for (const v of vs) {
      if (!previous || !bytesEqual(v.bc.header.previous, previous)) throw new ChainHaltError(`block ${v.bc.header.blockNum} does not follow the head`);
      previous = v.id;
    }
    const last = vs[vs.length - 1];
    if (!last) return;
    if (vs.length === 1 || !this.state.commitsBlocksTogether) {
      for (const v of vs) await this.commit(v.bc, v.id, v.bytes);
      return;
    }
    const merged = new WriteOverlay(this.state.reader);
    for (const v of vs)
      for (const [k, value] of v.bc.state.writes()) {
        if (value === undefined) merged.remove(k);
        else merged.put(k, value);
      }
    const lastNum = last.bc.header.blockNum;
    await this.state.commitBlocks({
      writes: merged.writes(),
      blocks: vs.map((v) => ({ num: v.bc.header.blockNum, id: v.id, bytes: v.bytes })),
      head: { num: lastNum, id: last.id },
      dropUndoTo: Math.max(lastNum, this.irreversibleMark ?? 0),
    });
    if (this.irreversibleMark !== undefined && this.irreversibleMark <= lastNum) this.irreversibleMark = undefined;
    await this.reloadStatus();
    for (const v of vs) this.noteIncluded(v.bc);
  }

  /**
   * Builds a block on the state `reader` shows, synchronously (consensus asks for a
   * block inside its step): the startBlock transaction, then each candidate in order
   * (proofs already checked, e.g. by verifyTransactions when it was pushed); a
   * candidate that fails or repeats one in the block or a recent one is left out with
   * why. Nothing is committed or signed: seal the result with sealBuilt once signed.
   * Needs a synchronous reader (lmdb, memory, or overlays over them).
   */
  buildOn(reader: KvReader, options: { time: bigint; producer: bigint; term: number; irreversible: number }, candidates: readonly OpenedTransaction[]): BuiltBlock {
    const open = this.openOn(reader, options);
    const rejected: ProducedBlock['rejected'] = [];
    for (const t of candidates) {
      const { error } = open.push(t);
      if (error) rejected.push({ id: t.id, error: error.reason === 'duplicate' ? new TransactionRejectedError('duplicate', 'duplicate transaction') : error });
    }
    return { ...open.finish(), rejected };
  }

  /**
   * Opens a block on the state `reader` shows, synchronously, to be built a transaction
   * at a time (a sole producer's block, open while transactions arrive, as psibase's
   * leader between start_block and finish_block): its startBlock transaction runs now,
   * each `push` runs one more, and `finish` gives what buildOn gives. Nothing is
   * committed or signed. Needs a synchronous reader.
   */
  openOn(reader: KvReader, options: { time: bigint; producer: bigint; term: number; irreversible: number }): OpenBlock {
    const bc = this.blockContext(true, reader);
    bc.start(options.time, options.producer, options.term, options.irreversible);
    const traces: TransactionTrace[] = [];
    const startTrx = bc.startBlockTransaction();
    if (startTrx) {
      const opened = openTransaction(startTrx);
      const r = bc.exec(opened.signed, opened.transaction);
      if (r.trace.error != null) throw new ChainHaltError(`startBlock failed: ${r.trace.error}`, { details: { trace: r.trace } });
      traces.push(r.trace);
    }
    return new OpenBlock(bc, traces, (key) => this.recent.has(key));
  }

  /**
   * Whether a transaction would run in the next block on the head, synchronously, and
   * nothing of it kept: a block is opened on the head once (its startBlock transaction
   * run) and each transaction tried in it and undone. The trace carries the error if
   * it would fail. Proofs are not checked here (verifyTransactions).
   */
  tryTransaction(t: OpenedTransaction, producer: bigint): TransactionTrace {
    const head = this.head;
    if (!head) throw new TransactionRejectedError('notBooted', 'the chain has not been booted');
    const key = toHex(head.id);
    if (this.trial?.head !== key) {
      const bc = this.blockContext(true, this.state.reader);
      bc.start(head.time + ONE_SECOND_US, producer, 0, 0);
      const startTrx = bc.startBlockTransaction();
      if (startTrx) {
        const opened = openTransaction(startTrx);
        const r = bc.exec(opened.signed, opened.transaction);
        if (r.trace.error != null) throw new ChainHaltError(`startBlock failed: ${r.trace.error}`, { details: { trace: r.trace } });
      }
      this.trial = { head: key, bc };
    }
    return this.trial.bc.tryExec(t.signed, t.transaction).trace;
  }

  /** The block tryTransaction runs in, for the head it was opened on. */
  private trial: { head: string; bc: BlockContext } | undefined;

  /** A built block with its producer's signature (and BFT's auxConsensusData): ready for commitValidated. */
  sealBuilt(built: BuiltBlock, signature: Uint8Array, auxConsensusData: Uint8Array | null = null): ValidatedBlock {
    built.bc.putProof(signature);
    const bytes = packSignedBlock({ block: built.block, signature, auxConsensusData });
    return { bc: built.bc, id: built.id, bytes, traces: built.traces };
  }

  /** Every check of applyBlock, against `reader` (the head state, or it with blocks not yet committed): nothing is committed. */
  private async validateBlock(input: Uint8Array | SignedBlock | DecodedBlock, reader: KvReader, options: ValidateOptions = {}): Promise<ValidatedBlock> {
    let signed: SignedBlock;
    let packed: Uint8Array | undefined;
    let receivedId: Uint8Array | undefined;
    try {
      if (input instanceof Uint8Array) {
        signed = unpackSignedBlock(input);
        packed = input;
      } else if (isDecoded(input)) {
        ({ signed, bytes: packed, id: receivedId } = input);
      } else signed = input;
    } catch (e) {
      throw new BlockValidationError(`block is malformed: ${(e as Error).message}`, { cause: e });
    }
    const { header, transactions } = signed.block;
    const expectedId = receivedId ?? blockId(header);
    const bc = this.blockContext(false, reader);
    let status: StatusRow;
    try {
      status = await this.state.run(() => bc.startFrom(header));
    } catch (e) {
      if (e instanceof ChainHaltError) throw new BlockValidationError(e.message, { details: { blockNum: header.blockNum } });
      throw e;
    }
    const producers = producersOf(status.consensus.current);
    const producer = producers.find((p) => p.name === header.producer);
    if (producers.length > 0 && !producer) throw new BlockValidationError('Invalid producer for block');
    // The block signature is checked against the state before the block; a native check
    // runs off the main thread while the transactions re-execute. Its verdict is awaited
    // before any other verdict on the block is given, so a bad signature is reported as
    // such whatever else is wrong.
    const signature = this.verifyBlockSignature(producer?.auth ?? { service: 0n, rawData: new Uint8Array(0) }, expectedId, signed.signature, reader);
    signature.catch(() => undefined);
    const checkSignature = async () => {
      const sigError = await signature;
      if (sigError !== undefined) throw new BlockValidationError(`block signature: ${sigError}`);
    };
    const body = async () => {
      let opened: OpenedTransaction[];
      try {
        const ids = await platformIds(transactions);
        opened = transactions.map((t, i) => openInBlock(t, ids[i]));
      } catch (e) {
        throw new BlockValidationError('block contains a malformed transaction', { cause: e });
      }
      // The proofs are checked against the state before the block (as psibase does), the
      // native ones on WebCrypto's threads while the transactions re-execute.
      // Proofs this node already checked (a transaction it holds) are not checked again.
      const verified = options.verified;
      const toCheck = verified ? opened.filter((t) => !verified(t.id)) : opened;
      const checked = this.verifyTransactions(toCheck, reader);
      const verification = verified
        ? checked.then((results) => {
            const byTx = new Map(toCheck.map((t, i) => [t, results[i]]));
            return opened.map((t) => byTx.get(t));
          })
        : checked;
      verification.catch(() => undefined);
      const traces: TransactionTrace[] = [];
      for (const [i, t] of opened.entries()) {
        const r = await this.state.run(() => bc.exec(t.signed, t.transaction, 'transaction', t.id));
        if (r.trace.error != null) throw new BlockValidationError(`transaction ${i} failed on replay: ${r.trace.error}`, { details: { trace: r.trace } });
        traces.push(r.trace);
      }
      const checks = await verification;
      const bad = checks.findIndex((c) => c !== undefined);
      if (bad >= 0) throw new BlockValidationError(`transaction ${bad}: ${checks[bad]}`);
      let finished: { id: Uint8Array };
      try {
        finished = await this.state.run(() => bc.finish());
      } catch (e) {
        if (e instanceof ChainHaltError) throw new BlockValidationError(e.message);
        throw e;
      }
      if (!bytesEqual(bc.header.trxMerkleRoot, header.trxMerkleRoot)) throw new BlockValidationError('trxMerkleRoot does not match');
      if (!bytesEqual(finished.id, expectedId)) throw new BlockValidationError('blockId does not match');
      if (JSON.stringify(toJsonHeaderCode(bc.header.authCode)) !== JSON.stringify(toJsonHeaderCode(header.authCode)))
        throw new BlockValidationError('authCode does not match');
      return { finished, traces };
    };
    let result: { finished: { id: Uint8Array }; traces: TransactionTrace[] };
    try {
      result = await body();
    } catch (e) {
      await checkSignature();
      throw e;
    }
    await checkSignature();
    const { finished, traces } = result;
    bc.putProof(signed.signature);
    return { bc, id: finished.id, bytes: packed ?? packSignedBlock(signed), traces };
  }

  private async commit(bc: BlockContext, id: Uint8Array, bytes: Uint8Array): Promise<void> {
    const num = bc.header.blockNum;
    const drop = this.irreversibleMark;
    await this.state.commitBlock({
      writes: bc.state.writes(),
      block: { num, id, bytes },
      head: { num, id },
      ...(this.reversible && { undo: true }),
      ...(drop !== undefined && { dropUndoTo: drop }),
    });
    if (this.irreversibleMark === drop) this.irreversibleMark = undefined;
    await this.reloadStatus();
    this.noteIncluded(bc);
  }

  /**
   * Takes back the blocks above `num` (a fork switch): state, block log and head return
   * to block `num` in one atomic step, and those blocks' transactions are no longer
   * counted as included. Only blocks committed while the chain was reversible and not
   * yet marked irreversible can be taken back; otherwise StateError, changing nothing.
   */
  async revertTo(num: number): Promise<void> {
    this.assertNotBuilding();
    const head = this.head;
    if (!head || num >= head.num) return;
    if (this.irreversibleMark !== undefined && num < this.irreversibleMark)
      throw new StateError(`cannot revert block ${num + 1}: it is irreversible`, { details: { block: num + 1 } });
    const reverted: SignedBlock[] = [];
    for (let n = head.num; n > num; n--) {
      const b = await this.blockByNum(n);
      if (b) reverted.push(b);
    }
    await this.state.revertTo(num);
    await this.reloadStatus();
    for (const b of reverted)
      for (const t of b.block.transactions) {
        try {
          this.recent.delete(toHex(openTransaction(t).id));
        } catch {
          // A committed block's transactions were validated when it was applied.
        }
      }
  }

  /**
   * The last irreversible block as the store knows it: the block before the first one
   * that can still be taken back (the head when none can). A restarted node under
   * consensus goes back to it and lets its peers resend the rest.
   */
  async lastIrreversible(): Promise<number | undefined> {
    const first = await this.state.firstReversible();
    // The genesis block is irreversible from the start (a chain booted reversible kept its undo).
    return first === undefined ? this.head?.num : Math.max(first - 1, GENESIS_BLOCK_NUM);
  }

  /** Blocks up to `num` are irreversible: they can no longer be taken back, and their undo records go. */
  async markIrreversible(num: number): Promise<void> {
    // Their undo records go with the next block's commit (one disk sync, not two); a
    // crash before it only means a restart goes back a little further than it must.
    if (this.reversible) this.irreversibleMark = Math.max(this.irreversibleMark ?? 0, num);
  }

  /** Blocks up to this are irreversible; their undo records go with the next commit. */
  private irreversibleMark: number | undefined;

  /** A committed block's transactions, for the duplicate check until they expire. */
  private noteIncluded(bc: BlockContext): void {
    const nowSec = bc.header.time / ONE_SECOND_US;
    for (const [k, exp] of this.recent) if (exp <= nowSec) this.recent.delete(k);
    for (const t of bc.included()) this.recent.set(toHex(t.id), t.expiration);
  }

  /** Whether a transaction with this id is in a recent (unexpired) block. */
  isRecentlyIncluded(id: Uint8Array): boolean {
    return this.recent.has(toHex(id));
  }

  /** The block log: a committed block by number. */
  async blockByNum(num: number): Promise<SignedBlock | undefined> {
    const rec = await this.state.store.block(num);
    return rec && unpackSignedBlock(rec.bytes);
  }

  /** A committed block by id (its number is in the id; the id must match). */
  async blockById(id: Uint8Array): Promise<SignedBlock | undefined> {
    let num: number;
    try {
      num = blockNumFromId(id);
    } catch (e) {
      if (e instanceof DecodeError) return undefined;
      throw e;
    }
    const rec = await this.state.store.block(num);
    return rec && bytesEqual(rec.id, id) ? unpackSignedBlock(rec.bytes) : undefined;
  }
}

export interface ValidateOptions {
  /**
   * Transactions whose proofs this node has already checked (by id), e.g. those it
   * holds for its own blocks: their proofs are not checked again.
   */
  verified?: (id: Uint8Array) => boolean;
}

/**
 * A received block already decoded (a node core decodes it once for consensus and the
 * executor): `signed` is unpackSignedBlock(bytes) and `id` the block id of its header
 * (src/protocol/ids.ts blockId), computed from that same header object.
 */
export interface DecodedBlock {
  signed: SignedBlock;
  bytes: Uint8Array;
  id: Uint8Array;
}

function isDecoded(x: SignedBlock | DecodedBlock): x is DecodedBlock {
  return 'signed' in x && 'bytes' in x;
}

/**
 * A block open on some state (Chain.openOn), built one transaction at a time and then
 * finished: each push runs once, into the block, and its trace is the block's.
 */
export class OpenBlock {
  /** The transactions in the block after its startBlock one, in order. */
  readonly included: OpenedTransaction[] = [];
  /** The traces of the transactions in the block, by hex id. */
  private readonly keys = new Map<string, TransactionTrace>();
  private finished = false;

  constructor(
    private readonly bc: BlockContext,
    /** The startBlock transaction's trace, then each transaction's that went in. */
    private readonly traces: TransactionTrace[],
    private readonly isRecent: (key: string) => boolean,
  ) {}

  get num(): number {
    return this.bc.header.blockNum;
  }

  /** The block's time, microseconds. */
  get time(): bigint {
    return this.bc.header.time;
  }

  get term(): number {
    return this.bc.header.term;
  }

  get open(): boolean {
    return !this.finished;
  }

  /** Whether the block holds this transaction (hex id). */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /**
   * Runs a transaction into the block: its trace, with `error` set (and nothing of it
   * kept) when it failed; a duplicate (in the block or a recent one) gets
   * TransactionRejectedError and changes nothing.
   */
  push(t: OpenedTransaction, key: string = toHex(t.id)): { trace: TransactionTrace; error?: TransactionRejectedError } {
    if (this.finished) throw new ChainHaltError(`block ${this.num} is no longer open`);
    if (this.keys.has(key) || this.isRecent(key)) {
      const error = new TransactionRejectedError('duplicate', 'duplicate transaction', undefined, { details: { id: key } });
      return { trace: { actionTraces: [], error: error.message }, error };
    }
    const r = this.bc.exec(t.signed, t.transaction, 'transaction', t.id);
    if (r.trace.error != null) return { trace: r.trace, error: new TransactionRejectedError('failed', r.trace.error, r.trace) };
    this.traces.push(r.trace);
    this.keys.set(key, r.trace);
    this.included.push(t);
    return { trace: r.trace };
  }

  /** The trace of a transaction in the block (hex id). */
  traceOf(key: string): TransactionTrace | undefined {
    return this.keys.get(key);
  }

  /** Finishes the block (roots, id): nothing more goes in. */
  finish(): BuiltBlock {
    if (this.finished) throw new ChainHaltError(`block ${this.num} is no longer open`);
    this.finished = true;
    const { block, id } = this.bc.finish();
    return { bc: this.bc, block, id, traces: this.traces, included: this.included, rejected: [] };
  }

  /** Throws the block away. */
  abandon(): void {
    this.finished = true;
  }
}

/** A block built by buildOn, not yet signed or committed. */
export interface BuiltBlock {
  bc: BlockContext;
  block: Block;
  id: Uint8Array;
  traces: TransactionTrace[];
  /** The candidates in the block, in order. */
  included: OpenedTransaction[];
  rejected: ProducedBlock['rejected'];
}

/** A block that passed every check of applyBlock, not yet committed. */
export interface ValidatedBlock {
  bc: BlockContext;
  id: Uint8Array;
  bytes: Uint8Array;
  traces: TransactionTrace[];
}

function isOpened(t: Uint8Array | SignedTransaction | OpenedTransaction): t is OpenedTransaction {
  return !(t instanceof Uint8Array) && 'signed' in t;
}

function toJsonHeaderCode(code: readonly { vmType: number; vmVersion: number; code: Uint8Array }[] | null | undefined): unknown {
  return code?.map((c) => [c.vmType, c.vmVersion, toHex(c.code)]) ?? null;
}

/** Opens a chain on empty state and boots it: the genesis block, committed. */
export async function bootChain(options: ChainInit & BootOptions): Promise<{ chain: Chain; genesis: ProducedBlock }> {
  const chain = await Chain.open(options);
  return { chain, genesis: await chain.boot(options) };
}

/**
 * psibase's genesis transaction: one action whose rawData is GenesisActionData; native
 * ignores the action's other fields.
 */
export function genesisTransaction(services: GenesisService[], memo: string, time: bigint): SignedTransaction {
  const transaction = packTransaction({
    tapos: { expiration: time / ONE_SECOND_US + 1n, refBlockSuffix: 0, flags: 0, refBlockIndex: 0 },
    actions: [{ sender: 0n, service: 0n, method: 0n, rawData: pack.genesisActionData({ memo, services }) }],
    claims: [],
  });
  return { transaction, proofs: [], subjectiveData: null };
}

/** A trace in psibase's JSON form (what push_transaction returns). */
export function traceJson(trace: TransactionTrace): unknown {
  return transactionTraceJson(trace);
}

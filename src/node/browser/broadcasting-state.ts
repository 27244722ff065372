/**
 * The node's StateDb. Two things differ from the generic one:
 *
 *  - A block's IndexedDB transaction is issued at once, but the node does not wait for
 *    it to complete before executing the next block: the next commit waits for it
 *    instead, so committing block N overlaps executing block N+1. Each block is still
 *    its own atomic IndexedDB transaction (write set, block, head), and a block is
 *    written only after the one before it is known to be stored, so a failure never
 *    leaves a later block over a missing earlier one. Blocks caught up on (the core's
 *    batches, Chain.commitIrreversible) commit together in one IndexedDB transaction,
 *    announced as one write set (`from` its first block). Reads stay consistent without
 *    help: IndexedDB starts a transaction only after every earlier one whose scope
 *    overlaps it, so a range loaded while a commit is in flight sees that commit, and
 *    the range cache has the block's writes already.
 *  - Once a block is stored, its write set goes out on the node channel, so the
 *    service worker (and any other context reading the same IndexedDB) updates its
 *    range cache in place instead of dropping it on every block. The worker therefore
 *    never hears of a block IndexedDB does not hold yet.
 *
 * If a commit fails, this object's view (its cache, and the chain's head above it) is
 * ahead of IndexedDB: every later commit rejects with that failure and the node must be
 * opened again from IndexedDB (node-worker.ts does so).
 */
import { compact, toHex } from '../../state/bytes.ts';
import type { KvWrite } from '../../state/overlay.ts';
import { StateDb, type StateDbOptions } from '../../state/state-db.ts';
import type { BlockCommit, BlocksCommit, HeadRecord, KvStore } from '../../state/store.ts';
import { StateLostError } from './errors.ts';
import type { NodeMessage } from './messages.ts';

export class BroadcastingStateDb extends StateDb {
  /** The last issued block commit: resolves once IndexedDB holds it. */
  #stored: Promise<void> = Promise.resolve();
  #failure: StateLostError | undefined;

  constructor(
    store: KvStore,
    private readonly post: (m: NodeMessage) => void,
    options: StateDbOptions = {},
  ) {
    super(store, options);
  }

  /** Why this view no longer matches IndexedDB (undefined while it does). */
  get failure(): StateLostError | undefined {
    return this.#failure;
  }

  /** Resolves once every commit issued so far is stored; rejects if one failed. */
  async settled(): Promise<void> {
    await this.#stored;
  }

  override async commitBlock(commit: BlockCommit): Promise<void> {
    await this.#issue(commit.writes, commit.head, commit.head.num, (writes) => this.store.commitBlock({ ...commit, writes }));
  }

  /** Blocks caught up on commit together (Chain.commitIrreversible) when IndexedDB can take them in one transaction. */
  override get commitsBlocksTogether(): boolean {
    return this.store.commitBlocks !== undefined;
  }

  override async commitBlocks(commit: BlocksCommit): Promise<void> {
    const store = this.store;
    if (!store.commitBlocks) return super.commitBlocks(commit);
    await this.#issue(commit.writes, commit.head, commit.blocks[0]?.num ?? commit.head.num, (writes) => store.commitBlocks!({ ...commit, writes }));
  }

  /** Issues a commit once the one before it is stored (see the top of the file); `from` is its first block. */
  async #issue(commitWrites: Iterable<KvWrite>, head: HeadRecord, from: number, write: (writes: KvWrite[]) => Promise<void>): Promise<void> {
    if (this.#failure) throw this.#failure;
    const writes: KvWrite[] = Array.isArray(commitWrites) ? commitWrites : [...commitWrites];
    await this.#stored;
    if (this.#failure) throw this.#failure;
    // Issues the IndexedDB transaction synchronously (every put before its first await),
    // so reads started after this line are ordered after it.
    const stored = write(writes);
    this.cache?.applyCommitted(writes);
    const num = head.num;
    const id = toHex(head.id);
    this.#stored = stored.then(
      () => {
        // Compacted: a view into a wasm memory would clone the whole memory.
        const compacted: [Uint8Array, Uint8Array | undefined][] = writes.map(([k, v]) => [compact(k), v === undefined ? undefined : compact(v)]);
        this.post({ type: 'block', num, id, writes: compacted, ...(from !== num && { from }) });
      },
      (cause: unknown) => {
        this.#failure ??= new StateLostError(`block ${num} was not stored: ${(cause as Error).message ?? String(cause)}`, { cause });
        throw this.#failure;
      },
    );
    // Seen by the next commit or settled(); unobserved until then.
    this.#stored.catch(() => undefined);
  }
}

/**
 * Block sync over HTTP, the browser node's fallback (its default is the node core over
 * the peer protocol, core-sync.ts), and how it takes the genesis block: the browser node follows the Node peer by asking for block
 * ranges (`GET /native/blocks`, src/http/blocks.ts) after its own head and applying each
 * block through the executor, which checks the producer's signature, every
 * transaction's proofs (WebCrypto for P-256), re-executes the transactions and checks
 * the merkle root and block id before committing the block atomically. A block that
 * fails validation stops sync with a SyncError; nothing of it is committed.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Chain } from '../../chain/executor.ts';
import { decodeBlockFrames } from '../../http/blocks.ts';
import { unpackSignedBlock, type TransactionTrace } from '../../protocol/types.ts';
import { toHex } from '../../state/bytes.ts';
import { GENESIS_BLOCK_NUM } from '../../chain/constants.ts';
import { SYNC_BATCH_BLOCKS } from './constants.ts';
import { SyncError } from './errors.ts';

/** The part of the peer's `/native/status` sync reads. */
export interface PeerStatus {
  chainId: string | null;
  head: { num: number; id: string } | null;
  irreversible: { num: number; id: string } | null;
}

export interface AppliedBlock {
  num: number;
  id: Uint8Array;
  /** The block's transactions, in order, with their local traces (id: hex). */
  transactions: readonly { readonly id: string; readonly trace: TransactionTrace }[];
}

/** A transaction of an applied block; its id (hex) is hashed when first asked for. */
export class AppliedTransaction {
  #id: string | undefined;

  constructor(
    private readonly packed: Uint8Array,
    readonly trace: TransactionTrace,
  ) {}

  /** Only transactions the node waits for need it, so most are never hashed again. */
  get id(): string {
    return (this.#id ??= toHex(sha256(this.packed)));
  }
}

export interface BlockSyncInit {
  chain: Chain;
  /** The peer's root URL, e.g. http://psiweb.localhost:8080. */
  peerUrl: string;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  batchBlocks?: number;
  /** Told about each block once it is committed. */
  onApplied?: (block: AppliedBlock) => void | Promise<void>;
  /** Asked between blocks whether to stop early (a pending update, a closing tab). */
  shouldPause?: () => boolean;
}

export class BlockSync {
  readonly peerUrl: string;
  private readonly chain: Chain;
  private readonly fetch: (input: string, init?: RequestInit) => Promise<Response>;
  private readonly batch: number;

  constructor(private readonly init: BlockSyncInit) {
    this.chain = init.chain;
    this.peerUrl = init.peerUrl.replace(/\/+$/, '');
    this.fetch = init.fetch ?? ((i, r) => fetch(i, r));
    this.batch = init.batchBlocks ?? SYNC_BATCH_BLOCKS;
  }

  async peerStatus(): Promise<PeerStatus> {
    const res = await this.fetch(`${this.peerUrl}/native/status`, { cache: 'no-store' });
    if (!res.ok) throw new SyncError(`the peer's /native/status answered ${res.status}`);
    const s = (await res.json()) as PeerStatus;
    if (typeof s !== 'object' || s === null || !('head' in s)) throw new SyncError("the peer's /native/status is not a node status");
    return s;
  }

  /** A SyncError when the peer runs another chain than the one this browser holds. */
  checkChain(peer: PeerStatus | undefined): void {
    if (peer?.chainId && this.chain.head && this.chain.chainId && toHex(this.chain.chainId) !== peer.chainId.toLowerCase()) {
      throw new SyncError(`the peer runs chain ${peer.chainId}, this browser holds chain ${toHex(this.chain.chainId)}`);
    }
  }

  /** Applies the peer's genesis block when the chain holds none (the node core needs a root). */
  async genesis(): Promise<void> {
    if (this.chain.head) return;
    if ((await this.step(undefined, 1)) !== 1) throw new SyncError('the peer sent no genesis block');
  }

  /**
   * Fetches the next range after the local head and applies it. Returns how many
   * blocks were applied (0: nothing new, or paused before the first).
   */
  async step(peer?: PeerStatus, count = this.batch): Promise<number> {
    this.checkChain(peer);
    const local = this.chain.head;
    // psibase numbers the genesis block 2 (block 1 is never produced).
    const from = local ? local.num + 1 : GENESIS_BLOCK_NUM;
    if (peer?.head && peer.head.num < from) return 0;
    const res = await this.fetch(`${this.peerUrl}/native/blocks?from=${from}&count=${count}`, { cache: 'no-store' });
    if (!res.ok) throw new SyncError(`the peer's /native/blocks answered ${res.status}`);
    let frames: Uint8Array[];
    try {
      frames = decodeBlockFrames(new Uint8Array(await res.arrayBuffer()));
    } catch (e) {
      throw new SyncError(`the peer sent a malformed block range: ${(e as Error).message}`, { cause: e });
    }
    let applied = 0;
    for (const bytes of frames) {
      if (applied > 0 && this.init.shouldPause?.()) break;
      await this.applyOne(bytes, from + applied);
      applied++;
    }
    return applied;
  }

  private async applyOne(bytes: Uint8Array, expectedNum: number): Promise<void> {
    let signed;
    try {
      signed = unpackSignedBlock(bytes);
    } catch (e) {
      throw new SyncError(`block ${expectedNum} from the peer is malformed: ${(e as Error).message}`, { cause: e });
    }
    const num = signed.block.header.blockNum;
    if (num !== expectedNum) throw new SyncError(`asked for block ${expectedNum}, the peer sent block ${num}`);
    let result;
    try {
      result = await this.chain.applyBlock(bytes);
    } catch (e) {
      if ((e as Error).name === 'BlockValidationError') {
        throw new SyncError(`block ${num} from the peer is invalid: ${(e as Error).message}`, { cause: e });
      }
      throw e;
    }
    const transactions = signed.block.transactions.map((t, i) => new AppliedTransaction(t.transaction, result.traces[i]!));
    await this.init.onApplied?.({ num, id: result.id, transactions });
  }
}

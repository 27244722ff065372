/**
 * What the Node peer needs beside the node core (src/core/node.ts), which produces and
 * validates for every producer, sole or one of several: the system clock, and the view
 * of a follower that is not running the core (a follower of a chain with one producer,
 * or of no chain yet: the peer network applies the blocks it is sent, see
 * src/node/p2p/network.ts) — its chain and status; it produces nothing and hands
 * transactions on (src/node/forward.ts), so it refuses them itself.
 */
import { ChainHaltError } from '../chain/errors.ts';
import { producersOf } from '../chain/block-context.ts';
import type { Chain, OpenedTransaction } from '../chain/executor.ts';
import { accountName, accountNumber } from '../protocol/names.ts';
import type { SignedBlock, TransactionTrace } from '../protocol/types.ts';
// Checksums as psibase's JSON writes them (psio: upper-case hex), like /common/chainid.
import { toHex as hexId } from '../protocol/fracpack/index.ts';
import type { Clock, NodeStatus, WaitFor } from '../core/platform.ts';

export type { Clock, NodeStatus, WaitFor } from '../core/platform.ts';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A follower outside the node core: its chain, applied by the peer network, and its status. */
export class ChainFollower {
  constructor(
    readonly chain: Chain,
    /** The producer name it reports (the devnet's). */
    readonly producerName: string,
  ) {}

  get producer(): bigint {
    return accountNumber(this.producerName);
  }

  get pendingTransactions(): number {
    return 0;
  }

  start(): void {}

  async stop(): Promise<void> {}

  /** A follower produces nothing. */
  produceBlock(): Promise<{ num: number; id: Uint8Array; block: SignedBlock }> {
    return Promise.reject(new ChainHaltError('a follower does not produce blocks'));
  }

  /** A follower takes no transactions itself (the Node peer hands them on to a peer). */
  submit(_input: Uint8Array | OpenedTransaction, _options?: { waitFor: WaitFor }): Promise<TransactionTrace> {
    return Promise.reject(new ChainHaltError('this node follows: push to a producer'));
  }

  /** The node's view for `/native/status`: every block it applied is irreversible (one producer's chain). */
  async status(): Promise<NodeStatus> {
    const status = this.chain.status;
    const head = status?.head;
    const current = status?.consensus.current;
    let irreversible: NodeStatus['irreversible'] = null;
    if (head) {
      const num = head.header.commitNum;
      const rec = num === head.header.blockNum ? { id: head.blockId } : await this.chain.state.store.block(num);
      if (rec) irreversible = { num, id: hexId(rec.id) };
    }
    return {
      chainId: head ? hexId(status.chainId) : null,
      head: head ? { num: head.header.blockNum, id: hexId(head.blockId), time: new Date(Number(head.header.time / 1000n)).toISOString() } : null,
      irreversible,
      consensus: current ? ('CftConsensus' in current.data ? 'cft' : 'bft') : null,
      producers: current ? producersOf(current).map((p) => accountName(p.name)) : [],
      nextProducers: status?.consensus.next ? producersOf(status.consensus.next.consensus).map((p) => accountName(p.name)) : null,
      producer: this.producerName,
      producing: false,
      halted: null,
      pendingTransactions: 0,
    };
  }
}

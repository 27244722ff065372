/**
 * The node's StateDb: after each block commits, its write set goes out on the node
 * channel, so the service worker (and any other context reading the same IndexedDB)
 * updates its range cache in place instead of dropping it on every block.
 */
import { compact, toHex } from '../../state/bytes.ts';
import type { KvWrite } from '../../state/overlay.ts';
import { StateDb, type StateDbOptions } from '../../state/state-db.ts';
import type { BlockCommit, KvStore } from '../../state/store.ts';
import type { NodeMessage } from './messages.ts';

export class BroadcastingStateDb extends StateDb {
  constructor(
    store: KvStore,
    private readonly post: (m: NodeMessage) => void,
    options: StateDbOptions = {},
  ) {
    super(store, options);
  }

  override async commitBlock(commit: BlockCommit): Promise<void> {
    const writes: KvWrite[] = Array.isArray(commit.writes) ? commit.writes : [...commit.writes];
    await super.commitBlock({ ...commit, writes });
    // Compacted: a view into a wasm memory would clone the whole memory.
    this.post({
      type: 'block',
      num: commit.head.num,
      id: toHex(commit.head.id),
      writes: writes.map(([k, v]) => [compact(k), v === undefined ? undefined : compact(v)]),
    });
  }
}

/**
 * The root service worker's view of the chain: IndexedDB state through StateDb's range
 * cache, queried by src/http's Router. Nothing in it matters beyond a request: the
 * worker may be killed when idle and rebuilds it from IndexedDB on the next request.
 *
 * One request sees one block's state. The cache holds the state of `head`; the node
 * broadcasts each committed block's write set, which moves the cache to the next head
 * in place (or drops it when blocks were missed). A range loaded from IndexedDB can be
 * newer than the cache when a block committed and its broadcast has not arrived yet, so
 * whenever ranges were loaded during a request the head record is read again: if it
 * moved, the cache is brought to the new head and the request runs again. A request
 * that loaded nothing ran entirely on the cache, which is one block's state.
 */
import { Chain } from '../src/chain/executor.ts';
import { knownBody } from '../src/http/known-body.ts';
import { Router } from '../src/http/router.ts';
import { activeChainDb } from '../src/node/browser/networks.ts';
import type { NodeMessage } from '../src/node/browser/messages.ts';
import { BrowserServiceHost } from '../src/node/browser/service-host.ts';
import { fromHex } from '../src/protocol/fracpack/hex.ts';
import { bytesEqual } from '../src/state/bytes.ts';
import { IdbStore } from '../src/state/idb-store.ts';
import { StateDb } from '../src/state/state-db.ts';

/** How stale the in-memory head may get before a request reads the head record again. */
const HEAD_RECHECK_MS = 1_000;

/** Runs of one request before it is answered on whatever state it got (never happens in practice). */
const MAX_CONSISTENCY_RUNS = 4;

interface Head {
  num: number;
  id: Uint8Array;
}

export class ChainView {
  readonly router: Router;
  private head: Head | undefined;
  private checkedAt = 0;

  private constructor(
    /** The IndexedDB database of the network it answers for (the profile's active one). */
    readonly db: string,
    private readonly store: IdbStore,
    private readonly state: StateDb,
    chain: Chain,
    rootHost: string,
  ) {
    this.router = new Router({ rootHost, chain, onError: (e) => console.error('psiweb sw:', e) });
  }

  /** A view of the profile's active network (networks.ts), or of database `db`. */
  static async open(rootHost: string, db?: string): Promise<ChainView> {
    db ??= await activeChainDb();
    const store = await IdbStore.open(db);
    const state = new StateDb(store);
    // One host for the worker's lifetime, counting its pooled wasm memories (service-host.ts).
    const view = new ChainView(db, store, state, await Chain.open({ state, host: new BrowserServiceHost() }), rootHost);
    await view.recheck();
    return view;
  }

  /** Closes its database (the active network changed). */
  close(): Promise<void> {
    return this.store.close();
  }

  /** The head this view answers from (undefined: nothing synced yet). */
  get headNum(): number | undefined {
    return this.head?.num;
  }

  /** A committed block announced by the node. */
  onBlock(m: Extract<NodeMessage, { type: 'block' }>): void {
    if (this.head && m.num <= this.head.num) return;
    if (this.head && (m.from ?? m.num) === this.head.num + 1) this.state.cache?.applyCommitted(m.writes);
    else this.state.invalidate();
    this.head = { num: m.num, id: fromHex(m.id) };
    this.checkedAt = Date.now();
  }

  /** Reads the head record; when it is not the cache's head, the cache starts over. Returns whether it moved. */
  private async recheck(): Promise<boolean> {
    const h = await this.state.head();
    this.checkedAt = Date.now();
    const same = h === undefined ? this.head === undefined : this.head !== undefined && this.head.num === h.num && bytesEqual(this.head.id, h.id);
    if (same) return false;
    this.state.invalidate();
    this.head = h && { num: h.num, id: h.id };
    return true;
  }

  private loads(): number {
    return this.state.cache?.loads ?? 0;
  }

  /**
   * Answers `request` (a fetch Request for the service's own URL) from local state. Its
   * body is best given beside it (withKnownBody), so a run on a newer head needs no clone.
   */
  async handle(request: Request): Promise<Response> {
    if (Date.now() - this.checkedAt > HEAD_RECHECK_MS) await this.recheck();
    for (let run = 1; ; run++) {
      const loadsBefore = this.loads();
      // A body the router reads from beside the request (known-body.ts) can be read again;
      // a body stream only once, so such a request is cloned for each run but the last.
      const attempt = run < MAX_CONSISTENCY_RUNS && request.body !== null && knownBody(request) === undefined ? request.clone() : request;
      const response = await this.router.handle(attempt);
      if (this.loads() === loadsBefore || run >= MAX_CONSISTENCY_RUNS) return withHead(response, this.head);
      if (!(await this.recheck())) return withHead(response, this.head);
    }
  }
}

/** Tells the client which block the answer comes from. */
function withHead(response: Response, head: Head | undefined): Response {
  if (!head) return response;
  try {
    response.headers.set('x-psiweb-block', String(head.num));
    return response;
  } catch {
    // Immutable headers (a redirect): answer as is.
    return response;
  }
}

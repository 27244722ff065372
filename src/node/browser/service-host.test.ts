import { beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { Router } from '../../http/router.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import type { KvStore } from '../../state/store.ts';
import { ServiceHost } from '../../vm/index.ts';
import { bootDevnet, loadDevnet } from '../devnet.ts';
import { MAX_IDLE_INSTANCES, MAX_POOLED_MEMORIES } from './constants.ts';
import { BrowserServiceHost } from './service-host.ts';

// A cold services/build compiles every service first.
const BUILD_TIMEOUT_MS = 300_000;
const ROOT = 'psiweb.localhost';
const QUERIES = 300;

/** What the tokens app asks for when it loads, plus a file from sites (its memory grows). */
const TARGETS = [
  `http://tokens.${ROOT}/`,
  `http://tokens.${ROOT}/balances/alice`,
  `http://tokens.${ROOT}/common/tapos/head`,
  `http://${ROOT}/common/chainid`,
];

/** The committed state without its synchronous reader: reads miss and retry, as over IndexedDB. */
function asyncOnly(store: KvStore): KvStore {
  return {
    syncReader: undefined,
    get: (key) => store.get(key),
    getRange: (start, end, options) => store.getRange(start, end, options),
    head: () => store.head(),
    block: (num) => store.block(num),
    commitBlock: (commit) => store.commitBlock(commit),
    close: () => store.close(),
  };
}

/** Counts the transaction contexts the query path opens and closes. */
function countContexts(host: ServiceHost): { open: () => number } {
  let open = 0;
  const transaction = host.transaction.bind(host);
  host.transaction = (options) => {
    const tx = transaction(options);
    open++;
    const close = tx.close.bind(tx);
    let closed = false;
    tx.close = () => {
      if (!closed) open--;
      closed = true;
      close();
    };
    return tx;
  };
  return { open: () => open };
}

describe('the service worker query path', () => {
  let store: MemoryStore;
  let nativeVerifiers: Awaited<ReturnType<typeof loadDevnet>>['nativeVerifiers'];

  beforeAll(async () => {
    const devnet = await loadDevnet();
    nativeVerifiers = devnet.nativeVerifiers;
    store = new MemoryStore();
    const chain = await Chain.open({ state: new StateDb(store), nativeVerifiers });
    await bootDevnet(chain, devnet, 1_700_000_000_000_000n);
  }, BUILD_TIMEOUT_MS);

  async function serve(host: ServiceHost) {
    const state = new StateDb(asyncOnly(store));
    const chain = await Chain.open({ state, host, nativeVerifiers });
    return { state, router: new Router({ rootHost: ROOT, chain }) };
  }

  it('closes every context, also on cache misses, and keeps a bounded number of wasm memories', async () => {
    const host = new BrowserServiceHost();
    const contexts = countContexts(host);
    const { state, router } = await serve(host);
    let most = 0;
    for (let i = 0; i < QUERIES; i++) {
      const response = await router.handle(new Request(TARGETS[i % TARGETS.length]!));
      expect(response.status, `${TARGETS[i % TARGETS.length]}: ${await response.clone().text()}`).toBe(200);
      expect(contexts.open()).toBe(0);
      most = Math.max(most, host.pooledMemories);
    }
    // The range cache did miss and retry (each missed range is one load).
    expect(state.cache!.stats.loads).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(MAX_IDLE_INSTANCES + MAX_POOLED_MEMORIES);
    // Instances are reused, not only discarded: the pool is not empty.
    expect(host.pooledInstances).toBeGreaterThan(0);
  });
});

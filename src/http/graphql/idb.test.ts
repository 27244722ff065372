/**
 * The GraphQL queries over IndexedDB, the store the root service worker reads offline:
 * reads start on a cold range cache, so the status row, the block log's ends and its
 * blocks are all missed, loaded and read again (StateDb.run), and the answers are the
 * same as over memory.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { testServices } from '../../chain/test-kit.ts';
import { accountNumber } from '../../protocol/names.ts';
import { IdbStore } from '../../state/idb-store.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { Router } from '../router.ts';

const ROOT = 'psiweb.localhost';
const PROD = accountNumber('prod');
const T0 = 1_700_000_000_000_000n;
let idb: IdbStore;
let memoryRouter: Router;

async function boot(chain: Chain): Promise<void> {
  await chain.boot({ services: await testServices(), producer: PROD, time: T0 });
  for (let i = 1; i <= 4; i++) await chain.produceBlock({ producer: PROD, time: T0 + BigInt(i) * 1_000_000n });
}

beforeAll(async () => {
  idb = await IdbStore.open(`psiweb-graphql-${Date.now()}`);
  await boot(await Chain.open({ state: new StateDb(idb) }));
  const memory = await Chain.open({ state: new StateDb(new MemoryStore()) });
  await boot(memory);
  memoryRouter = new Router({ rootHost: ROOT, chain: memory });
});

afterAll(() => idb.close());

const QUERIES: [string, string][] = [
  ['producers', 'query { producers { name auth { service rawData } } nextProducers { name } }'],
  ['explorer', 'query { blocks(last:1) { edges { node { header { blockNum previous time producer term commitNum } } } } }'],
  ['explorer', '{ blocks(first: 2 ge: 3) { edges { cursor node { header { blockNum trxMerkleRoot } transactions { proofs } } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }'],
  ['accounts', '{ getAccount(accountName: "alice") { accountNum } }'],
];

function ask(router: Router, service: string, query: string): Promise<unknown> {
  const host = `${service}.${ROOT}`;
  return router
    .handle(new Request(`http://${host}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } }))
    .then((r) => r.json());
}

describe('GraphQL over IndexedDB (the root service worker, offline)', () => {
  it('answers as over memory, from a cold cache', async () => {
    for (const [service, query] of QUERIES) {
      // A fresh StateDb per query: its range cache starts empty.
      const state = new StateDb(idb);
      const router = new Router({ rootHost: ROOT, chain: await Chain.open({ state }) });
      state.invalidate();
      const before = state.cache!.stats.misses;
      const got = await ask(router, service, query);
      expect(got, query).toEqual(await ask(memoryRouter, service, query));
      expect(got, query).not.toHaveProperty('errors');
      if (service !== 'accounts') expect(state.cache!.stats.misses, query).toBeGreaterThan(before);
    }
  });
});

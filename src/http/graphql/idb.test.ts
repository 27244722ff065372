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
import { tokensRows } from './tokens-fixture.ts';

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

/** tokens' tables (fixed rows, no chain booted), committed as one block. */
async function withTokens(state: StateDb): Promise<Router> {
  const rows = tokensRows(1000n, { alice: 600n, bob: 400n });
  await state.commitBlock({ writes: rows, block: { num: 1, id: new Uint8Array(32), bytes: new Uint8Array(0) }, head: { num: 1, id: new Uint8Array(32) } });
  return new Router({ rootHost: ROOT, chain: await Chain.open({ state }) });
}

const TOKENS_QUERIES = [
  '{ userBalances(user: "alice") { edges { cursor } nodes { account tokenId balance precision } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }',
  '{ userBalances(user: "bob" last: 1 before: "00000002") { nodes { balance } pageInfo { hasPreviousPage hasNextPage } } }',
  '{ userBalance(user: "carol", tokenId: "1") { balance } config { sysTid token { id currentSupply owner } } }',
  '{ token(tokenId: "1") { id issuedSupply settings { unrecallable } } userTokens(user: "tokens") { id } userSettings(user: "bob") { flags } }',
];

describe("tokens' GraphQL over IndexedDB (the root service worker, offline)", () => {
  it('answers psibase\'s Tokens queries as over memory, from a cold cache', async () => {
    const tokensIdb = await IdbStore.open(`psiweb-graphql-tokens-${Date.now()}`);
    try {
      await withTokens(new StateDb(tokensIdb));
      const memory = await withTokens(new StateDb(new MemoryStore()));
      for (const query of TOKENS_QUERIES) {
        const state = new StateDb(tokensIdb);
        const router = new Router({ rootHost: ROOT, chain: await Chain.open({ state }) });
        state.invalidate();
        const before = state.cache!.stats.misses;
        const got = await ask(router, 'tokens', query);
        expect(got, query).toEqual(await ask(memory, 'tokens', query));
        expect(got, query).not.toHaveProperty('errors');
        expect(state.cache!.stats.misses, query).toBeGreaterThan(before);
      }
      const first = (await ask(new Router({ rootHost: ROOT, chain: await Chain.open({ state: new StateDb(tokensIdb) }) }), 'tokens', TOKENS_QUERIES[0]!)) as any;
      expect(first.data.userBalances.nodes).toEqual([{ account: 'alice', tokenId: 1, balance: '600', precision: 0 }]);
    } finally {
      await tokensIdb.close();
    }
  });
});

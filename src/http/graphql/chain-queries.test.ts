/**
 * `/graphql` on producers and explorer through the Router, over a chain booted with a
 * the WAT stand-in services and a few empty blocks (the devnet's real services: src/node/
 * graphql-devnet.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { testServices } from '../../chain/test-kit.ts';
import { accountName, accountNumber } from '../../protocol/names.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { Router } from '../router.ts';
import { constantService, packOptionalReply, textReply } from '../test-kit.ts';
import { ChainSnapshot, chainRunner, tableConnectionField, tableIndexPrefix, u32KeyBytes } from './chain-queries.ts';
import { makeConnection, type KeyedIndex } from './connection.ts';
import { buildSchema } from './introspection.ts';
import { GraphqlFloat, GraphqlString, nonNull, type ObjectType } from './schema.ts';

const ROOT = 'psiweb.localhost';
const PROD = accountNumber('prod');
const T0 = 1_700_000_000_000_000n;
/** Blocks after genesis. */
const MORE = 6;
let chain: Chain;
let router: Router;

beforeAll(async () => {
  chain = await Chain.open({ state: new StateDb(new MemoryStore()) });
  const code = await constantService({ retval: packOptionalReply(textReply(200, 'a service')) });
  const services = [...(await testServices()), { service: accountNumber('hello'), flags: 0n, vmType: 0, vmVersion: 0, code }];
  await chain.boot({ services, producer: PROD, time: T0 });
  for (let i = 1; i <= MORE; i++) await chain.produceBlock({ producer: PROD, time: T0 + BigInt(i) * 1_000_000n });
  router = new Router({ rootHost: ROOT, chain });
});

const headNum = () => chain.head!.num;

function post(service: string, body: unknown, contentType = 'application/json', path = '/graphql'): Promise<Response> {
  const host = `${service}.${ROOT}`;
  return router.handle(
    new Request(`http://${host}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { host, 'content-type': contentType } }),
  );
}

async function gql(service: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await post(service, { query, ...(variables && { variables }) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  return res.json();
}

const HEADER = 'header { blockNum previous time producer term commitNum }';

describe('producers.<root>/graphql', () => {
  it("answers psinode.py's get_producers query from the status row", async () => {
    const r = await gql('producers', 'query { producers { name } nextProducers { name } }');
    const status = chain.status!;
    expect(status.consensus.next ?? null).toBeNull();
    expect(r).toEqual({ data: { producers: [{ name: 'prod' }], nextProducers: [] } });
    const full = await gql('producers', '{ producers { name auth { service rawData } } jointStart }');
    expect(full.data.producers).toEqual([{ name: 'prod', auth: { service: expect.any(String), rawData: expect.any(String) } }]);
    expect(full.data.jointStart).toBeNull();
  });

  it('answers consensus and nextConsensus as the ConsensusData union', async () => {
    const r = await gql('producers', '{ consensus { __typename ... on CftConsensus { producers { name } } ... on BftConsensus { producers { name } } } nextConsensus { __typename } }');
    expect(r).toEqual({ data: { consensus: { __typename: 'CftConsensus', producers: [{ name: 'prod' }] }, nextConsensus: null } });
  });

  it('refuses what producers does not have, as GraphQL errors (200)', async () => {
    const r = await gql('producers', '{ blocks { edges { cursor } } }');
    expect(r).toEqual({ errors: [{ message: 'Cannot query field "blocks" on type "ProducerQuery"', locations: [{ line: 1, column: 3 }] }] });
  });
});

describe('accounts.<root>/graphql', () => {
  it('answers null for accounts the chain does not have, and refuses bad names and too many', async () => {
    expect(await gql('accounts', '{ getAccount(accountName: "alice") { accountNum } }')).toEqual({ data: { getAccount: null } });
    const bad = await gql('accounts', '{ getAccount(accountName: "Alice!") { accountNum } }');
    expect(bad).toEqual({ data: { getAccount: null }, errors: [{ message: '"Alice!" is not an account name', locations: [{ line: 1, column: 3 }], path: ['getAccount'] }] });
    const names = JSON.stringify(Array.from({ length: 1001 }, () => 'alice'));
    const many = await gql('accounts', `{ getAccounts(accountNames: ${names}) { accountNum } }`);
    expect(many.errors[0].message).toBe('getAccounts takes at most 1000 names, got 1001');
    expect(many.data).toBeNull();
  });
});

describe('transact.<root>/graphql', () => {
  it('answers snapshotInfo with null (no snapshots), beside push_transaction', async () => {
    expect(await gql('transact', '{ snapshotInfo { lastSnapshot snapshotInterval } }')).toEqual({ data: { snapshotInfo: null } });
    const push = await post('transact', 'not a transaction', 'application/octet-stream', '/push_transaction');
    expect(push.status).toBe(503); // this router has no submitter: the push path, not /graphql, answered
  });
});

describe('explorer.<root>/graphql', () => {
  it("answers psinode.py's get_block_header queries", async () => {
    const last = await gql('explorer', `query { blocks(last:1) { edges { node { ${HEADER} } } } }`);
    const head = (await chain.blockByNum(headNum()))!.block.header;
    expect(last.data.blocks.edges).toHaveLength(1);
    expect(last.data.blocks.edges[0].node.header).toEqual({
      blockNum: headNum(),
      previous: Buffer.from(head.previous).toString('hex').toUpperCase(),
      time: '2023-11-14T22:13:26.000000Z',
      producer: 'prod',
      term: head.term,
      commitNum: head.commitNum,
    });
    const n = headNum() - 2;
    const byNum = await gql('explorer', `query { blocks(first:1 ge:${n}) { edges { node { ${HEADER} } } } }`);
    expect(byNum.data.blocks.edges[0].node.header.blockNum).toBe(n);
    expect(byNum.data.blocks.edges[0].node.header.time).toBe('2023-11-14T22:13:24.000000Z');
    // psinode.py answers None for a block past the head: an empty page.
    const past = await gql('explorer', `query { blocks(first:1 ge:${headNum() + 1}) { edges { node { ${HEADER} } } } }`);
    expect(past).toEqual({ data: { blocks: { edges: [] } } });
  });

  it('pages the block log both ways, every block once, cursors as psibase keys', async () => {
    const forward: number[] = [];
    let after = '';
    for (;;) {
      const r = await gql('explorer', 'query($a: String) { blocks(first: 2, after: $a) { edges { cursor node { header { blockNum } } } pageInfo { hasNextPage endCursor } } }', { a: after });
      for (const e of r.data.blocks.edges) {
        forward.push(e.node.header.blockNum);
        expect(e.cursor).toBe(e.node.header.blockNum.toString(16).toUpperCase().padStart(8, '0'));
      }
      if (!r.data.blocks.pageInfo.hasNextPage) break;
      after = r.data.blocks.pageInfo.endCursor;
    }
    const all = Array.from({ length: MORE + 1 }, (_, i) => headNum() - MORE + i);
    expect(forward).toEqual(all);
    const backward: number[] = [];
    let before = '';
    for (;;) {
      const r = await gql('explorer', `{ blocks(last: 3, before: "${before}") { edges { node { header { blockNum } } } pageInfo { hasPreviousPage startCursor } } }`);
      backward.unshift(...r.data.blocks.edges.map((e: any) => e.node.header.blockNum));
      if (!r.data.blocks.pageInfo.hasPreviousPage) break;
      before = r.data.blocks.pageInfo.startCursor;
    }
    expect(backward).toEqual(all);
    const bounded = await gql('explorer', `{ blocks(gt: ${all[1]} le: ${all[4]}) { edges { node { header { blockNum } } } pageInfo { hasPreviousPage hasNextPage } } }`);
    expect(bounded.data.blocks.edges.map((e: any) => e.node.header.blockNum)).toEqual(all.slice(2, 5));
    expect(bounded.data.blocks.pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: false });
  });

  it('finds every bound and cursor as a search over the log keys would, short, long and out-of-range ones too', async () => {
    const all = Array.from({ length: MORE + 1 }, (_, i) => headNum() - MORE + i);
    const log: KeyedIndex<number> = { size: all.length, key: (p) => u32KeyBytes(all[p]!), node: (p) => all[p]! };
    const nums = [0, all[0]! - 1, all[0]!, all[3]!, all[all.length - 1]!, all[all.length - 1]! + 1, 0xffffffff];
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
    const cursors = nums.flatMap((n) => [hex(n), hex(n).slice(0, 4), `${hex(n)}00`, `${hex(n)}FF`]);
    const cases: Record<string, unknown>[] = [
      ...nums.flatMap((n) => [{ ge: n }, { gt: n }, { le: n }, { lt: n }, { ge: n, last: 2 }, { le: n, first: 2 }]),
      ...cursors.flatMap((c) => [{ after: c }, { before: c }, { after: c, first: 2 }, { before: c, last: 2 }, { after: c, le: all[4] }]),
    ];
    for (const args of cases) {
      const want = makeConnection(log, args, u32KeyBytes);
      const text = Object.entries(args).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(' ');
      const r = await gql('explorer', `{ blocks(${text}) { edges { cursor node { header { blockNum } } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }`);
      expect({ args, edges: r.data.blocks.edges.map((e: any) => [e.cursor, e.node.header.blockNum]), pageInfo: r.data.blocks.pageInfo }).toEqual({
        args,
        edges: want.edges.map((e) => [e.cursor, e.node()]),
        pageInfo: want.pageInfo,
      });
    }
  });

  it('answers the block a fork switch put at a number, not the one it replaced', async () => {
    // The explorer keeps decoded blocks by number; a fork switch rewrites reversible ones.
    const node = await Chain.open({ state: new StateDb(new MemoryStore()), reversible: true });
    await node.boot({ services: await testServices(), producer: PROD, time: T0 });
    await node.produceBlock({ producer: PROD, time: T0 + 1_000_000n });
    const r = new Router({ rootHost: ROOT, chain: node });
    const host = `explorer.${ROOT}`;
    const timeAt = async (n: number) => {
      const res = await r.handle(new Request(`http://${host}/graphql`, { method: 'POST', body: JSON.stringify({ query: `{ blocks(first: 1 ge: ${n}) { edges { node { header { blockNum time } } } } }` }), headers: { host, 'content-type': 'application/json' } }));
      return ((await res.json()) as any).data.blocks.edges[0]?.node.header.time as string | undefined;
    };
    const n = node.head!.num;
    expect(await timeAt(n)).toBe('2023-11-14T22:13:21.000000Z');
    await node.revertTo(n - 1);
    expect(await timeAt(n)).toBeUndefined();
    await node.produceBlock({ producer: PROD, time: T0 + 5_000_000n });
    expect(node.head!.num).toBe(n);
    expect(await timeAt(n)).toBe('2023-11-14T22:13:25.000000Z');
  });

  it("gives a block's transactions in psibase's JSON", async () => {
    const r = await gql('explorer', `{ blocks(first: 1) { edges { node { header { blockNum authCode { vmType } } transactions { transaction { tapos { expiration flags } actions { sender service method rawData } } proofs } } } } }`);
    const genesis = r.data.blocks.edges[0].node;
    // The genesis block carries the verify services' code (the stand-in verifier).
    expect(genesis.header.authCode).toEqual([{ vmType: 0 }]);
    expect(genesis.transactions.length).toBeGreaterThan(0);
    const action = genesis.transactions[0].transaction.actions[0];
    expect(action).toMatchObject({ sender: expect.any(String), service: expect.any(String), method: expect.any(String) });
    expect(action.rawData).toMatch(/^([0-9A-F]{2})*$/);
    expect(genesis.transactions[0].transaction.tapos.expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it("gives each header's newConsensus as the block has it", async () => {
    const r = await gql(
      'explorer',
      '{ blocks { edges { node { header { blockNum newConsensus { data { ... on CftConsensus { producers { name auth { service } } } } services { codeNum vmType vmVersion codeHash } wasmConfig { numExecutionMemories vmOptions { max_pages } } } } } } } }',
    );
    let seen = 0;
    for (const e of r.data.blocks.edges) {
      const { header } = (await chain.blockByNum(e.node.header.blockNum))!.block;
      const want = header.newConsensus;
      if (!want) {
        expect(e.node.header.newConsensus).toBeNull();
        continue;
      }
      seen++;
      const data = want.data as { CftConsensus: { producers: { name: bigint }[] } };
      expect(e.node.header.newConsensus.data.producers.map((p: any) => p.name)).toEqual(data.CftConsensus.producers.map((p) => accountName(p.name)));
      expect(e.node.header.newConsensus.services).toEqual(
        want.services.map((x) => ({ codeNum: accountName(x.codeNum), vmType: x.vmType, vmVersion: x.vmVersion, codeHash: Buffer.from(x.codeHash).toString('hex').toUpperCase() })),
      );
      expect(e.node.header.newConsensus.wasmConfig).toEqual({ numExecutionMemories: want.wasmConfig.numExecutionMemories, vmOptions: { max_pages: want.wasmConfig.vmOptions.max_pages } });
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('answers bad arguments with errors, never a 500', async () => {
    const neg = await gql('explorer', '{ blocks(ge: -1) { edges { cursor } } }');
    expect(neg).toEqual({ data: null, errors: [{ message: 'a block number is a whole number from 0 to 4294967295, got -1', locations: [{ line: 1, column: 3 }], path: ['blocks'] }] });
    const big = await gql('explorer', '{ blocks(first: 5000) { edges { cursor } } }');
    expect(big.errors[0].message).toMatch(/a page holds at most 1000 rows/);
    const bad = await gql('explorer', '{ blocks(first: "x") { edges { cursor } } }');
    expect(bad.errors[0].message).toBe('argument "first" of type "Float" cannot be the string "x"');
    expect(bad.data).toBeUndefined();
  });
});

describe('/graphql over HTTP', () => {
  const url = (service: string, q = '') => `http://${service}.${ROOT}/graphql${q}`;

  it('takes GET ?query=, POST ?query=, application/graphql bodies, and serves the schema', async () => {
    const get = await router.handle(new Request(url('producers', `?query=${encodeURIComponent('{ producers { name } }')}`)));
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ data: { producers: [{ name: 'prod' }] } });
    const vars = await router.handle(new Request(url('explorer', `?query=${encodeURIComponent('query($n: Float) { blocks(last: $n) { edges { cursor } } }')}&variables=${encodeURIComponent('{"n":2}')}`)));
    expect((await vars.json()).data.blocks.edges).toHaveLength(2);
    const postUrl = await router.handle(new Request(url('producers', '?query={producers{name}}'), { method: 'POST' }));
    expect(await postUrl.json()).toEqual({ data: { producers: [{ name: 'prod' }] } });
    const graphqlBody = await post('producers', '{ nextProducers { name } }', 'application/graphql');
    expect(await graphqlBody.json()).toEqual({ data: { nextProducers: [] } });
    const charset = await post('producers', { query: '{ producers { name } }' }, 'application/json; charset=utf-8');
    expect(charset.status).toBe(200);
    const schema = await router.handle(new Request(url('explorer')));
    expect(schema.status).toBe(200);
    expect(schema.headers.get('access-control-allow-origin')).toBe('*');
    const sdl = await schema.text();
    expect(sdl).toContain('type Query {\n    """The block log, keyed by block number"""\n    blocks(gt: Float ge: Float lt: Float le: Float first: Float last: Float before: String after: String): BlockConnection!\n}');
    expect(sdl).toContain('type BlockHeader {');
  });

  it('answers preflights and refuses bad requests with clear statuses', async () => {
    const pre = await router.handle(new Request(url('explorer'), { method: 'OPTIONS' }));
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    const notJson = await post('explorer', '{"query": ');
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).errors[0].message).toMatch(/^the body is not JSON/);
    const noQuery = await post('explorer', { q: 1 });
    expect(noQuery.status).toBe(400);
    expect((await noQuery.json()).errors[0].message).toBe('the body has no "query" string: send {"query": "…"}');
    const text = await post('explorer', 'hello', 'text/plain');
    expect(text.status).toBe(415);
    const badVars = await router.handle(new Request(url('explorer', '?query={blocks{pageInfo{hasNextPage}}}&variables={')));
    expect(badVars.status).toBe(400);
    const put = await router.handle(new Request(url('explorer'), { method: 'PUT', body: '{}' }));
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
    // A mutation is a GraphQL error, not an HTTP one.
    const mutation = await post('explorer', { query: 'mutation { blocks { pageInfo { hasNextPage } } }' });
    expect(mutation.status).toBe(200);
    expect((await mutation.json()).errors[0].message).toMatch(/^Mutations are not served/);
    // Other services' /graphql still go to the service, and other paths on explorer too.
    const other = await router.handle(new Request(url('hello')));
    expect(await other.text()).toBe('a service');
  });
});

describe('service tables as connections (tableConnectionField)', () => {
  it('pages a primary and a secondary index of fixed rows, each page from one read', async () => {
    // A table 3 of the service "fake": rows {id (u32 key), name}, index 1 by name (string key).
    const service = accountNumber('fake');
    const rows = [
      { id: 1, name: 'pear' },
      { id: 2, name: 'apple' },
      { id: 3, name: 'fig' },
      { id: 4, name: 'kiwi' },
      { id: 5, name: 'date' },
    ];
    const enc = new TextEncoder();
    const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
    const u32 = (v: number) => new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
    const writes: [Uint8Array, Uint8Array][] = [];
    for (const r of rows) {
      writes.push([cat(tableIndexPrefix(service, 3, 0), u32(r.id)), enc.encode(JSON.stringify(r))]);
      writes.push([cat(tableIndexPrefix(service, 3, 1), enc.encode(r.name)), cat(new Uint8Array([0]), u32(r.id))]);
    }
    // A neighbouring table's row, which no page may show.
    writes.push([cat(tableIndexPrefix(service, 4, 0), u32(1)), enc.encode('{"id":99,"name":"other"}')]);
    const state = new StateDb(new MemoryStore());
    await state.commitBlock({ writes, block: { num: 1, id: new Uint8Array(32), bytes: new Uint8Array(0) }, head: { num: 1, id: new Uint8Array(32) } });
    const Row: ObjectType = { kind: 'OBJECT', name: 'Fruit', fields: () => ({ id: { type: nonNull(GraphqlFloat) }, name: { type: nonNull(GraphqlString) } }) };
    const decode = (row: Uint8Array) => JSON.parse(new TextDecoder().decode(row));
    const Query: ObjectType<ChainSnapshot> = {
      kind: 'OBJECT',
      name: 'Query',
      fields: () => ({
        byId: tableConnectionField(Row, GraphqlFloat, (v: number) => u32(v), { service, table: 3 }, decode),
        byName: tableConnectionField(Row, GraphqlString, (v: string) => enc.encode(v), { service, table: 3, index: 1 }, decode),
      }),
    };
    const run = chainRunner(buildSchema(Query), state);
    const ask = async (q: string) => {
      const r = await run({ query: q });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      return r.data as any;
    };
    const names = (c: any) => c.edges.map((e: any) => e.node.name);
    expect(names((await ask('{ byId { edges { node { name } } } }')).byId)).toEqual(['pear', 'apple', 'fig', 'kiwi', 'date']);
    expect(names((await ask('{ byName { edges { node { name } } } }')).byName)).toEqual(['apple', 'date', 'fig', 'kiwi', 'pear']);
    const page = (await ask('{ byName(ge: "b" lt: "kiwi" first: 2) { edges { cursor node { id name } } pageInfo { hasPreviousPage hasNextPage endCursor } } }')).byName;
    expect(page.edges).toEqual([
      { cursor: '64617465', node: { id: 5, name: 'date' } },
      { cursor: '666967', node: { id: 3, name: 'fig' } },
    ]);
    expect(page.pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: false, endCursor: '666967' });
    const back = (await ask('{ byId(last: 2 before: "00000004") { edges { cursor node { name } } pageInfo { hasPreviousPage hasNextPage } } }')).byId;
    expect(back).toEqual({ edges: [{ cursor: '00000002', node: { name: 'apple' } }, { cursor: '00000003', node: { name: 'fig' } }], pageInfo: { hasPreviousPage: true, hasNextPage: true } });
    // A secondary entry whose row is gone is an error at that field, not a crash.
    await state.commitBlock({ writes: [[cat(tableIndexPrefix(service, 3, 0), u32(3)), undefined]], block: { num: 2, id: new Uint8Array(32).fill(1), bytes: new Uint8Array(0) }, head: { num: 2, id: new Uint8Array(32).fill(1) } });
    const broken = await run({ query: '{ byName { edges { node { name } } } }' });
    expect(broken.errors![0]!.message).toBe('a secondary index entry of table 3 points at no row');
  });
});

describe('a chain not booted yet', () => {
  it('has no producers and an empty block log', async () => {
    const empty = new Router({ rootHost: ROOT, chain: await Chain.open({ state: new StateDb(new MemoryStore()) }) });
    const ask = async (service: string, query: string) =>
      (await empty.handle(new Request(`http://${service}.${ROOT}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } }))).json();
    expect(await ask('producers', '{ producers { name } nextProducers { name } consensus { __typename } jointStart }')).toEqual({
      data: { producers: [], nextProducers: [], consensus: { __typename: 'CftConsensus' }, jointStart: null },
    });
    expect(await ask('explorer', '{ blocks(last: 1) { edges { cursor } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }')).toEqual({
      data: { blocks: { edges: [], pageInfo: { hasPreviousPage: false, hasNextPage: false, startCursor: '', endCursor: '' } } },
    });
  });
});

describe('answers from one block', () => {
  it('runs a query again when a block commits while it runs, and says so when the head keeps moving', async () => {
    let commits = 0;
    let attempts = 0;
    const Probe: ObjectType<ChainSnapshot> = {
      kind: 'OBJECT',
      name: 'Query',
      fields: () => ({
        head: {
          type: nonNull(GraphqlFloat),
          resolve: async (_p, _a, snap) => {
            attempts++;
            const seen = snap.status!.head!.header.blockNum;
            if (commits < 1) {
              commits++;
              await chain.produceBlock({ producer: PROD });
            }
            return seen;
          },
        },
      }),
    };
    const schema = buildSchema(Probe);
    const before = headNum();
    expect(await chainRunner(schema, chain.state)({ query: '{ head }' })).toEqual({ data: { head: before + 1 } });
    expect(attempts).toBe(2);
    // Every attempt sees a new head: no answer mixes blocks, so there is none.
    commits = -10;
    const r = await chainRunner(schema, chain.state, 2)({ query: '{ head }' });
    expect(r).toEqual({ errors: [{ message: "the chain's head moved on while this query ran, 2 times over; ask again" }] });
  });
});

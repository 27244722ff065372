/**
 * `tokens.<root>/graphql` (psibase's Tokens queries) over fixed rows of psiweb's tokens
 * tables, through the Router: shapes and names as psibase's query service answers
 * them, paging both ways, empty pages, and bad queries as GraphQL `errors` (200). The
 * devnet's real tokens service, after a transfer: src/node/graphql-devnet.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { Router } from '../router.ts';
import { formatDecimal } from './tokens-queries.ts';
import { tokensRows } from './tokens-fixture.ts';

const ROOT = 'psiweb.localhost';

/** A Router over a state holding only `rows` (no chain booted: the queries read tables). */
async function routerWith(rows: [Uint8Array, Uint8Array][]): Promise<Router> {
  const state = new StateDb(new MemoryStore());
  await state.commitBlock({ writes: rows, block: { num: 1, id: new Uint8Array(32), bytes: new Uint8Array(0) }, head: { num: 1, id: new Uint8Array(32) } });
  return new Router({ rootHost: ROOT, chain: await Chain.open({ state }) });
}

let router: Router;
let uninitialized: Router;

beforeAll(async () => {
  router = await routerWith(tokensRows(1000n, { alice: 600n, bob: 400n }));
  uninitialized = await routerWith([]);
});

async function gql(query: string, variables?: Record<string, unknown>, on = router): Promise<any> {
  const host = `tokens.${ROOT}`;
  const res = await on.handle(
    new Request(`http://${host}/graphql`, { method: 'POST', body: JSON.stringify({ query, ...(variables && { variables }) }), headers: { host, 'content-type': 'application/json' } }),
  );
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  return res.json();
}

const PAGE = 'pageInfo { hasPreviousPage hasNextPage startCursor endCursor }';
const TOKEN_FIELDS = 'id nftId precision owner currentSupply issuedSupply maxIssuedSupply burnedSupply settings { untransferable unrecallable } symbol';
const SYS_TOKEN = {
  id: 1,
  nftId: 0,
  precision: 0,
  owner: 'tokens',
  currentSupply: '1000',
  issuedSupply: '1000',
  maxIssuedSupply: '1000',
  burnedSupply: '0',
  settings: { untransferable: false, unrecallable: true },
  symbol: null,
};

describe("psibase's Decimal", () => {
  it('prints a quantity at its precision as psibase does', () => {
    expect(formatDecimal(40000n, 0)).toBe('40000');
    expect(formatDecimal(0n, 1)).toBe('0.0');
    expect(formatDecimal(40000n, 2)).toBe('400.00');
    expect(formatDecimal(123n, 3)).toBe('0.123');
    expect(formatDecimal(12345n, 4)).toBe('1.2345');
    expect(formatDecimal(1n, 8)).toBe('0.00000001');
    expect(formatDecimal(18446744073709551615n, 4)).toBe('1844674407370955.1615');
  });
});

describe('tokens.<root>/graphql', () => {
  it('answers config and token with the system token', async () => {
    const r = await gql(`{ config { sysTid token { ${TOKEN_FIELDS} } } token(tokenId: "1") { ${TOKEN_FIELDS} } none: token(tokenId: "2") { id } }`);
    expect(r).toEqual({ data: { config: { sysTid: 1, token: SYS_TOKEN }, token: SYS_TOKEN, none: null } });
  });

  it("answers a user's balances as psibase's userBalances connection (edges, nodes, pageInfo)", async () => {
    const r = await gql(`query($u: AccountNumber!) { userBalances(user: $u) { edges { cursor node { tokenId } } nodes { account tokenId balance precision symbol settings { autoDebit keepZeroBalances } } ${PAGE} } }`, { u: 'alice' });
    expect(r).toEqual({
      data: {
        userBalances: {
          edges: [{ cursor: '00000001', node: { tokenId: 1 } }],
          nodes: [{ account: 'alice', tokenId: 1, balance: '600', precision: 0, symbol: null, settings: { autoDebit: true, keepZeroBalances: false } }],
          pageInfo: { hasPreviousPage: false, hasNextPage: false, startCursor: '00000001', endCursor: '00000001' },
        },
      },
    });
  });

  it('pages both ways, with empty pages past either end and for users without balances', async () => {
    const page = async (args: string, user = 'bob') => (await gql(`{ userBalances(user: "${user}" ${args}) { nodes { balance } ${PAGE} } }`)).data.userBalances;
    const one = { hasPreviousPage: false, hasNextPage: false, startCursor: '00000001', endCursor: '00000001' };
    expect(await page('first: 1')).toEqual({ nodes: [{ balance: '400' }], pageInfo: one });
    expect(await page('last: 1')).toEqual({ nodes: [{ balance: '400' }], pageInfo: one });
    // Past the end going forward, before the start going backward: empty, null cursors.
    expect(await page('first: 5 after: "00000001"')).toEqual({ nodes: [], pageInfo: { hasPreviousPage: true, hasNextPage: false, startCursor: null, endCursor: null } });
    expect(await page('last: 5 before: "00000001"')).toEqual({ nodes: [], pageInfo: { hasPreviousPage: false, hasNextPage: true, startCursor: null, endCursor: null } });
    expect(await page('first: 0')).toEqual({ nodes: [], pageInfo: { hasPreviousPage: false, hasNextPage: true, startCursor: null, endCursor: null } });
    // A cursor before or after the only row pages onto it.
    expect((await page('first: 1 after: "00000000"')).nodes).toEqual([{ balance: '400' }]);
    expect((await page('last: 1 before: "00000002"')).nodes).toEqual([{ balance: '400' }]);
    // carol holds nothing (psiweb erases zero balances), and a chain before tokens' init has no token.
    const empty = { nodes: [], pageInfo: { hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null } };
    expect(await page('', 'carol')).toEqual(empty);
    expect((await gql(`{ userBalances(user: "alice") { nodes { balance } ${PAGE} } }`, undefined, uninitialized)).data.userBalances).toEqual(empty);
  });

  it('answers userBalance (0 for none), userSettings, userTokens and the empty pending and sub-account connections', async () => {
    const r = await gql(`{
      a: userBalance(user: "alice", tokenId: "1") { account tokenId balance precision }
      c: userBalance(user: "carol", tokenId: "1") { account tokenId balance }
      userSettings(user: "carol") { account flags settings { autoDebit keepZeroBalances } }
      owner: userTokens(user: "tokens") { id currentSupply }
      other: userTokens(user: "alice") { id }
      userPending(user: "alice", tokenId: 1) { nodes { sharedBalId } ${PAGE} }
      userSubaccounts(user: "alice", first: 10) { edges { cursor } ${PAGE} }
    }`);
    const empty = { hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null };
    expect(r).toEqual({
      data: {
        a: { account: 'alice', tokenId: 1, balance: '600', precision: 0 },
        c: { account: 'carol', tokenId: 1, balance: '0' },
        userSettings: { account: 'carol', flags: 1, settings: { autoDebit: true, keepZeroBalances: false } },
        owner: [{ id: 1, currentSupply: '1000' }],
        other: [],
        userPending: { nodes: [], pageInfo: empty },
        userSubaccounts: { edges: [], pageInfo: empty },
      },
    });
    const before = await gql('{ config { sysTid } token(tokenId: "1") { id } userTokens(user: "tokens") { id } }', undefined, uninitialized);
    expect(before).toEqual({ data: { config: null, token: null, userTokens: [] } });
  });

  it('refuses bad queries with GraphQL errors (200), never a 500', async () => {
    const cases: [string, RegExp][] = [
      ['{ userBalances(user: "alice" first: -1) { nodes { balance } } }', /"first" must be a whole number of rows/],
      ['{ userBalances(user: "alice" last: 1001) { nodes { balance } } }', /a page holds at most 1000 rows/],
      ['{ userBalances(user: "alice" after: "not hex") { nodes { balance } } }', /"after" must be a cursor from an earlier page/],
      ['{ userBalances(user: "Not A Name") { nodes { balance } } }', /Expected string containing account number/],
      ['{ userBalances { nodes { balance } } }', /user/],
      ['{ userBalances(user: "alice" first: "2") { nodes { balance } } }', /argument "first" of type "Int" cannot be the string "2"/],
      ['{ userBalances(user: "alice") { nodes { nope } } }', /Cannot query field "nope" on type "Balance"/],
      ['{ userBalance(user: "alice", tokenId: "2") { balance } }', /^Token DNE$/],
      ['{ token(tokenId: "sym") { id } }', /token by symbol not found/],
      ['{ token(tokenId: "1x") { id } }', /invalid token ID number/],
      ['{ token(tokenId: "99999999999") { id } }', /invalid token ID number/],
      ['{ token(tokenId: "") { id } }', /a token id is a token number or a symbol/],
      ['{ token(tokenId: "-1") { id } }', /neither a token number nor a symbol/],
      ['{ subaccountBalance(user: "alice", subAccount: "savings", tokenId: 1) { balance } }', /Sub-account 'savings' not found for user 'alice'/],
      ['{ balChanges(tokenId: 1, account: "alice") { nodes { amount } } }', /Cannot query field "balChanges"/],
      ['{ userBalances(user: "alice") { nodes { balance } }', /Syntax error/],
      ['mutation { userBalances(user: "alice") { nodes { balance } } }', /mutation/i],
    ];
    for (const [query, message] of cases) {
      const r = await gql(query);
      expect(r.errors?.length, query).toBeGreaterThan(0);
      expect(r.errors[0].message, query).toMatch(message);
    }
    // Still answering.
    expect((await gql('{ config { sysTid } }')).data.config.sysTid).toBe(1);
  });

  it('publishes its schema with the names psibase uses', async () => {
    const host = `tokens.${ROOT}`;
    const sdl = await (await router.handle(new Request(`http://${host}/graphql`, { headers: { host } }))).text();
    for (const line of [
      'userBalances(user: AccountNumber! first: Int last: Int before: String after: String): BalanceConnection!',
      'userBalance(user: AccountNumber! tokenId: String!): Balance!',
      'token(tokenId: String!): Token',
      'type BalanceConnection {',
      'nodes: [Balance!]!',
      'scalar Decimal',
    ]) {
      expect(sdl).toContain(line);
    }
  });
});

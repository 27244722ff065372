/**
 * psibase's Python client (programs/psinode/tests/psinode.py) reading a psiweb devnet:
 * a client written as that one is (plain HTTP and JSON, the exact query text it
 * sends, its checks: raise_for_status, then GraphQL `errors`), through the Router
 * over a booted devnet that has applied a signed token transfer; and the same client
 * over a real socket, through the Node server, as psinode.py talks to psinode.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../chain/executor.ts';
import { sign } from '../crypto/keys.ts';
import { toHex } from '../protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { taposRef } from '../protocol/tapos.ts';
import { packTransaction } from '../protocol/types.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { Router } from '../http/router.ts';
import { ACCOUNTS, ACCOUNT_TABLE, AccountType, accountKeyBytes, accountRowSchema, chainRunner, tableConnectionField, type ChainSnapshot } from '../http/graphql/chain-queries.ts';
import { buildSchema } from '../http/graphql/introspection.ts';
import { GraphqlString, type ObjectType } from '../http/graphql/schema.ts';
import { TOKENS_GRAPHQL } from '../http/graphql/tokens-queries.ts';
import { DEVNET_PRODUCER } from './constants.ts';
import { DEVNET_SERVICES, DEVNET_TOKEN_SUPPLY, DEVNET_USERS, bootDevnet, devnetKey, loadDevnet, type Devnet } from './devnet.ts';
import { createHttpServer } from './http-server.ts';
import { packActionArgs } from './schemas.ts';

// A cold services/build compiles every service first.
const BUILD_TIMEOUT_MS = 300_000;
const ROOT = 'psiweb.localhost';
const T0 = 1_700_000_000_000_000n;
let devnet: Devnet;
let chain: Chain;
let router: Router;
let server: Server | undefined;

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** A fetch over a real TCP connection to 127.0.0.1:port, keeping the request's Host (as requests does for *.localhost). */
function socketFetch(port: number): (r: Request) => Promise<Response> {
  return async (r) => {
    const url = new URL(r.url);
    const body = Buffer.from(await r.arrayBuffer());
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method: r.method, path: url.pathname + url.search, headers: { ...Object.fromEntries(r.headers), host: url.host, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers: res.headers as Record<string, string> })));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}
let transferBlock: number;
/** tokens' userBalances of alice and bob before the transfer, as psibase's Tokens query answers them. */
let balancesBefore: unknown;
const BALANCES_QUERY = '{ alice: userBalances(user: "alice") { nodes { account tokenId balance precision } } bob: userBalance(user: "bob", tokenId: "1") { balance } }';
let transferBlockId: Uint8Array;

class GraphQLError extends Error {}
class HTTPError extends Error {}

/** psinode.py's API class, the parts that read chain state (its code, in TypeScript). */
class PsinodeClient {
  constructor(private readonly fetch: (r: Request) => Promise<Response>) {}

  private async post(path: string, service: string, json: unknown): Promise<Response> {
    const host = `${service}.${ROOT}`;
    return this.fetch(new Request(`http://${host}${path}`, { method: 'POST', body: JSON.stringify(json), headers: { host, 'content-type': 'application/json' } }));
  }

  async graphql(service: string, query: string): Promise<any> {
    const result = await this.post('/graphql', service, { query });
    if (result.status >= 400) throw new HTTPError(`${result.status}: ${await result.text()}`);
    const json = (await result.json()) as { data?: unknown; errors?: unknown };
    if ('errors' in json) throw new GraphQLError(JSON.stringify(json));
    return json.data;
  }

  async get_producers(): Promise<[string[], string[]]> {
    const flatten = (producers: { name: string }[]) => producers.map((p) => p.name);
    const result = await this.graphql('producers', 'query { producers { name } nextProducers { name } }');
    return [flatten(result.producers), flatten(result.nextProducers)];
  }

  async get_block_header(num = -1): Promise<any> {
    let args: string;
    if (num === -1) args = 'last:1';
    else {
      if (num < 0) {
        num += (await this.get_block_header()).blockNum + 1;
        if (num < 0) return null;
      }
      args = `first:1 ge:${num}`;
    }
    const result = await this.graphql(
      'explorer',
      `
            query {
                blocks(${args}) {
                    edges {
                        node {
                            header {
                                blockNum
                                previous
                                time
                                producer
                                term
                                commitNum
                            }
                        }
                    }
                }
            }
        `,
    );
    const edges = result.blocks.edges;
    return edges.length === 0 ? null : edges[0].node.header;
  }
}

beforeAll(async () => {
  devnet = await loadDevnet();
  chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  await bootDevnet(chain, devnet, T0);
  balancesBefore = (await chainRunner(TOKENS_GRAPHQL, chain.state)({ query: BALANCES_QUERY })).data;
  // A signed alice → bob transfer, as psinode.py pushes one, in the next block.
  const head = chain.head!;
  const key = await devnetKey('alice');
  const transaction = packTransaction({
    tapos: { expiration: head.time / 1_000_000n + 60n, flags: 0, ...taposRef(head.num, head.id) },
    actions: [
      {
        sender: accountNumber('alice'),
        service: accountNumber('tokens'),
        method: methodNumber('transfer'),
        rawData: packActionArgs('tokens', 'transfer', { to: 'bob', amount: '5', memo: 'graphql' }),
      },
    ],
    claims: [{ service: accountNumber('verify-sig'), rawData: key.publicKeyDer }],
  });
  const produced = await chain.produceBlock({
    producer: devnet.producer,
    prover: devnet.prover,
    transactions: [{ transaction, proofs: [await sign(key, transaction)], subjectiveData: null }],
  });
  expect(produced.rejected).toEqual([]);
  transferBlock = produced.block.block.header.blockNum;
  transferBlockId = produced.id;
  for (let i = 0; i < 3; i++) await chain.produceBlock({ producer: devnet.producer, prover: devnet.prover });
  router = new Router({ rootHost: ROOT, chain });
}, BUILD_TIMEOUT_MS);

describe("psibase's Python client on a devnet", () => {
  it('reads the producers', async () => {
    const client = new PsinodeClient((r) => router.handle(r));
    expect(await client.get_producers()).toEqual([[DEVNET_PRODUCER], []]);
  });

  it('reads the head header and headers by number, as psinode.py does', async () => {
    const client = new PsinodeClient((r) => router.handle(r));
    const head = (await chain.blockByNum(chain.head!.num))!.block.header;
    const got = await client.get_block_header();
    expect(got).toEqual({
      blockNum: chain.head!.num,
      previous: toHex(head.previous),
      time: new Date(Number(head.time / 1000n)).toISOString().replace('Z', '000Z'),
      producer: DEVNET_PRODUCER,
      term: head.term,
      commitNum: head.commitNum,
    });
    expect((await client.get_block_header(-2)).blockNum).toBe(chain.head!.num - 1);
    expect((await client.get_block_header(transferBlock)).blockNum).toBe(transferBlock);
    // The previous of each block is the id of the one before it.
    expect((await client.get_block_header(transferBlock + 1)).previous).toBe(toHex(transferBlockId));
    expect(await client.get_block_header(chain.head!.num + 1)).toBeNull();
    expect(await client.get_block_header(-1000)).toBeNull();
  });

  it("shows the transfer in its block, and a bad query raises GraphQLError as psinode.py's does", async () => {
    const client = new PsinodeClient((r) => router.handle(r));
    const r = await client.graphql('explorer', `{ blocks(first: 1 ge: ${transferBlock}) { edges { node { transactions { transaction { actions { sender service method rawData } } } } } } }`);
    const trxs = r.blocks.edges[0].node.transactions;
    expect(trxs.map((t: any) => t.transaction.actions[0])).toContainEqual({
      sender: 'alice',
      service: 'tokens',
      method: 'transfer',
      rawData: toHex(packActionArgs('tokens', 'transfer', { to: 'bob', amount: '5', memo: 'graphql' })),
    });
    await expect(client.graphql('explorer', '{ blocks(first: 1) { edges { nope } } }')).rejects.toThrow(GraphQLError);
    await expect(client.graphql('producers', 'query { producers { name }')).rejects.toThrow(/Syntax error/);
  });

  it("reads accounts as psibase's AccountsQuery answers them", async () => {
    const client = new PsinodeClient((r) => router.handle(r));
    const one = await client.graphql('accounts', 'query { getAccount(accountName: "alice") { accountNum authService authSequence } }');
    expect(one).toEqual({ getAccount: { accountNum: 'alice', authService: 'auth-sig', authSequence: '0' } });
    const many = await client.graphql('accounts', '{ getAccounts(accountNames: ["bob", "nobody", "tokens"]) { accountNum authService } }');
    expect(many.getAccounts).toEqual([{ accountNum: 'bob', authService: 'auth-sig' }, null, { accountNum: 'tokens', authService: 'auth-delg' }]);
    await expect(client.graphql('accounts', '{ getAccount(accountName: "NOT A NAME") { accountNum } }')).rejects.toThrow(/is not an account name/);
  });

  it("pages the accounts service's real table as a connection (tableConnectionField)", async () => {
    const Query: ObjectType<ChainSnapshot> = {
      kind: 'OBJECT',
      name: 'Query',
      fields: () => ({
        accounts: tableConnectionField(AccountType, GraphqlString, accountKeyBytes, { service: ACCOUNTS, table: ACCOUNT_TABLE }, (row) => accountRowSchema.type('Account').decode(row)),
      }),
    };
    const run = chainRunner(buildSchema(Query), chain.state);
    const ask = async (args: string) => {
      const r = await run({ query: `{ accounts(${args}) { edges { node { accountNum authService } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } }` });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      return (r.data as any).accounts;
    };
    const forward: string[] = [];
    let after = '';
    for (;;) {
      const page = await ask(`first: 4 after: "${after}"`);
      forward.push(...page.edges.map((e: any) => e.node.accountNum));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const byNumber = [...forward].sort((a, b) => (accountNumber(a) < accountNumber(b) ? -1 : 1));
    expect(forward).toEqual(byNumber);
    expect(forward).toEqual(expect.arrayContaining([...DEVNET_SERVICES.map((x) => x.name), ...DEVNET_USERS]));
    const backward: string[] = [];
    let before = '';
    for (;;) {
      const page = await ask(`last: 5 before: "${before}"`);
      backward.unshift(...page.edges.map((e: any) => e.node.accountNum));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(backward).toEqual(forward);
    const some = await ask('ge: "bob" lt: "tokens"');
    expect(some.edges.map((e: any) => e.node.accountNum)).toEqual(forward.filter((n) => accountNumber(n) >= accountNumber('bob') && accountNumber(n) < accountNumber('tokens')));
  });

  it("reads tokens' balances as psibase's Tokens queries answer them, changed by the transfer", async () => {
    const client = new PsinodeClient((r) => router.handle(r));
    const half = DEVNET_TOKEN_SUPPLY / 2n;
    expect(balancesBefore).toEqual({ alice: { nodes: [{ account: 'alice', tokenId: 1, balance: `${half}`, precision: 0 }] }, bob: { balance: `${half}` } });
    expect(await client.graphql('tokens', BALANCES_QUERY)).toEqual({
      alice: { nodes: [{ account: 'alice', tokenId: 1, balance: `${half - 5n}`, precision: 0 }] },
      bob: { balance: `${half + 5n}` },
    });
    const token = await client.graphql('tokens', '{ config { sysTid token { id currentSupply owner } } }');
    expect(token).toEqual({ config: { sysTid: 1, token: { id: 1, currentSupply: `${DEVNET_TOKEN_SUPPLY}`, owner: 'tokens' } } });
    // The same balance as tokens' own HTTP answers it.
    const host = `tokens.${ROOT}`;
    const own = await (await router.handle(new Request(`http://${host}/balances/bob`, { headers: { host } }))).json();
    expect(own).toEqual({ account: 'bob', balance: `${half + 5n}` });
    await expect(client.graphql('tokens', '{ userBalances(user: "alice" first: -1) { nodes { balance } } }')).rejects.toThrow(GraphQLError);
  });

  it('does the same over a real socket, through the Node server', async () => {
    server = createHttpServer((r) => router.handle(r), { maxBodyBytes: 1 << 20 });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = new PsinodeClient(socketFetch((server.address() as AddressInfo).port));
    expect(await client.get_producers()).toEqual([[DEVNET_PRODUCER], []]);
    expect((await client.get_block_header()).blockNum).toBe(chain.head!.num);
    expect((await client.get_block_header(transferBlock)).producer).toBe(DEVNET_PRODUCER);
    await expect(client.graphql('explorer', '{ nope }')).rejects.toThrow(GraphQLError);
  });
});

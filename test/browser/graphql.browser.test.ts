/**
 * GraphQL and the schema endpoint through the root service worker, offline (issue 14):
 * a devnet Node peer with a few dozen blocks serves the production build; the page's
 * node syncs them into IndexedDB; then the peer is stopped and the browser set offline,
 * and `/_svc/<service>/graphql` (and `/_svc/packages/schema`) on the root origin must
 * answer exactly what the Node peer answered for the same requests at the same head.
 * The dashboard's explorer panel (src/ui/explorer.ts) shows recent blocks and their
 * transactions, follows new blocks live, and shows them after an offline reload.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_SCHEMAS } from '../../src/http/service-schemas.ts';
import { openApp, produceTransferBlocks } from '../../src/node/browser/testing.ts';
import { launchChromium } from './chromium.ts';
import { ensureProductionBuild, startDevnetPeer, type DevnetPeer } from './devnet.ts';

const BLOCKS = 30;

const QUERIES: [string, string][] = [
  ['producers', 'query { producers { name } nextProducers { name } }'],
  ['explorer', 'query { blocks(first: 20 ge: 2) { edges { cursor node { header { blockNum previous time producer term commitNum } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }'],
  ['explorer', 'query { blocks(last: 1) { edges { node { header { blockNum producer } } } } }'],
  ['accounts', 'query { accounts(first: 5) { edges { node { accountNum authService } } pageInfo { hasNextPage endCursor } } }'],
  ['tokens', 'query { userBalances(user: "alice", first: 20) { edges { cursor node { tokenId balance precision } } pageInfo { hasNextPage startCursor } } }'],
  ['tokens', 'query { token(tokenId: "1") { id precision currentSupply maxIssuedSupply } }'],
];

interface Answer {
  status: number;
  body: unknown;
  block: string | null;
}

/** POSTs a GraphQL query from the page to the root origin's `/_svc/<service>/graphql`. */
function swQuery(page: Page, service: string, query: string): Promise<Answer> {
  return page.evaluate(
    async ([s, q]) => {
      const r = await fetch(`/_svc/${s}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query: q }) });
      return { status: r.status, body: await r.json(), block: r.headers.get('x-psiweb-block') };
    },
    [service, query] as const,
  );
}

/** Waits until the page's node has synced block `head` into IndexedDB (the worker answers it). */
async function synced(page: Page, head: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const last = await swQuery(page, 'explorer', QUERIES[2]![1]).catch(() => undefined);
    const num = (last?.body as { data?: { blocks?: { edges: { node: { header: { blockNum: number } } }[] } } })?.data?.blocks?.edges[0]?.node.header.blockNum;
    if (num === head) return;
    if (Date.now() > deadline) throw new Error(`the browser node did not reach block ${head} (last seen ${num})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('GraphQL through the root service worker', () => {
  let peer: DevnetPeer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let head: number;
  const expected: unknown[] = [];

  beforeAll(async () => {
    await ensureProductionBuild();
    peer = await startDevnetPeer({ produce: false });
    await produceTransferBlocks(peer.peer, BLOCKS, 1);
    head = peer.peer.node.chain.head!.num;
    browser = await launchChromium();
    context = await browser.newContext();
    page = await openApp(context, peer.url);
    await synced(page, head);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await peer?.dispose();
  });

  it("the dashboard's explorer shows recent blocks and their transactions, live", async () => {
    const panel = page.locator('psiweb-explorer');
    await panel.locator(`li[data-block="${head}"]`).waitFor({ timeout: 30_000 });
    expect(await panel.locator('li[data-block]').count()).toBe(10);
    // A new block on the peer appears without a reload, with its transfer.
    await produceTransferBlocks(peer.peer, 1, 1);
    head = peer.peer.node.chain.head!.num;
    const newest = panel.locator(`li[data-block="${head}"]`);
    await newest.waitFor({ timeout: 30_000 });
    // The block's own transact::startblock (no sender) and the transfer.
    expect(await newest.locator('[data-action]').allTextContents()).toEqual(['transact::startblock', 'alice → tokens::transfer']);
    expect(await panel.locator('li[data-block]').first().getAttribute('data-block')).toBe(String(head));
  });

  it('answers the Node peer’s answers, offline with the peer stopped', async () => {
    await synced(page, head);
    // What the Node peer answers at that head (its router, as its HTTP server hands it requests).
    for (const [service, query] of QUERIES) {
      const host = `${service}.${peer.rootHost}`;
      const res = await peer.peer.router.handle(new Request(`http://${host}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } }));
      expect(res.status).toBe(200);
      expected.push(await res.json());
    }
    await peer.stop();
    await context.setOffline(true);
    for (const [i, [service, query]] of QUERIES.entries()) {
      const answer = await swQuery(page, service, query);
      expect(answer.status, query).toBe(200);
      expect(answer.block, 'answered by the service worker').toBe(String(head));
      expect(answer.body, query).toEqual(expected[i]);
    }
    const blocks = (expected[1] as { data: { blocks: { edges: unknown[] } } }).data.blocks.edges;
    expect(blocks).toHaveLength(20);
  });

  it('answers bad queries with GraphQL errors, not a failure', async () => {
    const syntax = await swQuery(page, 'producers', 'query { producers { name }');
    expect(syntax.status).toBe(200);
    expect((syntax.body as { errors: { message: string }[] }).errors[0]!.message).toMatch(/Syntax error/i);
    const field = await swQuery(page, 'explorer', 'query { blocks(first: 1) { nope } }');
    expect((field.body as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    // Still answering.
    expect((await swQuery(page, 'producers', QUERIES[0]![1])).body).toEqual(expected[0]);
  });

  it('serves the schema endpoint offline too', async () => {
    const got = await page.evaluate(async () => {
      const ok = await fetch('/_svc/packages/schema?service=tokens');
      const missing = await fetch('/_svc/packages/schema?service=nosuchsvc');
      return { status: ok.status, body: await ok.json(), missing: missing.status, why: await missing.text() };
    });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(BUILT_IN_SCHEMAS.get('tokens'));
    expect(got.missing).toBe(404);
    expect(got.why).toBe("No schema for service 'nosuchsvc'");
  });

  it("the explorer shows the latest blocks after an offline reload, from local state", async () => {
    await page.reload();
    const panel = page.locator('psiweb-explorer');
    await panel.locator(`li[data-block="${head}"]`).waitFor({ timeout: 30_000 });
    expect(await panel.locator(`li[data-block="${head}"] [data-action]`).allTextContents()).toEqual(['transact::startblock', 'alice → tokens::transfer']);
    expect(await panel.locator('[data-field="explorer-error"]').count()).toBe(0);
  });
});

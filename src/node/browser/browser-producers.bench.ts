/**
 * Browsers that produce (issue 11 §3), their benchmarks, in Chromium against a
 * production build served by a Node peer (the libp2p relay only): four fresh contexts
 * grow one network into a BFT set of four (test/browser/producer-browsers.ts: one
 * creates it, three join by invite and offer to produce, the creator names them), each
 * producing from its node's worker with its non-extractable WebCrypto key.
 *
 *  1. Push → irreversible: PUSHES transfers, one after another, each pushed in the
 *     next browser in turn through its root service worker (`POST
 *     transact/push_transaction`). A producing browser answers a push once the block
 *     holding it is irreversible (its outbox record is settled when the block commits,
 *     and under a set of several a block commits when irreversible), so the round trip
 *     is push → irreversible as that browser's user sees it. Each answer is checked
 *     (no error, a trace). p50 and p95.
 *  2. Transfers finalised per second: BURST transfers signed beforehand (alice → bob,
 *     each its own memo), a quarter pushed in each browser at once; every answer checked
 *     (200, or 202 queued; no error); timed from the first push until bob's balance —
 *     committed state, which in a set of several is irreversible state — shows all of
 *     them in every browser.
 * Uses its own Chromium (the service worker needs the peer's origin).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { figure, type BenchFile, type Figure } from '../../../test/bench-kit.ts';
import { launchChromium, newPeerContext } from '../../../test/browser/chromium.ts';
import { ensureProductionBuild, startDevnetPeer, type DevnetPeer } from '../../../test/browser/devnet.ts';
import { growProducers } from '../../../test/browser/producer-browsers.ts';
import { percentile } from '../../../test/measure.ts';
import { openApp, ownStatus, svc, until } from './testing.ts';
import { signedTransfer } from './tx.ts';

const PRODUCERS = 4;
const PUSHES = 40;
const BURST = 400;
const FINALITY_TARGET_MS = 300;
const RATE_TARGET = 1000;

/** A signed transfer of `amount` against `page`'s head. */
async function transferFor(page: Page, amount: string, memo: string): Promise<Uint8Array> {
  const tapos = JSON.parse(await page.evaluate(async () => (await fetch('/common/tapos/head')).text())) as { refBlockIndex: number; refBlockSuffix: number };
  return signedTransfer({ from: 'alice', to: 'bob', amount, memo, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 600) });
}

/** Pushes each of `txs` through `page`'s root service worker at once; the answers' statuses and errors. */
function pushAll(page: Page, txs: Uint8Array[]): Promise<{ status: number; error: string | null }[]> {
  return page.evaluate(async (bodies) => {
    return Promise.all(
      bodies.map(async (b) => {
        const r = await fetch('/_svc/transact/push_transaction', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(b) });
        const text = await r.text();
        let error: string | null = null;
        try {
          error = (JSON.parse(text) as { error?: string | null }).error ?? null;
        } catch {
          error = text.slice(0, 200);
        }
        return { status: r.status, error };
      }),
    );
  }, txs.map((t) => Array.from(t)));
}

const bench: BenchFile = async () => {
  await ensureProductionBuild();
  const peer: DevnetPeer = await startDevnetPeer({});
  const browser: Browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  const figures: Figure[] = [];
  const open = async (url: string): Promise<Page> => {
    const context = await newPeerContext(browser, peer.url);
    contexts.push(context);
    return openApp(context, url);
  };
  try {
    const { all } = await growProducers(open, peer.url, 'bft', PRODUCERS);

    // 1. Push → irreversible, one at a time.
    const latencies: number[] = [];
    for (let i = 0; i < PUSHES; i++) {
      const page = all[i % all.length]!;
      const t = await transferFor(page, '1', `finality ${i}`);
      const start = performance.now();
      const [answer] = await pushAll(page, [t]);
      latencies.push(performance.now() - start);
      if (answer!.status !== 200 || answer!.error !== null) throw new Error(`push ${i} in browser ${(i % all.length) + 1}: ${answer!.status} ${answer!.error}`);
    }
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    const how = `${PUSHES} transfers pushed one after another, each in the next of the ${PRODUCERS} producing browsers, through its root service worker; each timed from the POST to its answer (given once its block is irreversible there), every answer checked; blocks every 1 s (the default interval)`;
    figures.push(figure(`push → irreversible p50, ${PRODUCERS}-browser BFT`, 'chromium', p50, 'ms', { op: '<=', value: FINALITY_TARGET_MS, text: '≤ 300 ms' }, how));
    figures.push(figure(`push → irreversible p95, ${PRODUCERS}-browser BFT`, 'chromium', p95, 'ms', undefined, how));

    // 2. A burst, a quarter pushed in each browser at once.
    const before = BigInt(JSON.parse((await svc(all[0]!, 'tokens/balances/bob')).body).balance as string);
    const batches: Uint8Array[][] = all.map(() => []);
    for (let i = 0; i < BURST; i++) batches[i % all.length]!.push(await transferFor(all[i % all.length]!, '1', `burst ${i}`));
    const start = performance.now();
    const answers = (await Promise.all(all.map((p, i) => pushAll(p, batches[i]!)))).flat();
    // 202: queued in the outbox, its verdict not in yet (the service worker answers within a few seconds either way).
    const bad = answers.filter((a) => (a.status !== 200 && a.status !== 202) || a.error !== null);
    if (bad.length > 0) throw new Error(`${bad.length} of ${BURST} pushes failed, e.g. ${JSON.stringify(bad[0])}`);
    // Finalised everywhere: bob's balance (committed state: irreversible blocks only) in every browser.
    for (const [i, p] of all.entries()) {
      await until(async () => BigInt(JSON.parse((await svc(p, 'tokens/balances/bob')).body).balance as string) === before + BigInt(BURST) || undefined, 120_000, `bob's balance after the burst in browser ${i + 1}`).catch(async (e: unknown) => {
        const seen = await Promise.all(all.map(async (q) => ({ bob: JSON.parse((await svc(q, 'tokens/balances/bob')).body).balance, status: await ownStatus(q) })));
        throw new Error(`${(e as Error).message}; bob had ${before} before; ${JSON.stringify(seen.map((x) => ({ bob: x.bob, head: x.status?.head?.num, irr: x.status?.irreversible?.num, pending: x.status?.pendingTransactions, error: x.status?.error })))}`);
      });
    }
    const seconds = (performance.now() - start) / 1000;
    const queued = answers.filter((a) => a.status === 202).length;
    figures.push(
      figure(
        `transfers finalised per second, ${PRODUCERS}-browser BFT`,
        'chromium',
        BURST / seconds,
        'transfers/s',
        { op: '>=', value: RATE_TARGET, text: '≥ 1,000/s' },
        `${BURST} transfers signed beforehand, ${BURST / PRODUCERS} pushed at once in each producing browser through its root service worker (${queued} answered 202, queued), none refused; from the first push until bob's balance (committed, i.e. irreversible, state) shows all ${BURST} in every one of the ${PRODUCERS} browsers, polled through the service worker; blocks every 1 s`,
      ),
    );
  } finally {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    await browser.close();
    await peer.dispose();
  }
  return figures;
};

export default bench;

/**
 * Browsers that produce together (issue 11 §3), end to end on a production build: a
 * Node peer (devnet, a libp2p relay only) and four browser contexts, each its own
 * profile. The first opens `#create`; the others open its invite link, sync over WebRTC
 * and press "Offer to produce" (a non-extractable key, an account and a candidacy through
 * the network's producers); the first presses "Make every candidate a producer (BFT)"
 * (producers::setConsensus). All four then produce under BFT — every vote and block
 * signed with a WebCrypto key — a transfer pushed in one is applied in all, and when
 * its leader's tab is hidden it keeps its slots (it produces from its worker); when its
 * worker cannot run, its dashboard says it missed slots; when the leader's browser
 * closes, the other three keep finalising. Three browsers under
 * CFT likewise survive losing their leader.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { peerBrowsers } from '../../../test/browser/peer-browsers.ts';
import { hiddenTabInit, setHidden } from '../../../test/browser/hidden-tab.ts';
import { closeLeader, consensusField, currentLeader, growProducers } from '../../../test/browser/producer-browsers.ts';
import { ownStatus, svc, until, type OwnStatus } from './testing.ts';
import { signedTransfer } from './tx.ts';

describe('browsers producing one network together', () => {
  // Each page can be hidden as Chrome hides a tab (hidden-tab.ts).
  const net = peerBrowsers({ nodeLog: /libp2p|relay|refus/i, pageLog: /libp2p|p2p:|psiweb node|error|offer|producer|consensus/i, initScript: hiddenTabInit });
  const status = async (p: Page): Promise<OwnStatus> => (await ownStatus(p)) ?? ({} as OwnStatus);

  it('bft: joiners offer to produce, the creator names them; all four finalise, a transfer applies in all, and three go on when the leader closes', async () => {
    net.watch();
    const { all } = await growProducers(net.open, net.peer.url, 'bft', 4);
    const names = await Promise.all(all.map(async (p) => (await status(p)).producer!));
    // A transfer pushed in a joiner is applied in all four.
    const from = all[3]!;
    const tapos = JSON.parse(await from.evaluate(async () => (await fetch('/common/tapos/head')).text())) as { refBlockIndex: number; refBlockSuffix: number };
    const tx = await signedTransfer({ from: 'alice', to: 'bob', amount: '21', memo: 'four producers', tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
    const pushed = await svc(from, 'transact/push_transaction', { method: 'POST', body: Array.from(tx) });
    expect(pushed.status, pushed.body).toBe(200);
    expect(JSON.parse(pushed.body).error ?? null).toBeNull();
    for (const [i, p] of all.entries()) {
      await until(async () => JSON.parse((await svc(p, 'tokens/balances/bob')).body).balance === '500021' || undefined, 60_000, `the transfer in browser ${i + 1}`);
    }
    // The leader's tab is hidden (its page's timers on 1 s wake-ups, no animation frames): producing
    // from its worker, it keeps its slots — it stays the leader while the network finalises — and its dashboard says it is hidden.
    const leader = await currentLeader(all);
    const hidden = all[names.indexOf(leader)]!;
    await setHidden(hidden, true);
    await until(async () => (await status(hidden)).liveness?.hidden === true || undefined, 20_000, 'the hidden tab said so to its node');
    await until(async () => (await consensusField(hidden, 'hidden'))?.includes('keeps producing from its worker') || undefined, 20_000, 'the hidden note on its dashboard');
    const leaders = new Set<string>();
    const mark = Math.max(...(await Promise.all(all.map(async (p) => (await status(p)).irreversible?.num ?? 0))));
    for (const [i, p] of all.entries()) {
      await until(
        async () => {
          const s = await status(p);
          if (s.leader) leaders.add(s.leader);
          return (s.irreversible?.num ?? 0) >= mark + 8 || undefined;
        },
        60_000,
        `browser ${i + 1} finalising while ${leader}'s tab is hidden`,
      );
    }
    expect([...leaders]).toEqual([leader]);
    await setHidden(hidden, false);
    // Its worker does not run for 3 s (as when the browser freezes the tab): the dashboard says it missed slots.
    const worker = hidden.workers().find((w) => w.url().includes('node-worker'));
    if (!worker) throw new Error(`no node worker in the page (${hidden.workers().map((w) => w.url()).join(', ')})`);
    await worker.evaluate(() => {
      const t = Date.now();
      while (Date.now() - t < 3000);
    });
    const warned = await until(async () => (await consensusField(hidden, 'missed-slots')) ?? undefined, 20_000, 'the missed-slots warning on its dashboard');
    expect(warned).toMatch(/Missed [2-9]\d* block slots in the last minute: this browser did not run its node for [3-9]\.\d s/);
    const l = (await status(hidden)).liveness!;
    expect(l.missedSlots).toBeGreaterThanOrEqual(2);
    expect(l.lastStall!.ms).toBeGreaterThanOrEqual(3000);
    const rest = await closeLeader(all, names);
    // (Its browsers go: the next network's run alone on this machine's two cores.)
    for (const p of rest) await p.context().close();
  }, 600_000);

  it('cft: three browsers survive losing the leader', async () => {
    net.watch();
    const { all, names } = await growProducers(net.open, net.peer.url, 'cft', 3);
    const rest = await closeLeader(all, names);
    for (const p of rest) await p.context().close();
  }, 600_000);
});

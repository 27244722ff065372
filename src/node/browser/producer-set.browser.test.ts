/**
 * Browsers that produce together (issue 11 §3), end to end on a production build: a
 * Node peer (devnet, a libp2p relay only) and four browser contexts, each its own
 * profile. The first opens `#create`; the others open its invite link, sync over WebRTC
 * and press "Offer to produce" (a non-extractable key, an account and a candidacy through
 * the network's producers); the first presses "Make every candidate a producer (BFT)"
 * (producers::setConsensus). All four then produce under BFT — every vote and block
 * signed with a WebCrypto key — a transfer pushed in one is applied in all, and when
 * the leader's browser closes, the other three keep finalising. Three browsers under
 * CFT likewise survive losing their leader.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { peerBrowsers } from '../../../test/browser/peer-browsers.ts';
import { closeLeader, growProducers } from '../../../test/browser/producer-browsers.ts';
import { ownStatus, svc, until, type OwnStatus } from './testing.ts';
import { signedTransfer } from './tx.ts';

describe('browsers producing one network together', () => {
  const net = peerBrowsers({ nodeLog: /libp2p|relay|refus/i, pageLog: /libp2p|p2p:|psiweb node|error|offer|producer|consensus/i });
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

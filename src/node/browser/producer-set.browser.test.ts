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
import { ownStatus, svc, until, type OwnStatus } from './testing.ts';
import { signedTransfer } from './tx.ts';

/** Clicks a button of the dashboard's networks panel. */
async function clickNetworks(page: Page, id: string): Promise<void> {
  await until(
    () =>
      page.evaluate((id) => {
        const b = document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-networks')?.shadowRoot?.querySelector<HTMLButtonElement>(`#${id}`);
        if (!b || b.disabled) return undefined;
        b.click();
        return true;
      }, id),
    30_000,
    `the ${id} button`,
  );
}

/** The networks panel's error line, if any. */
const panelError = (page: Page) =>
  page.evaluate(() => document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-networks')?.shadowRoot?.querySelector('[data-field="network-error"]')?.textContent ?? null);

describe('browsers producing one network together', () => {
  const net = peerBrowsers({ nodeLog: /libp2p|relay|refus/i, pageLog: /libp2p|p2p:|psiweb node|error|offer|producer|consensus/i });
  const status = async (p: Page): Promise<OwnStatus> => (await ownStatus(p)) ?? ({} as OwnStatus);

  /**
   * `count` browsers: the first creates a network, the others join by its invite and
   * offer to produce, and the first names them all in `mode`. Resolves once the set of
   * `count` is in force and producing on every one, with blocks finalised since.
   */
  async function grow(mode: 'bft' | 'cft', count: number): Promise<{ all: Page[]; names: string[] }> {
    const a = await net.open(`${net.peer.url}/#create`);
    const made = await until(
      async () => {
        const s = await status(a);
        return s.role === 'producer' && s.producing && s.invite && s.libp2pState === 'on' && (s.head?.num ?? 0) >= 3 ? s : undefined;
      },
      120_000,
      'the created network producing, with an invite link',
    );
    const joiners: Page[] = [];
    for (let i = 1; i < count; i++) joiners.push(await net.open(made.invite!));
    for (const [i, p] of joiners.entries()) {
      await until(async () => ((await status(p)).chainId === made.chainId && ((await status(p)).head?.num ?? 0) >= 3) || undefined, 120_000, `joiner ${i + 1} synced`);
    }
    // Each offers to produce: it runs as its new producer account, a candidate.
    const names = ['prod'];
    for (const [i, p] of joiners.entries()) {
      await clickNetworks(p, 'offer-produce');
      const s = await until(
        async () => {
          const s = await status(p);
          if ((await panelError(p)) !== null) throw new Error(`joiner ${i + 1}: ${await panelError(p)}`);
          return s.role === 'producer' && s.producer ? s : undefined;
        },
        120_000,
        `joiner ${i + 1} a candidate producer`,
      );
      expect(s.producing).toBe(false);
      names.push(s.producer!);
    }
    // The creator names every candidate.
    await clickNetworks(a, `set-producers-${mode}`);
    const all = [a, ...joiners];
    const inForce = async (p: Page) => {
      const s = await status(p);
      return s.consensus === mode && s.producers.length === count && s.producing === true ? s : undefined;
    };
    for (const [i, p] of all.entries()) await until(() => inForce(p), 120_000, `browser ${i + 1} producing under the ${mode.toUpperCase()} set of ${count}`);
    expect([...(await status(a)).producers].sort()).toEqual([...names].sort());
    const mark = Math.max(...(await Promise.all(all.map(async (p) => (await status(p)).irreversible?.num ?? 0))));
    for (const [i, p] of all.entries()) await until(async () => ((await status(p)).irreversible?.num ?? 0) >= mark + 5 || undefined, 60_000, `browser ${i + 1} finalising`);
    return { all, names };
  }

  /** Closes the browser of the term's leader (as the first browser sees it); the rest must go on finalising. */
  async function closeLeader(all: Page[], names: string[]): Promise<Page[]> {
    const leader = await until(async () => {
      for (const p of all) {
        const l = (await status(p)).leader;
        if (l) return l;
      }
      return undefined;
    }, 30_000, 'the leader');
    const gone = all[names.indexOf(leader)]!;
    expect(gone).toBeDefined();
    await gone.context().close();
    const rest = all.filter((p) => p !== gone);
    const before = Math.max(...(await Promise.all(rest.map(async (p) => (await status(p)).irreversible?.num ?? 0))));
    for (const [i, p] of rest.entries()) await until(async () => ((await status(p)).irreversible?.num ?? 0) >= before + 5 || undefined, 90_000, `browser ${i + 1} of ${rest.length} finalising without ${leader}`);
    return rest;
  }

  it('bft: joiners offer to produce, the creator names them; all four finalise, a transfer applies in all, and three go on when the leader closes', async () => {
    net.watch();
    const { all } = await grow('bft', 4);
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
    const { all, names } = await grow('cft', 3);
    const rest = await closeLeader(all, names);
    for (const p of rest) await p.context().close();
  }, 600_000);
});

/**
 * Joining a network created in a browser (issue 11 §2), end to end on a production
 * build: a Node peer (devnet, a libp2p relay) and three browser contexts, each its own
 * profile. The first opens `#create` and produces the new chain; the second and third
 * open its invite link. The Node peer is not of that chain, so the joiners take the
 * genesis block and every block after it from browser peers over WebRTC, and their root
 * service workers answer from the joined chain. Then the relay is stopped: blocks keep
 * flowing from the producer to both joiners over their direct connections. A transfer
 * pushed in a joiner (before and after the relay stops) goes to the producer through its
 * browser peers (/psiweb/push/1.0.0) and is applied in all three.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { peerBrowsers } from '../../../test/browser/peer-browsers.ts';
import { createdNetwork } from '../../../test/browser/producer-browsers.ts';
import { ownStatus, svc, until, type OwnStatus } from './testing.ts';
import { signedTransfer } from './tx.ts';

describe('a network created in one browser, joined by two others over WebRTC', () => {
  const net = peerBrowsers({ nodeLog: /libp2p|relay|refus/i, pageLog: /libp2p|p2p:|psiweb node|error|join/i });
  const open = (url: string) => net.open(url);

  const status = async (p: Page): Promise<OwnStatus> => (await ownStatus(p)) ?? ({} as OwnStatus);

  it('joiners sync the created chain from browser peers only; transfers pushed in a joiner apply in all three; all keep going with the relay stopped', async () => {
    net.watch();
    const peer = net.peer;
    const a = await open(`${peer.url}/#create`);
    const made = await createdNetwork(a);
    // The root worker's first claim did not reload the page (that would restart its node).
    expect(await a.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).type)).toBe('navigate');
    const nodeChain = ((await peer.peer.status()) as unknown as { chainId: string }).chainId.toLowerCase();
    expect(made.chainId).not.toBe(nodeChain);
    // The dashboard still shows the Node peer's own status (its relay), not an error.
    const nodePanel = () =>
      a.evaluate(() => {
        const panel = document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-peers')?.shadowRoot;
        return { role: panel?.querySelector('[data-field="native-role"]')?.textContent ?? null, stale: panel?.querySelector('[data-field="native-stale"]')?.getAttribute('title') ?? null };
      });
    await until(async () => ((await nodePanel()).role ? true : undefined), 20_000, "the Node peer's role on the producer's dashboard");
    // Polled every 2 s: a few more polls, all answered.
    await new Promise((r) => setTimeout(r, 4_500));
    expect(await nodePanel()).toMatchObject({ stale: null });
    // The producer keeps the Node peer as its relay only: no psibase stream to it.
    const nodePeerId = ((await peer.peer.status()) as unknown as { libp2p: { peerId: string } }).libp2p.peerId;
    expect(made.peers.some((p) => p.id === nodePeerId)).toBe(false);

    const b = await open(made.invite!);
    const c = await open(made.invite!);
    const producerId = made.libp2p!.peerId;
    for (const [i, p] of [b, c].entries()) {
      const s = await until(
        async () => {
          const s = await status(p);
          const head = (await status(a)).head?.num ?? 0;
          return s.chainId === made.chainId && (s.head?.num ?? 0) >= head - 2 && s.peers.some((x) => x.id === producerId && x.transport === 'webrtc') ? s : undefined;
        },
        120_000,
        `joiner ${i + 1} synced from the producer over WebRTC`,
      );
      expect(s.role).toBe('follower');
      // No psibase stream to the Node peer: it is not of this chain.
      expect(s.peers.some((x) => x.id === nodePeerId)).toBe(false);
      // The root worker answers from the joined chain.
      const chainId = JSON.parse(await p.evaluate(async () => (await fetch('/common/chainid')).text())) as string;
      expect(chainId.toLowerCase()).toBe(made.chainId);
      expect(JSON.parse((await svc(p, 'tokens/balances/alice')).body).balance).toBe('500000');
    }

    // A transfer pushed in a joiner reaches the producer through its browser peers and is applied in all three.
    await transferIn(c, '13', 500_013n);

    // The relay goes: the producer and the joiners keep their direct connections.
    await peer.stop();
    const at = (await status(a)).head!.num;
    for (const [i, p] of [b, c].entries()) {
      await until(async () => ((await status(p)).head?.num ?? 0) >= at + 5 || undefined, 60_000, `joiner ${i + 1} following with the relay stopped`);
    }
    // And transfers still get through, with no server anywhere.
    await transferIn(b, '17', 500_030n);
    const after = await status(b);
    expect(after.error).toBeNull();

    async function transferIn(from: Page, amount: string, bob: bigint): Promise<void> {
      const tapos = JSON.parse(await from.evaluate(async () => (await fetch('/common/tapos/head')).text())) as { refBlockIndex: number; refBlockSuffix: number };
      const tx = await signedTransfer({ from: 'alice', to: 'bob', amount, memo: 'over browser peers', tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
      const pushed = await svc(from, 'transact/push_transaction', { method: 'POST', body: Array.from(tx) });
      expect(pushed.status, pushed.body).toBe(200);
      expect(JSON.parse(pushed.body).error ?? null).toBeNull();
      for (const [i, p] of [a, b, c].entries()) {
        await until(async () => BigInt(JSON.parse((await svc(p, 'tokens/balances/bob')).body).balance as string) === bob || undefined, 30_000, `bob's balance ${bob} in browser ${i + 1}`);
      }
    }
  }, 480_000);
});

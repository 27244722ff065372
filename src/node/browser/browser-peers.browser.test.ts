/**
 * Every browser a peer (issue 11): a Node peer (a relay, with a devnet) and three
 * browser contexts, each its own profile and so its own peer. The first opens the
 * dashboard; the second and third open the first's invite link. They reach DIRECT
 * WebRTC connections to each other (the transport each lists is transportOf's verdict:
 * a WebRTC remote address and no connection limits), each one's `/native/status` (the
 * root service worker's answer from its leader) lists the other two with transport
 * 'webrtc', and a transfer pushed in one is applied in all three. One of them reloads;
 * the three are connected again.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { peerBrowsers } from '../../../test/browser/peer-browsers.ts';
import type { BrowserNativeStatus } from './net-status.ts';
import { openApp, peerTapos, svc, until } from './testing.ts';
import { signedTransfer } from './tx.ts';

/** The browser's own /native/status (the root worker's answer from its leader, or the Node peer's before it has one). */
async function ownStatus(page: Page): Promise<BrowserNativeStatus & { answeredBy: string | null }> {
  return page.evaluate(async () => {
    const r = await fetch('/native/status', { cache: 'no-store' });
    return { ...(await r.json()), answeredBy: r.headers.get('x-psiweb-answered-by') };
  });
}

describe('browsers as peers of each other over libp2p WebRTC, joined by invite link', () => {
  const net = peerBrowsers({ nodeLog: /libp2p|peer|ban|refus/i, pageLog: /libp2p|p2p:|psiweb node|error/i, printAlways: true });
  const open = (url: string) => net.open(url);
  const pages = net.pages;

  it('three browsers (two joined by the first one\'s invite) connect directly over WebRTC, list each other as webrtc peers in /native/status, and apply a transfer pushed in one', async () => {
    net.watch();
    const peer = net.peer;
    const a = await open(peer.url);
    const first = await until(
      async () => {
        const s = await ownStatus(a);
        return s.libp2pState === 'on' && s.invite && s.chainId ? s : undefined;
      },
      60_000,
      "the first browser's libp2p and invite link",
    );
    expect(first.answeredBy).toBe('browser-node');
    expect(first.role).toBe('follower');
    const nodeStatus = (await peer.peer.status()) as unknown as { chainId: string; libp2p: { peerId: string } };
    expect(first.chainId).toBe(nodeStatus.chainId.toLowerCase());
    // The browser reaches the Node peer over libp2p WebSockets: the x-peers WebSocket is not used.
    expect(first.peers).toContainEqual(expect.objectContaining({ id: nodeStatus.libp2p.peerId, transport: 'websocket', url: peer.url }));
    const invite = first.invite!;
    expect(invite.startsWith(`${peer.url}/#join=`)).toBe(true);
    // The dashboard shows the same link behind its Invite button.
    await until(
      async () =>
        (await a.evaluate(() => {
          const panel = document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-peers')?.shadowRoot;
          const input = panel?.querySelector('[data-field="invite-link"]') as HTMLInputElement | null;
          if (!input) (panel?.querySelector('[data-field="invite-button"]') as HTMLButtonElement | null)?.click();
          return input?.value;
        })) === invite,
      20_000,
      'the invite link on the dashboard',
    );

    const b = await open(invite);
    const c = await open(invite);
    // The fragment was stored (it outlives a reload) and taken out of the address.
    // (Read as soon as the page runs: until() rides over a page still loading.)
    for (const p of [b, c]) {
      expect(await until(() => p.evaluate(() => JSON.parse(localStorage.getItem('psiweb.join') ?? 'null')?.chainId), 30_000, 'the stored join')).toBe(first.chainId);
      expect(new URL(p.url()).hash).toBe('');
    }

    // Its own answer (the root worker's, from its leader): before the leader's first status,
    // the worker passes the request on to the Node peer, whose own peer id that names.
    const ids = await Promise.all(
      pages.map((p, i) =>
        until(async () => {
          const s = await ownStatus(p);
          return s.answeredBy === 'browser-node' ? s.libp2p?.peerId : undefined;
        }, 60_000, `browser ${i + 1}'s peer id`),
      ),
    );
    expect(ids).not.toContain(nodeStatus.libp2p.peerId);
    console.log(`browser peer ids: ${ids.join(", ")}`);
    const t0 = Date.now();
    for (const [i, p] of pages.entries()) {
      const others = ids.filter((_, j) => j !== i);
      await until(
        async () => {
          const s = await ownStatus(p);
          return others.every((id) => s.peers.some((x) => x.id === id && x.transport === 'webrtc'));
        },
        90_000,
        `browser ${i + 1} to list the other two as webrtc peers`,
      );
    }
    console.log(`three browsers fully connected over WebRTC ${Date.now() - t0} ms after the last joined`);
    for (const [i, p] of pages.entries()) {
      const s = await ownStatus(p);
      for (const id of ids.filter((_, j) => j !== i)) {
        const listed = s.peers.filter((x) => x.id === id);
        expect(listed.length, `browser ${i + 1} lists ${id} once`).toBe(1);
        expect(listed[0]!.transport).toBe('webrtc');
      }
    }

    // A transfer pushed in the second browser is applied in all three.
    const bobBefore = await Promise.all(pages.map(async (p) => JSON.parse((await svc(p, 'tokens/balances/bob')).body).balance as string));
    const tapos = await peerTapos(peer.peer);
    const packed = await signedTransfer({ from: 'alice', to: 'bob', amount: '11', memo: 'browser peers', tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 120) });
    const pushed = await svc(b, 'transact/push_transaction', { method: 'POST', body: [...packed] });
    expect([200, 202]).toContain(pushed.status);
    for (const [i, p] of pages.entries()) {
      await until(
        async () => BigInt(JSON.parse((await svc(p, 'tokens/balances/bob')).body).balance as string) === BigInt(bobBefore[i]!) + 11n,
        60_000,
        `the transfer applied in browser ${i + 1}`,
      );
    }

    // Each knows the others' heads (from their hellos and the blocks they sent), the Node peer's too.
    for (const [i, p] of pages.entries()) {
      await until(
        async () => {
          const s = await ownStatus(p);
          return [...ids.filter((_, j) => j !== i), nodeStatus.libp2p.peerId].every((id) => (s.peers.find((x) => x.id === id)?.head?.num ?? 0) > 1);
        },
        20_000,
        `browser ${i + 1} to list its peers' heads`,
      );
    }

    // The second browser reloads: its libp2p node starts over (same peer id, from its
    // profile), and the other two take its new streams (over new connections).
    const streamTo = async (p: Page, id: string) => (await ownStatus(p)).peers.find((x) => x.id === id && x.transport === 'webrtc')?.stream;
    const before = [await streamTo(a, ids[1]!), await streamTo(c, ids[1]!)];
    expect(before.every((x) => typeof x === 'string')).toBe(true);
    await b.reload();
    const t1 = Date.now();
    for (const [k, p] of [a, c].entries()) {
      await until(async () => {
        const now = await streamTo(p, ids[1]!);
        return now !== undefined && now !== before[k];
      }, 60_000, `browser ${k === 0 ? 1 : 3} to take a new webrtc stream from the reloaded one`);
    }
    await until(async () => {
      const s = await ownStatus(b);
      return [ids[0]!, ids[2]!].every((id) => s.peers.some((x) => x.id === id && x.transport === 'webrtc'));
    }, 60_000, 'the reloaded browser to list the other two as webrtc peers');
    console.log(`three browsers fully connected again ${Date.now() - t1} ms after the second one reloaded`);
  }, 480_000);

  it('a malformed #join link says why in the page and stores nothing', async () => {
    const page = await open(`${net.peer.url}/#join=not-an-invite`);
    const text = await until(
      async () => page.evaluate(() => document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-join-banner')?.shadowRoot?.querySelector('[data-field="join-error"]')?.textContent),
      30_000,
      'the join error',
    );
    expect(text).toMatch(/not valid/);
    expect(await page.evaluate(() => localStorage.getItem('psiweb.join'))).toBeNull();
  }, 120_000);
});

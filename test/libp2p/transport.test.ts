/**
 * The node core's Transport over libp2p peers (src/net/libp2p/transport.ts): three Node
 * peers in a line, a — b — c, over libp2p WebSockets. Routes to producers spread with
 * psibase's routing messages, so a reaches c's producer through b; a peer reported as
 * misbehaving is dropped and its peer id refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/core/platform.ts';
import { encodeMessage, signMessage } from '../../src/net/wire/index.ts';
import { startNodeHost, type NodeHost } from '../../src/net/libp2p/node-host.ts';
import type { Libp2pPeerSocket } from '../../src/net/libp2p/peer-socket.ts';
import { Libp2pTransport, PeerRefusedError, type TransportMessage } from '../../src/net/libp2p/transport.ts';
import { accountNumber } from '../../src/protocol/names.ts';

// What the node core takes from its platform, a libp2p transport gives.
const asCoreTransport: (t: Libp2pTransport) => Transport = (t) => t;
void asCoreTransport;

const PRODUCERS = ['prod-a', 'prod-b', 'prod-c'];

async function confirm(term: number): Promise<Uint8Array> {
  const msg = { term, follower_id: accountNumber('prod-a'), head_num: 7, signer: { service: accountNumber('verify-sig'), rawData: new Uint8Array(4) } };
  const signed = await signMessage('ConfirmMessage', msg, () => new Uint8Array(64).fill(1));
  return encodeMessage({ kind: 'SignedMessage<ConfirmMessage>', value: signed });
}

interface Peer {
  host: NodeHost;
  transport: Libp2pTransport;
  got: TransportMessage[];
  refused: unknown[];
}

async function peer(name: string): Promise<Peer> {
  const transport = new Libp2pTransport({ producer: name, producers: PRODUCERS });
  const got: TransportMessage[] = [];
  const refused: unknown[] = [];
  transport.onMessage((m) => got.push(m));
  const host = await startNodeHost({
    relay: false,
    onPeer: (s) => {
      try {
        transport.add(s);
      } catch (e) {
        refused.push(e);
      }
    },
  });
  return { host, transport, got, refused };
}

describe('the node core Transport over libp2p peers', () => {
  let a: Peer;
  let b: Peer;
  let c: Peer;
  let aToB: Libp2pPeerSocket;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([peer('prod-a'), peer('prod-b'), peer('prod-c')]);
    aToB = await a.host.peers.dial(b.host.addresses()[0]!);
    a.transport.add(aToB);
    c.transport.add(await c.host.peers.dial(b.host.addresses()[0]!));
    for (let i = 0; i < 250 && b.transport.peers().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  });

  afterAll(async () => {
    for (const p of [a, b, c]) p?.transport.close();
    await Promise.all([a?.host.stop(), b?.host.stop(), c?.host.stop()]);
  });

  it('routes a consensus message to a producer two hops away, and broadcasts to neighbours', async () => {
    await expect.poll(() => a.transport.routing.isReachable(accountNumber('prod-c')), { timeout: 10_000 }).toBe(true);
    const bytes = await confirm(5);
    expect(a.transport.sendToProducer('prod-c', bytes)).toBe(true);
    await expect.poll(() => c.got.length, { timeout: 10_000 }).toBe(1);
    expect(c.got[0]).toMatchObject({ routed: true, message: { kind: 'SignedMessage<ConfirmMessage>', message: { term: 5 } } });
    expect([...c.got[0]!.bytes]).toEqual([...bytes]);
    // b passed it on without handing it to its own consensus.
    expect(b.got).toEqual([]);
    b.transport.broadcast(await confirm(6));
    await expect.poll(() => [a.got.length, c.got.length], { timeout: 10_000 }).toEqual([1, 2]);
    expect(a.got[0]).toMatchObject({ routed: false, message: { message: { term: 6 } } });
    // sendToPeer answers on the label the message came with.
    expect(a.transport.sendToPeer(a.got[0]!.peer, await confirm(7))).toBe(true);
    await expect.poll(() => b.got.length, { timeout: 10_000 }).toBe(1);
    expect(a.transport.sendToPeer('#99', await confirm(8))).toBe(false);
  });

  it('drops a peer reported as misbehaving, and refuses its peer id when it comes back', async () => {
    const label = b.transport.peers().find((p) => p.peerId === a.host.peerId)!.label;
    const closed = new Promise<{ code: number; reason: string }>((r) => aToB.on('close', (code, reason) => r({ code, reason })));
    b.transport.misbehaved(label, 'a block that does not validate');
    expect(await closed).toMatchObject({ code: expect.any(Number) });
    expect(b.transport.peers().map((p) => p.peerId)).toEqual([c.host.peerId]);
    // c's route to a is gone with it.
    await expect.poll(() => c.transport.routing.isReachable(accountNumber('prod-a')), { timeout: 10_000 }).toBe(false);
    await a.host.peers.dial(b.host.addresses()[0]!);
    await expect.poll(() => b.refused.length, { timeout: 10_000 }).toBe(1);
    expect(b.refused[0]).toBeInstanceOf(PeerRefusedError);
    expect((b.refused[0] as Error).message).toMatch(/is banned until .*: a block that does not validate/);
  });
});

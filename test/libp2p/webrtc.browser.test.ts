/**
 * Browsers as psibase peers over libp2p (ARCHITECTURE.md §6–7): two pages, each its own
 * context, reach each other DIRECTLY over WebRTC, signalled through a Node peer's relay
 * (a child process); the connection is checked with WebRTC.matches(remoteAddr) and
 * limits == null on both sides, not by substring. They exchange psibase peer messages
 * and keep talking after the relay process is killed. A malformed frame over WebRTC
 * closes that one stream with a PeerFrameError; the connection goes on.
 *
 * The first test dials the same browser 100 times over loopback WebRTC. Unpatched,
 * @libp2p/webrtc 6.0.33 loses ~15% of such dials (the listener opens and closes the init
 * data channel before the dialer waits for `open`; the dial hangs until it times out).
 * Patched (patches/@libp2p+webrtc+6.0.33.patch) a few percent still hang on this machine
 * (1 in 21–40 seen in CI runs; the product gives up on such a dial and tries again), so
 * the test allows MAX_HANGS of 100: an unpatched build gets more ~97% of the time, a
 * patched one at 3% hangs ~0.4% of the time.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/chromium.ts';
import { buildDriverBundle, openPeerPage, serveDriver, spawnRelay, type DriverServer, type PeerPage, type RelayProcess } from './browser-kit.ts';

const REPEATS = 100;
const MAX_HANGS = 8;
const MAX_RESETS = 10;

describe('browser peers over libp2p WebRTC, signalled through a Node relay', () => {
  let relay: RelayProcess;
  let server: DriverServer;
  let browser: Browser;
  let a: PeerPage;
  let b: PeerPage;
  let aInfo: { peerId: string; addrs: string[] };
  let bInfo: { peerId: string; addrs: string[] };
  const log: string[] = [];

  beforeAll(async () => {
    const bundle = await buildDriverBundle();
    [server, relay, browser] = await Promise.all([serveDriver(bundle), spawnRelay(), launchChromium()]);
    a = await openPeerPage(browser, server.url, log);
    b = await openPeerPage(browser, server.url, log);
    aInfo = await a.call((d, r) => d.start(r), relay.addr);
    // A dial that hangs (the unpatched defect) fails after 5 s (a loaded machine took up to 2.1 s for a good one).
    bInfo = await b.call((d, r) => d.start(r.addr, r.timeout), { addr: relay.addr, timeout: 5_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.kill();
    await server?.close();
    if (log.length > 0) console.log(log.join('\n'));
  });

  it('each page listens on a /p2p-circuit/webrtc address through the relay', () => {
    const relayId = relay.addr.split('/p2p/')[1]!;
    for (const info of [aInfo, bInfo]) {
      expect(info.addrs.length).toBeGreaterThan(0);
      for (const addr of info.addrs) expect(addr.endsWith(`/p2p/${relayId}/p2p-circuit/webrtc/p2p/${info.peerId}`)).toBe(true);
    }
  });

  it(`dials the same browser ${REPEATS} times over loopback WebRTC: every dial direct, at most ${MAX_HANGS} hung (the init-channel fix)`, async () => {
    const times: number[] = [];
    const resets: string[] = [];
    let hangs = 0;
    let allDirect = true;
    const linksToB = async () => (await a.call((d) => d.connections())).filter((c) => c.remotePeer === bInfo.peerId).length;
    for (let i = 0; i < REPEATS; i++) {
      const r = await b.call((d, addr) => d.dialOnce(addr), aInfo.addrs[0]!);
      if ('ms' in r) {
        times.push(r.ms);
        allDirect &&= r.direct;
      } else if (r.kind === 'timeout') hangs++;
      else if (r.kind === 'reset' && resets.length < MAX_RESETS) {
        // The other end reset the stream (seen under heavy load, while it still tore down
        // the connection before): tried again, reported.
        resets.push(`dial ${i + 1}: ${r.error}`);
        i--;
      } else expect.fail(`dial ${i + 1}: ${r.error}`);
      // Both ends hold nothing of this dial before the next one. The listener is not told
      // that the dialer closed its end (its WebRTC connection stays open until ICE gives
      // up): it hangs up too. Leftovers had piled up there (100 open connections) and
      // slowed and reset later dials in a CI run.
      await a.call((d, id) => d.hangUpPeer(id), bInfo.peerId);
      for (let k = 0; k < 100 && (await linksToB()) > 0; k++) await new Promise((res) => setTimeout(res, 100));
    }
    if (resets.length > 0) console.log(`libp2p WebRTC repeated dials: tried again after ${resets.join('; ')}`);
    console.log(`libp2p WebRTC repeated dials: ${hangs} of ${REPEATS} hung until their 5 s timeout`);
    expect(hangs).toBeLessThanOrEqual(MAX_HANGS);
    expect(times).toHaveLength(REPEATS - hangs);
    expect(allDirect).toBe(true);
    const sorted = [...times].sort((x, y) => x - y);
    console.log(`libp2p WebRTC dial + psibase stream over loopback: median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms (${sorted.length} dials)`);
  }, 600_000);

  it('reaches the Node peer over WebSockets and exchanges psibase messages with it', async () => {
    const dial = await b.call((d, addr) => d.dial(addr), relay.addr);
    expect(dial.connection).toMatchObject({ direct: false, limited: false });
    expect(dial.connection.remoteAddr.startsWith(relay.addr.split('/p2p/')[0]!)).toBe(true);
    const view = async () => (await b.call((d) => d.sockets())).find((s) => s.id === dial.id)!;
    expect((await view()).transport).toBe('websocket');
    await b.call((d, id) => d.send(id, [7, 8, 9]), dial.id);
    // The relay process echoes every message.
    await expect.poll(async () => (await view()).hellos, { timeout: 10_000 }).toEqual([7, 8, 9]);
  }, 60_000);

  it('connects directly over WebRTC, exchanges psibase messages, and keeps talking after the relay process stops', async () => {
    const dial = await b.call((d, addr) => d.dial(addr), aInfo.addrs[0]!);
    expect(dial.connection).toMatchObject({ remotePeer: aInfo.peerId, direct: true, limited: false });
    console.log(`first dial to a fresh peer: ${dial.ms.toFixed(0)} ms`);
    // The listening side sees the same: a direct connection, no limits.
    await expect.poll(() => a.call((d) => d.connections()), { timeout: 10_000 }).toContainEqual(expect.objectContaining({ remotePeer: bInfo.peerId, direct: true, limited: false }));
    const inboundOnA = async () => (await a.call((d) => d.sockets())).filter((s) => s.peerId === bInfo.peerId && s.direction === 'in' && s.closedWith === null);
    await expect.poll(async () => (await inboundOnA()).length, { timeout: 10_000 }).toBe(1);
    const aSocket = (await inboundOnA())[0]!;
    expect(aSocket.transport).toBe('webrtc');

    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    expect(await b.call((d, x) => d.send(x.id, x.nums), { id: dial.id, nums: range(1, 50) })).toEqual(range(1, 50).map(() => true));
    await a.call((d, x) => d.send(x.id, x.nums), { id: aSocket.id, nums: range(101, 50) });
    const hellosOn = async (p: PeerPage, id: number) => (await p.call((d) => d.sockets())).find((s) => s.id === id)!.hellos;
    await expect.poll(() => hellosOn(a, aSocket.id), { timeout: 10_000 }).toEqual(range(1, 50));
    await expect.poll(() => hellosOn(b, dial.id), { timeout: 10_000 }).toEqual(range(101, 50));
    await b.call((d, id) => d.ping(id), dial.id);
    await expect.poll(async () => (await b.call((d) => d.sockets())).find((s) => s.id === dial.id)!.rttMs, { timeout: 10_000 }).toBeTypeOf('number');
    const rtt = (await b.call((d) => d.sockets())).find((s) => s.id === dial.id)!.rttMs!;
    console.log(`libp2p ping over the direct WebRTC connection: ${rtt} ms`);

    // The relay goes away: both pages lose their connection to it, not to each other.
    const relayId = relay.addr.split('/p2p/')[1]!;
    expect((await a.call((d) => d.connections())).some((c) => c.remotePeer === relayId)).toBe(true);
    await relay.kill();
    for (const p of [a, b]) await expect.poll(async () => (await p.call((d) => d.connections())).some((c) => c.remotePeer === relayId), { timeout: 15_000 }).toBe(false);
    await b.call((d, x) => d.send(x.id, x.nums), { id: dial.id, nums: range(201, 50) });
    await a.call((d, x) => d.send(x.id, x.nums), { id: aSocket.id, nums: range(301, 50) });
    await expect.poll(() => hellosOn(a, aSocket.id), { timeout: 10_000 }).toEqual([...range(1, 50), ...range(201, 50)]);
    await expect.poll(() => hellosOn(b, dial.id), { timeout: 10_000 }).toEqual([...range(101, 50), ...range(301, 50)]);
    expect(await b.call((d) => d.connections())).toContainEqual(expect.objectContaining({ remotePeer: aInfo.peerId, direct: true, status: 'open' }));
  }, 120_000);

  it('a malformed frame over WebRTC closes that stream with a PeerFrameError; the connection and the other stream go on', async () => {
    const before = (await a.call((d) => d.sockets())).filter((s) => s.peerId === bInfo.peerId && s.closedWith === null);
    expect(before).toHaveLength(1);
    const good = before[0]!;
    const cases = [
      { frames: [[2, 0, 0, 0, 0]], raw: [] as number[], code: 1007, fault: 'unknown-type' },
      { frames: [(await b.call((d) => d.helloBytes(7))).slice(0, 20)], raw: [] as number[], code: 1007, fault: 'undecodable' },
      // A length prefix of 2^32: over the 64 MiB limit, refused before any body comes.
      { frames: [] as number[][], raw: [0x80, 0x80, 0x80, 0x80, 0x10], code: 1009, fault: 'oversize' },
    ];
    for (const c of cases) {
      const count = (await a.call((d) => d.sockets())).length;
      await b.call((d, x) => d.sendRaw(x.peer, x.frames, x.raw), { peer: aInfo.peerId, frames: c.frames, raw: c.raw });
      await expect.poll(async () => (await a.call((d) => d.sockets())).length, { timeout: 10_000 }).toBe(count + 1);
      await expect.poll(async () => (await a.call((d) => d.sockets())).at(-1)!.closedWith?.code ?? null, { timeout: 10_000 }).toBe(c.code);
      const bad = (await a.call((d) => d.sockets())).at(-1)!;
      expect(bad.error).toMatchObject({ name: 'PeerFrameError', fault: c.fault });
      expect(bad.closedWith!.reason).toBe(bad.error!.message.slice(0, 120));
    }
    // The first stream still carries messages, over the same direct connection.
    const mine = (await b.call((d) => d.sockets())).find((s) => s.peerId === aInfo.peerId && s.direction === 'out' && s.closedWith === null)!;
    await b.call((d, id) => d.send(id, [999]), mine.id);
    await expect.poll(async () => (await a.call((d) => d.sockets())).find((s) => s.id === good.id)!.hellos.at(-1), { timeout: 10_000 }).toBe(999);
    expect(await a.call((d) => d.connections())).toContainEqual(expect.objectContaining({ remotePeer: bInfo.peerId, direct: true, status: 'open' }));
  }, 60_000);
});

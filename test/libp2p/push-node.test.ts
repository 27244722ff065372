/**
 * psiweb's transaction push between peers (/psiweb/push/1.0.0, src/net/libp2p/push.ts),
 * between two Node hosts: the taker's answer comes back whole (applied with a trace,
 * failed with why, unavailable); a request over the limit is aborted without reaching
 * the taker; an answer of the wrong shape is a PushError ('bad-answer').
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '@libp2p/interface';
import { startNodeHost, type NodeHost } from '../../src/net/libp2p/node-host.ts';
import { MAX_PUSH_BYTES, parsePushAnswer, PUSH_PROTOCOL, PushError, pushTo, servePush, type PushAnswer } from '../../src/net/libp2p/push.ts';

let a: NodeHost;
let b: NodeHost;
let conn: Connection;
const taken: { tx: Uint8Array; from: string }[] = [];
let answer: (tx: Uint8Array) => PushAnswer = () => ({ status: 'unavailable', error: 'not set' });

beforeAll(async () => {
  a = await startNodeHost({});
  b = await startNodeHost({});
  await servePush(a.node, async (tx, from) => {
    taken.push({ tx, from });
    return answer(tx);
  });
  conn = await b.node.dial(a.addresses()[0]!);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('transaction push between peers', () => {
  it("hands the taker the transaction with the pusher's peer id, and returns its answer", async () => {
    const tx = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    answer = (t) => ({ status: 'applied', trace: { bytes: t.length, actionTraces: [] } });
    expect(await pushTo(b.node, conn.remotePeer, tx)).toEqual({ status: 'applied', trace: { bytes: 300, actionTraces: [] } });
    expect(taken.at(-1)!.tx).toEqual(tx);
    expect(taken.at(-1)!.from).toBe(b.peerId);
    answer = () => ({ status: 'failed', error: 'transaction expired' });
    expect(await pushTo(b.node, conn.remotePeer, tx)).toEqual({ status: 'failed', error: 'transaction expired' });
    answer = () => ({ status: 'unavailable', error: 'not a producer' });
    expect(await pushTo(b.node, conn.remotePeer, tx)).toEqual({ status: 'unavailable', error: 'not a producer' });
  });

  it('refuses to send a transaction over the limit, and a peer that is not serving the protocol is a PushError', async () => {
    await expect(pushTo(b.node, conn.remotePeer, new Uint8Array(MAX_PUSH_BYTES + 1))).rejects.toMatchObject({ name: 'PushError', fault: 'oversize' });
    const back = await a.node.dial(b.addresses()[0]!);
    await expect(pushTo(a.node, back.remotePeer, new Uint8Array(10))).rejects.toMatchObject({ name: 'PushError', fault: 'stream' });
  });

  it('aborts a request over the limit before the taker sees it', async () => {
    const before = taken.length;
    const stream = await b.node.dialProtocol(conn.remotePeer, PUSH_PROTOCOL);
    const closed = new Promise<Error | undefined>((resolve) => stream.addEventListener('close', (e) => resolve(e.error)));
    const chunk = new Uint8Array(64 * 1024);
    for (let sent = 0; sent <= MAX_PUSH_BYTES && stream.status === 'open'; sent += chunk.length) {
      if (!stream.send(chunk)) await new Promise((r) => stream.addEventListener('drain', r, { once: true }));
    }
    await stream.close().catch(() => undefined);
    expect(await closed).toBeDefined();
    expect(taken.length).toBe(before);
  });

  it('checks the shape of every answer', () => {
    expect(parsePushAnswer(enc({ status: 'failed', error: 'x', trace: { a: 1 } }))).toEqual({ status: 'failed', error: 'x', trace: { a: 1 } });
    for (const bad of [new Uint8Array([0xff]), enc([1]), enc({ status: 'applied' }), enc({ status: 'failed' }), enc({ status: 'maybe', error: 'x' }), enc(null)]) {
      let err: unknown;
      try {
        parsePushAnswer(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PushError);
      expect((err as PushError).fault).toBe('bad-answer');
    }
  });
});

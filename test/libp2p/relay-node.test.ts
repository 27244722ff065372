/**
 * psiweb's relay of held transactions between producers (/psiweb/relay/2.0.0,
 * src/net/libp2p/relay.ts), between two Node hosts: a burst goes over one stream, whole
 * and in order, with the sender's peer id; a peer the taker does not accept gets its
 * stream closed and nothing taken; a frame over the limit aborts the stream and nothing
 * of it is taken; a relay whose stream went opens a new one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '@libp2p/interface';
import { startNodeHost, type NodeHost } from '../../src/net/libp2p/node-host.ts';
import { MAX_PUSH_BYTES } from '../../src/net/libp2p/push.ts';
import { RELAY_PROTOCOL, TxRelay } from '../../src/net/libp2p/relay.ts';
import { encodeFrame } from '../../src/net/libp2p/frames.ts';

let a: NodeHost;
let b: NodeHost;
/** b's connection to a. */
let conn: Connection;
const taken: { tx: Uint8Array; from: string }[] = [];
let accepting = true;
let takerRelay: TxRelay;
let senderRelay: TxRelay;

beforeAll(async () => {
  a = await startNodeHost({});
  b = await startNodeHost({});
  takerRelay = new TxRelay(a.node, { accept: () => accepting, onTx: (tx, from) => taken.push({ tx, from }) });
  await takerRelay.start();
  senderRelay = new TxRelay(b.node, { accept: () => true, onTx: () => undefined });
  await senderRelay.start();
  conn = await b.node.dial(a.addresses()[0]!);
});
afterAll(async () => {
  await senderRelay?.stop();
  await takerRelay?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
});

async function until<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const relayStreams = (c: Connection) => c.streams.filter((s) => s.protocol === RELAY_PROTOCOL).length;

describe('relaying held transactions between producers', () => {
  it('sends a burst of 500 over one stream, each whole and in order, with the sender’s peer id', async () => {
    const txs = Array.from({ length: 500 }, (_, i) => Uint8Array.from({ length: 200 + (i % 50) }, (_, j) => (i * 7 + j) & 0xff));
    for (const tx of txs) senderRelay.send(conn, tx);
    await until('500 relayed', () => taken.length >= 500);
    expect(taken.map((t) => t.tx)).toEqual(txs);
    expect(new Set(taken.map((t) => t.from))).toEqual(new Set([b.peerId]));
    expect(relayStreams(conn)).toBe(1);
    expect(senderRelay.dropped).toBe(0);
  });

  it('a relay from a peer the taker does not accept is closed, and nothing is taken', async () => {
    const before = taken.length;
    accepting = false;
    try {
      const stream = await b.node.dialProtocol(conn.remotePeer, RELAY_PROTOCOL);
      try {
        stream.send(encodeFrame(new Uint8Array([1, 2, 3])));
      } catch {
        // Closed by the taker already.
      }
      await until('the stream closed', () => stream.status !== 'open');
      await new Promise((r) => setTimeout(r, 100));
      expect(taken.length).toBe(before);
    } finally {
      accepting = true;
    }
  });

  it('a frame over MAX_PUSH_BYTES aborts the stream; nothing of it is taken', async () => {
    const before = taken.length;
    const stream = await b.node.dialProtocol(conn.remotePeer, RELAY_PROTOCOL);
    // A good frame, then a header announcing one over the limit.
    stream.send(encodeFrame(new Uint8Array([9, 9, 9])));
    stream.send(encodeFrame(new Uint8Array(MAX_PUSH_BYTES + 1)).subarray(0, 8));
    await until('the stream aborted', () => stream.status !== 'open');
    expect(taken.slice(before).map((t) => Array.from(t.tx))).toEqual([[9, 9, 9]]);
  });

  it('when its stream is gone, the next relay opens another', async () => {
    const stream = conn.streams.find((s) => s.protocol === RELAY_PROTOCOL && s.direction === 'outbound');
    expect(stream).toBeDefined();
    stream!.abort(new Error('test: the stream went'));
    await until('the stream gone', () => relayStreams(conn) === 0 || !conn.streams.includes(stream!));
    const before = taken.length;
    senderRelay.send(conn, new Uint8Array([4, 5, 6]));
    await until('relayed on a new stream', () => taken.length > before);
    expect(Array.from(taken.at(-1)!.tx)).toEqual([4, 5, 6]);
  });
});

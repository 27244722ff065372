/**
 * Discovery (/psiweb/peers/1.0.0) between two Node hosts: the answerer writes its
 * answer and closes at once, and the asker still reads it (the close may come before
 * the asker listens for it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askPeers } from '../../src/net/libp2p/discovery.ts';
import { startNodeHost, type NodeHost } from '../../src/net/libp2p/node-host.ts';

const CHAIN = 'ab'.repeat(32);
let a: NodeHost;
let b: NodeHost;
beforeAll(async () => {
  a = await startNodeHost({ chainId: () => CHAIN });
  b = await startNodeHost({ chainId: () => null });
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('discovery between Node hosts', () => {
  it("reads the answerer's chain id and peers, repeatedly, well inside the timeout", async () => {
    const conn = await b.node.dial(a.addresses()[0]!);
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const answer = await askPeers(b.node, conn.remotePeer, { timeoutMs: 3_000 });
      expect(answer.chainId).toBe(CHAIN);
      expect(performance.now() - t).toBeLessThan(2_000);
    }
  });
});

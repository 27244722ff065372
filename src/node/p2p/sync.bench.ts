/**
 * Catch-up from a peer over psibase's peer protocol: a producer's chain of ~2,000 blocks
 * is built in this process at a 10 ms block interval (produced back to back, each with
 * its startBlock transaction, every 10th with a signed alice → bob transfer), then
 * served by `psiweb start` in its own process (so serving and applying each have a
 * core), and a fresh follower here (empty lmdb data directory, cold) syncs it over the
 * WebSocket: the clock starts once the follower is up and dialing, and stops when its
 * head is the producer's head as of the start. Every block is validated as it is applied
 * (signature, proofs, re-execution, merkle root, id), each against the state the one
 * before it left; blocks that queue up meanwhile commit together, up to 64 in one lmdb
 * transaction. The follower's head id must equal the producer's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, type BenchFile } from '../../../test/bench-kit.ts';
import { toHex } from '../../state/bytes.ts';
import { signedTransfer } from '../browser/tx.ts';
import { fetchNode } from '../client.ts';
import { startPeer } from '../peer.ts';
import { spawnPsiwebStart } from '../testing/spawn-start.ts';

const BLOCKS = 2000;
const INTERVAL_MS = 10;
const TRANSFER_EVERY = 10;
const TARGET = 500;

const bench: BenchFile = async () => {
  const root = mkdtempSync(join(tmpdir(), 'psiweb-sync-bench-'));
  try {
    const producerDir = join(root, 'producer');
    const builder = await startPeer({ dataDir: producerDir, port: 0, rootHost: 'psiweb.localhost', distDir: join(root, 'no-dist'), log: () => undefined, produce: false, blockIntervalMs: INTERVAL_MS });
    let transfers = 0;
    while (builder.node.chain.head!.num < BLOCKS) {
      if (builder.node.chain.head!.num % TRANSFER_EVERY === 0) {
        const res = await builder.router.handle(new Request('http://tokens.psiweb.localhost/common/tapos/head'));
        const tapos = (await res.json()) as { refBlockIndex: number; refBlockSuffix: number };
        const trx = await signedTransfer({ from: 'alice', to: 'bob', amount: '1', memo: `sync ${transfers++}`, tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 3000) });
        void builder.node.submit(trx, { waitFor: 'applied' });
        await new Promise((r) => setTimeout(r, 0));
      }
      await builder.node.produceBlock();
    }
    await builder.close();

    const producer = await spawnPsiwebStart(producerDir);
    try {
      const status = JSON.parse((await fetchNode(`${producer.url}/native/status`)).text()) as { head: { num: number; id: string } };
      const target = status.head;
      const follower = await startPeer({ dataDir: join(root, 'follower'), port: 0, rootHost: 'psiweb.localhost', distDir: join(root, 'no-dist'), log: () => undefined, follow: true, peers: [producer.url] });
      const t0 = performance.now();
      try {
        const deadline = Date.now() + 300_000;
        while ((follower.node.chain.head?.num ?? 0) < target.num) {
          if (Date.now() > deadline) throw new Error(`the follower reached only block ${follower.node.chain.head?.num ?? 0} of ${target.num}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        const seconds = (performance.now() - t0) / 1000;
        const rec = await follower.node.chain.state.store.block(target.num);
        if (!rec || toHex(rec.id).toUpperCase() !== target.id) throw new Error(`the follower's block ${target.num} is not the producer's`);
        const synced = target.num - 1;
        return [
          figure(
            'catch-up from a peer (psibase peer protocol over WebSocket)',
            'node',
            synced / seconds,
            'blocks/s',
            { op: '>=', value: TARGET, text: `≥ ${TARGET} blocks/s` },
            `best of 1, cold: a fresh follower (empty lmdb dir) syncs ${synced} blocks (genesis + ${synced - 1} blocks at a ${INTERVAL_MS} ms interval, ${transfers} with a signed transfer) from a psiweb start in its own process, each validated and applied; ${seconds.toFixed(2)} s from the follower being up to its head equal to the producer's`,
          ),
        ];
      } finally {
        await follower.close();
      }
    } finally {
      await producer.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

export default bench;

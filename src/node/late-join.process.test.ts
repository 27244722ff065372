/**
 * Issue 9 §4 with `psiweb start` processes on loopback: a fifth node joins a BFT chain
 * of LATE_JOIN_BLOCKS blocks (built by four producers at a short block interval, with
 * transfers) late and syncs to the same head block and balances; and a peer sending a
 * forged block (a real block's signature on another block) is dropped and banned,
 * and the node's head is unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDevnet } from './devnet.ts';
import { buildChain, joinLate, type BuiltChain } from './testing/late-join.ts';
import { nodeStatus } from './testing/node-client.ts';
import { dialWebSocket } from './p2p/websocket.ts';
import { PEER_URL_HEADER } from './p2p/discovery.ts';
import { decodeMessage, encodeMessage } from '../net/wire/messages.ts';
import { packSignedBlock, unpackSignedBlock, type SignedBlock } from '../protocol/types.ts';
import { blockId } from '../protocol/ids.ts';
import { toHex } from '../state/bytes.ts';

const BUILD_TIMEOUT_MS = 300_000;
/** Blocks the late node syncs (PSIWEB_TEST_LATE_JOIN_BLOCKS overrides: building them is most of this test's time). */
const LATE_JOIN_BLOCKS = Number(process.env.PSIWEB_TEST_LATE_JOIN_BLOCKS ?? 5000);
const INTERVAL_MS = 10;

let dir: string;
let chain: BuiltChain | undefined;
beforeAll(async () => {
  await loadDevnet(); // builds the services once, before any node needs them
  dir = mkdtempSync(join(tmpdir(), 'psiweb-late-join-'));
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await Promise.all((chain?.started ?? []).map((n) => n.kill()));
  rmSync(dir, { recursive: true, force: true });
});


describe('a node joining late', () => {
  it(`syncs ${LATE_JOIN_BLOCKS} blocks built by four BFT producers at ${INTERVAL_MS} ms blocks to the same head and balances`, async () => {
    chain = await buildChain(dir, { blocks: LATE_JOIN_BLOCKS, intervalMs: INTERVAL_MS, transfers: 5, timeoutMs: 600_000 });
    const joined = await joinLate(dir, chain, { timeoutMs: 120_000 });
    // joinLate checked the head block id and alice's and bob's balances against the producer's.
    const s = await nodeStatus(joined.follower.url);
    expect(s.head).toEqual(chain.head);
    expect(s.role).toBe('follower');
    console.log(`late join: built ${chain.head.num} blocks in ${(chain.buildMs / 1000).toFixed(1)} s; synced in ${(joined.syncMs / 1000).toFixed(2)} s (${(chain.head.num / (joined.syncMs / 1000)).toFixed(0)} blocks/s)`);
  }, 900_000);

  it('a peer sending a forged block is dropped and banned, and the head is unchanged', async () => {
    const producer = chain!.producer;
    const before = await nodeStatus(producer.url);
    // The fake peer claims a URL (as psiweb peers do), so the node can ban it by that URL (loopback addresses are not banned).
    const mallory = { [PEER_URL_HEADER]: 'http://mallory.localhost:9/' };
    const ws = await dialWebSocket(producer.url, { headers: mallory });
    const closed = new Promise<string>((resolve) => ws.on('close', (code, reason) => resolve(`${code} ${reason}`)));
    // The node tells a new neighbour its head block.
    const head = await new Promise<SignedBlock>((resolve) =>
      ws.on('message', (d) => {
        const m = decodeMessage(d);
        if (m.kind === 'BlockMessage') resolve(unpackSignedBlock(m.value.block));
      }),
    );
    expect(toHex(blockId(head.block.header)).toUpperCase()).toBe(before.head.id.toUpperCase());
    // A block on the head, by the head's producer, carrying the head's own signature: the signature is not over this block.
    const h = head.block.header;
    const forged: SignedBlock = { ...head, block: { ...head.block, header: { ...h, previous: blockId(h), blockNum: h.blockNum + 1, time: h.time + 10_000n } } };
    ws.send(encodeMessage({ kind: 'BlockMessage', value: { block: packSignedBlock(forged) } }));
    expect(await closed).toMatch(/^1008 sent block \d+ that does not run: block signature/);
    const after = (await nodeStatus(producer.url)) as unknown as { head: unknown; bans: { key: string; message: string }[] };
    expect(after.bans).toEqual([expect.objectContaining({ key: 'claimed:http://mallory.localhost:9', message: expect.stringMatching(/block signature/) })]);
    expect(after.head).toEqual(before.head);
    // Banned: it may not come back.
    await expect(dialWebSocket(producer.url, { headers: mallory })).rejects.toThrow(/403/);
  }, 60_000);
});

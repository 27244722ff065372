import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { encodeBlockFrames } from '../../http/blocks.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { toHex } from '../../state/bytes.ts';
import { Router } from '../../http/router.ts';
import { accountNumber, methodNumber } from '../../protocol/names.ts';
import type { ActionTrace } from '../../protocol/types.ts';
import { loadDevnet, type Devnet } from '../devnet.ts';
import { startPeer, type Peer } from '../peer.ts';
import { SyncError } from './errors.ts';
import { BlockSync, type AppliedBlock } from './sync.ts';
import { signedTransfer } from './tx.ts';

describe('BlockSync against the Node peer', () => {
  let dir: string;
  let peer: Peer;
  let devnet: Devnet;
  const fetchPeer = (url: string, init?: RequestInit) => peer.router.handle(new Request(url, init));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psiweb-sync-'));
    peer = await startPeer({ dataDir: dir, port: 0, rootHost: 'psiweb.localhost', distDir: join(dir, 'none'), log: () => undefined, produce: false });
    devnet = await loadDevnet();
    const tapos = (await (await fetchPeer('http://psiweb.localhost/common/tapos/head')).json()) as TransferTapos;
    const expiration = BigInt(Math.floor(Date.now() / 1000) + 60);
    const submitted: Promise<unknown>[] = [];
    for (let i = 0; i < TRANSFERS; i++) {
      const packed = await signedTransfer({ from: 'alice', to: 'bob', amount: String(AMOUNT), memo: `t${i}`, tapos, expiration });
      submitted.push(peer.node.submit(packed, { waitFor: 'applied' }));
    }
    // Each ran into the open block (`applied`) before the blocks are produced, so every
    // transfer is in a block before the tests count them.
    await Promise.all(submitted);
    for (let i = 0; i < 4; i++) await peer.node.produceBlock();
  });
  afterAll(async () => {
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  type TransferTapos = { refBlockIndex: number; refBlockSuffix: number };
  const TRANSFERS = 3;
  const AMOUNT = 7;
  /** The devnet splits its supply between alice and bob. */
  const START_BALANCE = 500_000;
  const TOKENS = accountNumber('tokens');
  const TRANSFER = methodNumber('transfer');
  /** Whether the action, or any call it made, is tokens::transfer. */
  const callsTransfer = (t: ActionTrace): boolean =>
    (t.action.service === TOKENS && t.action.method === TRANSFER) || t.innerTraces.some((i) => 'ActionTrace' in i.inner && callsTransfer(i.inner.ActionTrace));
  const balance = async (chain: Chain, account: string) => {
    const res = await new Router({ rootHost: 'psiweb.localhost', chain }).handle(new Request(`http://tokens.psiweb.localhost/balances/${account}`));
    expect(res.status).toBe(200);
    return ((await res.json()) as { balance: string }).balance;
  };
  const validator = async () => Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });

  it('applies every block up to the peer head, reporting each block with its transactions', async () => {
    const chain = await validator();
    const applied: AppliedBlock[] = [];
    const sync = new BlockSync({ chain, peerUrl: 'http://psiweb.localhost/', fetch: fetchPeer, batchBlocks: 2, onApplied: (b) => void applied.push(b) });
    const status = await sync.peerStatus();
    while ((await sync.step(status)) > 0);
    expect(chain.head?.num).toBe(status.head!.num);
    expect(toHex(chain.head!.id)).toBe(status.head!.id.toLowerCase());
    expect(applied.map((b) => b.num)).toEqual(Array.from({ length: status.head!.num - 1 }, (_, i) => i + 2));
    // Exactly the transfers submitted above, each applied once, with their effect on
    // the synced state (genesis has its own transfer, in the boot transactions).
    const transfers = applied
      .filter((b) => b.num > 2)
      .flatMap((b) => b.transactions)
      .filter((t) => t.trace.actionTraces.some(callsTransfer));
    expect(transfers).toHaveLength(TRANSFERS);
    for (const t of transfers) expect(t.trace.error).toBeNull();
    expect(await balance(chain, 'bob')).toBe(String(START_BALANCE + TRANSFERS * AMOUNT));
    expect(await balance(chain, 'alice')).toBe(String(START_BALANCE - TRANSFERS * AMOUNT));
    expect(await sync.step(status)).toBe(0);
  });

  it('refuses a peer on another chain', async () => {
    const chain = await validator();
    const sync = new BlockSync({ chain, peerUrl: 'http://psiweb.localhost', fetch: fetchPeer });
    await sync.step();
    const other = { chainId: '00'.repeat(32), head: { num: 99, id: '' }, irreversible: null };
    await expect(sync.step(other)).rejects.toBeInstanceOf(SyncError);
  });

  it('stops at a tampered block without committing it', async () => {
    const chain = await validator();
    const good = (peer.node as unknown as { chain: Chain }).chain;
    const b1 = (await good.state.store.block(2))!.bytes;
    const b2 = new Uint8Array((await good.state.store.block(3))!.bytes);
    b2[b2.length - 5]! ^= 0xff;
    const fake = async () => new Response(encodeBlockFrames([b1, b2]) as Uint8Array<ArrayBuffer>);
    const sync = new BlockSync({ chain, peerUrl: 'http://x', fetch: fake });
    await expect(sync.step()).rejects.toBeInstanceOf(SyncError);
    expect(chain.head?.num).toBe(2);
  });

  it('refuses a range that does not start after the head', async () => {
    const chain = await validator();
    const good = (peer.node as unknown as { chain: Chain }).chain;
    const b3 = (await good.state.store.block(3))!.bytes;
    const sync = new BlockSync({ chain, peerUrl: 'http://x', fetch: async () => new Response(encodeBlockFrames([b3]) as Uint8Array<ArrayBuffer>) });
    await expect(sync.step()).rejects.toThrow(/asked for block 2/);
    expect(chain.head).toBeUndefined();
  });
});

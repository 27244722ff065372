/**
 * The browser node's signature checker in Chromium: the node worker's own components
 * (IdbStore, BroadcastingStateDb, BrowserServiceHost, BlockSync, browserNativeVerifiers
 * with its verify worker) sync blocks built here in Node, and the worker must refuse a
 * forged transaction proof and a forged block signature: sync stops with a SyncError
 * and IndexedDB holds nothing of the forged block.
 *
 * The forged blocks are otherwise perfect: a producer whose verifier accepts every
 * proof builds them (merkle root, ids, the producer's signature all right), so only the
 * signature checks can catch them. A checker that answers "ok" to everything fails
 * this test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../../chain/executor.ts';
import { blockSignatureData } from '../../chain/block-context.ts';
import { sign } from '../../crypto/keys.ts';
import { taposRef } from '../../protocol/tapos.ts';
import { packSignedBlock, unpackSignedBlock } from '../../protocol/types.ts';
import { toHex } from '../../state/bytes.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { openSourcePage, type TestPage } from '../../../test/browser/page-server.ts';
import { bootDevnet, devnetKey, loadDevnet } from '../devnet.ts';
import { signedTransfer } from './tx.ts';

interface SyncOutcome {
  /** The SyncError sync stopped with, if it did. */
  error: { name: string; message: string } | null;
  /** The chain's head after sync. */
  head: number | null;
  /** What IndexedDB holds, read from a store opened afresh. */
  storedHead: number | null;
  storedBlocks: number[];
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

describe('the browser node refuses forged signatures in its verify worker', () => {
  let t: TestPage;
  let genesis: Uint8Array;
  let good: Uint8Array;
  let forgedProof: Uint8Array;
  let forgedBlock: Uint8Array;
  let forgedEmpty: Uint8Array;
  let genuineEmpty: Uint8Array;
  let codeHash: string;

  beforeAll(async () => {
    const devnet = await loadDevnet();
    const twin = devnet.nativeVerifiers[0]!;
    codeHash = toHex(twin.codeHash);
    // The forger: checks no proof at all, and signs its blocks with the producer's key.
    const forger = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: [{ codeHash: twin.codeHash, verify: async () => true }] });
    const t0 = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n;
    const boot = await bootDevnet(forger, devnet, t0);
    expect(boot.rejected).toEqual([]);
    const tapos = taposRef(boot.block.block.header.blockNum, boot.id);
    const expiration = t0 / 1_000_000n + 600n;
    const produce = async (transactions: Uint8Array[], seconds: bigint) => {
      const b = await forger.produceBlock({ producer: devnet.producer, time: t0 + seconds * 1_000_000n, transactions, prover: devnet.prover });
      expect(b.rejected).toEqual([]);
      return b;
    };
    // Block 3: alice → bob, signed by alice. Block 4: a good transfer, then alice → bob
    // claiming alice's key, signed with bob's (which only the forger's always-yes verifier
    // let in); its proofs go to the verify worker together.
    const block3 = await produce([await signedTransfer({ from: 'alice', to: 'bob', amount: '7', memo: 'good', tapos, expiration })], 1n);
    // Block 4: empty, genuine (its signature is its only proof).
    const empty = await produce([], 2n);
    const block5 = await produce(
      [
        await signedTransfer({ from: 'alice', to: 'bob', amount: '3', memo: 'good too', tapos, expiration }),
        await signedTransfer({ from: 'alice', to: 'bob', amount: '5', memo: 'forged', tapos, expiration, signer: 'bob' }),
      ],
      3n,
    );
    genesis = boot.bytes;
    good = block3.bytes;
    genuineEmpty = empty.bytes;
    forgedProof = block5.bytes;
    // Block 3 again, its id signed with alice's key: not the producer's.
    const alice = await devnetKey('alice');
    forgedBlock = packSignedBlock({ ...unpackSignedBlock(block3.bytes), signature: await sign(alice, blockSignatureData(block3.id)) });
    // Block 4 signed with alice's key: its signature is its only proof.
    forgedEmpty = packSignedBlock({ ...unpackSignedBlock(empty.bytes), signature: await sign(alice, blockSignatureData(empty.id)) });
    t = await openSourcePage();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  /** Syncs `blocks` into a new IndexedDB database through the node's components in the page. */
  async function syncInPage(db: string, blocks: Uint8Array[]): Promise<SyncOutcome> {
    return t.page.evaluate(
      async ([name, frames, expectedHash]) => {
        const imp = (globalThis as any).__psiwebImport as (p: string) => Promise<any>;
        const { Chain } = await imp('/src/chain/executor.ts');
        const { IdbStore } = await imp('/src/state/idb-store.ts');
        const { toHex } = await imp('/src/state/bytes.ts');
        const { encodeBlockFrames } = await imp('/src/http/blocks.ts');
        const { BroadcastingStateDb } = await imp('/src/node/browser/broadcasting-state.ts');
        const { BrowserServiceHost } = await imp('/src/node/browser/service-host.ts');
        const { BlockSync } = await imp('/src/node/browser/sync.ts');
        const { browserNativeVerifiers } = await imp('/src/node/browser/verifiers.ts');
        const w = globalThis as any;
        // One checker for the page, as the node worker keeps one across reopens.
        w.__verifiers ??= await browserNativeVerifiers();
        const verifiers = w.__verifiers as { codeHash: Uint8Array }[];
        // The checker stands in for verify-sig's wasm only: it must be bound to its hash.
        if (verifiers.length !== 1 || toHex(verifiers[0]!.codeHash) !== expectedHash) throw new Error('no native verifier for verify-sig');
        const bytes = frames.map((f) => Uint8Array.from(atob(f), (c) => c.charCodeAt(0)));
        const store = await IdbStore.open(name);
        const state = new BroadcastingStateDb(store, () => undefined);
        const chain = await Chain.open({ state, host: new BrowserServiceHost(), nativeVerifiers: verifiers });
        const sync = new BlockSync({ chain, peerUrl: 'http://peer.invalid', fetch: async () => new Response(encodeBlockFrames(bytes)) });
        let error: { name: string; message: string } | null = null;
        try {
          await sync.step();
        } catch (e) {
          error = { name: (e as Error).name, message: (e as Error).message };
        }
        await state.settled();
        const head = chain.head?.num ?? null;
        await store.close();
        const again = await IdbStore.open(name);
        const storedBlocks: number[] = [];
        for (let n = 2; n <= bytes.length + 1; n++) if (await again.block(n)) storedBlocks.push(n);
        const storedHead = (await again.head())?.num ?? null;
        await again.close();
        return { error, head, storedHead, storedBlocks };
      },
      [db, blocks.map(b64), codeHash] as const,
    );
  }

  const verifyWorkerRunning = () => t.page.workers().some((w) => w.url().includes('verify-worker'));

  it('applies the genuine blocks, with the proofs checked in the verify worker', async () => {
    const r = await syncInPage('genuine', [genesis, good]);
    expect(r).toEqual({ error: null, head: 3, storedHead: 3, storedBlocks: [2, 3] });
    expect(verifyWorkerRunning()).toBe(true);
  });

  it('stops at a transaction whose proof is signed with another key, committing nothing of its block', async () => {
    const r = await syncInPage('forged-proof', [genesis, good, genuineEmpty, forgedProof]);
    expect(r.error?.name).toBe('SyncError');
    expect(r.error?.message).toMatch(/^block 5 from the peer is invalid: transaction \d+: service 'verify-sig' aborted with message: signature invalid/);
    expect(r.head).toBe(4);
    expect(r.storedHead).toBe(4);
    expect(r.storedBlocks).toEqual([2, 3, 4]);
    expect(verifyWorkerRunning()).toBe(true);
  });

  it('stops at a block signed by a key that is not the producer’s, committing nothing of it', async () => {
    const r = await syncInPage('forged-block', [genesis, forgedBlock]);
    expect(r.error?.name).toBe('SyncError');
    expect(r.error?.message).toMatch(/^block 3 from the peer is invalid: block signature: service 'verify-sig' aborted with message: signature invalid/);
    expect(r.head).toBe(2);
    expect(r.storedHead).toBe(2);
    expect(r.storedBlocks).toEqual([2]);
    expect(verifyWorkerRunning()).toBe(true);
  });

  it('stops at an empty block whose lone signature is not the producer’s', async () => {
    const r = await syncInPage('forged-empty', [genesis, good, forgedEmpty]);
    expect(r.error?.name).toBe('SyncError');
    expect(r.error?.message).toMatch(/^block 4 from the peer is invalid: block signature: service 'verify-sig' aborted with message: signature invalid/);
    expect(r.storedBlocks).toEqual([2, 3]);
  });
});

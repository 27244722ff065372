/**
 * Chain.commitIrreversible (a node catching up under consensus): blocks validated one on
 * another's write set commit together, in one store transaction, to the state applying
 * them one by one gives, with no undo records left; a batch that does not follow the
 * head is refused and changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accountNumber } from '../protocol/names.ts';
import type { SignedTransaction } from '../protocol/types.ts';
import { toHex } from '../state/bytes.ts';
import { LmdbStore } from '../state/lmdb-store.ts';
import { MemoryStore } from '../state/memory-store.ts';
import { WriteOverlay } from '../state/overlay.ts';
import { StateDb } from '../state/state-db.ts';
import type { BlocksCommit, KvStore } from '../state/store.ts';
import { ONE_SECOND_US } from './constants.ts';
import { ChainHaltError } from './errors.ts';
import { Chain, openTransaction, type ValidatedBlock } from './executor.ts';
import { signedTransaction, testServices, transferAction } from './test-kit.ts';
import type { GenesisService } from './native-tables.ts';

const ALICE = accountNumber('alice');
const BOB = accountNumber('bob');
const PRODUCER = accountNumber('prod');
const T0 = 1_700_000_000_000_000n;
const EXPIRES = T0 / ONE_SECOND_US + 600n;

let services: GenesisService[];
beforeAll(async () => {
  services = await testServices();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function lmdbStore(): LmdbStore {
  const dir = mkdtempSync(join(tmpdir(), 'psiweb-commit-irr-'));
  const store = LmdbStore.open(dir);
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

function transfer(amount: bigint, memo: number): SignedTransaction {
  return signedTransaction([transferAction(ALICE, BOB, amount)], { expiration: EXPIRES + BigInt(memo) });
}

const dump = async (s: KvStore) => (await s.getRange(new Uint8Array(0), undefined)).map((e) => `${toHex(e.key)}=${toHex(e.value)}`);

describe('Chain.commitIrreversible', () => {
  for (const [name, open] of [['memory', () => new MemoryStore() as KvStore], ['lmdb', () => lmdbStore() as KvStore]] as const) {
    it(`${name}: blocks validated each on the one before commit together, one store transaction, as applying them one by one would`, async () => {
      const producer = await Chain.open({ state: new StateDb(new MemoryStore()) });
      const reference = await Chain.open({ state: new StateDb(new MemoryStore()) });
      const store = open();
      let commits = 0;
      const commitBlocks = store.commitBlocks!.bind(store);
      store.commitBlocks = (c: BlocksCommit) => (commits++, commitBlocks(c));
      const node = await Chain.open({ state: new StateDb(store), reversible: true });
      const genesis = await producer.boot({ services, producer: PRODUCER, time: T0 });
      await reference.applyBlock(genesis.bytes);
      await node.applyBlock(genesis.bytes);
      // A reversible block first: its undo record goes with the batch above it.
      const b2 = await producer.produceBlock({ producer: PRODUCER, transactions: [transfer(1n, 1)] });
      await reference.applyBlock(b2.bytes);
      await node.applyBlock(b2.bytes);
      expect(await node.state.firstReversible()).toBeDefined();
      const blocks = [];
      for (let i = 0; i < 5; i++) blocks.push(await producer.produceBlock({ producer: PRODUCER, transactions: i % 2 ? [] : [transfer(BigInt(i + 2), i + 2)] }));
      // Each validated on the head's state with the write sets of the ones before it over it.
      const pending = new WriteOverlay(node.state.reader);
      const validated: ValidatedBlock[] = [];
      for (const b of blocks) {
        await reference.applyBlock(b.bytes);
        const v = await node.validateOn(b.bytes, pending);
        for (const [k, value] of v.bc.state.writes()) {
          if (value === undefined) pending.remove(k);
          else pending.put(k, value);
        }
        validated.push(v);
      }
      // Not following the head: refused, nothing changes.
      const before = await dump(store);
      await expect(node.commitIrreversible(validated.slice(1))).rejects.toThrow(ChainHaltError);
      await expect(node.commitIrreversible([validated[0]!, validated[2]!])).rejects.toThrow(/does not follow/);
      expect(await dump(store)).toEqual(before);
      await node.markIrreversible(b2.block.block.header.blockNum);
      await node.commitIrreversible(validated);
      expect(commits).toBe(1);
      expect(node.head).toEqual(reference.head);
      expect(await dump(store)).toEqual(await dump(reference.state.store));
      for (const b of blocks) expect((await node.state.store.block(b.block.block.header.blockNum))?.bytes).toEqual(b.bytes);
      // No undo records are left: the batch and the block below it are irreversible.
      expect(await node.state.firstReversible()).toBeUndefined();
      await expect(node.revertTo(b2.block.block.header.blockNum)).rejects.toThrow(/irreversible/);
      // The transfers in the batch count as included (the duplicate check of a push).
      expect(node.isRecentlyIncluded(openTransaction(blocks[0]!.block.block.transactions.at(-1)!).id)).toBe(true);
    });
  }
});

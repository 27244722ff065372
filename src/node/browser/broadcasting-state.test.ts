import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../state/index.ts';
import type { BlockCommit, KvStore } from '../../state/store.ts';
import { BroadcastingStateDb } from './broadcasting-state.ts';
import { StateLostError } from './errors.ts';
import type { NodeMessage } from './messages.ts';

const key = (n: number) => new Uint8Array([1, n]);
const commit = (num: number): BlockCommit => ({
  writes: [[key(num), new Uint8Array([num])]],
  block: { num, id: new Uint8Array([num]), bytes: new Uint8Array([num]) },
  head: { num, id: new Uint8Array([num]) },
});

/** A store without a synchronous reader (so the state has a range cache, as over IndexedDB) whose commits finish when told. */
function slowStore() {
  const inner = new MemoryStore();
  const issued: { num: number; finish: (error?: Error) => void }[] = [];
  const store: KvStore = {
    syncReader: undefined,
    get: (k) => inner.get(k),
    getRange: (s, e, o) => inner.getRange(s, e, o),
    head: () => inner.head(),
    block: (n) => inner.block(n),
    close: () => inner.close(),
    commitBlock: (c) =>
      new Promise<void>((resolve, reject) => {
        issued.push({ num: c.head.num, finish: (error) => (error ? reject(error) : void inner.commitBlock(c).then(resolve, reject)) });
      }),
    commitBlocks: (c) =>
      new Promise<void>((resolve, reject) => {
        issued.push({ num: c.head.num, finish: (error) => (error ? reject(error) : void inner.commitBlocks(c).then(resolve, reject)) });
      }),
  };
  return { store, inner, issued };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('BroadcastingStateDb', () => {
  it('lets the node go on before a commit is stored, and tells the channel only once it is', async () => {
    const { store, inner, issued } = slowStore();
    const posted: NodeMessage[] = [];
    const state = new BroadcastingStateDb(store, (m) => posted.push(m));
    // The range is cached, as the node's working set is while it syncs.
    expect(await state.run(() => state.reader.get(key(2)))).toBeUndefined();
    await state.commitBlock(commit(2));
    expect(issued.map((i) => i.num)).toEqual([2]);
    // Block 2's writes are readable already, through the cache.
    expect(await state.run(() => state.reader.get(key(2)))).toEqual(new Uint8Array([2]));
    expect(posted).toEqual([]);

    // Block 3 is not issued before block 2 is stored.
    const third = state.commitBlock(commit(3));
    await tick();
    expect(issued.map((i) => i.num)).toEqual([2]);
    issued[0]!.finish();
    await third;
    expect(issued.map((i) => i.num)).toEqual([2, 3]);
    expect(posted.map((m) => m.type === 'block' && m.num)).toEqual([2]);
    issued[1]!.finish();
    await state.settled();
    expect(posted.map((m) => m.type === 'block' && m.num)).toEqual([2, 3]);
    expect((await inner.head())?.num).toBe(3);
  });

  it('after a failed commit, writes nothing more and says the state is lost', async () => {
    const { store, inner, issued } = slowStore();
    const posted: NodeMessage[] = [];
    const state = new BroadcastingStateDb(store, (m) => posted.push(m));
    await state.commitBlock(commit(2));
    issued[0]!.finish();
    await state.commitBlock(commit(3));
    issued[1]!.finish(new Error('QuotaExceededError'));
    await expect(state.commitBlock(commit(4))).rejects.toBeInstanceOf(StateLostError);
    await expect(state.settled()).rejects.toThrow(/block 3 was not stored: QuotaExceededError/);
    await expect(state.commitBlock(commit(5))).rejects.toBeInstanceOf(StateLostError);
    expect(state.failure).toBeInstanceOf(StateLostError);
    expect(issued.map((i) => i.num)).toEqual([2, 3]);
    expect(posted.map((m) => m.type === 'block' && m.num)).toEqual([2]);
    expect((await inner.head())?.num).toBe(2);
  });

  it('commits blocks caught up on in one store transaction, after the one before it is stored, and announces them as one write set', async () => {
    const { store, inner, issued } = slowStore();
    const posted: NodeMessage[] = [];
    const state = new BroadcastingStateDb(store, (m) => posted.push(m));
    expect(state.commitsBlocksTogether).toBe(true);
    // The range is cached, as the node's working set is while it syncs.
    expect(await state.run(() => state.reader.get(key(2)))).toBeUndefined();
    await state.commitBlock(commit(2));
    const batch = state.commitBlocks({
      writes: [[key(3), new Uint8Array([3])], [key(2), undefined]],
      blocks: [3, 4, 5].map((num) => ({ num, id: new Uint8Array([num]), bytes: new Uint8Array([num]) })),
      head: { num: 5, id: new Uint8Array([5]) },
    });
    await tick();
    expect(issued.map((i) => i.num)).toEqual([2]);
    issued[0]!.finish();
    await batch;
    // One transaction for the three blocks, its writes readable before it is stored.
    expect(issued.map((i) => i.num)).toEqual([2, 5]);
    expect(await state.run(() => state.reader.get(key(2)))).toBeUndefined();
    issued[1]!.finish();
    await state.settled();
    const blocks = posted.filter((m) => m.type === 'block');
    expect(blocks.map((m) => [m.num, m.from])).toEqual([[2, undefined], [5, 3]]);
    expect(blocks[1]!.writes).toEqual([[key(3), new Uint8Array([3])], [key(2), undefined]]);
    expect((await inner.head())?.num).toBe(5);
    expect((await inner.block(4))?.id).toEqual(new Uint8Array([4]));
  });

  it('a failed batch loses the state as a failed block does', async () => {
    const { store, inner, issued } = slowStore();
    const state = new BroadcastingStateDb(store, () => undefined);
    await state.commitBlocks({ writes: [[key(3), new Uint8Array([3])]], blocks: [3, 4].map((num) => ({ num, id: new Uint8Array([num]), bytes: new Uint8Array([num]) })), head: { num: 4, id: new Uint8Array([4]) } });
    issued[0]!.finish(new Error('QuotaExceededError'));
    await expect(state.settled()).rejects.toThrow(/block 4 was not stored: QuotaExceededError/);
    await expect(state.commitBlock(commit(5))).rejects.toBeInstanceOf(StateLostError);
    expect(await inner.head()).toBeUndefined();
  });
});

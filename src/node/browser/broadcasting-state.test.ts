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
});

/**
 * The outbox's updates: a record's status changes until it has a verdict, which is never
 * overwritten — one at a time or many in one IndexedDB transaction (a producing
 * browser marks a burst submitted, and settles a block's records, at once).
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbox } from './outbox.ts';

let outbox: Outbox;
beforeAll(async () => {
  outbox = await Outbox.open(`psiweb-outbox-test-${process.pid}-${Date.now()}`);
});
afterAll(() => outbox.close());

describe('Outbox updates', () => {
  it('updateMany changes each record in order, leaves a verdict as it is, and answers undefined for an unknown id', async () => {
    for (const id of ['a1', 'a2', 'a3']) await outbox.enqueue(id, new Uint8Array([1, 2, 3]), 2_000_000_000);
    await outbox.update('a2', { status: 'applied', blockNum: 7 });
    const out = await outbox.updateMany([
      { id: 'a1', patch: { status: 'submitted' } },
      { id: 'a2', patch: { status: 'submitted' } },
      { id: 'nope', patch: { status: 'submitted' } },
      { id: 'a3', patch: { status: 'failed', error: 'expired' } },
    ]);
    expect(out.map((r) => r?.status)).toEqual(['submitted', 'applied', undefined, 'failed']);
    expect((await outbox.get('a1'))!.status).toBe('submitted');
    expect((await outbox.get('a2'))!).toMatchObject({ status: 'applied', blockNum: 7 });
    expect((await outbox.get('a3'))!).toMatchObject({ status: 'failed', error: 'expired' });
    expect((await outbox.pending()).map((r) => r.id)).toEqual(['a1']);
    expect(await outbox.updateMany([])).toEqual([]);
  });
});

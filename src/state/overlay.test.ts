import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex } from './bytes.ts';
import { MemoryKv } from './memory-kv.ts';
import { WriteOverlay } from './overlay.ts';
import { b, keyArb, lookupArb, ReferenceKv, runLookup, valueArb, type Lookup } from './testing/reference.ts';
import { StateError } from '../errors.ts';

type Op =
  | { op: 'put'; key: Uint8Array; value: Uint8Array }
  | { op: 'remove'; key: Uint8Array }
  | { op: 'savepoint' }
  | { op: 'rollback'; pick: number }
  | { op: 'release'; pick: number }
  | { op: 'read'; lookup: Lookup };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('put' as const), key: keyArb(), value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), key: keyArb() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'savepoint' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rollback' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('read' as const), lookup: lookupArb }) },
);

const entriesArb = fc.array(fc.record({ key: keyArb(), value: valueArb }), { maxLength: 40 });

function sortedHex(r: ReferenceKv): string[] {
  return r.sorted().map((e) => `${toHex(e.key)}=${toHex(e.value)}`);
}

describe('MemoryKv', () => {
  it('answers lookups like the reference model', () => {
    fc.assert(
      fc.property(entriesArb, fc.array(lookupArb, { maxLength: 30 }), (entries, lookups) => {
        const kv = new MemoryKv();
        const ref = new ReferenceKv();
        for (const e of entries) {
          kv.put(e.key, e.value);
          ref.put(e.key, e.value);
        }
        for (const l of lookups) expect(runLookup(kv, l)).toEqual(runLookup(ref, l));
      }),
      { numRuns: 500 },
    );
  });

  it('follows psibase at the 0x00/0xff edges', () => {
    const kv = new MemoryKv();
    for (const k of [b(), b(0x00), b(0x01), b(0x01, 0x00), b(0x01, 0xff), b(0x01, 0xff, 0xff), b(0x02), b(0xff), b(0xff, 0xff)]) {
      kv.put(k, k);
    }
    expect(kv.greaterEqual(b(), 0)?.key).toEqual(b());
    expect(kv.greaterEqual(b(0x01, 0x01), 1)?.key).toEqual(b(0x01, 0xff));
    // The first key >= 0x01ff00 is 0x01ffff, which still has the one-byte prefix 0x01.
    expect(kv.greaterEqual(b(0x01, 0xff, 0x00), 1)?.key).toEqual(b(0x01, 0xff, 0xff));
    // Past the last 0x01… key the next key (0x02) does not match, so nothing is found.
    expect(kv.greaterEqual(b(0x01, 0xff, 0xff, 0x00), 1)).toBeUndefined();
    expect(kv.greaterEqual(b(0x01, 0xff, 0xff, 0x00), 0)?.key).toEqual(b(0x02));
    expect(kv.lessThan(b(0x01), 1)).toBeUndefined();
    expect(kv.lessThan(b(0x01), 0)?.key).toEqual(b(0x00));
    expect(kv.lessThan(b(0x01, 0x00), 1)?.key).toEqual(b(0x01));
    expect(kv.lessThan(b(0x00), 0)?.key).toEqual(b());
    expect(kv.lessThan(b(), 0)).toBeUndefined();
    expect(kv.max(b(0x01))?.key).toEqual(b(0x01, 0xff, 0xff));
    expect(kv.max(b(0xff))?.key).toEqual(b(0xff, 0xff));
    expect(kv.max(b())?.key).toEqual(b(0xff, 0xff));
    expect(kv.max(b(0x03))).toBeUndefined();
  });

  it('rejects a prefix length longer than the key', () => {
    const kv = new MemoryKv();
    expect(() => kv.greaterEqual(b(1), 2)).toThrow(StateError);
    expect(() => kv.lessThan(b(1), -1)).toThrow(StateError);
    expect(() => kv.lessThan(b(1), 0.5)).toThrow(StateError);
  });
});

describe('WriteOverlay', () => {
  it('behaves like a copy of its base under random writes, savepoints and lookups', () => {
    fc.assert(
      fc.property(entriesArb, fc.array(opArb, { maxLength: 80 }), (entries, ops) => {
        const base = new MemoryKv();
        for (const e of entries) base.put(e.key, e.value);
        const overlay = new WriteOverlay(base);
        let model = new ReferenceKv(entries);
        const saved: ReferenceKv[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'put':
              overlay.put(o.key, o.value);
              model.put(o.key, o.value);
              break;
            case 'remove':
              overlay.remove(o.key);
              model.remove(o.key);
              break;
            case 'savepoint':
              expect(overlay.savepoint()).toBe(saved.length);
              saved.push(model.clone());
              break;
            case 'rollback':
            case 'release': {
              if (saved.length === 0) {
                expect(() => overlay[o.op](0)).toThrow(StateError);
                break;
              }
              const sp = o.pick % saved.length;
              overlay[o.op](sp);
              if (o.op === 'rollback') model = saved[sp]!;
              saved.length = sp;
              expect(overlay.depth).toBe(sp);
              break;
            }
            case 'read':
              expect(runLookup(overlay, o.lookup)).toEqual(runLookup(model, o.lookup));
          }
        }
        // The write set applied to the base must reproduce the model exactly.
        const after = new ReferenceKv(entries);
        for (const [k, v] of overlay.writes()) {
          if (v === undefined) after.remove(k);
          else after.put(k, v);
        }
        expect(sortedHex(after)).toEqual(sortedHex(model));
        // The base itself is never touched.
        expect(sortedHex(new ReferenceKv(base.range(b(), undefined)))).toEqual(sortedHex(new ReferenceKv(entries)));
      }),
      { numRuns: 1000 },
    );
  });

  it('stacks: a transaction overlay over a block overlay reads through both', () => {
    fc.assert(
      fc.property(
        entriesArb,
        fc.array(fc.tuple(fc.boolean(), keyArb(), valueArb), { maxLength: 30 }),
        fc.array(fc.tuple(fc.boolean(), keyArb(), valueArb), { maxLength: 30 }),
        fc.array(lookupArb, { maxLength: 30 }),
        (entries, blockOps, txOps, lookups) => {
          const base = new MemoryKv();
          for (const e of entries) base.put(e.key, e.value);
          const block = new WriteOverlay(base);
          const tx = new WriteOverlay(block);
          const model = new ReferenceKv(entries);
          for (const [del, k, v] of blockOps) {
            if (del) (block.remove(k), model.remove(k));
            else (block.put(k, v), model.put(k, v));
          }
          for (const [del, k, v] of txOps) {
            if (del) (tx.remove(k), model.remove(k));
            else (tx.put(k, v), model.put(k, v));
          }
          for (const l of lookups) expect(runLookup(tx, l)).toEqual(runLookup(model, l));
          for (const [k, v] of tx.writes()) (v === undefined ? block.remove(k) : block.put(k, v));
          for (const l of lookups) expect(runLookup(block, l)).toEqual(runLookup(model, l));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('skips long runs of removed keys without losing later base entries', () => {
    const base = new MemoryKv();
    for (let i = 0; i < 1000; i++) base.put(b(1, i >> 8, i & 0xff), b(i & 0xff));
    const o = new WriteOverlay(base);
    for (let i = 0; i < 999; i++) o.remove(b(1, i >> 8, i & 0xff));
    expect(o.greaterEqual(b(1), 1)?.key).toEqual(b(1, 999 >> 8, 999 & 0xff));
    expect(o.max(b(1))?.key).toEqual(b(1, 999 >> 8, 999 & 0xff));
    expect(o.lessThan(b(1, 999 >> 8, 999 & 0xff), 1)).toBeUndefined();
    o.remove(b(1, 999 >> 8, 999 & 0xff));
    expect(o.max(b(1))).toBeUndefined();
    expect(o.greaterEqual(b(1), 0)).toBeUndefined();
  });

  it('release keeps inner writes for the outer savepoint to undo', () => {
    const o = new WriteOverlay(new MemoryKv());
    o.put(b(1), b(1));
    const outer = o.savepoint();
    o.put(b(2), b(2));
    const inner = o.savepoint();
    o.put(b(1), b(9));
    o.release(inner);
    expect(o.get(b(1))).toEqual(b(9));
    o.rollback(outer);
    expect(o.get(b(1))).toEqual(b(1));
    expect(o.get(b(2))).toBeUndefined();
    expect(() => o.release(outer)).toThrow(StateError);
    expect([...o.writes()]).toEqual([[b(1), b(1)]]);
  });
});

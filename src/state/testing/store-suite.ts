/**
 * Behaviour every KvStore must show, written without a test framework so the same
 * cases run under vitest in Node (memory, lmdb, fake-indexeddb) and inside Chromium
 * against real IndexedDB. A case throws on the first mismatch.
 */
import { compareBytes, toHex } from '../bytes.ts';
import type { KvWrite } from '../overlay.ts';
import type { BlockCommit, KvStore } from '../store.ts';
import type { Bytes, KvEntry } from '../types.ts';
import { b, ReferenceKv, runLookup, type Lookup } from './reference.ts';

export interface StoreCase {
  name: string;
  run(store: KvStore): Promise<void>;
}

function eq(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const show = (es: KvEntry[]) => es.map((e) => `${toHex(e.key)}=${toHex(e.value)}`);

/** A deterministic PRNG so a failure in the browser reproduces. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export function commitOf(num: number, writes: Iterable<KvWrite>): BlockCommit {
  const id = new Uint8Array(32).fill(num & 0xff);
  return { writes, block: { num, id, bytes: b(num & 0xff, 1, 2, 3) }, head: { num, id } };
}

/** Keys on every edge: empty, 0x00 and 0xff runs, and prefixes of each other. */
export const EDGE_KEYS: Bytes[] = [
  b(),
  b(0x00),
  b(0x00, 0x00),
  b(0x00, 0xff),
  b(0x01),
  b(0x01, 0x00),
  b(0x01, 0x00, 0x00),
  b(0x01, 0x7f),
  b(0x01, 0x80),
  b(0x01, 0xff),
  b(0x01, 0xff, 0xff),
  b(0x02),
  b(0x7f, 0xff),
  b(0x80),
  b(0xfe, 0xff, 0xff),
  b(0xff),
  b(0xff, 0x00),
  b(0xff, 0xff),
  b(0xff, 0xff, 0xff),
];

async function expectRange(store: KvStore, ref: ReferenceKv, start: Bytes, end: Bytes | undefined, limit?: number) {
  const inRange = ref
    .sorted()
    .filter((e) => compareBytes(e.key, start) >= 0 && (end === undefined || compareBytes(e.key, end) < 0));
  const what = `range [${toHex(start)}, ${end ? toHex(end) : '∞'}) limit ${limit}`;
  eq(show(await store.getRange(start, end, { limit })), show(inRange.slice(0, limit)), what);
  eq(
    show(await store.getRange(start, end, { limit, reverse: true })),
    show(inRange.reverse().slice(0, limit)),
    `${what} reversed`,
  );
}

export const storeCases: StoreCase[] = [
  {
    name: 'starts empty',
    async run(store) {
      eq(await store.head(), undefined, 'head');
      eq(await store.get(b(1)), undefined, 'get');
      eq(await store.getRange(b(), undefined), [], 'range');
      eq(await store.block(1), undefined, 'block');
    },
  },
  {
    name: 'orders keys bytewise, including the empty key, 0x00/0xff edges and prefixes',
    async run(store) {
      const shuffled = [...EDGE_KEYS].reverse();
      await store.commitBlock(commitOf(1, shuffled.map((k) => [k, b(k.length, ...k)] as const)));
      eq(
        (await store.getRange(b(), undefined)).map((e) => toHex(e.key)),
        EDGE_KEYS.map(toHex),
        'full range order',
      );
      for (const k of EDGE_KEYS) eq(toHex((await store.get(k))!), toHex(b(k.length, ...k)), `get ${toHex(k)}`);
      const ref = new ReferenceKv(EDGE_KEYS.map((k) => ({ key: k, value: b(k.length, ...k) })));
      for (const start of EDGE_KEYS) {
        for (const end of [...EDGE_KEYS, undefined]) {
          await expectRange(store, ref, start, end);
          await expectRange(store, ref, start, end, 2);
        }
      }
      eq(await store.getRange(b(2), b(1)), [], 'inverted range');
      eq(await store.getRange(b(1), b(1)), [], 'empty range');
      eq(await store.getRange(b(1), undefined, { limit: 0 }), [], 'limit 0');
    },
  },
  {
    name: 'applies removes and overwrites, and keeps block records and the head',
    async run(store) {
      await store.commitBlock(commitOf(1, [[b(1), b(1)], [b(2), b(2)], [b(3), b(3)]]));
      await store.commitBlock(commitOf(2, [[b(1), undefined], [b(2), b(22)], [b(9), undefined]]));
      eq(show(await store.getRange(b(), undefined)), ['02=16', '03=03'], 'state after block 2');
      const head = await store.head();
      eq(head?.num, 2, 'head num');
      eq(toHex(head!.id), toHex(new Uint8Array(32).fill(2)), 'head id');
      const block1 = await store.block(1);
      eq([block1?.num, toHex(block1!.id), toHex(block1!.bytes)], [1, toHex(new Uint8Array(32).fill(1)), '01010203'], 'block 1');
    },
  },
  {
    name: 'stores only the bytes of a view, not its whole buffer',
    async run(store) {
      const memory = new Uint8Array(1024).map((_, i) => i & 0xff);
      await store.commitBlock(commitOf(1, [[memory.subarray(10, 12), memory.subarray(100, 103)]]));
      const [e] = await store.getRange(b(), undefined);
      eq([toHex(e!.key), toHex(e!.value), e!.value.length], ['0a0b', '646566', 3], 'entry');
    },
  },
  {
    name: 'a write set that throws midway commits nothing',
    async run(store) {
      await store.commitBlock(commitOf(1, [[b(1), b(1)]]));
      function* failing(): Generator<KvWrite> {
        for (let i = 0; i < 500; i++) yield [b(2, i >> 8, i & 0xff), b(i & 0xff)];
        yield [b(1), undefined];
        throw new Error('executor failed mid-block');
      }
      let rejected = false;
      try {
        await store.commitBlock(commitOf(2, failing()));
      } catch (e) {
        rejected = (e as Error).name === 'StateError';
      }
      eq(rejected, true, 'commit rejected with StateError');
      eq((await store.head())?.num, 1, 'head unchanged');
      eq(show(await store.getRange(b(), undefined)), ['01=01'], 'state unchanged');
      eq(await store.block(2), undefined, 'no block 2');
    },
  },
  {
    name: 'commitBlocks (where the store has it) commits several blocks at once, or nothing when the write set throws',
    async run(store) {
      if (!store.commitBlocks) return;
      await store.commitBlock(commitOf(1, [[b(1), b(1)]]));
      const block = (num: number) => commitOf(num, []).block;
      function* failing(): Generator<KvWrite> {
        yield [b(1), undefined];
        yield [b(2), b(2)];
        throw new Error('executor failed mid-batch');
      }
      let rejected = false;
      try {
        await store.commitBlocks({ writes: failing(), blocks: [block(2), block(3)], head: commitOf(3, []).head });
      } catch (e) {
        rejected = (e as Error).name === 'StateError';
      }
      eq(rejected, true, 'commit rejected with StateError');
      eq((await store.head())?.num, 1, 'head unchanged');
      eq(show(await store.getRange(b(), undefined)), ['01=01'], 'state unchanged');
      eq([await store.block(2), await store.block(3)], [undefined, undefined], 'no blocks 2, 3');
      await store.commitBlocks({ writes: [[b(1), undefined], [b(2), b(2)]], blocks: [block(2), block(3)], head: commitOf(3, []).head });
      eq((await store.head())?.num, 3, 'head');
      eq(show(await store.getRange(b(), undefined)), ['02=02'], 'state after blocks 2 and 3');
      eq([(await store.block(2))?.num, (await store.block(3))?.num], [2, 3], 'blocks 2 and 3');
    },
  },
  {
    name: 'blocks (where the store has it) reads a run of blocks in order, ending before the first missing one',
    async run(store) {
      if (!store.blocks) return;
      for (const num of [1, 2, 3, 5]) await store.commitBlock(commitOf(num, []));
      const nums = async (from: number, to: number) => (await store.blocks!(from, to)).map((r) => r.num);
      eq(await nums(1, 3), [1, 2, 3], 'blocks 1–3');
      eq(await nums(2, 9), [2, 3], 'to the gap before 5');
      eq(await nums(4, 9), [], 'from a missing block');
      eq(await nums(5, 5), [5], 'one block');
      eq(await nums(3, 2), [], 'an empty range');
      const [two] = await store.blocks(2, 2);
      eq([two?.num, show([{ key: two!.id, value: two!.bytes }])], [2, show([{ key: commitOf(2, []).block.id, value: commitOf(2, []).block.bytes }])], 'the record as stored');
    },
  },
  {
    name: 'revertTo (where the store has it) takes back reversible blocks to the exact earlier state, and refuses irreversible ones',
    async run(store) {
      if (!store.revertTo) return;
      const rand = rng(11);
      const key = () => Uint8Array.from({ length: 1 + Math.floor(rand() * 2) }, () => [0, 1, 0xff][Math.floor(rand() * 3)]!);
      const snapshots: string[][] = [];
      // Blocks 1, 2 irreversible (no undo); 3..6 reversible, each overwriting and removing keys of the others.
      for (let num = 1; num <= 6; num++) {
        const writes: KvWrite[] = [];
        for (let i = 0; i < 6; i++) writes.push([key(), rand() < 0.3 ? undefined : b(num, i)]);
        await store.commitBlock({ ...commitOf(num, writes), undo: num > 2 });
        snapshots[num] = show(await store.getRange(b(), undefined));
      }
      eq(await store.firstReversible?.(), 3, 'block 3 is the first reversible one');
      await store.revertTo(4);
      eq((await store.head())?.num, 4, 'head after revertTo(4)');
      eq(show(await store.getRange(b(), undefined)), snapshots[4], 'state of block 4');
      eq([await store.block(5), await store.block(6)], [undefined, undefined], 'blocks 5 and 6 gone');
      // A new block 5 on the other fork, then back to block 1 through it.
      await store.commitBlock({ ...commitOf(5, [[b(9), b(9)]]), undo: true });
      const writes = await store.revertTo(2);
      eq(show(await store.getRange(b(), undefined)), snapshots[2], 'state of block 2');
      eq(writes.length > 0, true, 'revertTo returns the writes it made');
      eq(toHex((await store.head())!.id), toHex(commitOf(2, []).head.id), 'head id is block 2');
      let refused = '';
      try {
        await store.revertTo(1);
      } catch (e) {
        refused = (e as Error).name;
      }
      eq(refused, 'StateError', 'reverting an irreversible block is refused');
      await store.dropUndo?.(2);
      eq(await store.firstReversible?.(), undefined, 'no reversible block left');
      eq((await store.head())?.num, 2, 'head unchanged after the refusal');
      eq(show(await store.getRange(b(), undefined)), snapshots[2], 'state unchanged after the refusal');
      // A commit can forget older undo records in the same transaction.
      await store.commitBlock({ ...commitOf(3, [[b(3), b(3)]]), undo: true });
      await store.commitBlock({ ...commitOf(4, [[b(4), b(4)]]), undo: true, dropUndoTo: 3 });
      eq(await store.firstReversible?.(), 4, 'block 3 dropped with block 4');
    },
  },
  {
    name: 'matches a reference model over many random blocks',
    async run(store) {
      const rand = rng(7);
      const ref = new ReferenceKv();
      const key = () => Uint8Array.from({ length: 1 + Math.floor(rand() * 3) }, () => [0, 1, 0x7f, 0xff][Math.floor(rand() * 4)]!);
      for (let num = 1; num <= 20; num++) {
        const writes: KvWrite[] = [];
        for (let i = 0; i < 15; i++) {
          const k = key();
          const v = rand() < 0.3 ? undefined : b(num, i);
          writes.push([k, v]);
          if (v) ref.put(k, v);
          else ref.remove(k);
        }
        await store.commitBlock(commitOf(num, writes));
        await expectRange(store, ref, key(), rand() < 0.3 ? undefined : key(), rand() < 0.5 ? 3 : undefined);
      }
      eq(show(await store.getRange(b(), undefined)), show(ref.sorted()), 'final state');
      const reader = store.syncReader;
      if (reader) {
        for (let i = 0; i < 300; i++) {
          const k = key();
          const l: Lookup = [
            { op: 'get' as const, key: k },
            { op: 'ge' as const, key: k, prefixLen: Math.floor(rand() * (k.length + 1)) },
            { op: 'lt' as const, key: k, prefixLen: Math.floor(rand() * (k.length + 1)) },
            { op: 'max' as const, key: k.subarray(0, Math.floor(rand() * (k.length + 1))) },
          ][i % 4]!;
          eq(runLookup(reader, l), runLookup(ref, l), `sync ${l.op} ${toHex(l.key)}`);
        }
      }
    },
  },
  {
    name: 'commits a 5,000-key block',
    async run(store) {
      const writes: KvWrite[] = [];
      for (let i = 0; i < 5000; i++) writes.push([b(3, i >> 8, i & 0xff, 0), b(i & 0xff, i >> 8)]);
      await store.commitBlock(commitOf(1, writes));
      eq((await store.getRange(b(3), b(4))).length, 5000, 'all keys');
      eq(show(await store.getRange(b(3), b(4), { limit: 1, reverse: true })), ['03138700=8713'], 'last key');
    },
  },
];

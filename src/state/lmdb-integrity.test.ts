/**
 * Damage on disk is detected, never served: lmdb keeps no checksums, so the store
 * seals every record with its own and checks the file's header before lmdb maps it.
 * Each test damages a real data.mdb the way a disk or a careless user would.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreDamagedError, StoreFormatError } from '../errors.ts';
import { LMDB_STORE_FORMAT, LmdbStore } from './lmdb-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'psiweb-lmdb-integrity-'));
  dirs.push(d);
  return d;
}

const enc = new TextEncoder();
const KEY = enc.encode('tokens/balance/alice');
/** A value whose bytes are easy to find in the file. */
const VALUE = enc.encode('balance=0001000000;distinctive-marker-for-the-test');
const BLOCK_BYTES = enc.encode('block-bytes:distinctive-block-record-marker-0123456789');

async function storeWithOneBlock(dir: string): Promise<void> {
  const store = LmdbStore.open(dir);
  const id = new Uint8Array(32).fill(7);
  await store.commitBlock({ writes: [[KEY, VALUE]], block: { num: 1, id, bytes: BLOCK_BYTES }, head: { num: 1, id } });
  await store.close();
}

/** Flips one byte of the first occurrence of `marker` in the data file. */
function flipByteOf(dir: string, marker: Uint8Array, at: number): void {
  const file = join(dir, 'data.mdb');
  const data = readFileSync(file);
  const where = data.indexOf(Buffer.from(marker));
  expect(where, 'the marker is in the data file').toBeGreaterThanOrEqual(0);
  data[where + at]! ^= 0x01;
  writeFileSync(file, data);
}

describe('lmdb store integrity', () => {
  it('reads back what it wrote, with the format recorded', async () => {
    const dir = tempDir();
    await storeWithOneBlock(dir);
    const store = LmdbStore.open(dir);
    expect(await store.get(KEY)).toEqual(VALUE);
    expect((await store.block(1))!.bytes).toEqual(BLOCK_BYTES);
    expect((await store.head())!.num).toBe(1);
    expect([...store.allState()]).toHaveLength(1);
    await store.close();
  });

  it('a state value changed on disk is refused on every read path, not served', async () => {
    const dir = tempDir();
    await storeWithOneBlock(dir);
    flipByteOf(dir, VALUE, 10); // '0001000000' → '0000000000'-like
    const store = LmdbStore.open(dir);
    await expect(store.get(KEY)).rejects.toBeInstanceOf(StoreDamagedError);
    expect(() => store.syncReader.get(KEY)).toThrow(StoreDamagedError);
    expect(() => store.syncReader.greaterEqual(new Uint8Array(0), 0)).toThrow(StoreDamagedError);
    expect(() => store.syncReader.max(new Uint8Array(0))).toThrow(StoreDamagedError);
    await expect(store.getRange(new Uint8Array(0), undefined)).rejects.toBeInstanceOf(StoreDamagedError);
    expect(() => [...store.allState()]).toThrow(/fails its checksum/);
    await store.close();
  });

  it('a block record changed on disk is refused', async () => {
    const dir = tempDir();
    await storeWithOneBlock(dir);
    flipByteOf(dir, BLOCK_BYTES, 20);
    const store = LmdbStore.open(dir);
    await expect(store.block(1)).rejects.toThrow(/block 1's record fails its checksum/);
    expect(await store.get(KEY)).toEqual(VALUE);
    await store.close();
  });

  it('a truncated data file is refused before lmdb maps it (no SIGBUS)', async () => {
    const dir = tempDir();
    const store = LmdbStore.open(dir);
    const id = new Uint8Array(32).fill(1);
    // Enough data that the file spans many pages.
    const writes: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 4000; i++) writes.push([enc.encode(`key-${i}`), new Uint8Array(200).fill(i & 255)]);
    await store.commitBlock({ writes, block: { num: 1, id, bytes: BLOCK_BYTES }, head: { num: 1, id } });
    await store.close();
    const file = join(dir, 'data.mdb');
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    expect(() => LmdbStore.open(dir)).toThrow(StoreDamagedError);
    expect(() => LmdbStore.open(dir)).toThrow(/truncated/);
  });

  it('garbled meta pages are refused with a message', async () => {
    const dir = tempDir();
    await storeWithOneBlock(dir);
    const file = join(dir, 'data.mdb');
    const data = readFileSync(file);
    for (let i = 0; i < 8192; i++) data[i] = (i * 131) & 255;
    writeFileSync(file, data);
    expect(() => LmdbStore.open(dir)).toThrow(/is damaged: .*meta page/);
  });

  it('a store from a newer psiweb is refused, not misread', async () => {
    const dir = tempDir();
    await storeWithOneBlock(dir);
    const root = open({ path: dir, maxDbs: 4 });
    const meta = root.openDB<Buffer, string>('meta', { encoding: 'binary' });
    const f = Buffer.alloc(4);
    f.writeUInt32LE(LMDB_STORE_FORMAT + 1, 0);
    meta.putSync('format', f);
    await root.close();
    expect(() => LmdbStore.open(dir)).toThrow(StoreFormatError);
    expect(() => LmdbStore.open(dir)).toThrow(/newer psiweb/);
  });

  it('a store from before checksums (format 0) is migrated and reads back the same', async () => {
    const dir = tempDir();
    // Format 0's layout: tagged keys, plain values; block = u32 id length, id, bytes; head = u32 num, id.
    const root = open({ path: dir, maxDbs: 4 });
    const state = root.openDB<Buffer, Buffer>('state', { keyEncoding: 'binary', encoding: 'binary' });
    const blocks = root.openDB<Buffer, number>('blocks', { keyEncoding: 'uint32', encoding: 'binary' });
    const meta = root.openDB<Buffer, string>('meta', { encoding: 'binary' });
    const id = Buffer.alloc(32, 9);
    root.transactionSync(() => {
      state.putSync(Buffer.concat([Buffer.from([1]), KEY]), Buffer.from(VALUE));
      const b = Buffer.alloc(4);
      b.writeUInt32BE(32, 0);
      blocks.putSync(3, Buffer.concat([b, id, Buffer.from(BLOCK_BYTES)]));
      const h = Buffer.alloc(4);
      h.writeUInt32BE(3, 0);
      meta.putSync('head', Buffer.concat([h, id]));
    });
    await root.close();
    const lines: string[] = [];
    const store = LmdbStore.open(dir, { log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/migrated .* from format 0 to format 1/);
    expect(await store.get(KEY)).toEqual(VALUE);
    expect((await store.block(3))!.bytes).toEqual(BLOCK_BYTES);
    expect(await store.head()).toEqual({ num: 3, id: new Uint8Array(id) });
    await store.close();
    // Opened again, nothing more to migrate.
    const again: string[] = [];
    await LmdbStore.open(dir, { log: (l) => again.push(l) }).close();
    expect(again).toEqual([]);
  });
});

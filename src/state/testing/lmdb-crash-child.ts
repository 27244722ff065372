/**
 * Child process for the lmdb crash test: commits the next block (rewriting `count`
 * keys with the block number and adding one marker key) and gets SIGKILLed by the
 * parent at some point of it. Usage: lmdb-crash-child.ts <dir> <count>
 */
import { LmdbStore } from '../lmdb-store.ts';
import { commitOf } from './store-suite.ts';
import type { KvWrite } from '../overlay.ts';

const [dir, countArg] = process.argv.slice(2);
const count = Number(countArg);
const store = LmdbStore.open(dir!);
const next = ((await store.head())?.num ?? 0) + 1;

function* writes(): Generator<KvWrite> {
  for (let i = 0; i < count; i++) yield [Uint8Array.of(2, i >> 16, (i >> 8) & 0xff, i & 0xff), Uint8Array.of(next)];
  yield [Uint8Array.of(3, next), Uint8Array.of(next)];
}

process.stdout.write('committing\n');
await store.commitBlock(commitOf(next, writes()));
process.stdout.write('committed\n');
await store.close();

/**
 * Checks of a stored chain that no single read makes: the block log's ids chain from the
 * head back (each block decodes, hashes to the id it is stored under and names the one
 * before it as `previous`), and the stored state equals the state a fresh replay of
 * every block gives (psibase computes state checksums the same way, over all keys).
 *
 * The node runs verifyBlockLog over the newest blocks when it opens a store; `psiweb
 * check` runs both over everything.
 */
import { StoreDamagedError } from '../errors.ts';
import { blockId } from '../protocol/ids.ts';
import { unpackSignedBlock, type BlockHeader } from '../protocol/types.ts';
import { bytesEqual, compareBytes, toHex } from '../state/bytes.ts';
import { MemoryStore } from '../state/memory-store.ts';
import { StateDb } from '../state/state-db.ts';
import type { HeadRecord, KvStore } from '../state/store.ts';
import type { KvEntry } from '../state/types.ts';
import { GENESIS_BLOCK_NUM } from './constants.ts';
import { Chain } from './executor.ts';
import type { NativeVerifier } from './verify.ts';

export interface BlockLogCheck {
  /** Blocks verified, newest first from the head. */
  blocks: number;
  /** The oldest block verified. */
  from: number;
  head: HeadRecord | undefined;
}

export interface BlockLogOptions {
  /** Verify at most this many blocks back from the head (default: all). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

function damaged(message: string, details: Record<string, unknown>): StoreDamagedError {
  return new StoreDamagedError(`the store is damaged: ${message} (run psiweb check)`, { details });
}

/**
 * Walks the block log from the head back; throws StoreDamagedError at the first block
 * that is missing, does not decode, is stored under another id, or does not link to
 * its successor. `statusHead` is the head the chain's status row names, which must be
 * the store's head.
 */
export async function verifyBlockLog(store: KvStore, statusHead: { num: number; id: Uint8Array } | undefined, options: BlockLogOptions = {}): Promise<BlockLogCheck> {
  const head = await store.head();
  if (!head) {
    if (statusHead) throw damaged(`the state names head block ${statusHead.num} but the store has no head record`, {});
    return { blocks: 0, from: 0, head };
  }
  if (statusHead && (statusHead.num !== head.num || !bytesEqual(statusHead.id, head.id)))
    throw damaged(`the state's head (block ${statusHead.num}) is not the store's head (block ${head.num})`, { state: statusHead.num, store: head.num });
  const oldest = Math.max(GENESIS_BLOCK_NUM, options.limit === undefined ? GENESIS_BLOCK_NUM : head.num - options.limit + 1);
  const total = head.num - oldest + 1;
  let expectedId = head.id;
  let done = 0;
  for (let num = head.num; num >= oldest; num--) {
    const rec = await store.block(num);
    if (!rec) throw damaged(`block ${num} is missing from the block log`, { block: num });
    let header: BlockHeader;
    try {
      header = unpackSignedBlock(rec.bytes).block.header;
    } catch (e) {
      throw damaged(`block ${num} does not decode: ${(e as Error).message}`, { block: num });
    }
    if (header.blockNum !== num) throw damaged(`the block stored as ${num} says it is block ${header.blockNum}`, { block: num });
    const id = blockId(header);
    if (!bytesEqual(id, rec.id)) throw damaged(`block ${num}'s header does not hash to the id it is stored under`, { block: num });
    if (!bytesEqual(id, expectedId))
      throw damaged(num === head.num ? `block ${num} is not the head the store names` : `block ${num} is not the block that block ${num + 1} follows`, { block: num });
    expectedId = header.previous;
    done++;
    if (done % 1000 === 0) options.onProgress?.(done, total);
  }
  options.onProgress?.(done, total);
  return { blocks: done, from: oldest, head };
}

export interface StateDifference {
  key: string;
  stored: string | undefined;
  replayed: string | undefined;
}

export interface ReplayCheck {
  blocks: number;
  records: number;
  /** The first differences found (at most `maxDifferences`). */
  differences: StateDifference[];
  /** How many keys differ in all. */
  differing: number;
}

export interface ReplayOptions {
  nativeVerifiers?: readonly NativeVerifier[];
  maxDifferences?: number;
  onProgress?: (block: number, head: number) => void;
}

/**
 * Replays every stored block, fully validated, on an empty in-memory chain and compares
 * the result with the stored state, key by key. `storedState` yields the stored entries
 * in key order (LmdbStore.allState checks each record's checksum on the way).
 */
export async function replayAndCompare(store: KvStore, storedState: Iterable<KvEntry>, options: ReplayOptions = {}): Promise<ReplayCheck> {
  const head = await store.head();
  const memory = new MemoryStore();
  const chain = await Chain.open({ state: new StateDb(memory), ...(options.nativeVerifiers && { nativeVerifiers: options.nativeVerifiers }) });
  let blocks = 0;
  for (let num = GENESIS_BLOCK_NUM; head && num <= head.num; num++) {
    const rec = await store.block(num);
    if (!rec) throw damaged(`block ${num} is missing from the block log`, { block: num });
    try {
      await chain.applyBlock(rec.bytes);
    } catch (e) {
      throw damaged(`block ${num} does not replay: ${(e as Error).message}`, { block: num });
    }
    blocks++;
    if (num % 500 === 0) options.onProgress?.(num, head.num);
  }
  if (head) options.onProgress?.(head.num, head.num);
  const replayed = await memory.getRange(new Uint8Array(0), undefined);
  const max = options.maxDifferences ?? 20;
  const differences: StateDifference[] = [];
  let differing = 0;
  let records = 0;
  const differ = (key: Uint8Array, stored: Uint8Array | undefined, again: Uint8Array | undefined) => {
    differing++;
    if (differences.length < max) differences.push({ key: toHex(key), stored: stored && toHex(stored), replayed: again && toHex(again) });
  };
  let i = 0;
  for (const e of storedState) {
    records++;
    while (i < replayed.length && compareBytes(replayed[i]!.key, e.key) < 0) {
      differ(replayed[i]!.key, undefined, replayed[i]!.value);
      i++;
    }
    const r = replayed[i];
    if (r && compareBytes(r.key, e.key) === 0) {
      if (!bytesEqual(r.value, e.value)) differ(e.key, e.value, r.value);
      i++;
    } else differ(e.key, e.value, undefined);
  }
  for (; i < replayed.length; i++) differ(replayed[i]!.key, undefined, replayed[i]!.value);
  return { blocks, records, differences, differing };
}

/**
 * The state engine's public surface for every platform. The Node-only lmdb store is
 * imported from './lmdb-store.ts' by Node entry points, so browser bundles never pull
 * in lmdb.
 */
export type { Bytes, KvEntry, KvReader, KvWriter, Overlay } from './types.ts';
export { compareBytes, prefixEnd } from './bytes.ts';
export { MemoryKv } from './memory-kv.ts';
export { WriteOverlay, type KvWrite } from './overlay.ts';
export type { BlockCommit, BlockRecord, HeadRecord, KvStore, RangeOptions } from './store.ts';
export { MemoryStore } from './memory-store.ts';
export { IdbStore, type IdbStoreOptions } from './idb-store.ts';
export { RangeCache, RangeMissError, type RangeCacheOptions } from './range-cache.ts';
export { findMiss, runWithRetry, type RetryOptions } from './retry.ts';
export { StateDb, type StateDbOptions } from './state-db.ts';

/**
 * The state engine's public surface for every platform. The platform adapters are
 * imported from their own files by their platform's entry points: the lmdb store
 * ('./lmdb-store.ts') by Node's, so browser bundles never pull in lmdb, and the
 * IndexedDB store ('./idb-store.ts') by the browser's. Everything exported here
 * compiles without DOM or Node types (tsconfig.core.json).
 */
export type { Bytes, KvEntry, KvReader, KvWriter, Overlay } from './types.ts';
export { compareBytes, prefixEnd } from './bytes.ts';
export { MemoryKv } from './memory-kv.ts';
export { WriteOverlay, type KvWrite } from './overlay.ts';
export type { BlockCommit, BlockRecord, HeadRecord, KvStore, RangeOptions } from './store.ts';
export { MemoryStore } from './memory-store.ts';
export { RangeCache, RangeMissError, type RangeCacheOptions } from './range-cache.ts';
export { findMiss, runWithRetry, type RetryOptions } from './retry.ts';
export { StateDb, type StateDbOptions } from './state-db.ts';

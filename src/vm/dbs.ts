/**
 * psibase's database ids and kv modes (psibase db.hpp), and how psiweb lays them out in
 * one ordered key space: every key is prefixed with its DbId as one byte.
 */
import type { Bytes } from '../state/types.ts';

export const DbId = {
  /** Services' tables; the first 8 bytes of a key are the owning service. */
  service: 0,
  /** Data for RPC: write-only in transactions, read-only in RPC. */
  writeOnly: 1,
  /** Tables used by native code; writable only by privileged services. */
  native: 2,
  blockLog: 3,
  blockProof: 4,
  /** Not part of consensus; needs checkoutSubjective. */
  subjective: 64,
  nativeSubjective: 65,
  session: 66,
  nativeSession: 67,
  /** Local to one transaction/query context. */
  temporary: 68,
} as const;
export type DbId = (typeof DbId)[keyof typeof DbId];

/** Databases that follow the chain (DbId < numChainDatabases); the rest are node-local. */
export function isChainDb(db: number): boolean {
  return db < 64;
}

export const KvMode = { none: 0, read: 1, write: 2, readWrite: 3 } as const;
export type KvMode = (typeof KvMode)[keyof typeof KvMode];

/** The key under which `key` of database `db` is stored in psiweb's single key space. */
export function dbKey(db: number, key: Bytes): Bytes {
  const out = new Uint8Array(key.length + 1);
  out[0] = db;
  out.set(key, 1);
  return out;
}

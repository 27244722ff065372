/**
 * Transactions pushed through the root service worker, kept durably in IndexedDB until
 * the node has a verdict: the service worker queues each one (so a push with no node
 * running, or offline, is never lost and never hangs), the node submits queued ones to
 * its peer and records the outcome once the block holding the transaction is applied
 * locally. The producer's trace of a transaction it ran comes earlier and is kept on
 * the submitted record: the push waiting for it is answered with it (see hasAnswer).
 * Records are keyed by transaction id, so pushing the same transaction twice is one
 * record.
 *
 * Status JSON (`GET /_svc/transact/push_status/<id>`, and the 202 reply of a push):
 *   { "id": hex transaction id,
 *     "status": "queued" | "submitted" | "applied" | "failed",
 *     "queuedAt": ISO time, "updatedAt": ISO time,
 *     "blockNum"?: number   (applied: the block holding it),
 *     "trace"?: TransactionTrace JSON (applied: the local re-execution's trace;
 *                                     submitted: the producer's trace once it ran
 *                                     the transaction, not yet in a block here;
 *                                     failed: the producer's trace, when it ran),
 *     "error"?: string      (failed: why) }
 * queued: stored, waiting for a node that is online; submitted: sent to the producer,
 * waiting for the block; applied and failed are final.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { OUTBOX_DB } from './constants.ts';

export type TxStatus = 'queued' | 'submitted' | 'applied' | 'failed';

export interface OutboxRecord {
  id: string;
  status: TxStatus;
  /** The packed SignedTransaction. */
  packed: Uint8Array;
  /** The transaction's TaPoS expiration, seconds since the epoch. */
  expiration: number;
  queuedAt: number;
  updatedAt: number;
  blockNum?: number;
  trace?: unknown;
  error?: string;
}

export interface PushStatus {
  id: string;
  status: TxStatus;
  queuedAt: string;
  updatedAt: string;
  blockNum?: number;
  trace?: unknown;
  error?: string;
}

export function isFinal(status: TxStatus): boolean {
  return status === 'applied' || status === 'failed';
}

/**
 * Whether a push waiting on this record can be answered 200 with a trace: a verdict
 * (applied, failed), or a submitted transaction the producer ran, with its trace
 * (executed, not yet final; the record stays pending until its block is synced).
 */
export function hasAnswer(r: Pick<OutboxRecord, 'status' | 'trace'>): boolean {
  return isFinal(r.status) || (r.status === 'submitted' && r.trace !== undefined);
}

export function pushStatusJson(r: OutboxRecord): PushStatus {
  const out: PushStatus = { id: r.id, status: r.status, queuedAt: new Date(r.queuedAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() };
  if (r.blockNum !== undefined) out.blockNum = r.blockNum;
  if (r.trace !== undefined) out.trace = r.trace;
  if (r.error !== undefined) out.error = r.error;
  return out;
}

const STORE = 'transactions';

export class Outbox {
  private constructor(private readonly db: IDBPDatabase) {}

  static async open(name = OUTBOX_DB): Promise<Outbox> {
    let box: Outbox | undefined;
    const db = await openDB(name, 1, {
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: 'id' }).createIndex('status', 'status');
      },
      blocking() {
        box?.db.close();
      },
    });
    box = new Outbox(db);
    return box;
  }

  /** Queues a transaction unless a record with its id exists; returns the record either way. */
  async enqueue(id: string, packed: Uint8Array, expiration: number, now = Date.now()): Promise<OutboxRecord> {
    const tx = this.db.transaction(STORE, 'readwrite');
    const existing = (await tx.store.get(id)) as OutboxRecord | undefined;
    if (existing) {
      await tx.done;
      return existing;
    }
    const rec: OutboxRecord = { id, status: 'queued', packed: packed.slice(), expiration, queuedAt: now, updatedAt: now };
    await tx.store.put(rec);
    await tx.done;
    return rec;
  }

  async get(id: string): Promise<OutboxRecord | undefined> {
    return (await this.db.get(STORE, id)) as OutboxRecord | undefined;
  }

  /** Records waiting for a verdict (queued or submitted). */
  async pending(): Promise<OutboxRecord[]> {
    const tx = this.db.transaction(STORE, 'readonly');
    const index = tx.store.index('status');
    const [queued, submitted] = await Promise.all([index.getAll('queued'), index.getAll('submitted')]);
    return [...queued, ...submitted] as OutboxRecord[];
  }

  /**
   * Changes a record's status, unless it already has a final one (a verdict is never
   * overwritten). Returns the record as stored afterwards.
   */
  async update(id: string, patch: Partial<Pick<OutboxRecord, 'status' | 'blockNum' | 'trace' | 'error'>>, now = Date.now()): Promise<OutboxRecord | undefined> {
    const tx = this.db.transaction(STORE, 'readwrite');
    const rec = (await tx.store.get(id)) as OutboxRecord | undefined;
    if (!rec || isFinal(rec.status)) {
      await tx.done;
      return rec;
    }
    const next = { ...rec, ...patch, updatedAt: now };
    await tx.store.put(next);
    await tx.done;
    return next;
  }

  /** update() for many records in one IndexedDB transaction; the records as stored afterwards, in order (undefined: no such record). */
  async updateMany(patches: { id: string; patch: Partial<Pick<OutboxRecord, 'status' | 'blockNum' | 'trace' | 'error'>> }[], now = Date.now()): Promise<(OutboxRecord | undefined)[]> {
    if (patches.length === 0) return [];
    const tx = this.db.transaction(STORE, 'readwrite');
    const out = await Promise.all(
      patches.map(async ({ id, patch }) => {
        const rec = (await tx.store.get(id)) as OutboxRecord | undefined;
        if (!rec || isFinal(rec.status)) return rec;
        const next = { ...rec, ...patch, updatedAt: now };
        await tx.store.put(next);
        return next;
      }),
    );
    await tx.done;
    return out;
  }

  close(): void {
    this.db.close();
  }
}

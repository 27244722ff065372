/**
 * Transpiled plugins by the sha-256 of their component bytes, in IndexedDB on the
 * supervisor's origin: a warm load fetches the component, hashes it, and skips jco.
 * A service that replaces its plugin serves new bytes, so a new hash: it is
 * transpiled on the next load. Old entries are left (a few MB each); a later change
 * may prune them.
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { TranspiledComponent } from './component.ts';

const DB_NAME = 'psiweb-supervisor';
const STORE = 'transpiled';

export interface TranspileCache {
  get(hash: string): Promise<TranspiledComponent | undefined>;
  put(t: TranspiledComponent): Promise<void>;
}

export class IdbTranspileCache implements TranspileCache {
  private db: Promise<IDBPDatabase> | undefined;

  private open(): Promise<IDBPDatabase> {
    return (this.db ??= openDB(DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: 'hash' });
      },
    }));
  }

  async get(hash: string): Promise<TranspiledComponent | undefined> {
    return (await (await this.open()).get(STORE, hash)) as TranspiledComponent | undefined;
  }

  async put(t: TranspiledComponent): Promise<void> {
    await (await this.open()).put(STORE, t);
  }
}

/** For tests and pages without IndexedDB. */
export class MemoryTranspileCache implements TranspileCache {
  private readonly map = new Map<string, TranspiledComponent>();
  async get(hash: string) {
    return this.map.get(hash);
  }
  async put(t: TranspiledComponent) {
    this.map.set(t.hash, t);
  }
}

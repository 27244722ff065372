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
/** The hash a plugin URL served last time: a warm load starts preparing that entry while it fetches. */
const URLS = 'urls';

export interface TranspileCache {
  get(hash: string): Promise<TranspiledComponent | undefined>;
  put(t: TranspiledComponent): Promise<void>;
  /** The hash `url` served when last loaded, if known. */
  lastHash(url: string): Promise<string | undefined>;
  setLastHash(url: string, hash: string): Promise<void>;
}

export class IdbTranspileCache implements TranspileCache {
  private db: Promise<IDBPDatabase> | undefined;

  private open(): Promise<IDBPDatabase> {
    return (this.db ??= openDB(DB_NAME, 2, {
      upgrade(db, oldVersion) {
        if (oldVersion < 1) db.createObjectStore(STORE, { keyPath: 'hash' });
        if (oldVersion < 2) db.createObjectStore(URLS);
      },
    }));
  }

  async get(hash: string): Promise<TranspiledComponent | undefined> {
    return (await (await this.open()).get(STORE, hash)) as TranspiledComponent | undefined;
  }

  async put(t: TranspiledComponent): Promise<void> {
    await (await this.open()).put(STORE, t);
  }

  async lastHash(url: string): Promise<string | undefined> {
    return (await (await this.open()).get(URLS, url)) as string | undefined;
  }

  async setLastHash(url: string, hash: string): Promise<void> {
    await (await this.open()).put(URLS, hash, url);
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
  private readonly urls = new Map<string, string>();
  async lastHash(url: string) {
    return this.urls.get(url);
  }
  async setLastHash(url: string, hash: string) {
    this.urls.set(url, hash);
  }
}

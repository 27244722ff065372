/**
 * `clientdata:plugin/keyvalue` (wit/clientdata) as the host provides it: one key space
 * per plugin, synchronous for the plugin, backed by IndexedDB on the supervisor's
 * origin (psibase backs it with LocalStorage and its ~5 MB cap). A plugin's key space is
 * read into memory before a call that can reach it; every write goes to memory at once
 * and to IndexedDB in the same breath, and the supervisor waits for those writes
 * (flush) before it answers the call.
 */
import { openDB, type IDBPDatabase } from 'idb';

const DB_NAME = 'psiweb-clientdata';
const STORE = 'kv';

interface Row {
  plugin: string;
  key: string;
  value: Uint8Array;
}

export interface ClientDataStore {
  /** Reads `plugin`'s key space into memory (once per page). */
  load(plugin: string): Promise<void>;
  get(plugin: string, key: string): Uint8Array | undefined;
  set(plugin: string, key: string, value: Uint8Array): void;
  delete(plugin: string, key: string): void;
  /** Resolves once every write so far is in IndexedDB; rejects if one failed. */
  flush(): Promise<void>;
}

export class IdbClientData implements ClientDataStore {
  private db: Promise<IDBPDatabase> | undefined;
  private readonly spaces = new Map<string, Map<string, Uint8Array>>();
  private readonly loading = new Map<string, Promise<void>>();
  private pending: Promise<unknown>[] = [];

  private open(): Promise<IDBPDatabase> {
    return (this.db ??= openDB(DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: ['plugin', 'key'] });
      },
    }));
  }

  load(plugin: string): Promise<void> {
    let p = this.loading.get(plugin);
    if (!p) {
      p = (async () => {
        const db = await this.open();
        // Every [plugin, <string>] key: arrays sort after strings, so [plugin, []] bounds them.
        const rows = (await db.getAll(STORE, IDBKeyRange.bound([plugin], [plugin, []]))) as Row[];
        this.spaces.set(plugin, new Map(rows.map((r) => [r.key, r.value])));
      })();
      this.loading.set(plugin, p);
      p.catch(() => this.loading.delete(plugin));
    }
    return p;
  }

  private space(plugin: string): Map<string, Uint8Array> {
    const s = this.spaces.get(plugin);
    if (!s) throw new Error(`the client data of ${plugin} was not loaded before its call`);
    return s;
  }

  get(plugin: string, key: string): Uint8Array | undefined {
    return this.space(plugin).get(key);
  }

  set(plugin: string, key: string, value: Uint8Array): void {
    const copy = value.slice();
    this.space(plugin).set(key, copy);
    this.pending.push(this.open().then((db) => db.put(STORE, { plugin, key, value: copy } satisfies Row)));
  }

  delete(plugin: string, key: string): void {
    this.space(plugin).delete(key);
    this.pending.push(this.open().then((db) => db.delete(STORE, [plugin, key])));
  }

  async flush(): Promise<void> {
    const writes = this.pending;
    this.pending = [];
    await Promise.all(writes);
  }
}

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

  /** Makes the next load() read `plugin`'s space from IndexedDB again (another page changed it). */
  invalidate(plugin: string): void {
    this.loading.delete(plugin);
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

  /** Every row of every key space whose name passes `keep` (for export). */
  async exportRows(keep: (plugin: string) => boolean): Promise<Row[]> {
    await this.flush();
    const rows = (await (await this.open()).getAll(STORE)) as Row[];
    return rows.filter((r) => keep(r.plugin));
  }

  /** Writes rows (an import); key spaces already in memory see them at once. */
  async importRows(rows: Row[]): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    for (const r of rows) {
      void tx.store.put(r);
      this.spaces.get(r.plugin)?.set(r.key, r.value);
    }
    await tx.done;
  }
}

export type { Row as ClientDataRow };

/** The export file: psiweb's plugin data as JSON (values base64). */
export interface ClientDataFile {
  format: 'psiweb-plugin-data';
  version: 1;
  rows: { plugin: string; key: string; value: string }[];
}

export class ClientDataFileError extends Error {
  override name = 'ClientDataFileError';
}

function toBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toFile(rows: Row[]): ClientDataFile {
  return { format: 'psiweb-plugin-data', version: 1, rows: rows.map((r) => ({ plugin: r.plugin, key: r.key, value: toBase64(r.value) })) };
}

/** Checks an export file; throws ClientDataFileError and reads nothing when it is not one. */
export function fromFile(text: string): Row[] {
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch {
    throw new ClientDataFileError('not a psiweb plugin data file (not JSON)');
  }
  const file = f as Partial<ClientDataFile>;
  if (file?.format !== 'psiweb-plugin-data' || file.version !== 1 || !Array.isArray(file.rows)) throw new ClientDataFileError('not a psiweb plugin data file');
  return file.rows.map((r, i) => {
    if (typeof r?.plugin !== 'string' || typeof r.key !== 'string' || typeof r.value !== 'string') throw new ClientDataFileError(`row ${i} is malformed`);
    try {
      return { plugin: r.plugin, key: r.key, value: fromBase64(r.value) };
    } catch {
      throw new ClientDataFileError(`row ${i}'s value is not base64`);
    }
  });
}

/**
 * `clientdata:plugin/keyvalue` (wit/clientdata) as the host provides it: one key space
 * per plugin, synchronous for the plugin, backed by IndexedDB on the supervisor's
 * origin (psibase backs it with LocalStorage and its ~5 MB cap). A plugin's key space is
 * read into memory before a call that can reach it; every write goes to memory at once
 * and to IndexedDB in the same breath, and the supervisor waits for those writes
 * (flush) before it answers the call.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { PsiwebError } from '../errors.ts';
import { isValidAccountName } from '../protocol/names.ts';

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

/** A write to a key space: a put, or a delete when value is undefined. */
interface Write {
  plugin: string;
  key: string;
  value: Uint8Array | undefined;
}

/** Plugin data that could not be written to IndexedDB (quota, storage gone): the call fails. */
export class ClientDataWriteError extends PsiwebError {
  override name = 'ClientDataWriteError';
}

export class IdbClientData implements ClientDataStore {
  private db: Promise<IDBPDatabase> | undefined;
  private readonly spaces = new Map<string, Map<string, Uint8Array>>();
  private readonly loading = new Map<string, Promise<void>>();
  private pending: Promise<void>[] = [];
  /** The writes of this turn of the event loop: one IndexedDB transaction (a call's writes together). */
  private batch: Write[] | undefined;

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
    this.write({ plugin, key, value: copy });
  }

  delete(plugin: string, key: string): void {
    this.space(plugin).delete(key);
    this.write({ plugin, key, value: undefined });
  }

  /**
   * Sends a write to IndexedDB at once (in the next microtask, with the others of the
   * same synchronous run: a call's writes share one transaction). Strict durability: a
   * committed write is on disk, not only in the browser's buffers. When the transaction
   * fails, the key spaces it touched are dropped from memory, so the next call reads
   * what IndexedDB holds, and flush() rejects.
   */
  private write(w: Write): void {
    if (this.batch) {
      this.batch.push(w);
      return;
    }
    const batch: Write[] = [w];
    this.batch = batch;
    const done = (async () => {
      await Promise.resolve();
      this.batch = undefined;
      const db = await this.open();
      const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
      for (const b of batch) {
        const r = b.value === undefined ? tx.store.delete([b.plugin, b.key]) : tx.store.put({ plugin: b.plugin, key: b.key, value: b.value } satisfies Row);
        r.catch(() => undefined);
      }
      await tx.done;
    })().catch((e: unknown) => {
      for (const plugin of new Set(batch.map((b) => b.plugin))) {
        this.spaces.delete(plugin);
        this.loading.delete(plugin);
      }
      const what = [...new Set(batch.map((b) => b.plugin))].join(', ');
      throw new ClientDataWriteError(`the client data of ${what} could not be saved: ${String((e as Error)?.message ?? e)}`, { cause: e });
    });
    done.catch(() => undefined);
    this.pending.push(done);
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

  /**
   * Writes rows (an import) in one transaction: all of them or, when it fails, none.
   * Key spaces already in memory see them once they are committed. The key spaces written.
   */
  async importRows(rows: Row[]): Promise<string[]> {
    await this.flush();
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
    for (const r of rows) tx.store.put(r).catch(() => undefined);
    await tx.done;
    for (const r of rows) this.spaces.get(r.plugin)?.set(r.key, r.value);
    return [...new Set(rows.map((r) => r.plugin))];
  }
}

export type { Row as ClientDataRow };

/**
 * The export file: psiweb's plugin data as JSON, values in base64, and a CRC-32 of the
 * rows so a file damaged on its way (truncated, a byte changed) is refused rather than
 * imported wrong. Version 1 (before the checksum) is still read.
 */
export interface ClientDataFile {
  format: 'psiweb-plugin-data';
  version: 2;
  /** CRC-32 of the rows (see rowsChecksum), 8 hex digits. */
  crc32: string;
  rows: FileRow[];
}

interface FileRow {
  plugin: string;
  key: string;
  value: string;
}

/** A file that is not a psiweb plugin data export, is damaged, or would write what it may not. */
export class ClientDataFileError extends PsiwebError {
  override name = 'ClientDataFileError';
}

/** Key spaces of the supervisor itself (grants, logins, prompts): never carried by a plugin data file. */
export const isSupervisorSpace = (space: string) => space.startsWith('psiweb/');

/** A plugin's key space name: `<service>:<plugin>`, the service an account name. */
function isPluginSpace(space: string): boolean {
  const colon = space.indexOf(':');
  if (colon < 0) return false;
  return isValidAccountName(space.slice(0, colon)) && /^[a-z][a-z0-9-]*$/.test(space.slice(colon + 1));
}

function toBase64(b: Uint8Array): string {
  // In slices of 32 K: one String.fromCharCode per byte would take seconds for a large value.
  const parts: string[] = [];
  // apply, not spread: spreading a typed array goes through its iterator, ~10× slower.
  for (let i = 0; i < b.length; i += 0x8000) parts.push(String.fromCharCode.apply(null, b.subarray(i, i + 0x8000) as unknown as number[]));
  return btoa(parts.join(''));
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of the rows as `plugin NUL key NUL value LF`, UTF-8. */
export function rowsChecksum(rows: readonly FileRow[]): string {
  const te = new TextEncoder();
  const table = CRC_TABLE;
  let c = 0xffffffff;
  for (const r of rows) {
    const b = te.encode(`${r.plugin}\0${r.key}\0${r.value}\n`);
    for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

export function toFile(rows: Row[]): ClientDataFile {
  const fileRows = rows.map((r) => ({ plugin: r.plugin, key: r.key, value: toBase64(r.value) }));
  return { format: 'psiweb-plugin-data', version: 2, crc32: rowsChecksum(fileRows), rows: fileRows };
}

/**
 * Checks an export file whole and gives its rows; throws ClientDataFileError, having
 * read nothing, when it is not one (not JSON, another format or version), is damaged
 * (a malformed row, bad base64, a checksum that does not match) or names a key space
 * that is not a plugin's (the supervisor's own grants and logins are never imported).
 */
export function fromFile(text: string): Row[] {
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch {
    throw new ClientDataFileError('not a psiweb plugin data file (not JSON)');
  }
  const file = f as Partial<Omit<ClientDataFile, 'version'>> & { version?: unknown };
  if (file?.format !== 'psiweb-plugin-data' || !Array.isArray(file.rows)) throw new ClientDataFileError('not a psiweb plugin data file');
  if (file.version !== 1 && file.version !== 2) throw new ClientDataFileError(`a psiweb plugin data file of version ${JSON.stringify(file.version)}, which this psiweb cannot read`);
  const rows = file.rows.map((r: Partial<FileRow> | null, i: number) => {
    if (typeof r?.plugin !== 'string' || typeof r.key !== 'string' || typeof r.value !== 'string') throw new ClientDataFileError(`the file is damaged: row ${i} is malformed`);
    return r as FileRow;
  });
  if (file.version === 2 && (typeof file.crc32 !== 'string' || rowsChecksum(rows) !== file.crc32)) {
    throw new ClientDataFileError('the file is damaged: its checksum does not match its contents');
  }
  const decoded = rows.map((r, i) => {
    try {
      return { plugin: r.plugin, key: r.key, value: fromBase64(r.value) };
    } catch {
      throw new ClientDataFileError(`the file is damaged: row ${i}'s value is not base64`);
    }
  });
  decoded.forEach((r, i) => {
    if (isSupervisorSpace(r.plugin)) throw new ClientDataFileError(`row ${i} writes the supervisor's own data (${r.plugin}), which a plugin data file cannot carry`);
    if (!isPluginSpace(r.plugin)) throw new ClientDataFileError(`row ${i} names ${JSON.stringify(r.plugin)}, which is not a plugin (<service>:<plugin>)`);
  });
  return decoded;
}

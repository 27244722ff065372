/**
 * Transpiled plugins by the sha-256 of their component bytes, in IndexedDB on the
 * supervisor's origin: a warm load fetches the component, hashes it, and skips jco.
 * A service that replaces its plugin serves new bytes, so a new hash: it is
 * transpiled on the next load. Old entries are left (a few MB each); a later change
 * may prune them.
 *
 * Each plugin URL also remembers which hash it served last and when the server last
 * confirmed it (`lastSeen`): the supervisor uses the cached entry without waiting for
 * the network while that confirmation is recent (supervisor.ts, FRESH_MS).
 *
 * An entry keeps jco's JS and its core modules as Blobs (one for the JS, one for all
 * core modules, each module a slice of it): reading an entry back is a small record
 * of Blob handles, not megabytes deserialized on the page's thread, and the page hands
 * the Blobs to the module loader (a Blob URL) and to streaming compilation as they are.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { jsBlob, type TranspiledComponent } from './component.ts';

const DB_NAME = 'psiweb-supervisor';
/** Version 2 kept bytes and JS text in 'transpiled'; version 3 keeps Blobs in 'components'. */
const DB_VERSION = 3;
const OLD_STORE = 'transpiled';
const STORE = 'components';
/** The hash a plugin URL served last time and when that was confirmed (a UrlRecord; a bare hash in older databases). */
const URLS = 'urls';
/**
 * The same, in localStorage: read at once, without waiting for IndexedDB to open, so
 * a warm load asks for the right entry sooner (`<hash> <checkedAt>`; a bare hash
 * from older pages counts as never confirmed).
 */
const HINT_PREFIX = 'psiweb-supervisor:last-hash:';

/** What a plugin URL served when last loaded. */
export interface UrlRecord {
  /** sha-256 of the component bytes, hex. */
  hash: string;
  /**
   * When (ms since the epoch, the time the request was sent) the server last answered
   * with these bytes; 0 when not confirmed (only the hash is known).
   */
  checkedAt: number;
  /**
   * The ETag the server sent with these bytes, when it let the page read it: a later
   * load asks whether it still holds and, when it does, reads no body and hashes
   * nothing (plugin-fetch.ts).
   */
  etag?: string;
}

export interface TranspileCache {
  /** The entry for `hash`; undefined when missing or malformed (a malformed entry is dropped). */
  get(hash: string): Promise<TranspiledComponent | undefined>;
  put(t: TranspiledComponent): Promise<void>;
  /** Drops the entry for `hash` (one that failed to compile or import). */
  delete(hash: string): Promise<void>;
  /** What `url` served when last loaded, if known. */
  lastSeen(url: string): Promise<UrlRecord | undefined>;
  setLastSeen(url: string, record: UrlRecord): Promise<void>;
  /** Forgets what `url` served (its bytes changed, or its entry was refused). */
  forget(url: string): Promise<void>;
}

/** An ETag as a record may keep it: printable ASCII without spaces, at most 256 characters. */
function validEtag(etag: unknown): etag is string {
  return typeof etag === 'string' && etag.length > 0 && etag.length <= 256 && /^[\x21-\x7e]+$/.test(etag);
}

/** A stored URL record (`<hash> <checkedAt> [<etag>]` in localStorage), or a bare hash as version 2 and 3 pages stored it. */
export function toUrlRecord(value: unknown): UrlRecord | undefined {
  if (typeof value === 'string') {
    const [hash, at, etag] = value.split(' ');
    if (!hash) return undefined;
    const checkedAt = at === undefined ? 0 : Number(at);
    return { hash, checkedAt: Number.isFinite(checkedAt) && checkedAt > 0 ? checkedAt : 0, ...(validEtag(etag) && { etag }) };
  }
  if (value && typeof value === 'object') {
    const { hash, checkedAt, etag } = value as Partial<UrlRecord>;
    if (typeof hash !== 'string' || hash === '') return undefined;
    return { hash, checkedAt: typeof checkedAt === 'number' && Number.isFinite(checkedAt) && checkedAt > 0 ? checkedAt : 0, ...(validEtag(etag) && { etag }) };
  }
  return undefined;
}

/** An entry as stored. */
interface StoredComponent {
  hash: string;
  js: Blob;
  /** Every core module, one after another; `coreIndex` says where each is. */
  cores: Blob;
  coreIndex: [name: string, start: number, end: number][];
  /** The large cores' hashes by name (TranspiledComponent.coreHashes); absent in older entries. */
  coreHashes?: Record<string, string>;
  imports: string[];
  exports: [string, string][];
}

async function toStored(t: TranspiledComponent): Promise<StoredComponent> {
  const js = typeof t.js === 'string' ? jsBlob(t.js, `plugin-${t.hash.slice(0, 12)}.js`) : t.js;
  const coreIndex: StoredComponent['coreIndex'] = [];
  const parts: BlobPart[] = [];
  let at = 0;
  for (const [name, core] of t.cores) {
    const size = core instanceof Blob ? core.size : core.byteLength;
    coreIndex.push([name, at, at + size]);
    parts.push(core as BlobPart);
    at += size;
  }
  return { hash: t.hash, js, cores: new Blob(parts, { type: 'application/wasm' }), coreIndex, ...(t.coreHashes && { coreHashes: t.coreHashes }), imports: t.imports, exports: t.exports };
}

/** True when `s` has the shape put() stores: anything else (another layout, a damaged record) is refused. */
function isStored(s: unknown): s is StoredComponent {
  if (!s || typeof s !== 'object') return false;
  const r = s as Partial<StoredComponent>;
  if (typeof r.hash !== 'string' || !(r.js instanceof Blob) || !(r.cores instanceof Blob)) return false;
  if (!Array.isArray(r.imports) || !Array.isArray(r.exports) || !Array.isArray(r.coreIndex)) return false;
  const size = r.cores.size;
  if (r.coreHashes !== undefined && !validCoreHashes(r.coreHashes)) return false;
  return r.coreIndex.every(
    (c) => Array.isArray(c) && typeof c[0] === 'string' && Number.isInteger(c[1]) && Number.isInteger(c[2]) && c[1] >= 0 && c[1] <= c[2] && c[2] <= size,
  );
}

/** Name → 64 hex digits, nothing else (a hash shares a compiled module: a damaged one must not). */
function validCoreHashes(h: unknown): h is Record<string, string> {
  return !!h && typeof h === 'object' && !Array.isArray(h) && Object.values(h).every((v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v));
}

function fromStored(s: StoredComponent): TranspiledComponent {
  return {
    hash: s.hash,
    js: s.js,
    cores: s.coreIndex.map(([name, start, end]) => [name, s.cores.slice(start, end, 'application/wasm')]),
    ...(s.coreHashes && { coreHashes: s.coreHashes }),
    imports: s.imports,
    exports: s.exports,
  };
}

function hintStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    // Storage blocked for this origin.
    return undefined;
  }
}

export class IdbTranspileCache implements TranspileCache {
  private db: Promise<IDBPDatabase> | undefined;

  /**
   * Starts opening the database (the supervisor page does at start, while its parent
   * is still sending the first request: a warm load then does not wait for the open).
   */
  warm(): void {
    this.open().catch(() => undefined);
  }

  private open(): Promise<IDBPDatabase> {
    const db = (this.db ??= openDB(DB_NAME, DB_VERSION, {
      upgrade(db, oldVersion) {
        if (oldVersion < 2) db.createObjectStore(URLS);
        if (oldVersion >= 1 && oldVersion < 3) db.deleteObjectStore(OLD_STORE);
        if (oldVersion < 3) db.createObjectStore(STORE, { keyPath: 'hash' });
      },
    }));
    // A failed open (storage blocked, a version change refused) is tried again next time.
    db.catch(() => {
      if (this.db === db) this.db = undefined;
    });
    return db;
  }

  async get(hash: string): Promise<TranspiledComponent | undefined> {
    const db = await this.open();
    const s: unknown = await db.get(STORE, hash);
    if (s === undefined) return undefined;
    if (!isStored(s) || s.hash !== hash) {
      await db.delete(STORE, hash);
      return undefined;
    }
    return fromStored(s);
  }

  async put(t: TranspiledComponent): Promise<void> {
    await (await this.open()).put(STORE, await toStored(t));
  }

  async delete(hash: string): Promise<void> {
    await (await this.open()).delete(STORE, hash);
  }

  async lastSeen(url: string): Promise<UrlRecord | undefined> {
    const hint = toUrlRecord(hintStorage()?.getItem(HINT_PREFIX + url));
    if (hint) return hint;
    return toUrlRecord(await (await this.open()).get(URLS, url));
  }

  async setLastSeen(url: string, record: UrlRecord): Promise<void> {
    try {
      hintStorage()?.setItem(HINT_PREFIX + url, `${record.hash} ${record.checkedAt}${validEtag(record.etag) ? ` ${record.etag}` : ''}`);
    } catch {
      // Full or blocked: IndexedDB below still has it.
    }
    await (await this.open()).put(URLS, { hash: record.hash, checkedAt: record.checkedAt, ...(validEtag(record.etag) && { etag: record.etag }) }, url);
  }

  async forget(url: string): Promise<void> {
    try {
      hintStorage()?.removeItem(HINT_PREFIX + url);
    } catch {
      // Blocked: nothing was stored there either.
    }
    await (await this.open()).delete(URLS, url);
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
  async delete(hash: string) {
    this.map.delete(hash);
  }
  private readonly urls = new Map<string, UrlRecord>();
  async lastSeen(url: string) {
    return this.urls.get(url);
  }
  async setLastSeen(url: string, record: UrlRecord) {
    this.urls.set(url, { ...record });
  }
  async forget(url: string) {
    this.urls.delete(url);
  }
}

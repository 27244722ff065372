/**
 * Transpiled plugins by the sha-256 of their component bytes, in IndexedDB on the
 * supervisor's origin: a warm load fetches the component, hashes it, and skips jco.
 * A service that replaces its plugin serves new bytes, so a new hash: it is
 * transpiled on the next load. Old entries are left (a few MB each); a later change
 * may prune them.
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
/** The hash a plugin URL served last time: a warm load starts preparing that entry while it fetches. */
const URLS = 'urls';
/**
 * The same, in localStorage: read at once, without waiting for IndexedDB to open, so
 * a warm load asks for the right entry sooner. Only a hint: the bytes' hash decides.
 */
const HINT_PREFIX = 'psiweb-supervisor:last-hash:';

export interface TranspileCache {
  get(hash: string): Promise<TranspiledComponent | undefined>;
  put(t: TranspiledComponent): Promise<void>;
  /** The hash `url` served when last loaded, if known. */
  lastHash(url: string): Promise<string | undefined>;
  setLastHash(url: string, hash: string): Promise<void>;
}

/** An entry as stored. */
interface StoredComponent {
  hash: string;
  js: Blob;
  /** Every core module, one after another; `coreIndex` says where each is. */
  cores: Blob;
  coreIndex: [name: string, start: number, end: number][];
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
  return { hash: t.hash, js, cores: new Blob(parts, { type: 'application/wasm' }), coreIndex, imports: t.imports, exports: t.exports };
}

function fromStored(s: StoredComponent): TranspiledComponent {
  return {
    hash: s.hash,
    js: s.js,
    cores: s.coreIndex.map(([name, start, end]) => [name, s.cores.slice(start, end, 'application/wasm')]),
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

  private open(): Promise<IDBPDatabase> {
    return (this.db ??= openDB(DB_NAME, DB_VERSION, {
      upgrade(db, oldVersion) {
        if (oldVersion < 2) db.createObjectStore(URLS);
        if (oldVersion >= 1 && oldVersion < 3) db.deleteObjectStore(OLD_STORE);
        if (oldVersion < 3) db.createObjectStore(STORE, { keyPath: 'hash' });
      },
    }));
  }

  async get(hash: string): Promise<TranspiledComponent | undefined> {
    const s = (await (await this.open()).get(STORE, hash)) as StoredComponent | undefined;
    return s && fromStored(s);
  }

  async put(t: TranspiledComponent): Promise<void> {
    await (await this.open()).put(STORE, await toStored(t));
  }

  async lastHash(url: string): Promise<string | undefined> {
    const hint = hintStorage()?.getItem(HINT_PREFIX + url);
    if (hint) return hint;
    return (await (await this.open()).get(URLS, url)) as string | undefined;
  }

  async setLastHash(url: string, hash: string): Promise<void> {
    try {
      hintStorage()?.setItem(HINT_PREFIX + url, hash);
    } catch {
      // Full or blocked: IndexedDB below still has it.
    }
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

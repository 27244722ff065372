/**
 * A Node peer's data directory: who may use it, what it holds, and opening it safely.
 *
 * - **One process at a time.** Two producers on one chain directory would fork it. On
 *   Linux the lock is a listening socket in the abstract namespace named after the
 *   directory's device and inode: binding is atomic, only one process can hold it,
 *   and the kernel releases it when the process dies however it dies (kill -9, a
 *   zombie no longer holds sockets, a reused pid holds nothing of ours). The holder
 *   answers a connection with its pid, so the refusal names the right process.
 *   Elsewhere an exclusively created lock file with the holder's pid stands in.
 * - **What it holds.** `psiweb.json` records the directory format and the chain it
 *   holds, written once the chain's first block is committed. A directory that held a
 *   chain never gets a new devnet booted over it: if its store is gone or empty, it
 *   is refused with a message.
 * - **Opening.** The store's file is checked before lmdb maps it (lmdb-file.ts), every
 *   record read is checksummed (lmdb-store.ts), and the newest blocks' ids are checked
 *   to chain back from the head (chain/integrity.ts).
 */
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Chain } from '../chain/executor.ts';
import { verifyBlockLog } from '../chain/integrity.ts';
import type { NativeVerifier } from '../chain/verify.ts';
import { PsiwebError, StoreDamagedError, StoreFormatError } from '../errors.ts';
import { toHex } from '../state/bytes.ts';
import { LmdbStore } from '../state/lmdb-store.ts';
import { StateDb } from '../state/state-db.ts';

export class DataDirInUseError extends PsiwebError {
  override name = 'DataDirInUseError';
}

/** The layout of a data directory: 1 = psiweb.json + chain/ (an lmdb store). */
export const DATA_DIR_FORMAT = 1;
export const IDENTITY_FILE = 'psiweb.json';
export const STORE_DIR = 'chain';
const LOCK_FILE = 'psiweb.lock';
/** How many of the newest blocks are checked when a store opens (psiweb check does all). */
export const OPEN_VERIFY_BLOCKS = 10_000;

export interface DataDirIdentity {
  format: number;
  /** The chain id, hex. */
  chainId: string;
  createdAt: string;
}

export interface DataDirLock {
  release(): Promise<void>;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Asks the holder of an abstract-socket lock for its pid (undefined if it went away). */
function askHolder(path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    let text = '';
    const done = (pid: number | undefined) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(2000, () => done(undefined));
    socket.on('data', (d) => (text += d.toString()));
    socket.on('end', () => {
      const pid = Number((JSON.parse(text || '{}') as { pid?: unknown }).pid);
      done(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
    socket.on('error', () => done(undefined));
  });
}

async function lockWithAbstractSocket(dir: string): Promise<DataDirLock> {
  const st = statSync(dir);
  const path = `\0psiweb-data-dir-${st.dev}-${st.ino}`;
  for (let attempt = 0; ; attempt++) {
    const server = createServer((socket) => socket.end(JSON.stringify({ pid: process.pid })));
    try {
      await listen(server, path);
      server.unref();
      return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
    const pid = await askHolder(path);
    // The holder may have stopped between the two calls: try again.
    if (pid === undefined && attempt < 3) continue;
    throw new DataDirInUseError(`${dir} is in use by another psiweb${pid === undefined ? '' : ` (pid ${pid})`}: stop it first, or use another --data directory`, {
      details: { dir, ...(pid !== undefined && { pid }) },
    });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Off Linux: a lock file whose content is complete the moment it exists (written, then linked). */
function lockWithFile(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  const draft = `${path}.${process.pid}.${Date.now()}`;
  const fd = openSync(draft, 'w');
  writeSync(fd, String(process.pid));
  closeSync(fd);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(draft, path);
        return { release: async () => rmSync(path, { force: true }) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(readFileSync(path, 'utf8'));
        if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new DataDirInUseError(`${dir} is in use by another psiweb (pid ${pid})`, { details: { dir, pid } });
        rmSync(path, { force: true });
      }
    }
    throw new DataDirInUseError(`cannot lock ${dir}`, { details: { dir } });
  } finally {
    rmSync(draft, { force: true });
  }
}

/** Takes the directory for this process, or throws DataDirInUseError naming the holder. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  return process.platform === 'linux' ? lockWithAbstractSocket(dir) : lockWithFile(dir);
}

export function readIdentity(dir: string): DataDirIdentity | undefined {
  const path = join(dir, IDENTITY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let identity: DataDirIdentity;
  try {
    identity = JSON.parse(text) as DataDirIdentity;
  } catch {
    throw new StoreDamagedError(`${path} is not valid JSON: restore it, or remove it to accept the store as it is`, { details: { path } });
  }
  if (!Number.isInteger(identity.format) || typeof identity.chainId !== 'string')
    throw new StoreDamagedError(`${path} does not describe a data directory (format, chainId)`, { details: { path } });
  if (identity.format > DATA_DIR_FORMAT)
    throw new StoreFormatError(`${dir} was written by a newer psiweb (data directory format ${identity.format}; this psiweb reads format ${DATA_DIR_FORMAT})`, {
      details: { format: identity.format },
    });
  return identity;
}

/** Written atomically (a temporary file renamed over it). */
export function writeIdentity(dir: string, chainId: Uint8Array): DataDirIdentity {
  const identity: DataDirIdentity = { format: DATA_DIR_FORMAT, chainId: toHex(chainId), createdAt: new Date().toISOString() };
  const path = join(dir, IDENTITY_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(identity, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return identity;
}

export interface OpenedDataDir {
  store: LmdbStore;
  chain: Chain;
  /** Undefined for a directory that holds no chain yet (the caller boots one, then calls writeIdentity). */
  identity: DataDirIdentity | undefined;
}

export interface OpenDataDirOptions {
  nativeVerifiers?: readonly NativeVerifier[];
  log?: (line: string) => void;
  /** Newest blocks whose ids are checked on open (default OPEN_VERIFY_BLOCKS). */
  verifyBlocks?: number;
}

/**
 * Opens the store of a locked data directory and checks it: refuses a directory that
 * held a chain whose store is gone or empty, a store that is not the chain the
 * directory names, and a damaged one.
 */
export async function openDataDir(dir: string, options: OpenDataDirOptions = {}): Promise<OpenedDataDir> {
  const identity = readIdentity(dir);
  const storeDir = join(dir, STORE_DIR);
  const lost = (what: string) =>
    new StoreDamagedError(
      `${dir} held chain ${identity!.chainId.slice(0, 16)}… but its store ${what}. psiweb does not boot a new chain over a directory that held one: restore ${join(storeDir, 'data.mdb')} from a backup, or use another --data directory`,
      { details: { dir, chainId: identity!.chainId } },
    );
  if (identity) {
    const file = join(storeDir, 'data.mdb');
    if (!existsSync(file)) throw lost('(chain/data.mdb) is missing');
    if (statSync(file).size === 0) throw lost('(chain/data.mdb) is empty');
  }
  const store = LmdbStore.open(storeDir, { ...(options.log && { log: options.log }) });
  try {
    const chain = await Chain.open({ state: new StateDb(store), ...(options.nativeVerifiers && { nativeVerifiers: options.nativeVerifiers }) });
    if (identity) {
      if (!chain.head) throw lost('holds no chain');
      if (toHex(chain.chainId!) !== identity.chainId.toLowerCase())
        throw new StoreDamagedError(`${dir} names chain ${identity.chainId.slice(0, 16)}… but its store holds chain ${toHex(chain.chainId!).slice(0, 16)}…`, { details: { dir } });
    }
    await verifyBlockLog(store, chain.head, { limit: options.verifyBlocks ?? OPEN_VERIFY_BLOCKS });
    // A directory from before psiweb.json: record what it holds now that it is checked.
    const known = identity ?? (chain.head ? writeIdentity(dir, chain.chainId!) : undefined);
    return { store, chain, identity: known };
  } catch (e) {
    await store.close();
    throw e;
  }
}

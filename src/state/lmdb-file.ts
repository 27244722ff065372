/**
 * A look at an lmdb data file before lmdb maps it. lmdb trusts its file: a data.mdb
 * shorter than its header says, or with garbage where the header's page numbers are,
 * makes the process die on SIGBUS or SIGSEGV with no message. Reading the two meta
 * pages ourselves first turns those into a StoreDamagedError that says what is wrong.
 *
 * The layout is the one of the LMDB that the lmdb package bundles (its mdb.c): each
 * meta page starts with a 24-byte page header (pgno u64, txnid u64, pad u16, flags u16,
 * lower/upper u16+u16), then MDB_meta: magic u32 (0xBEEFC0DE), version u32 (2),
 * address u64, mapsize u64, two MDB_db of 48 bytes (the free DB's first u32 is the page
 * size; md_root is at offset 40), last page u64, txnid u64. All little-endian on the
 * platforms Node runs psiweb on.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StoreDamagedError } from '../errors.ts';

const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const PAGE_HEADER = 24;
const P_META = 0x08;
const P_INVALID = 0xffffffffffffffffn;

const META = {
  magic: PAGE_HEADER,
  version: PAGE_HEADER + 4,
  mapsize: PAGE_HEADER + 16,
  dbs: PAGE_HEADER + 24,
  lastPage: PAGE_HEADER + 24 + 96,
  txnid: PAGE_HEADER + 24 + 96 + 8,
} as const;
const DB_SIZE = 48;
const DB_ROOT = 40;

export interface LmdbMeta {
  pageSize: number;
  lastPage: bigint;
  txnid: bigint;
  /** The highest root page of the free and main databases. */
  maxRoot: bigint;
}

/**
 * How far a healthy file may end before the meta's last page: lmdb does not write pages
 * that were allocated and freed again in the same transaction ("the file may be shorter
 * if the freeDB lists the final pages", mdb.c), measured at one page here. A file cut
 * shorter than this is truncated.
 */
export function allowedTailGap(lastPage: bigint): bigint {
  const sixteenth = (lastPage + 1n) / 16n;
  return sixteenth > 64n ? sixteenth : 64n;
}

/** Reads and checks one meta page; a reason string when it is not a valid one. */
function readMeta(page: Buffer, index: number): LmdbMeta | string {
  if (page.length < META.txnid + 8) return `meta page ${index} is cut short`;
  const flags = page.readUInt16LE(18);
  if (!(flags & P_META)) return `page ${index} is not a meta page (flags ${flags.toString(16)})`;
  if (page.readUInt32LE(META.magic) !== MAGIC) return `meta page ${index} has no lmdb magic number`;
  const version = page.readUInt32LE(META.version);
  if (version !== DATA_VERSION) return `meta page ${index} has lmdb data version ${version}, expected ${DATA_VERSION}`;
  const pageSize = page.readUInt32LE(META.dbs);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `meta page ${index} names page size ${pageSize}`;
  const lastPage = page.readBigUInt64LE(META.lastPage);
  const txnid = page.readBigUInt64LE(META.txnid);
  let maxRoot = 1n;
  for (let db = 0; db < 2; db++) {
    const root = page.readBigUInt64LE(META.dbs + db * DB_SIZE + DB_ROOT);
    if (root === P_INVALID) continue;
    if (root > lastPage) return `meta page ${index}: database ${db}'s root page ${root} is past the last page ${lastPage}`;
    if (root > maxRoot) maxRoot = root;
  }
  return { pageSize, lastPage, txnid, maxRoot };
}

/**
 * Checks the data file of the lmdb environment in `dir` (if there is one) without
 * mapping it: both meta pages valid, and the file as long as the newest meta says.
 * Returns undefined when there is no data file yet (a new environment), or its newest
 * meta. Throws StoreDamagedError naming the problem.
 */
export function checkLmdbFile(file: string): LmdbMeta | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreDamagedError(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const first = Buffer.alloc(PAGE_HEADER + 160);
    readSync(fd, first, 0, first.length, 0);
    const meta0 = readMeta(first.subarray(0, Math.min(size, first.length)), 0);
    // The second meta page is one page in; the first tells the page size (if it is
    // damaged, try the common sizes for the second).
    const sizes = typeof meta0 === 'string' ? [4096, 8192, 16384, 65536] : [meta0.pageSize];
    let meta1: LmdbMeta | string = 'meta page 1 is missing';
    for (const pageSize of sizes) {
      if (size < pageSize + first.length) continue;
      const second = Buffer.alloc(first.length);
      readSync(fd, second, 0, second.length, pageSize);
      meta1 = readMeta(second, 1);
      if (typeof meta1 !== 'string') break;
    }
    const damaged = (reason: string) =>
      new StoreDamagedError(`${file} is damaged: ${reason}`, { details: { file, size } });
    if (typeof meta0 === 'string') throw damaged(meta0);
    if (typeof meta1 === 'string') throw damaged(meta1);
    if (meta0.pageSize !== meta1.pageSize) throw damaged(`the meta pages disagree on the page size (${meta0.pageSize}, ${meta1.pageSize})`);
    const newest = meta0.txnid >= meta1.txnid ? meta0 : meta1;
    const pages = BigInt(size) / BigInt(newest.pageSize);
    if (pages <= newest.maxRoot || pages + allowedTailGap(newest.lastPage) <= newest.lastPage) {
      const needed = (newest.lastPage + 1n) * BigInt(newest.pageSize);
      throw damaged(`it is ${size} bytes but its header describes ${needed} (the file was truncated)`);
    }
    return newest;
  } finally {
    closeSync(fd);
  }
}

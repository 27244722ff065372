/** Tunables of the state engine, each with the reason for its value. */

/**
 * Bytes of a key that name the table it belongs to; a read that misses the range cache
 * loads that whole prefix range, so a table comes in with one IndexedDB request and
 * later reads of it hit. 10 = a psibase key's service account (u64) and table number
 * (u16); an executor that puts a database id byte in front should pass 11.
 */
export const TABLE_PREFIX_BYTES = 10;

/**
 * Most entries one range-cache load fetches. IndexedDB's getAll reads ~100k records/s
 * (ARCHITECTURE.md §8), so a load costs at most ~40 ms, and a scan that needs only the
 * next few keys of a huge table does not drag the whole table into memory.
 */
export const MAX_LOAD_ENTRIES = 4096;

/**
 * Load-and-retry rounds before giving up. Each round loads at least one new range, so
 * a transaction that touches this many distinct uncached ranges is already far beyond
 * a normal one; failing loudly beats retrying forever.
 */
export const MAX_RETRY_ROUNDS = 256;

/**
 * Entries the range cache keeps before it drops the least recently read ranges: at
 * psibase's typical row sizes (tens to a few hundred bytes) some tens of MB, far more
 * than a block's or a query's working set, small next to a tab's memory.
 */
export const MAX_CACHE_ENTRIES = 200_000;

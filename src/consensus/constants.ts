/** Timing defaults, in ms of the injected clock. Each says why it has its value. */

/** psibase produces a block every 500 ms in CFT and BFT alike. */
export const BLOCK_INTERVAL_MS = 500;

/**
 * CFT election timeout base: a follower waits a random time in [base, 2·base) without
 * blocks before standing for election (cft.md). Several block intervals, so one late
 * block does not start an election; randomised so candidates rarely split the vote.
 */
export const ELECTION_TIMEOUT_MS = 3 * BLOCK_INTERVAL_MS;

/** BFT view-change timeout before any failure; restarted when irreversibility advances (bft.md). */
export const VIEW_CHANGE_TIMEOUT_MS = 4 * BLOCK_INTERVAL_MS;

/**
 * Consecutive view changes without progress multiply the timeout (bft.md "cause the view
 * change timeout to increase"), so eventually it exceeds any message delay that grows
 * slower than time. psibase uses ×1.5.
 */
export const VIEW_CHANGE_BACKOFF = 1.5;

/** Upper bound of the grown timeout, so a long outage does not leave nodes idle for ages. */
export const MAX_VIEW_CHANGE_TIMEOUT_MS = 64 * VIEW_CHANGE_TIMEOUT_MS;

/** While a view is not active yet, a node re-sends its view change this often (messages get lost). */
export const VIEW_CHANGE_RESEND_MS = 2 * BLOCK_INTERVAL_MS;

/** Blocks asked for in one request when an orphan arrives: one round trip catches up this far. */
export const SYNC_BATCH = 64;

/**
 * While catching up, a node asks a peer for what follows its head again once the head
 * has moved this far since it last asked (each answer holds up to SYNC_BATCH blocks, so
 * the next is asked for well before one runs out), not after every block it applies:
 * each hello is a message and a socket write on both sides. A hello held back this way
 * goes out at the next tick two block intervals on, so a sync never waits on it.
 */
export const CATCH_UP_HELLO_BLOCKS = SYNC_BATCH / 2;

/** Orphans and early votes kept per node; a flooding peer cannot grow memory without bound. */
export const MAX_PENDING = 4096;

/**
 * Checked signatures remembered per node. A commit comes back in the certificate of
 * the next block or two: this covers a dozen blocks of 64 producers.
 */
export const MAX_VERIFIED = 2048;

/**
 * Irreversible blocks a node keeps in its block tree (the executor's block log keeps
 * them all): a peer up to several sync batches behind is served from memory.
 */
export const RETAINED_IRREVERSIBLE_BLOCKS = 4 * SYNC_BATCH;

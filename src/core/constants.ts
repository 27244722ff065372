/** The node core's fixed numbers shared with its platforms. */

/** psibase's default block interval (blocknet.hpp _block_interval): one second. */
export const BLOCK_INTERVAL_MS = 1000;

/** The Node peer's fixed numbers, each with why it has that value. */

/** psibase's default block interval (blocknet.hpp _block_interval): one second. */
export const BLOCK_INTERVAL_MS = 1000;

/** Port `psiweb start` listens on unless told otherwise (ARCHITECTURE.md §1). */
export const DEFAULT_PORT = 8080;

/** Where `psiweb start` keeps the chain unless told otherwise, relative to the cwd. */
export const DEFAULT_DATA_DIR = '.data';

/** Every socket the Node peer opens listens or dials here only. */
export const LOOPBACK = '127.0.0.1';

/** The producer a devnet boots with. */
export const DEVNET_PRODUCER = 'prod';

/** The Node peer's fixed numbers, each with why it has that value. */

/** psibase's default block interval (the node core's, src/core/constants.ts). */
export { BLOCK_INTERVAL_MS } from '../core/constants.ts';

/** Port `psiweb start` listens on unless told otherwise (ARCHITECTURE.md §1). */
export const DEFAULT_PORT = 8080;

/** Where `psiweb start` keeps the chain unless told otherwise, relative to the cwd. */
export const DEFAULT_DATA_DIR = '.data';

/** Every socket the Node peer opens listens or dials here only. */
export const LOOPBACK = '127.0.0.1';

/** The producer a devnet boots with. */
export const DEVNET_PRODUCER = 'prod';

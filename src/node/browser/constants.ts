/** The browser node's fixed numbers and names, each with why it has that value. */

/** The IndexedDB database holding chain state, blocks and head (IdbStore). */
export const CHAIN_DB = 'psiweb-chain';

/** The IndexedDB database of transactions pushed through the service worker (outbox.ts). */
export const OUTBOX_DB = 'psiweb-outbox';

/** The Web Lock whose holder is this profile's node: one node per browser profile. */
export const NODE_LOCK = 'psiweb-node';

/** The BroadcastChannel between the node, the service worker and every tab. */
export const NODE_CHANNEL = 'psiweb-node';

/** localStorage key of the Node peer URL setting (default: the origin that served the page). */
export const PEER_URL_SETTING = 'psiweb.peerUrl';

/** Blocks asked for per /native/blocks request while catching up. */
export const SYNC_BATCH_BLOCKS = 200;

/** Pause between polls of the peer once caught up: half psibase's 1 s block interval. */
export const SYNC_POLL_MS = 500;

/** Back-off after a failed request to the peer (offline, peer down). */
export const SYNC_RETRY_MS = 1_000;

/** Reconnect backoff of the WebSocket to the peer (core-sync.ts): first wait, and the most it grows to (as the Node peer's). */
export const P2P_RETRY_MIN_MS = 250;
export const P2P_RETRY_MAX_MS = 5_000;

/** WebSocket dials that fail in a row, none ever open, before the node syncs over HTTP instead. */
export const P2P_FALLBACK_FAILURES = 3;

/** After the peer sent something invalid, its connection is dialed again this much later (the core remembers the bad block). */
export const MISBEHAVIOUR_RETRY_MS = 30_000;

/** How often the node tells the tabs its status even when nothing changes. */
export const STATUS_INTERVAL_MS = 1_000;

/**
 * A producing browser that leads a set of several, with transactions waiting, makes its
 * next block this long after its last rather than a block interval after (CoreNode
 * eagerBlockMs): a transfer is final in a few hundred ms. With none waiting, blocks keep
 * the interval.
 */
export const EAGER_BLOCK_MS = 100;

/** Window over which blocks/s and transfers/s are averaged on the dashboard. */
export const RATE_WINDOW_MS = 3_000;

/**
 * How long a push through the service worker waits for the node's verdict before
 * answering 202 with the transaction's status: psibase's push_transaction answers once
 * the transaction is in a block, which normally takes a block interval or two.
 */
export const PUSH_WAIT_MS = 15_000;

/**
 * Wasm memories a browser ServiceHost keeps between transactions (service-host.ts).
 * Chromium holds ~124 live memories per renderer process, shared by the root worker,
 * the node's worker and the pages' plugins: two hosts at these caps keep 64 of them,
 * and a transaction of the devnet's services runs on fewer than ten idle instances.
 */
export const MAX_IDLE_INSTANCES = 24;
export const MAX_POOLED_MEMORIES = 8;

/** A spare memory larger than this (in 64 KiB pages) is left to the garbage collector. */
export const MAX_SPARE_MEMORY_PAGES = 64;

/** Compiled service modules a browser host keeps: compiling is slow, holding them is cheap. */
export const BROWSER_MODULE_CACHE = 64;

/** The HTTP layer's fixed numbers, each with why it has that value. */

/**
 * Largest request body accepted (413 above it). A transaction carrying a service's
 * code is the biggest thing a client sends: psibase's default ConfigRow allows 8 MiB
 * values, and a little more covers the SignedTransaction around such a value.
 */
export const MAX_BODY_BYTES = 9 * 1024 * 1024;

/** Longest Host header honoured; DNS names stop at 253 characters, plus a port. */
export const MAX_HOST_LENGTH = 260;

/** The root host a node serves unless told otherwise (ARCHITECTURE.md §1). */
export const DEFAULT_ROOT_HOST = 'psiweb.localhost';

/** psibase's `/native/` prefix: requests the node answers itself, never a service. */
export const NATIVE_PREFIX = '/native/';

/** psibase's HttpServer::commonApiPrefix: paths every app origin routes to common-api. */
export const COMMON_API_PREFIX = '/common/';

/** common-api's JSON → fracpack endpoints (`/common/pack/Transaction`, …). */
export const COMMON_API_PACK_PREFIX = '/common/pack/';

/**
 * How long a browser may cache a CORS preflight's answer (Access-Control-Max-Age):
 * Chromium caps it at 2 hours, so a longer value would only be cut down.
 */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/**
 * The socket number queries pass to `serve`. psinode numbers real sockets; psiweb
 * answers every query synchronously through the return value, so services only ever
 * see this one, and never a socket they could reply on later.
 */
export const QUERY_SOCKET = 0;

/**
 * Most blocks one `/native/blocks` reply carries: enough that a syncing browser spends
 * its time applying blocks rather than waiting on round trips, few enough that one
 * reply of busy blocks stays a few MB.
 */
export const MAX_BLOCK_RANGE_COUNT = 500;

/** Size cap of one `/native/blocks` reply (a larger first block still goes alone). */
export const MAX_BLOCK_RANGE_BYTES = 8 * 1024 * 1024;

/**
 * The app origins' service worker script, served from the PWA build on every
 * `<service>.<root>` host (sw/app-sw.ts): the path is reserved on app origins.
 */
export const APP_SW_PATH = '/app-sw.js';

/**
 * The app loader page in the PWA build: the answer to a browser's navigation to an
 * app host that no app service worker controls yet (a first visit). It installs the
 * worker, which from then on serves the app from the browser's own chain state.
 */
export const APP_LOADER_FILE = '/app-loader.html';

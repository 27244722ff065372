/** src/http's public surface: the router the Node server and the service workers share. */
export { Router, toHttpRequest, type RouterInit, type StaticSite } from './router.ts';
export { ServiceQuery, type QueryChain, type QueryResult } from './query.ts';
export { pushTransaction, acceptsJson, rejectionTrace, type TransactionSubmitter, type WaitFor } from './push.ts';
export { routeHost, normalizeRootHost, parseAuthority, type Authority, type HostRoute } from './hosts.ts';
export { parseRequestTarget, type RequestTarget } from './target.ts';
export { xHttpModule, xHttpService } from './x-http.ts';
export { BadRequestTargetError, HttpError, QueryReplyError } from './errors.ts';
export * as httpConstants from './constants.ts';
export { BLOCKS_PATH, blockRangeResponse, decodeBlockFrames, encodeBlockFrames, type BlockSource } from './blocks.ts';

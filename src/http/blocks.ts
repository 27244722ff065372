/**
 * `GET /native/blocks?from=N&count=M`: a plain block-range download for nodes that
 * sync over HTTP (the browser node syncing from the Node peer). The body is the
 * fracpacked SignedBlocks of N, N+1, … as frames of a u32 little-endian length then
 * the block's bytes; it stops at the head, at `count`, or at the size cap, whichever
 * comes first, so a client asks again from the block after the last frame. An empty
 * body means `from` is past the head. CORS-open like psibase's RPC, so a page on
 * another origin (a peer URL set by hand) can sync too.
 */
import { DecodeError } from '../errors.ts';
import type { BlockRecord } from '../state/store.ts';
import { MAX_BLOCK_RANGE_BYTES, MAX_BLOCK_RANGE_COUNT } from './constants.ts';
import { HttpError } from './errors.ts';
import { bytesResponse, corsHeaders, preflightResponse } from './responses.ts';

export const BLOCKS_PATH = '/native/blocks';

/** Where blocks come from: the block log (the state store's block records). */
export interface BlockSource {
  block(num: number): Promise<BlockRecord | undefined>;
}

function intParam(url: URL, name: string, fallback?: number): number {
  const v = url.searchParams.get(name);
  if (v === null || v === '') {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, `${BLOCKS_PATH} needs the parameter "${name}"`, { headers: corsHeaders() });
  }
  if (!/^\d{1,10}$/.test(v) || Number(v) > 0xffffffff) {
    throw new HttpError(400, `"${name}" must be a block number (0 to 4294967295), got "${v}"`, { headers: corsHeaders() });
  }
  return Number(v);
}

export async function blockRangeResponse(request: Request, url: URL, source: BlockSource): Promise<Response> {
  const cors = corsHeaders();
  if (request.method === 'OPTIONS') return preflightResponse('GET, HEAD, OPTIONS');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new HttpError(405, `${BLOCKS_PATH} does not accept the method ${request.method}`, { headers: { ...cors, Allow: 'GET, HEAD, OPTIONS' } });
  }
  const from = intParam(url, 'from');
  const count = Math.min(intParam(url, 'count', MAX_BLOCK_RANGE_COUNT), MAX_BLOCK_RANGE_COUNT);
  const frames: Uint8Array[] = [];
  let size = 0;
  for (let num = from; num < from + count; num++) {
    const rec = await source.block(num);
    if (!rec) break;
    // At least one block always goes, however large, or a client could never get past it.
    if (frames.length > 0 && size + 4 + rec.bytes.length > MAX_BLOCK_RANGE_BYTES) break;
    frames.push(rec.bytes);
    size += 4 + rec.bytes.length;
  }
  return bytesResponse(encodeBlockFrames(frames, size), 'application/octet-stream', 200, { ...cors, 'Cache-Control': 'no-store' });
}

export function encodeBlockFrames(blocks: readonly Uint8Array[], size = blocks.reduce((n, b) => n + 4 + b.length, 0)): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of blocks) {
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** Splits a /native/blocks body into its blocks' bytes (views into `body`). */
export function decodeBlockFrames(body: Uint8Array): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + 4 > body.length) throw new DecodeError(`block frame header truncated at byte ${at}`);
    const len = view.getUint32(at, true);
    if (at + 4 + len > body.length) throw new DecodeError(`block frame at byte ${at} claims ${len} bytes, only ${body.length - at - 4} left`);
    out.push(body.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

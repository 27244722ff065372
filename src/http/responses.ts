/**
 * Building fetch Responses: from a service's HttpReply, from an HttpError, and the
 * small JSON/text/bytes helpers the native handlers use.
 */
import type { HttpReply } from '../protocol/types.ts';
import { PREFLIGHT_MAX_AGE_SECONDS } from './constants.ts';
import { HttpError } from './errors.ts';
import { LazyBodyResponse, lazyBodiesInUse, withKnownBody } from './known-body.ts';

/** psibase's allowCors() (Rpc.cpp): any origin may read the reply. */
export function corsHeaders(): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, HEAD, PUT, DELETE',
    'Access-Control-Allow-Headers': '*',
  };
}

/**
 * The answer to a CORS preflight (an OPTIONS request) for a CORS-open resource that
 * takes `methods`: 204, any origin, any request headers, cached for a while.
 */
export function preflightResponse(methods: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': methods,
      'Access-Control-Allow-Headers': '*',
      'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
      Allow: methods,
    },
  });
}

/** Statuses whose responses carry no body (fetch refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function body(status: number, bytes: Uint8Array | string): BodyInit | null {
  if (NULL_BODY.has(status)) return null;
  return typeof bytes === 'string' ? bytes : (bytes as Uint8Array<ArrayBuffer>);
}

export function bytesResponse(bytes: Uint8Array, contentType: string, status = 200, headers: Record<string, string> = {}): Response {
  return knownResponse(bytes, status, { ...headers, 'Content-Type': contentType });
}

export function textResponse(text: string, status: number, headers: Record<string, string> = {}, contentType = 'text/plain; charset=utf-8'): Response {
  return knownResponse(text, status, { ...headers, 'Content-Type': contentType });
}

/** A response carrying `bytes` (none for a null-body status), known to adapters that send it as it is. */
function knownResponse(bytes: Uint8Array | string, status: number, headers: Record<string, string>): Response {
  if (lazyBodiesInUse() && !NULL_BODY.has(status)) return new LazyBodyResponse(bytes, { status, headers });
  return known(new Response(body(status, bytes), { status, headers }), status, bytes);
}

/** Records the body of a response that has one, for adapters that can send it as it is (known-body.ts). */
function known(response: Response, status: number, bytes: Uint8Array | string): Response {
  return NULL_BODY.has(status) ? response : withKnownBody(response, bytes);
}

export function jsonResponse(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return textResponse(JSON.stringify(value), status, headers, 'application/json');
}

/** An HttpError as the response it stands for (psibase's error pages are text/html). */
export function errorResponse(e: HttpError): Response {
  return textResponse(e.message, e.status, e.headers, 'text/html; charset=utf-8');
}

/**
 * A service's HttpReply as a Response. psinode refuses statuses outside 200..599 and
 * replies it cannot send; those become a 500 naming the fault instead of a crash.
 */
export function replyToResponse(reply: HttpReply): Response {
  const { status } = reply;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new HttpError(500, `service replied with invalid status code ${status}`);
  }
  const headers = new Headers();
  try {
    for (const h of reply.headers) headers.set(h.name, h.value);
    if (reply.contentType !== '') headers.set('Content-Type', reply.contentType);
  } catch (e) {
    throw new HttpError(500, `service replied with an invalid header: ${(e as Error).message}`, { cause: e });
  }
  // A cross-origin page may read a shared reply's ETag (psiweb's addition; psinode sends
  // none): the supervisor then revalidates a plugin without reading its body.
  if (headers.get('Access-Control-Allow-Origin') === '*' && headers.has('ETag') && !headers.has('Access-Control-Expose-Headers')) {
    headers.set('Access-Control-Expose-Headers', 'ETag');
  }
  if (lazyBodiesInUse() && !NULL_BODY.has(status)) return new LazyBodyResponse(reply.body, { status, headers });
  return known(new Response(body(status, reply.body), { status, headers }), status, reply.body);
}

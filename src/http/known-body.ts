/**
 * Bodies held beside fetch Requests and Responses, so an adapter that already has the
 * bytes (the Node server reading a request) or a handler that made them (a JSON reply)
 * need not push them through a ReadableStream and back: undici's streams cost about as
 * much per request as the rest of a small query. Only what this module was handed is
 * known; everything else is read from the Request or Response as usual.
 */
const bodies = new WeakMap<Request | Response, Uint8Array | string>();

/** Records `body` as what `message` carries; returns `message`. */
export function withKnownBody<T extends Request | Response>(message: T, body: Uint8Array | string): T {
  bodies.set(message, body);
  return message;
}

/** The body recorded for `message`, if any. */
export function knownBody(message: Request | Response): Uint8Array | string | undefined {
  return bodies.get(message);
}

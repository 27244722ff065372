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
  if (message instanceof LazyBodyResponse) return message.known;
  return bodies.get(message);
}

let lazyBodies = false;

/**
 * Called by an adapter that sends known bodies as they are (the Node server): from then
 * on, responses with a known body are LazyBodyResponses in this process.
 */
export function useLazyBodies(): void {
  lazyBodies = true;
}

/** Whether responses with a known body are made as LazyBodyResponses (useLazyBodies). */
export function lazyBodiesInUse(): boolean {
  return lazyBodies;
}

/**
 * A Response whose body is known (a string or bytes) and made into a stream only when
 * something reads it through the Response: undici builds a ReadableStream for every
 * body given to `new Response`, which costs about as much as the rest of a small JSON
 * reply, and an adapter that sends `known` as it is never needs it. Every way of
 * reading the body (body, bodyUsed, text, json, arrayBuffer, blob, formData, clone)
 * goes through a full Response made from `known` on first use, so readers see the same
 * bytes. Only for processes whose Responses never go to a platform API that reads
 * internal slots (a service worker's respondWith): see useLazyBodies.
 */
export class LazyBodyResponse extends Response {
  #full: Response | undefined;

  constructor(
    readonly known: Uint8Array | string,
    init: ResponseInit,
  ) {
    super(null, init);
  }

  private full(): Response {
    this.#full ??= new Response(this.known as BodyInit, { status: this.status, statusText: this.statusText, headers: this.headers });
    return this.#full;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.full().body as ReadableStream<Uint8Array<ArrayBuffer>> | null;
  }

  override get bodyUsed(): boolean {
    return this.#full?.bodyUsed ?? false;
  }

  override text(): Promise<string> {
    return this.full().text();
  }

  override json(): Promise<unknown> {
    return this.full().json();
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.full().arrayBuffer();
  }

  override blob(): Promise<Blob> {
    return this.full().blob();
  }

  override formData(): Promise<FormData> {
    return this.full().formData();
  }

  override clone(): Response {
    return this.full().clone();
  }
}

/**
 * The HTTP layer's errors: a request that cannot be served as asked. Each carries the
 * status it answers with, so the router turns any of them into a clear response and
 * keeps serving.
 */
import { PsiwebError } from '../errors.ts';

export interface HttpErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
  /** Extra response headers, e.g. `Allow` on a 405. */
  headers?: Record<string, string>;
}

export class HttpError extends PsiwebError {
  override name = 'HttpError';
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, options);
    this.headers = options.headers ?? {};
  }
}

/** A service answered a query with bytes that are not the reply type it owes. */
export class QueryReplyError extends PsiwebError {
  override name = 'QueryReplyError';
}

/**
 * A request whose Host header or request target is malformed (RFC 9112 §3.2): answered
 * with 400 before anything routes it, so the Host header can never change the path.
 */
export class BadRequestTargetError extends HttpError {
  override name = 'BadRequestTargetError';

  constructor(message: string, options: HttpErrorOptions = {}) {
    super(400, message, options);
  }
}

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

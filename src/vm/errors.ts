/**
 * Errors raised while hosting services. They extend psiweb's family (src/errors.ts) so
 * the chain executor can tell a failed action (ServiceError, LimitError) and a bad
 * module (ModuleError) from a host bug. A CacheMissError from the state is never
 * wrapped in one of these: it leaves the host untouched (ARCHITECTURE.md §4).
 */
import { PsiwebError } from '../errors.ts';

/**
 * A service failed: it called abortMessage, misused a host function (bad handle,
 * out-of-bounds pointer, forbidden db …) or trapped. `message` is what psibase would
 * put in the action trace's `error`.
 */
export class ServiceError extends PsiwebError {
  override name = 'ServiceError';
}

export type LimitKind = 'cpu' | 'memory' | 'callDepth' | 'stack' | 'handles' | 'keySize' | 'valueSize';

/** A resource limit was hit: CPU budget, memory pages, call depth, handles, key or value size. */
export class LimitError extends PsiwebError {
  override name = 'LimitError';
  constructor(
    readonly kind: LimitKind,
    message: string,
  ) {
    super(message, { details: { kind } });
  }
}

/** Service code that cannot be loaded: malformed wasm, missing exports, unknown imports. */
export class ModuleError extends PsiwebError {
  override name = 'ModuleError';
}

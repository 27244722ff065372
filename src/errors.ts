/**
 * psiweb's error family. Every error that crosses a module boundary is one of these,
 * so a caller can tell bad input (DecodeError, AuthError, …) from a bug (anything else).
 * Each class has a stable `name`; `details` carries machine-readable context and
 * `cause` the underlying error, as viem and js-libp2p do.
 */
export class PsiwebError extends Error {
  override name = 'PsiwebError';
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }
}

/** Bytes or JSON that do not follow the wire format (fracpack, names, PEM, DER …). */
export class DecodeError extends PsiwebError {
  override name = 'DecodeError';
}

/** A value that cannot be encoded (out of range, wrong shape for its schema). */
export class EncodeError extends PsiwebError {
  override name = 'EncodeError';
}

/** A schema that is malformed or refers to types that do not exist. */
export class SchemaError extends PsiwebError {
  override name = 'SchemaError';
}

/** A signature, key or claim that does not verify. */
export class AuthError extends PsiwebError {
  override name = 'AuthError';
}

/** Storage failures and misuse of the state engine (closed store, bad savepoint …). */
export class StateError extends PsiwebError {
  override name = 'StateError';
}

/**
 * The store on disk is damaged: a record fails its checksum, the block log's ids do not
 * chain, a file is shorter than its own header says, or a data directory that held a
 * chain has lost its store. Nothing read from it is trusted; the node stops rather than
 * serve or build on it (run `psiweb check --data DIR` for a full report).
 */
export class StoreDamagedError extends StateError {
  override name = 'StoreDamagedError';
}

/** A store written in a format this psiweb cannot read (older without a migration, or newer). */
export class StoreFormatError extends StateError {
  override name = 'StoreFormatError';
}

/**
 * A read reached a key range that the range cache has not loaded yet. Execution is
 * abandoned, the range is loaded from the backing store, and the work runs again
 * (ARCHITECTURE.md §4). Not a failure: callers of the executor never see it.
 */
export class CacheMissError extends PsiwebError {
  override name = 'CacheMissError';
  constructor(
    readonly rangeStart: Uint8Array,
    readonly rangeEnd: Uint8Array | undefined,
  ) {
    super('state range not cached');
  }
}

/** Consensus messages that are invalid, unsigned or from outside the producer set. */
export class ConsensusError extends PsiwebError {
  override name = 'ConsensusError';
}

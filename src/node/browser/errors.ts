/** The browser node's errors. */
import { PsiwebError, StateError } from '../../errors.ts';

/** The peer answered something this node cannot sync from (another chain, a bad reply). */
export class SyncError extends PsiwebError {
  override name = 'SyncError';
}

/**
 * A block commit failed after the node had already moved on from it (see
 * broadcasting-state.ts): the node's view is ahead of IndexedDB and must be reopened.
 */
export class StateLostError extends StateError {
  override name = 'StateLostError';
}

/** A `#join=` invite payload that is not one (bad encoding, fields missing or out of shape): nothing of it is stored. */
export class InviteError extends PsiwebError {
  override name = 'InviteError';
}

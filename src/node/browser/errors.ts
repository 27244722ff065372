/** The browser node's errors. */
import { PsiwebError } from '../../errors.ts';

/** The peer answered something this node cannot sync from (another chain, a bad reply). */
export class SyncError extends PsiwebError {
  override name = 'SyncError';
}

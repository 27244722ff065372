/** Errors of psibase's shortest-path routing (src/net/routing). */
import { PsiwebError } from '../../errors.ts';

/**
 * A caller asked the router for something it cannot do with what it was given: a
 * message to route that is not one whole peer message (no type byte), or a peer it
 * was never told about.
 */
export class RoutingError extends PsiwebError {
  override name = 'RoutingError';
}

/** Errors of the Node peer's p2p transport and block sync. */
import { PsiwebError } from '../../errors.ts';

/** A WebSocket handshake that failed: refused, answered with something else, or never answered. */
export class WebSocketHandshakeError extends PsiwebError {
  override name = 'WebSocketHandshakeError';
}

/**
 * Why a peer was disconnected for what it sent: a frame that does not decode, a
 * protocol version psiweb does not speak, a block that fails validation, or a block
 * that contradicts the chain this node holds.
 */
export type PeerFaultReason = 'undecodable' | 'version' | 'invalid-block' | 'wrong-chain';

/** A peer sent something that ends the connection; the message says what and why. */
export class PeerMisbehaviourError extends PsiwebError {
  override name = 'PeerMisbehaviourError';
  constructor(
    readonly reason: PeerFaultReason,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, details: { reason, ...options.details } });
  }
}

/** Errors of the Node peer's p2p transport and block sync. */
import { PsiwebError } from '../../errors.ts';

/** A WebSocket handshake that failed: refused, answered with something else, or never answered. */
export class WebSocketHandshakeError extends PsiwebError {
  override name = 'WebSocketHandshakeError';
}

/**
 * Why a peer was disconnected for what it sent: a frame that does not decode, a type
 * byte psibase's protocol does not define, a protocol version psiweb does not speak, a
 * block that fails validation, a block that contradicts the chain this node holds, or
 * a fault a caller reported (`PeerNetwork.misbehaved`, e.g. consensus finding an
 * invalid message).
 */
export type PeerFaultReason = 'undecodable' | 'unknown-type' | 'version' | 'invalid-block' | 'wrong-chain' | 'reported';

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

/** A peer's list of addresses (GET x-peers.<root>/peers) that could not be read. */
export class PeerListError extends PsiwebError {
  override name = 'PeerListError';
}

/** A connection refused because the peer (its URL or address) is banned for misbehaving. */
export class PeerBannedError extends PsiwebError {
  override name = 'PeerBannedError';
  constructor(
    readonly key: string,
    readonly until: number,
    readonly reason: PeerFaultReason,
    message: string,
  ) {
    super(message, { details: { key, until, reason } });
  }
}

/**
 * The data directory's libp2p key file (libp2p.key) is not a libp2p private key: the
 * node refuses to start rather than take a new peer id silently.
 */
export class Libp2pKeyDamagedError extends PsiwebError {
  override name = 'Libp2pKeyDamagedError';
}

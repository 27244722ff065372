/** Errors of psibase's peer protocol carried over libp2p streams. */
import { PsiwebError } from '../../errors.ts';

/**
 * Why a frame on a psibase peer stream was refused:
 * - `bad-length`: the length prefix is not a valid unsigned varint (or longer than 5 bytes);
 * - `oversize`: the length prefix names more bytes than the stream accepts in one frame;
 * - `empty`: a frame of no bytes (a psibase message has at least its type byte);
 * - `unknown-type`: a type byte psibase's peer protocol does not define;
 * - `undecodable`: the type byte is known, but the fracpack that follows does not decode as that message.
 */
export type PeerFrameFault = 'bad-length' | 'oversize' | 'empty' | 'unknown-type' | 'undecodable';

/** A peer sent a frame that is not a psibase peer message: its stream is closed with this error. */
export class PeerFrameError extends PsiwebError {
  override name = 'PeerFrameError';
  constructor(
    readonly fault: PeerFrameFault,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, details: { fault, ...options.details } });
  }
}

/** A message this node tried to send is larger than a frame may be (a bug of the caller, not of the peer). */
export class FrameTooLargeError extends PsiwebError {
  override name = 'FrameTooLargeError';
}

/** The stream was closed by this side with a status code (as a WebSocket close would carry). */
export class PeerStreamClosedError extends PsiwebError {
  override name = 'PeerStreamClosedError';
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`psibase peer stream closed (${code}${reason ? `: ${reason}` : ''})`, { details: { code, reason } });
  }
}

/** A dial for a psibase peer stream that failed: no connection, the protocol refused, or a connection of the wrong kind. */
export class PeerDialError extends PsiwebError {
  override name = 'PeerDialError';
}

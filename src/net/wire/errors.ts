/**
 * Errors of the peer-protocol codec. Both extend the project's DecodeError /
 * EncodeError, so callers that only know those still see bad input as bad input.
 */
import { DecodeError, EncodeError } from '../../errors.ts';

/**
 * Why a message was refused:
 * - `empty`: no bytes at all (not even a type byte);
 * - `unknown-type`: a type byte psibase does not define (or one this codec does not speak);
 * - `wrong-type`: decoding as one message kind, but the type byte names another;
 * - `truncated`: the bytes end inside the message;
 * - `trailing`: bytes left over after the message (fracpack: the top-level object must use them all);
 * - `malformed`: anything else fracpack refuses (bad offsets, bad bool, wrong fixed size, bad nested data …).
 */
export type WireDecodeReason = 'empty' | 'unknown-type' | 'wrong-type' | 'truncated' | 'trailing' | 'malformed';

export class MessageDecodeError extends DecodeError {
  override name = 'MessageDecodeError';
  constructor(
    readonly reason: WireDecodeReason,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { ...options, details: { reason, ...options.details } });
  }
}

/** A type byte that names no message of psibase's peer protocol. */
export class UnknownMessageTypeError extends MessageDecodeError {
  override name = 'UnknownMessageTypeError';
  constructor(readonly typeByte: number) {
    super('unknown-type', `p2p: unknown message type ${typeByte}`, { details: { typeByte } });
  }
}

/** A native or JSON value that cannot be packed as the message kind it claims to be. */
export class MessageEncodeError extends EncodeError {
  override name = 'MessageEncodeError';
}

/**
 * psibase's peer messages on a libp2p stream: each message (type byte + fracpack, as one
 * psinode WebSocket message carries it) is one frame, prefixed by its length as an
 * unsigned varint (LEB128, as libp2p's length-prefixed protocols write it). The
 * decoder refuses a length prefix longer than 5 bytes, a length over the limit (before
 * any of the body is read) and an empty frame; `checkPeerMessage` refuses what is not a
 * psibase peer message.
 */
import { decodeMessage, MessageDecodeError, UnknownMessageTypeError } from '../wire/index.ts';
import { FrameTooLargeError, PeerFrameError } from './errors.ts';

/** The largest frame accepted by default (as the psinode WebSocket's MAX_MESSAGE_BYTES: a block of psibase's maximum size fits). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** A 5-byte varint holds 35 bits: more than any frame this protocol allows. */
const MAX_PREFIX_BYTES = 5;

/** Type bytes psibase defines that psiweb does not speak yet (42, 43, 45), passed through unchecked as psinode's peer socket does. */
export const UNCHECKED_TYPES: ReadonlySet<number> = new Set([42, 43, 45]);
/** Type bytes from here up are x-peers' own connection messages, passed through unchecked. */
export const FIRST_XPEERS_TYPE = 64;

/** The length prefix of a frame of `length` bytes. */
export function lengthPrefix(length: number): Uint8Array {
  const out: number[] = [];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Uint8Array.from(out);
}

/** One frame: the length prefix and the message. */
export function encodeFrame(message: Uint8Array, maxFrameBytes = MAX_FRAME_BYTES): Uint8Array {
  if (message.length > maxFrameBytes) throw new FrameTooLargeError(`a psibase peer message of ${message.length} bytes is larger than a frame may be (${maxFrameBytes})`, { details: { length: message.length, maxFrameBytes } });
  const prefix = lengthPrefix(message.length);
  const out = new Uint8Array(prefix.length + message.length);
  out.set(prefix, 0);
  out.set(message, prefix.length);
  return out;
}

/**
 * Splits a byte stream into frames. `push` returns the frames completed by a chunk, and
 * throws a PeerFrameError at the first bad length prefix; after one the decoder is spent.
 */
export class FrameDecoder {
  private prefix = 0;
  private prefixBytes = 0;
  private body: Uint8Array | undefined;
  private filled = 0;
  private failed: PeerFrameError | undefined;

  constructor(readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes of an unfinished frame held now. */
  get pending(): number {
    return this.prefixBytes + this.filled;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    const frames: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.body === undefined) {
        const b = chunk[i++]!;
        this.prefix += (b & 0x7f) * 2 ** (7 * this.prefixBytes);
        this.prefixBytes++;
        if (b & 0x80) {
          if (this.prefixBytes >= MAX_PREFIX_BYTES) throw this.fail(new PeerFrameError('bad-length', `a frame length prefix longer than ${MAX_PREFIX_BYTES} bytes`));
          continue;
        }
        const length = this.prefix;
        this.prefix = 0;
        this.prefixBytes = 0;
        if (length === 0) throw this.fail(new PeerFrameError('empty', 'an empty frame (a psibase peer message has at least its type byte)'));
        if (length > this.maxFrameBytes) throw this.fail(new PeerFrameError('oversize', `a frame of ${length} bytes is larger than this stream accepts (${this.maxFrameBytes})`, { details: { length, maxFrameBytes: this.maxFrameBytes } }));
        // A whole frame inside this chunk: a view, no copy.
        if (chunk.length - i >= length) {
          frames.push(chunk.subarray(i, i + length));
          i += length;
          continue;
        }
        this.body = new Uint8Array(length);
        this.filled = 0;
      }
      const take = Math.min(this.body.length - this.filled, chunk.length - i);
      this.body.set(chunk.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled === this.body.length) {
        frames.push(this.body);
        this.body = undefined;
        this.filled = 0;
      }
    }
    return frames;
  }

  private fail(e: PeerFrameError): PeerFrameError {
    this.failed = e;
    this.body = undefined;
    return e;
  }
}

/**
 * Throws a PeerFrameError unless `bytes` is a psibase peer message: its type byte one
 * psibase defines and the fracpack after it that message (decoded strictly, as
 * src/net/wire does). Type bytes psiweb does not speak yet (UNCHECKED_TYPES) and
 * x-peers' own (FIRST_XPEERS_TYPE and up) pass unchecked, as on psinode's WebSocket.
 */
export function checkPeerMessage(bytes: Uint8Array): void {
  const type = bytes[0];
  if (type === undefined) throw new PeerFrameError('empty', 'an empty frame (a psibase peer message has at least its type byte)');
  if (type >= FIRST_XPEERS_TYPE || UNCHECKED_TYPES.has(type)) return;
  try {
    decodeMessage(bytes);
  } catch (e) {
    if (!(e instanceof MessageDecodeError)) throw e;
    if (e instanceof UnknownMessageTypeError) throw new PeerFrameError('unknown-type', `a frame with type byte ${type}, which names no psibase peer message`, { cause: e, details: { typeByte: type } });
    throw new PeerFrameError('undecodable', `a frame of type ${type} (${bytes.length} bytes) that does not decode: ${e.message}`, { cause: e, details: { typeByte: type, reason: e.reason } });
  }
}

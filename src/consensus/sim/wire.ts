/**
 * The simulator's wire: every message a node sends is encoded to bytes once and each
 * receiver decodes its own copy, so nothing reaches a state machine that a real link
 * could not carry. The codec is psibase's peer protocol (src/net/wire: type byte +
 * fracpack), the one a psinode speaks; only the signatures inside are the simulator's
 * cheap stand-ins (keys.ts).
 */
import { decodeMessage, encodeMessage, type WireMessage } from '../../net/wire/messages.ts';

export interface SimWire {
  readonly name: string;
  encode(message: WireMessage): Uint8Array;
  /** Throws on bytes it cannot read: the simulator counts that as a violation (it only decodes what it encoded). */
  decode(bytes: Uint8Array): WireMessage;
}

export const psibaseWire: SimWire = {
  name: 'psibase',
  encode: (message) => encodeMessage(message),
  decode: (bytes) => decodeMessage(bytes),
};

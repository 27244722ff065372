/**
 * The simulator's wire: every message a node sends is encoded to bytes once and each
 * receiver decodes its own copy, so nothing reaches a state machine that a real link
 * could not carry (no shared objects, no `undefined` fields, no functions).
 *
 * The codec here is JSON. The consensus machine's messages (messages.ts) are not yet
 * psibase's peer messages (src/net/wire: type byte + fracpack): blocks are abstract
 * headers and votes carry a term and number that psibase's PrepareMessage/CommitMessage
 * take from the block. A fracpack codec plugs in through `SimWire` once that mapping
 * exists.
 */
export interface SimWire {
  readonly name: string;
  encode(message: unknown): Uint8Array;
  /** Throws on bytes it cannot read: the simulator counts that as a violation (it only decodes what it encoded). */
  decode(bytes: Uint8Array): unknown;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export const jsonWire: SimWire = {
  name: 'json',
  encode(message) {
    const text = JSON.stringify(message);
    if (text === undefined) throw new TypeError('message has no JSON form');
    return enc.encode(text);
  },
  decode(bytes) {
    return JSON.parse(dec.decode(bytes));
  },
};

import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../net/wire/index.ts';
import { toHex } from '../../protocol/fracpack/index.ts';
import { PeerHeads } from './peer-heads.ts';

// What a peer's head takes (hellos, blocks, frames that do not decode) is src/net/peer-head.test.ts's.
const hello = (num: number, id: Uint8Array) => encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: id, _num: num }, committed: false } });

describe("the browser core's peer heads", () => {
  it('keeps a head per peer and forgets a peer that is gone', () => {
    const heads = new PeerHeads();
    expect(heads.head('#lp#1')).toBeUndefined();
    const id = new Uint8Array(32).fill(7);
    heads.note('#lp#1', hello(5, id));
    heads.note('#2', hello(9, id));
    expect(heads.head('#lp#1')).toEqual({ num: 5, id: toHex(id) });
    expect(heads.head('#2')).toEqual({ num: 9, id: toHex(id) });
    heads.forget('#lp#1');
    expect(heads.head('#lp#1')).toBeUndefined();
    expect(heads.head('#2')!.num).toBe(9);
    // A frame that notes nothing leaves no head.
    heads.note('#3', encodeMessage({ kind: 'InitMessage', value: { version: 0 } }));
    expect(heads.head('#3')).toBeUndefined();
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../net/wire/index.ts';
import { fromHex, toHex } from '../../protocol/fracpack/index.ts';
import { blockId } from '../../protocol/ids.ts';
import { unpackSignedBlock } from '../../protocol/types.ts';
import { PeerHeads } from './peer-heads.ts';

// psibase's own wire vectors (test/vectors/p2p, from psibase's C++ encoder).
const vectors = JSON.parse(readFileSync(join(process.cwd(), 'test/vectors/p2p/psibase-messages.json'), 'utf8')) as { type: string; hex: string }[];
const blocks = vectors.filter((v) => v.type === 'BlockMessage').map((v) => fromHex(v.hex));

const hello = (num: number, id: Uint8Array) => encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: id, _num: num }, committed: false } });
const headerOf = (frame: Uint8Array) => {
  const m = decodeMessage(frame);
  if (m.kind !== 'BlockMessage') throw new Error('not a block');
  return unpackSignedBlock(m.value.block).block.header;
};

describe("the browser core's peer heads", () => {
  it('takes the newest of a hello and the blocks a peer sent, per peer, and forgets a peer that is gone', () => {
    const heads = new PeerHeads();
    expect(heads.head('#lp#1')).toBeUndefined();
    const id = new Uint8Array(32).fill(7);
    heads.note('#lp#1', hello(5, id));
    expect(heads.head('#lp#1')).toEqual({ num: 5, id: toHex(id) });
    // psibase's BFT block vector is block 1234: its header's id.
    const bft = blocks[1]!;
    const header = headerOf(bft);
    heads.note('#lp#1', bft);
    expect(heads.head('#lp#1')).toEqual({ num: header.blockNum, id: toHex(blockId(header)) });
    // An older hello does not take the head back; another peer has its own.
    heads.note('#lp#1', hello(3, id));
    expect(heads.head('#lp#1')!.num).toBe(header.blockNum);
    heads.note('#2', hello(9, id));
    expect(heads.head('#2')!.num).toBe(9);
    heads.forget('#lp#1');
    expect(heads.head('#lp#1')).toBeUndefined();
    expect(heads.head('#2')!.num).toBe(9);
  });

  it("an empty node's hello (all-zero id) and frames that do not decode note nothing", () => {
    const heads = new PeerHeads();
    heads.note('#1', hello(0, new Uint8Array(32)));
    heads.note('#1', Uint8Array.of(32, 1, 2));
    heads.note('#1', Uint8Array.of(34, 1, 2));
    heads.note('#1', encodeMessage({ kind: 'InitMessage', value: { version: 0 } }));
    expect(heads.head('#1')).toBeUndefined();
  });
});

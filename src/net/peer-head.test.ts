import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex, fromHex } from '../protocol/fracpack/index.ts';
import { blockId } from '../protocol/ids.ts';
import { unpackSignedBlock } from '../protocol/types.ts';
import { PeerHead } from './peer-head.ts';
import { decodeMessage, encodeMessage } from './wire/index.ts';

// psibase's own wire vectors (test/vectors/p2p, from psibase's C++ encoder).
const vectors = JSON.parse(readFileSync(join(process.cwd(), 'test/vectors/p2p/psibase-messages.json'), 'utf8')) as { type: string; hex: string }[];
const frames = vectors.filter((v) => v.type === 'BlockMessage').map((v) => fromHex(v.hex));

const hello = (num: number, id: Uint8Array) => encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: id, _num: num }, committed: false } });
const blockOf = (frame: Uint8Array) => {
  const m = decodeMessage(frame);
  if (m.kind !== 'BlockMessage') throw new Error('not a block');
  return m.value.block;
};
const headOf = (frame: Uint8Array) => {
  const header = unpackSignedBlock(blockOf(frame)).block.header;
  return { num: header.blockNum, id: toHex(blockId(header)) };
};

describe("a peer's head", () => {
  // psibase's BFT block vector is block 1234.
  const bft = frames[1]!;
  const id = new Uint8Array(32).fill(7);

  it('takes the newest of its hellos and the blocks it sent, from frames', () => {
    const head = new PeerHead();
    expect(head.get()).toBeUndefined();
    head.noteFrame(hello(5, id));
    expect(head.get()).toEqual({ num: 5, id: toHex(id) });
    head.noteFrame(bft);
    expect(head.get()).toEqual(headOf(bft));
    // An older hello does not take the head back.
    head.noteFrame(hello(3, id));
    expect(head.get()).toEqual(headOf(bft));
    // A newer one does.
    head.noteFrame(hello(headOf(bft).num + 1, id));
    expect(head.get()).toEqual({ num: headOf(bft).num + 1, id: toHex(id) });
  });

  it('takes decoded hellos, packed blocks and blocks sent to the peer, and only ever rises', () => {
    const head = new PeerHead();
    head.noteBlock(blockOf(bft));
    expect(head.get()).toEqual(headOf(bft));
    head.noteHello(7, id);
    head.raise(8, id);
    expect(head.get()).toEqual(headOf(bft));
    head.raise(headOf(bft).num + 10, id);
    expect(head.get()).toEqual({ num: headOf(bft).num + 10, id: toHex(id) });
    // A block the peer sent that is older than what it is known to hold.
    head.noteBlock(blockOf(bft));
    expect(head.get()!.num).toBe(headOf(bft).num + 10);
  });

  it('reads a block the peer sent only when the head is asked for', () => {
    const head = new PeerHead();
    const frame = bft.slice();
    head.noteFrame(frame);
    const block = blockOf(bft).slice();
    const other = new PeerHead();
    other.noteBlock(block);
    // Spoiled after they were noted: read now, they do not decode.
    frame.fill(0, 1);
    block.fill(0);
    expect(head.get()).toBeUndefined();
    expect(other.get()).toBeUndefined();
  });

  it("an empty node's hello (all-zero id) and frames or blocks that do not decode note nothing", () => {
    const head = new PeerHead();
    head.noteFrame(hello(0, new Uint8Array(32)));
    head.noteHello(0, new Uint8Array(32));
    head.noteFrame(Uint8Array.of(32, 1, 2));
    head.noteFrame(Uint8Array.of(34, 1, 2));
    head.noteFrame(encodeMessage({ kind: 'InitMessage', value: { version: 0 } }));
    expect(head.get()).toBeUndefined();
    head.noteBlock(Uint8Array.of(1, 2, 3));
    expect(head.get()).toBeUndefined();
    // A head already known stays when a later block does not decode.
    head.noteHello(5, id);
    head.noteFrame(Uint8Array.of(34, 1, 2));
    expect(head.get()).toEqual({ num: 5, id: toHex(id) });
  });
});

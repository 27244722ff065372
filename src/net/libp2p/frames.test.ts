import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../wire/index.ts';
import { FrameTooLargeError, PeerFrameError } from './errors.ts';
import { checkPeerMessage, encodeFrame, FrameDecoder, lengthPrefix } from './frames.ts';

const init = encodeMessage({ kind: 'InitMessage', value: { version: 0 } });
const hello = encodeMessage({ kind: 'HelloRequest', value: { xid: { _id: new Uint8Array(32).fill(7), _num: 12 }, committed: true } });

function fault(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PeerFrameError);
    return (e as PeerFrameError).fault;
  }
  throw new Error('no error');
}

describe('psibase peer frames on a libp2p stream', () => {
  it('writes the length as an unsigned varint', () => {
    expect([...lengthPrefix(0)]).toEqual([0]);
    expect([...lengthPrefix(127)]).toEqual([127]);
    expect([...lengthPrefix(128)]).toEqual([0x80, 1]);
    expect([...lengthPrefix(300)]).toEqual([0xac, 0x02]);
    expect([...lengthPrefix(64 * 1024 * 1024)]).toEqual([0x80, 0x80, 0x80, 0x20]);
  });

  it('gives back every message, however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 400 }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }), (messages, cuts) => {
        const bytes = Uint8Array.from(messages.flatMap((m) => [...encodeFrame(m)]));
        const d = new FrameDecoder();
        const out: number[][] = [];
        let i = 0;
        let k = 0;
        while (i < bytes.length) {
          const n = cuts[k++ % cuts.length]!;
          for (const f of d.push(bytes.subarray(i, i + n))) out.push([...f]);
          i += n;
        }
        expect(out).toEqual(messages.map((m) => [...m]));
        expect(d.pending).toBe(0);
      }),
    );
  });

  it('refuses a length over the limit as soon as the prefix is read, before the body', () => {
    const d = new FrameDecoder(1000);
    expect(d.push(encodeFrame(new Uint8Array(1000).fill(1)))).toHaveLength(1);
    expect(fault(() => d.push(lengthPrefix(1001)))).toBe('oversize');
    // The decoder is spent: anything after is refused the same way.
    expect(fault(() => d.push(encodeFrame(init)))).toBe('oversize');
  });

  it('refuses a length prefix longer than 5 bytes, and an empty frame', () => {
    expect(fault(() => new FrameDecoder().push(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)))).toBe('bad-length');
    expect(fault(() => new FrameDecoder().push(Uint8Array.of(0)))).toBe('empty');
  });

  it('will not send a message larger than a frame may be', () => {
    expect(() => encodeFrame(new Uint8Array(11), 10)).toThrow(FrameTooLargeError);
  });

  it('takes psibase peer messages and refuses a bad type byte or bad fracpack', () => {
    checkPeerMessage(init);
    checkPeerMessage(hello);
    // psibase's snapshot/state messages and x-peers' own pass unchecked, as psinode passes them on.
    checkPeerMessage(Uint8Array.of(42, 1, 2));
    checkPeerMessage(Uint8Array.of(64));
    expect(fault(() => checkPeerMessage(Uint8Array.of(2, 0, 0, 0, 0)))).toBe('unknown-type');
    expect(fault(() => checkPeerMessage(Uint8Array.of(50)))).toBe('unknown-type');
    expect(fault(() => checkPeerMessage(hello.subarray(0, hello.length - 3)))).toBe('undecodable');
    expect(fault(() => checkPeerMessage(Uint8Array.of(...init, 0)))).toBe('undecodable');
    expect(fault(() => checkPeerMessage(new Uint8Array(0)))).toBe('empty');
    const e = (() => {
      try {
        checkPeerMessage(Uint8Array.of(2, 0));
      } catch (err) {
        return err as PeerFrameError;
      }
    })()!;
    expect(e.message).toMatch(/type byte 2/);
    expect(e.details).toMatchObject({ fault: 'unknown-type', typeByte: 2 });
  });
});

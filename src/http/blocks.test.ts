import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors.ts';
import type { BlockRecord } from '../state/store.ts';
import { blockRangeResponse, decodeBlockFrames, encodeBlockFrames } from './blocks.ts';
import { MAX_BLOCK_RANGE_BYTES, MAX_BLOCK_RANGE_COUNT } from './constants.ts';
import { HttpError } from './errors.ts';

function source(head: number, size = (n: number) => 3 + (n % 5)) {
  const reads: number[] = [];
  return {
    reads,
    async block(num: number): Promise<BlockRecord | undefined> {
      reads.push(num);
      if (num < 1 || num > head) return undefined;
      return { num, id: new Uint8Array(32), bytes: new Uint8Array(size(num)).fill(num & 0xff) };
    },
  };
}

const get = (q: string) => new Request(`http://psiweb.localhost/native/blocks${q}`);
async function frames(r: Response): Promise<Uint8Array[]> {
  return decodeBlockFrames(new Uint8Array(await r.arrayBuffer()));
}

describe('/native/blocks', () => {
  it('returns blocks from..head as length-prefixed frames, CORS-open', async () => {
    const r = await blockRangeResponse(get('?from=3&count=10'), new URL(get('?from=3&count=10').url), source(7));
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const got = await frames(r);
    expect(got.map((b) => b[0])).toEqual([3, 4, 5, 6, 7]);
    expect(got.map((b) => b.length)).toEqual([6, 7, 3, 4, 5]);
  });

  it('stops at count, at the server cap, and is empty past the head', async () => {
    const u = (q: string) => new URL(get(q).url);
    expect((await frames(await blockRangeResponse(get(''), u('?from=2&count=2'), source(9)))).map((b) => b[0])).toEqual([2, 3]);
    const many = await frames(await blockRangeResponse(get(''), u(`?from=1&count=${MAX_BLOCK_RANGE_COUNT * 2}`), source(1e6)));
    expect(many.length).toBe(MAX_BLOCK_RANGE_COUNT);
    expect(await frames(await blockRangeResponse(get(''), u('?from=10'), source(9)))).toEqual([]);
  });

  it('caps the reply size but always sends at least one block', async () => {
    const big = MAX_BLOCK_RANGE_BYTES / 2 + 1;
    const got = await frames(await blockRangeResponse(get(''), new URL(get('?from=1&count=5').url), source(5, () => big)));
    expect(got.length).toBe(1);
    expect(got[0]!.length).toBe(big);
  });

  it('refuses bad parameters and methods with typed errors', async () => {
    for (const q of ['', '?from=x', '?from=-1', '?from=1&count=1.5', '?from=99999999999']) {
      await expect(blockRangeResponse(get(q), new URL(get(q).url), source(3))).rejects.toBeInstanceOf(HttpError);
    }
    const post = new Request('http://psiweb.localhost/native/blocks?from=1', { method: 'POST', body: 'x' });
    await expect(blockRangeResponse(post, new URL(post.url), source(3))).rejects.toMatchObject({ status: 405 });
  });

  it('frames round-trip and truncated bodies are DecodeErrors', () => {
    const blocks = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([9])];
    const body = encodeBlockFrames(blocks);
    expect(decodeBlockFrames(body)).toEqual(blocks);
    expect(() => decodeBlockFrames(body.subarray(0, body.length - 1))).toThrow(DecodeError);
    expect(() => decodeBlockFrames(new Uint8Array([1, 0]))).toThrow(DecodeError);
  });
});

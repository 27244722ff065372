/** How a service's reply becomes the HTTP response (responses.ts). */
import { describe, expect, it } from 'vitest';
import { replyToResponse } from './responses.ts';

const reply = (headers: [string, string][]) => ({ status: 200, contentType: 'application/wasm', body: new Uint8Array([1]), headers: headers.map(([name, value]) => ({ name, value })) });

describe('replyToResponse', () => {
  it("lets cross-origin pages read a shared reply's ETag (the supervisor's revalidation), and adds nothing else", () => {
    const shared = replyToResponse(reply([['Access-Control-Allow-Origin', '*'], ['ETag', 'abc']]));
    expect(shared.headers.get('Access-Control-Expose-Headers')).toBe('ETag');
    expect(replyToResponse(reply([['ETag', 'abc']])).headers.get('Access-Control-Expose-Headers')).toBeNull();
    expect(replyToResponse(reply([['Access-Control-Allow-Origin', '*']])).headers.get('Access-Control-Expose-Headers')).toBeNull();
    const own = replyToResponse(reply([['Access-Control-Allow-Origin', '*'], ['ETag', 'abc'], ['Access-Control-Expose-Headers', 'X-Other']]));
    expect(own.headers.get('Access-Control-Expose-Headers')).toBe('X-Other');
  });
});

import { describe, expect, it } from 'vitest';
import { LazyBodyResponse, knownBody } from './known-body.ts';

describe('LazyBodyResponse', () => {
  const json = '{"a":1,"b":"é"}';
  const init = () => ({ status: 201, headers: { 'Content-Type': 'application/json', 'X-Y': 'z' } });

  it('reads as the full Response would, by every reader', async () => {
    expect(await new LazyBodyResponse(json, init()).text()).toBe(json);
    expect(await new LazyBodyResponse(json, init()).json()).toEqual({ a: 1, b: 'é' });
    const bytes = new Uint8Array(await new LazyBodyResponse(json, init()).arrayBuffer());
    expect(new TextDecoder().decode(bytes)).toBe(json);
    expect(await (await new LazyBodyResponse(json, init()).blob()).text()).toBe(json);
    const streamed = new LazyBodyResponse(new Uint8Array([1, 2, 3]), init());
    expect(new Uint8Array(await new Response(streamed.body).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('keeps status and headers, and knownBody finds the body', () => {
    const r = new LazyBodyResponse(json, init());
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-y')).toBe('z');
    expect(knownBody(r)).toBe(json);
    expect(r instanceof Response).toBe(true);
  });

  it('is read once, like any Response; a clone reads again', async () => {
    const r = new LazyBodyResponse(json, init());
    expect(r.bodyUsed).toBe(false);
    const copy = r.clone();
    expect(await r.text()).toBe(json);
    expect(r.bodyUsed).toBe(true);
    await expect(r.text()).rejects.toThrow();
    expect(await copy.text()).toBe(json);
    expect(copy.status).toBe(201);
  });
});

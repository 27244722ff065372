import { describe, expect, it } from 'vitest';
import { fetchPluginBytes, lastPluginSource, PluginFetchError } from './plugin-fetch.ts';

const env = { protocol: 'http:', rootHost: 'psiweb.localhost', port: '8080' };
const URL_ = 'http://greetings.psiweb.localhost:8080/plugin.wasm';
const offline = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch;
const bytes = (status: number, b = [1, 2, 3]) => Promise.resolve(new Response(status === 404 ? 'no' : new Uint8Array(b), { status }));

describe('fetchPluginBytes', () => {
  it('takes the network when it answers, the browser node only when it cannot be reached', async () => {
    const asked: string[] = [];
    const local = (_: unknown, service: string, target: string) => (asked.push(`${service} ${target}`), bytes(200, [9]));
    expect(await fetchPluginBytes(env, URL_, (() => bytes(200)) as typeof fetch, local)).toEqual({ bytes: new Uint8Array([1, 2, 3]), etag: undefined });
    expect(lastPluginSource).toBe('network');
    expect(asked).toEqual([]);
    expect(await fetchPluginBytes(env, URL_, offline, local)).toEqual({ bytes: new Uint8Array([9]), etag: undefined });
    expect(lastPluginSource).toBe('local');
    expect(asked).toEqual(['greetings /plugin.wasm']);
  });

  it('answers undefined for a 404 from either, and refuses other failures with a typed error', async () => {
    expect(await fetchPluginBytes(env, URL_, (() => bytes(404)) as typeof fetch, () => bytes(200))).toBeUndefined();
    expect(await fetchPluginBytes(env, URL_, offline, () => bytes(404))).toBeUndefined();
    await expect(fetchPluginBytes(env, URL_, (() => bytes(500)) as typeof fetch, () => bytes(200))).rejects.toThrow(PluginFetchError);
    const both = fetchPluginBytes(env, URL_, offline, () => Promise.reject(new Error('no bridge')));
    await expect(both).rejects.toThrow(PluginFetchError);
    await expect(both).rejects.toThrow(/Failed to fetch.*no bridge/);
    // Not one of this root's services: the network's error, the node is not asked.
    let asked = false;
    await expect(fetchPluginBytes(env, 'http://evil.example/plugin.wasm', offline, () => ((asked = true), bytes(200)))).rejects.toThrow('Failed to fetch');
    expect(asked).toBe(false);
  });

  it('answers "unchanged" without reading the body when the answer carries the ETag it was asked with', async () => {
    let pulled = 0;
    const body = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          pulled++;
          c.enqueue(new Uint8Array([7]));
          c.close();
        },
      }, { highWaterMark: 0 });
    const tagged = (etag: string) => (() => Promise.resolve(new Response(body(), { status: 200, headers: { ETag: etag } }))) as typeof fetch;
    expect(await fetchPluginBytes(env, URL_, tagged('abc'), () => bytes(200), 'abc')).toEqual({ unchanged: true, etag: 'abc' });
    expect(pulled).toBe(0);
    // Another ETag (the plugin was replaced), or none asked about: the bytes.
    expect(await fetchPluginBytes(env, URL_, tagged('def'), () => bytes(200), 'abc')).toEqual({ bytes: new Uint8Array([7]), etag: 'def' });
    expect(await fetchPluginBytes(env, URL_, tagged('abc'), () => bytes(200))).toEqual({ bytes: new Uint8Array([7]), etag: 'abc' });
    expect(pulled).toBe(2);
  });
});

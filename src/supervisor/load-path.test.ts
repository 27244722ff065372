/**
 * The supervisor's load and call path in Node, with the AssemblyScript tinyplugin
 * (Node's V8 instantiates it; QuickJS plugins need the browser): jco's debug logging
 * is made a no-op in the generated JS, and every top-level call gets an instance never
 * called before — a spare made ahead when there is one, never the same twice.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtPlugin } from './testing/harness.ts';
import { transpileComponent, withoutDebugLog, type JcoModule } from './component.ts';
import { MemoryTranspileCache } from './cache.ts';
import type { ClientDataStore } from './clientdata.ts';
import { memoryStore } from './testing/memory-store.ts';
import { Supervisor } from './supervisor.ts';
import { pluginWasmPath } from '../../scripts/build-plugins.ts';

const env = { protocol: 'http:', rootHost: 'psiweb.localhost', port: '8080' };


/** Node cannot import Blob URLs: the generated JS as a data: URL. */
const importData = async (js: string): Promise<JcoModule> => (await import(/* @vite-ignore */ `data:text/javascript;base64,${Buffer.from(js).toString('base64')}`)) as JcoModule;

let tiny: Uint8Array;
beforeAll(async () => {
  await builtPlugin('tinyplugin');
  tiny = readFileSync(pluginWasmPath('tinyplugin'));
}, 120_000);

describe("jco's generated JS", () => {
  it('has its debug logging made a no-op, and still runs', async () => {
    const t = await transpileComponent(tiny, 'h');
    expect(t.js).toContain('const _debugLog = () => {};');
    expect(t.js).not.toContain('JCO_DEBUG');
    const s = new Supervisor({ ...env, fetchPlugin: async () => tiny, importModule: importData, clientdata: memoryStore() });
    expect(await s.call('someapp', { service: 'tinyplugin', plugin: 'plugin', intf: 'api', method: 'greet', params: ['Zoë'] })).toBe('Hello, Zoë, from the tiny plugin');
  }, 60_000);

  it('is left as it is when jco writes _debugLog another way', () => {
    const other = 'const _debugLog = (...args) => { if (globalThis.DEBUG) console.debug(...args); };';
    expect(withoutDebugLog(other)).toBe(other);
  });
});

describe('instances', () => {
  it('gives every top-level call a fresh instance, made ahead when it can', async () => {
    /** Each instance the plugin's JS made, by number, and which one each greet ran in. */
    let made = 0;
    const ran: number[] = [];
    const importModule = async (js: string): Promise<JcoModule> => {
      const real = await importData(js);
      return {
        async instantiate(getCoreModule, imports) {
          const e = await real.instantiate(getCoreModule, imports);
          const n = ++made;
          const api = e.api as { greet(name: string): string };
          const greet = api.greet.bind(api);
          return { ...e, api: { greet: (name: string) => (ran.push(n), greet(name)) } };
        },
      };
    };
    const s = new Supervisor({ ...env, cache: new MemoryTranspileCache(), fetchPlugin: async () => tiny, importModule, clientdata: memoryStore() });
    const greet = (name: string) => s.call('someapp', { service: 'tinyplugin', plugin: 'plugin', intf: 'api', method: 'greet', params: [name] });
    for (const name of ['a', 'b', 'c']) {
      expect(await greet(name)).toBe(`Hello, ${name}, from the tiny plugin`);
      // The next call's spare is made after the answer.
      await new Promise((r) => setTimeout(r, 20));
    }
    // Three calls, three different instances, none called twice.
    expect(ran).toHaveLength(3);
    expect(new Set(ran).size).toBe(3);
    // Each came from a spare: the first made when the load finished, the others after each call.
    expect(s.stats.sparesUsed).toBe(3);
    expect(Object.keys(s.stats.instantiateMs)).toEqual(['tinyplugin:plugin']);
  }, 60_000);
});

/**
 * The supervisor's logic that runs without a browser page: psibase's message shapes,
 * how thrown errors become reply objects, which origins are apps, and the loading path
 * up to instantiation (Node's V8 cannot instantiate QuickJS components: the browser
 * test covers calls). Loading refuses a missing plugin, bytes that are not a component,
 * and a component importing a host interface the host does not provide.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlugin, pluginWasmPath } from '../../scripts/build-plugins.ts';
import { PluginCallError, PluginImportError, PluginLoadError } from './errors.ts';
import { HOST_INTERFACES, interfaceKey, parseInterface } from './host.ts';
import { FUNCTION_CALL_REQUEST, isFunctionCallRequest, isPreLoadPluginsRequest, PRE_LOAD_PLUGINS_REQUEST, kebabToCamel } from './messages.ts';
import { errorResult, Supervisor } from './supervisor.ts';
import { ClientDataFileError, fromFile, toFile, type ClientDataStore } from './clientdata.ts';
import { memoryStore } from './testing/memory-store.ts';
import { hasAuth, isAuthorized, PromptRequest, setGrant } from './permissions.ts';

const env = { protocol: 'http:', rootHost: 'psiweb.localhost', port: '8080' };

describe('messages', () => {
  it("accepts psibase's function call and preload requests, and nothing malformed", () => {
    const call = { type: FUNCTION_CALL_REQUEST, id: '1', args: { service: 'tokens', plugin: 'plugin', intf: 'user', method: 'credit', params: [1, 'bob'] } };
    expect(isFunctionCallRequest(call)).toBe(true);
    expect(isFunctionCallRequest({ ...call, args: { ...call.args, intf: undefined } })).toBe(true);
    expect(isFunctionCallRequest({ ...call, args: { ...call.args, params: 'x' } })).toBe(false);
    expect(isFunctionCallRequest({ ...call, args: { ...call.args, plugin: undefined } })).toBe(false);
    expect(isFunctionCallRequest({ ...call, id: 7 })).toBe(false);
    expect(isPreLoadPluginsRequest({ type: PRE_LOAD_PLUGINS_REQUEST, id: '2', payload: { plugins: [{ service: 'tokens', plugin: 'plugin' }] } })).toBe(true);
    expect(isPreLoadPluginsRequest({ type: PRE_LOAD_PLUGINS_REQUEST, id: '2', payload: { plugins: [{ service: 'tokens' }] } })).toBe(false);
    expect(kebabToCamel('add-action-to-transaction')).toBe('addActionToTransaction');
    expect(kebabToCamel('credit')).toBe('credit');
  });

  it("turns what a call threw into psibase's reply objects", () => {
    // A plugin's error record (jco's ComponentError carries it as `payload`).
    expect(errorResult({ payload: { code: 3, producer: { service: 'tokens', plugin: 'plugin' }, message: 'insufficient balance' } }, undefined)).toEqual({
      name: 'PluginErrorObject',
      pluginId: { service: 'tokens', plugin: 'plugin' },
      message: 'insufficient balance',
    });
    expect(errorResult(new PluginCallError({ service: 'a', plugin: 'plugin' }, 'Unrecognized call: x:y'), undefined)).toEqual({
      name: 'PluginErrorObject',
      pluginId: { service: 'a', plugin: 'plugin' },
      message: 'Unrecognized call: x:y',
    });
    expect(errorResult(new Error('boom'), undefined)).toEqual({ name: 'GenericErrorObject', message: 'boom' });
    expect(errorResult('text', { service: 'a', plugin: 'plugin' })).toEqual({ name: 'PluginErrorObject', pluginId: { service: 'a', plugin: 'plugin' }, message: 'text' });
  });
});

describe('host', () => {
  it('names interfaces without versions and splits them', () => {
    expect(interfaceKey('wasi:cli/environment@0.2.12')).toBe('wasi:cli/environment');
    expect(parseInterface('auth-sig:plugin/keyvault')).toEqual({ namespace: 'auth-sig', pkg: 'plugin', intf: 'keyvault' });
    expect(parseInterface('nonsense')).toBeUndefined();
    expect(HOST_INTERFACES).toContain('transact:plugin/intf');
    expect(HOST_INTERFACES).not.toContain('auth-sig:plugin/keyvault');
  });

  it('knows which origins are apps of its root', () => {
    const s = new Supervisor(env);
    expect(s.appOfOrigin('http://tokens.psiweb.localhost:8080')).toBe('tokens');
    expect(s.appOfOrigin('http://psiweb.localhost:8080')).toBe('homepage');
    expect(s.appOfOrigin('http://a.b.psiweb.localhost:8080')).toBeUndefined();
    expect(s.appOfOrigin('http://evil.example')).toBeUndefined();
    expect(s.appOfOrigin('http://psiweb.localhost.evil.example')).toBeUndefined();
    expect(s.appOfOrigin('not a url')).toBeUndefined();
  });
});

describe('loading plugins', () => {
  const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'fixtures', 'keyvault-user');
  let keyvaultUser: Uint8Array;

  beforeAll(async () => {
    await buildPlugin('test-keyvault-user', FIXTURE);
    keyvaultUser = readFileSync(pluginWasmPath('test-keyvault-user'));
  }, 120_000);

  const call = (s: Supervisor, service: string) => s.call('someapp', { service, plugin: 'plugin', intf: 'api', method: 'ask', params: [] });

  it('refuses a plugin the service does not serve, with the plugin named', async () => {
    const urls: string[] = [];
    const s = new Supervisor({ ...env, fetchPlugin: async (url) => (urls.push(url), undefined) });
    const e = await call(s, 'nosuchapp').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PluginLoadError);
    expect(e).toMatchObject({ message: 'Plugin download failed.', pluginId: { service: 'nosuchapp', plugin: 'plugin' } });
    expect(urls).toEqual(['http://nosuchapp.psiweb.localhost:8080/plugin.wasm']);
  });

  it('refuses bytes that are not a component', async () => {
    const s = new Supervisor({ ...env, fetchPlugin: async () => new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) });
    const e = await call(s, 'broken').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PluginLoadError);
    expect((e as Error).message).toMatch(/^plugin broken:plugin: not a WebAssembly component/);
    expect(s.stats.transpiles).toBe(0);
  });

  it('refuses a plugin importing a host interface the host does not provide, before running any of it', async () => {
    const s = new Supervisor({ ...env, fetchPlugin: async () => keyvaultUser });
    const e = await call(s, 'keyvault-user').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PluginImportError);
    expect((e as Error).message).toBe('plugin keyvault-user:plugin imports auth-sig:plugin/keyvault, which the host does not provide');
    expect(errorResult(e, undefined)).toMatchObject({ name: 'PluginErrorObject', pluginId: { service: 'keyvault-user', plugin: 'plugin' } });
    // The transpile was done (and cached by hash): a second load skips jco, and still refuses.
    expect(s.stats.transpiles).toBe(1);
    const s2 = new Supervisor({ ...env, fetchPlugin: async () => keyvaultUser, cache: (s as unknown as { cache: never }).cache });
    await expect(call(s2, 'keyvault-user')).rejects.toBeInstanceOf(PluginImportError);
    expect(s2.stats).toMatchObject({ transpiles: 0, cacheHits: 1 });
  }, 60_000);
});

describe('permissions (the seed auth model behind permissions:plugin/api)', () => {
  const args = { callee: 'tokens', activeApp: 'tips', level: 'high' as const, descriptions: ['l', 'm', 'h'] as [string, string, string], whitelist: [] };

  it('lets an app use its own plugin, asks for others, and remembers the answer until revoked', () => {
    const store = memoryStore();
    expect(isAuthorized(store, { ...args, caller: 'tokens' })).toBe(true);
    expect(isAuthorized(store, { ...args, caller: 'tips', level: 'none' })).toBe(true);
    expect(isAuthorized(store, { ...args, caller: 'tips', whitelist: ['tips'] })).toBe(true);
    expect(isAuthorized(store, { ...args, caller: 'tips', level: 'max' })).toBe(false);
    let asked: unknown;
    try {
      isAuthorized(store, { ...args, caller: 'tips' });
    } catch (e) {
      asked = e;
    }
    expect(asked).toBeInstanceOf(PromptRequest);
    expect((asked as PromptRequest).prompt).toMatchObject({ promptApp: 'tokens', caller: 'tips', activeApp: 'tips', level: 'high', promptName: 'permissions' });
    expect(errorResult(asked, undefined)).toEqual({ name: 'RedirectErrorObject', pluginId: { service: 'host', plugin: 'prompt' }, message: 'user_prompt_request' });
    expect(hasAuth(store, { ...args, caller: 'tips' })).toBe(false);
    setGrant(store, 'tokens', 'tips', 'deny');
    expect(isAuthorized(store, { ...args, caller: 'tips' })).toBe(false);
    setGrant(store, 'tokens', 'tips', 'allow');
    expect(isAuthorized(store, { ...args, caller: 'tips' })).toBe(true);
    expect(hasAuth(store, { ...args, caller: 'tips' })).toBe(true);
    // Per (caller, plugin): another caller is still asked.
    expect(() => isAuthorized(store, { ...args, caller: 'other' })).toThrow(PromptRequest);
    setGrant(store, 'tokens', 'tips', undefined);
    expect(() => isAuthorized(store, { ...args, caller: 'tips' })).toThrow(PromptRequest);
  });
});

describe('plugin data export files', () => {
  it('round-trips rows and refuses anything else whole', () => {
    const rows = [{ plugin: 'greetings:plugin', key: 'color', value: new Uint8Array([0, 255, 7]) }];
    const text = JSON.stringify(toFile(rows));
    expect(fromFile(text)).toEqual(rows);
    expect(() => fromFile('nope')).toThrow(ClientDataFileError);
    expect(() => fromFile(JSON.stringify({ format: 'other', version: 1, rows: [] }))).toThrow('not a psiweb plugin data file');
    expect(() => fromFile(JSON.stringify({ format: 'psiweb-plugin-data', version: 1, rows: [{ plugin: 'a', key: 'b' }] }))).toThrow('row 0 is malformed');
    expect(() => fromFile(JSON.stringify({ format: 'psiweb-plugin-data', version: 1, rows: [{ plugin: 'a', key: 'b', value: '!!' }] }))).toThrow("row 0's value is not base64");
  });
});

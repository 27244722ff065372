/**
 * accounts:plugin active-app login and auth-sig keyvault import-key as the supervisor
 * provides them (no browser needed: they are not components): who is asked, what a
 * refusal looks like, and that bad input stores nothing. The browser test
 * (transactions.browser.test.ts) covers signing and submitting.
 */
import { describe, expect, it } from 'vitest';
import { devKeyPair, privateKeyToPem, publicKeyToPem } from '../crypto/keys.ts';
import type { ClientDataStore } from './clientdata.ts';
import { PluginCallError } from './errors.ts';
import { KeyImportError, type KeyStore } from './keystore.ts';
import { PromptRequest, setGrant } from './permissions.ts';
import type { Submitter } from './submit.ts';
import { errorResult, Supervisor } from './supervisor.ts';

const env = { protocol: 'http:', rootHost: 'psiweb.localhost', port: '8080' };

function memoryStore(): ClientDataStore {
  const spaces = new Map<string, Map<string, Uint8Array>>();
  const space = (p: string) => spaces.get(p) ?? spaces.set(p, new Map()).get(p)!;
  return {
    load: async () => undefined,
    get: (p, k) => space(p).get(k),
    set: (p, k, v) => void space(p).set(k, v),
    delete: (p, k) => void space(p).delete(k),
    flush: async () => undefined,
  };
}

function fakeKeys(): KeyStore & { imported: Uint8Array[] } {
  const imported: Uint8Array[] = [];
  const parse = async (pem: string) => {
    if (!pem.includes('BEGIN PRIVATE KEY')) throw new KeyImportError('import-key: not a PKCS#8 private key PEM');
    return (await devKeyPair('p256', 'alice')).publicKeyDer;
  };
  return {
    imported,
    checkPem: async (pem) => void (await parse(pem)),
    importPem: async (pem) => {
      const der = await parse(pem);
      imported.push(der);
      return der;
    },
    keyFor: async () => {
      throw new Error('not used');
    },
    bind: async () => undefined,
  };
}

const noSubmit: Submitter = {
  submit: async () => {
    throw new Error('nothing is submitted here');
  },
};

function setup() {
  const clientdata = memoryStore();
  const keys = fakeKeys();
  const sup = new Supervisor({ ...env, clientdata, keys, submitter: noSubmit, fetchPlugin: async () => undefined });
  return { sup, clientdata, keys };
}

const login = (user: string) => ({ service: 'accounts', plugin: 'plugin', intf: 'activeApp', method: 'login', params: [user] });
const currentUser = { service: 'accounts', plugin: 'plugin', intf: 'api', method: 'getCurrentUser', params: [] };

describe('accounts active-app login', () => {
  it('the accounts app logs in at once; another app is asked to connect the account, then remembered per app', async () => {
    const { sup, clientdata } = setup();
    await sup.call('accounts', login('alice'));
    expect(await sup.call('accounts', currentUser)).toBe('alice');

    const asked = await sup.call('tokens', login('alice')).catch((e: unknown) => e);
    expect(asked).toBeInstanceOf(PromptRequest);
    expect(errorResult(asked, undefined)).toMatchObject({ name: 'RedirectErrorObject' });
    expect(await sup.call('tokens', currentUser)).toBeNull();

    setGrant(clientdata, 'accounts', 'tokens', 'allow');
    await sup.call('tokens', login('alice'));
    expect(await sup.call('tokens', currentUser)).toBe('alice');
    // Each app has its own user.
    await sup.call('accounts', login('bob'));
    expect(await sup.call('tokens', currentUser)).toBe('alice');

    setGrant(clientdata, 'accounts', 'walletapp', 'deny');
    await expect(sup.call('walletapp', login('alice'))).rejects.toMatchObject({ name: 'PluginCallError', pluginId: { service: 'accounts' }, message: expect.stringMatching(/denied/) });
    expect(await sup.call('walletapp', currentUser)).toBeNull();
  });

  it('refuses a name that is not an account and a call accounts does not have', async () => {
    const { sup } = setup();
    await expect(sup.call('accounts', login('Not A Name'))).rejects.toThrow(PluginCallError);
    await expect(sup.call('accounts', login(7 as unknown as string))).rejects.toThrow(/must be a string/);
    await expect(sup.call('accounts', { ...currentUser, method: 'nope' })).rejects.toThrow('Unrecognized call: api:nope');
    expect(await sup.call('accounts', currentUser)).toBeNull();
  });
});

describe('auth-sig keyvault import-key', () => {
  it('asks another app (auth-sig itself is not asked), refuses a bad PEM before asking, and stores nothing on refusal', async () => {
    const { sup, clientdata, keys } = setup();
    const pem = await privateKeyToPem(await devKeyPair('p256', 'alice', { extractable: true }));
    const importKey = (p: string) => ({ service: 'auth-sig', plugin: 'plugin', intf: 'keyvault', method: 'importKey', params: [p] });

    await expect(sup.call('tokens', importKey('not a pem'))).rejects.toMatchObject({ name: 'PluginCallError', pluginId: { service: 'auth-sig', plugin: 'plugin' } });
    expect(await sup.call('tokens', importKey(pem)).catch((e: unknown) => e)).toBeInstanceOf(PromptRequest);
    expect(keys.imported).toHaveLength(0);

    setGrant(clientdata, 'auth-sig', 'tokens', 'deny');
    await expect(sup.call('tokens', importKey(pem))).rejects.toThrow(/denied/);
    expect(keys.imported).toHaveLength(0);

    setGrant(clientdata, 'auth-sig', 'tokens', 'allow');
    expect(await sup.call('tokens', importKey(pem))).toBe(publicKeyToPem((await devKeyPair('p256', 'alice')).publicKeyDer));
    expect(await sup.call('auth-sig', importKey(pem))).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keys.imported).toHaveLength(2);
  });
});

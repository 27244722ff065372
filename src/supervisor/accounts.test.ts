/**
 * accounts:plugin active-app login and auth-sig keyvault import-key as the supervisor
 * provides them (no browser needed: they are not components): who is asked, what a
 * refusal looks like, and that bad input stores nothing. The browser test
 * (transactions.browser.test.ts) covers signing and submitting.
 */
import { describe, expect, it } from 'vitest';
import { devKeyPair, privateKeyToPem, publicKeyToPem } from '../crypto/keys.ts';
import type { ClientDataStore } from './clientdata.ts';
import { memoryStore } from './testing/memory-store.ts';
import { PluginCallError } from './errors.ts';
import { KeyImportError, type KeyStore } from './keystore.ts';
import { PromptRequest, setGrant } from './permissions.ts';
import type { SubmitOptions, Submitter } from './submit.ts';
import type { AccountLookup } from './accounts.ts';
import { errorResult, Supervisor } from './supervisor.ts';
import type { QueuedAction } from './host.ts';
import { packActionArgs } from '../node/schemas.ts';
import { createAccountDenial, PROMPT_SPACE } from './permissions.ts';

const env = { protocol: 'http:', rootHost: 'psiweb.localhost', port: '8080' };


function fakeKeys(): KeyStore & { imported: Uint8Array[]; bound: Map<string, Uint8Array> } {
  const imported: Uint8Array[] = [];
  const bound = new Map<string, Uint8Array>();
  const parse = async (pem: string) => {
    if (!pem.includes('BEGIN PRIVATE KEY')) throw new KeyImportError('import-key: not a PKCS#8 private key PEM');
    return (await devKeyPair('p256', 'alice')).publicKeyDer;
  };
  return {
    imported,
    bound,
    boundKey: async (account) => bound.get(account),
    list: async () => [],
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

/** The chain's accounts as accounts' GraphQL would answer (name → auth service); alice, bob and, unless closed, registrar. */
function chainAccounts(open = true): Map<string, string> & { lookups: string[][] } {
  const m = new Map<string, string>([['alice', 'auth-sig'], ['bob', 'auth-sig'], ['taken-name', 'auth-sig']]) as Map<string, string> & { lookups: string[][] };
  if (open) m.set('registrar', 'accounts');
  m.lookups = [];
  return m;
}

function setup(accounts = chainAccounts()) {
  const clientdata = memoryStore();
  const keys = fakeKeys();
  const submitted: { sender: string; actions: QueuedAction[]; options?: SubmitOptions }[] = [];
  const submitter: Submitter = {
    submit: async (sender, actions, options) => {
      submitted.push(options ? { sender, actions, options } : { sender, actions });
      return { status: 'submitted', id: 'tx', trace: {}, route: 'network', timing: { taposMs: 0, signMs: 0, pushMs: 0 } };
    },
  };
  const lookup: AccountLookup = async (names) => {
    accounts.lookups.push(names);
    return Object.fromEntries(names.map((n) => [n, accounts.has(n) ? { authService: accounts.get(n)! } : null]));
  };
  const sup = new Supervisor({ ...env, clientdata, keys, submitter, accounts: lookup, fetchPlugin: async () => undefined });
  return { sup, clientdata, keys, submitted, accounts };
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

describe('auth-sig actions create-account', () => {
  const create = (name: unknown) => ({ service: 'auth-sig', plugin: 'plugin', intf: 'actions', method: 'createAccount', params: [name] });

  it('needs a logged-in sender (or open registration) and a name accounts lets users create; refused before asking, nothing sent', async () => {
    const { sup, submitted } = setup(chainAccounts(false));
    // A chain without open registration (no registrar on accounts) and nobody logged in.
    await expect(sup.call('tokens', create('carol-dev'))).rejects.toMatchObject({
      name: 'PluginCallError',
      pluginId: { service: 'auth-sig' },
      message: expect.stringMatching(/no user is logged in to tokens .* this chain has no open registration/),
    });
    await sup.call('accounts', login('alice'));
    await expect(sup.call('accounts', create('taken-name'))).rejects.toThrow('create-account: the account taken-name already exists');
    await expect(sup.call('accounts', create('carol'))).rejects.toThrow(/shorter than 8/);
    await expect(sup.call('accounts', create('Carol Dev!'))).rejects.toThrow(/not an account name/);
    await expect(sup.call('accounts', create(5))).rejects.toThrow(/must be a string/);
    expect(submitted).toEqual([]);
  });

  it('asks the user (the prompt makes and backs up the key), a Deny answers once, and with the key stored it sends newAccount from the logged-in user', async () => {
    const { sup, clientdata, keys, submitted } = setup();
    await sup.call('accounts', login('alice'));
    const asked = await sup.call('accounts', create('carol-dev')).catch((e: unknown) => e);
    expect(asked).toBeInstanceOf(PromptRequest);
    expect((asked as PromptRequest).prompt).toMatchObject({ promptApp: 'auth-sig', promptName: 'create-account', caller: 'accounts', packedContext: Array.from(new TextEncoder().encode('carol-dev')) });
    expect(submitted).toEqual([]);

    // The prompt page's Deny: refused once, then asked again.
    clientdata.set(PROMPT_SPACE, createAccountDenial('accounts', 'carol-dev'), new Uint8Array([1]));
    await expect(sup.call('accounts', create('carol-dev'))).rejects.toThrow(/denied accounts creating the account carol-dev/);
    expect(await sup.call('accounts', create('carol-dev')).catch((e: unknown) => e)).toBeInstanceOf(PromptRequest);
    expect(submitted).toEqual([]);

    // The prompt page's Allow stored a key bound to the new name.
    const carol = (await devKeyPair('p256', 'carol-dev')).publicKeyDer;
    keys.bound.set('carol-dev', carol);
    expect(await sup.call('accounts', create('carol-dev'))).toBe(publicKeyToPem(carol));
    const hex = Array.from(carol, (b) => b.toString(16).padStart(2, '0')).join('');
    expect(submitted).toEqual([
      { sender: 'alice', actions: [{ sender: 'alice', service: 'auth-sig', method: 'newAccount', rawData: packActionArgs('auth-sig', 'newAccount', { name: 'carol-dev', key: hex }) }], options: { unsigned: false } },
    ]);
  });
});

describe('auth-sig actions create-account through open registration (nobody logged in)', () => {
  const create = (name: unknown) => ({ service: 'auth-sig', plugin: 'plugin', intf: 'actions', method: 'createAccount', params: [name] });

  it('registrar sends newAccount unsigned, after the same prompt; the app has no user until it logs in', async () => {
    const { sup, keys, submitted, accounts } = setup();
    const asked = await sup.call('tokens', create('carol-dev')).catch((e: unknown) => e);
    expect(asked).toBeInstanceOf(PromptRequest);
    expect((asked as PromptRequest).prompt.descriptions[0]).toMatch(/open registration: registrar sends it/);
    expect(accounts.lookups).toEqual([['carol-dev', 'registrar']]);
    const carol = (await devKeyPair('p256', 'carol-dev')).publicKeyDer;
    keys.bound.set('carol-dev', carol);
    expect(await sup.call('tokens', create('carol-dev'))).toBe(publicKeyToPem(carol));
    const hex = Array.from(carol, (b) => b.toString(16).padStart(2, '0')).join('');
    expect(submitted).toEqual([
      { sender: 'registrar', actions: [{ sender: 'registrar', service: 'auth-sig', method: 'newAccount', rawData: packActionArgs('auth-sig', 'newAccount', { name: 'carol-dev', key: hex }) }], options: { unsigned: true } },
    ]);
    expect(await sup.call('tokens', currentUser)).toBeNull();
  });

  it('refuses a taken name and a bad name before asking: no prompt, no key, nothing sent', async () => {
    const { sup, keys, submitted } = setup();
    for (const [name, message] of [
      ['taken-name', 'create-account: the account taken-name already exists'],
      ['registrar', 'create-account: the account registrar already exists'],
      ['carol', /shorter than 8/],
      ['Carol Dev!', /not an account name/],
    ] as const) {
      const r = await sup.call('tokens', create(name)).catch((e: unknown) => e);
      expect(r).toBeInstanceOf(PluginCallError);
      expect((r as PluginCallError).message).toMatch(message);
    }
    expect(keys.imported).toEqual([]);
    expect(keys.bound.size).toBe(0);
    expect(submitted).toEqual([]);
  });
});

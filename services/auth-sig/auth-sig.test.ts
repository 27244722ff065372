// auth-sig on psiweb's service host: its checkAuthSys rules, key validation and
// table layout, called directly as transact would call it.
import { sha256 } from '@noble/hashes/sha2.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import { VmChain } from '../sdk/testing/vm.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    ServiceMethod: { Object: { service: 'AccountNumber', method: 'MethodNumber' } },
    CheckAuthSys: {
      Object: {
        flags: 'u32',
        requester: 'AccountNumber',
        sender: 'AccountNumber',
        action: 'ServiceMethod',
        allowedActions: { List: 'ServiceMethod' },
        claims: { List: 'Claim' },
      },
    },
    SetKey: { Object: { key: 'hex' } },
    IsAuthSys: { Object: { sender: 'AccountNumber', authorizers: { List: 'AccountNumber' } } },
  },
  { mode: 'native' },
);

const TOP_ACTION = 0x01;
const RUN_AS_REQUESTER = 0x02;
const RUN_AS_EXPANDED = 0x04;
const RUN_AS_OTHER = 0x05;
const FIRST_AUTH = 0x4000_0000;
const VERIFY_SIG = accountNumber('verify-sig');

let chain: VmChain;
let key: Uint8Array;
beforeAll(async () => {
  chain = await VmChain.create({ 'auth-sig': 'services/auth-sig/auth-sig.ts' });
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  key = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
}, COMPILE_TIMEOUT_MS);

function checkAuth(sender: string, flags: number, claims: { service: bigint; rawData: Uint8Array }[]) {
  const args = {
    flags,
    requester: 0n,
    sender: accountNumber(sender),
    action: { service: accountNumber('accounts'), method: 0n },
    allowedActions: [],
    claims,
  };
  return chain.push('transact', 'auth-sig', 'checkAuthSys', schema.type('CheckAuthSys').encode(args));
}

const verdict = (r: ReturnType<typeof checkAuth>) => {
  expect(r.error).toBeUndefined();
  return schema.type('bool').decode(r.retval);
};

describe('auth-sig', () => {
  it('refuses a key that is not a DER SubjectPublicKeyInfo', () => {
    const r = chain.push('alice', 'auth-sig', 'setKey', schema.type('SetKey').encode({ key: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]) }));
    expect(r.error?.message).toContain('invalid public key');
  });

  it('stores the key under the account and its fingerprint index', () => {
    expect(chain.push('alice', 'auth-sig', 'setKey', schema.type('SetKey').encode({ key })).error).toBeUndefined();
    const prefix = new Uint8Array(10);
    new DataView(prefix.buffer).setBigUint64(0, accountNumber('auth-sig'));
    const account = new Uint8Array(8);
    new DataView(account.buffer).setBigUint64(0, accountNumber('alice'));
    const primary = new Uint8Array([...prefix, 0, ...account]);
    expect(chain.state.get(dbKey(DbId.service, primary))).toBeDefined();
    const secondary = new Uint8Array([...prefix, 1, ...sha256(key), ...account]);
    expect(chain.state.get(dbKey(DbId.service, secondary))).toEqual(new Uint8Array([0, ...account]));
  });

  it('approves a top-level action carrying the sender\'s key claim, and nothing else', () => {
    expect(verdict(checkAuth('alice', TOP_ACTION, [{ service: VERIFY_SIG, rawData: key }]))).toBe(true);
    expect(verdict(checkAuth('alice', TOP_ACTION, [{ service: accountNumber('other'), rawData: key }]))).toBe(false);
    expect(verdict(checkAuth('alice', TOP_ACTION, [{ service: VERIFY_SIG, rawData: key.slice(1) }]))).toBe(false);
    expect(checkAuth('bob', TOP_ACTION, []).error?.message).toContain('sender does not have a public key');
  });

  it('requires the first sender to be verified by the first claim', () => {
    const claims = [{ service: VERIFY_SIG, rawData: new Uint8Array(3) }, { service: VERIFY_SIG, rawData: key }];
    expect(checkAuth('alice', TOP_ACTION | FIRST_AUTH, claims).error?.message).toContain('first sender is not verified by first signature');
    expect(verdict(checkAuth('alice', TOP_ACTION, claims))).toBe(true);
  });

  it('answers runAs requests as psibase does', () => {
    expect(verdict(checkAuth('bob', RUN_AS_REQUESTER, []))).toBe(true);
    expect(checkAuth('alice', RUN_AS_EXPANDED, []).error?.message).toContain('runAs: caller attempted to expand powers');
    expect(checkAuth('alice', RUN_AS_OTHER, []).error?.message).toContain('runAs: caller is not authorized');
    expect(checkAuth('alice', 0x09, []).error?.message).toContain('unsupported auth type');
  });

  it('isAuthSys: the sender itself must be among the authorizers', () => {
    const ask = (authorizers: string[]) =>
      schema.type('bool').decode(chain.push('x', 'auth-sig', 'isAuthSys', schema.type('IsAuthSys').encode({ sender: accountNumber('alice'), authorizers: authorizers.map(accountNumber) })).retval);
    expect(ask(['bob', 'alice'])).toBe(true);
    expect(ask(['bob'])).toBe(false);
  });
});

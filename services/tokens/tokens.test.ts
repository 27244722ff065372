// The tokens demo service on psiweb's real service host: init, transfer and every
// rejection, balances over HTTP through the http service, and its UI served by sites.
import { beforeAll, describe, expect, it } from 'vitest';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { get, text, WEB_SERVICES } from '../http/testing/web.ts';
import { VmChain } from '../sdk/testing/vm.ts';
import { tokensUiActions, tokensUiFiles } from './ui.ts';

// Compiling services takes seconds each, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 300_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    InitArgs: { Object: { supply: 'u64', owner: { Option: 'AccountNumber' } } },
    TransferArgs: { Object: { to: 'AccountNumber', amount: 'u64', memo: 'string' } },
    Account: { Object: { account: 'AccountNumber' } },
  },
  { mode: 'native' },
);

let chain: VmChain;
beforeAll(async () => {
  chain = await VmChain.create({ ...WEB_SERVICES, accounts: 'services/tokens/testing/accounts.ts', tokens: 'services/tokens/tokens.ts' });
}, COMPILE_TIMEOUT_MS);

const init = (sender: string, supply: bigint, owner: string | null = null) =>
  chain.push(sender, 'tokens', 'init', schema.type('InitArgs').encode({ supply, owner: owner === null ? null : accountNumber(owner) }));
const transfer = (from: string, to: string, amount: bigint, memo = '') =>
  chain.push(from, 'tokens', 'transfer', schema.type('TransferArgs').encode({ to: accountNumber(to), amount, memo }));
function balance(account: string): bigint {
  const r = chain.push('bob', 'tokens', 'balance', schema.type('Account').encode({ account: accountNumber(account) }));
  if (r.error) throw r.error;
  return schema.type('u64').decode(r.retval) as bigint;
}
const httpBalance = (account: string) => JSON.parse(text(get(chain, 'tokens', `/balances/${account}`)));

describe('tokens', () => {
  it('refuses transfers before init, and init from anyone but tokens', () => {
    expect(transfer('alice', 'bob', 1n).error?.message).toContain('not initialized');
    expect(init('alice', 1000n).error?.message).toContain('only tokens may init');
  });

  it('refuses a zero supply and an unknown owner', () => {
    expect(init('tokens', 0n).error?.message).toContain('supply must be positive');
    expect(init('tokens', 10n, 'mallory').error?.message).toContain('account mallory does not exist');
  });

  it('puts the supply with the given owner, once', () => {
    expect(init('tokens', 1_000_000n, 'alice').error).toBeUndefined();
    expect(balance('alice')).toBe(1_000_000n);
    expect(balance('tokens')).toBe(0n);
    expect(init('tokens', 5n).error?.message).toContain('already initialized');
  });

  it('moves tokens from the sender', () => {
    expect(transfer('alice', 'bob', 250n, 'rent').error).toBeUndefined();
    expect(balance('alice')).toBe(999_750n);
    expect(balance('bob')).toBe(250n);
    expect(transfer('bob', 'tokens', 50n).error).toBeUndefined();
    expect(balance('tokens')).toBe(50n);
  });

  it('rejects overdraws, zero and negative amounts, unknown recipients, self transfers and long memos', () => {
    const reject = (r: ReturnType<typeof transfer>, message: string) => {
      expect(r.error?.message).toContain(message);
    };
    reject(transfer('bob', 'carol', 201n), 'insufficient balance');
    reject(transfer('carol', 'bob', 1n), 'insufficient balance');
    reject(transfer('bob', 'carol', 0n), 'amount must be positive');
    // -5 as a client's signed number arrives as 2^64 - 5
    reject(transfer('bob', 'carol', (1n << 64n) - 5n), 'amount must be positive');
    reject(transfer('bob', 'mallory', 1n), 'account mallory does not exist');
    reject(transfer('bob', 'bob', 1n), 'cannot transfer to self');
    reject(transfer('bob', 'carol', 1n, 'x'.repeat(81)), 'memo must be at most 80 bytes');
    expect(transfer('bob', 'carol', 1n, 'x'.repeat(80)).error).toBeUndefined();
    expect(balance('bob')).toBe(199n);
    expect(balance('carol')).toBe(1n);
  });

  it('rejects malformed arguments', () => {
    expect(chain.push('bob', 'tokens', 'transfer', new Uint8Array([8, 0, 1, 2])).error?.message).toMatch(/aborted with message: fracpack: /);
    expect(chain.push('bob', 'tokens', 'transfer', new Uint8Array(0)).error?.message).toMatch(/aborted with message: fracpack: /);
    expect(balance('bob')).toBe(199n);
  });

  it('answers GET /balances/<account> with the balance as a decimal string', () => {
    expect(chain.push('tokens', 'http', 'registerServer', schema.type('Account').encode({ account: accountNumber('tokens') })).error).toBeUndefined();
    expect(httpBalance('alice')).toEqual({ account: 'alice', balance: '999750' });
    expect(httpBalance('nobody')).toEqual({ account: 'nobody', balance: '0' });
    const bad = get(chain, 'tokens', '/balances/Not_A_Name');
    expect(bad.status).toBe(400);
    expect(bad.contentType).toBe('application/json');
    expect(JSON.parse(text(bad))).toEqual({ error: 'invalid account name: Not_A_Name' });
    expect(JSON.parse(text(get(chain, 'tokens', '/supply')))).toEqual({ supply: '1000000' });
  });

  it('packs transfer arguments from JSON for clients without fracpack', () => {
    const pack = (body: string) => get(chain, 'tokens', '/pack_action/transfer', { method: 'POST', contentType: 'application/json', body: new TextEncoder().encode(body) });
    const reply = pack('{"to":"bob","amount":"18446744073709551615","memo":"hi"}');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/octet-stream');
    expect(schema.type('TransferArgs').decode(reply.body)).toEqual({ to: accountNumber('bob'), amount: (1n << 64n) - 1n, memo: 'hi' });
    expect(schema.type('TransferArgs').decode(pack('{"to":"bob","amount":7}').body)).toEqual({ to: accountNumber('bob'), amount: 7n, memo: '' });
    expect(schema.type('TransferArgs').decode(pack('{"to":"bob","amount":1,"memo":"caf\\u00E9 \\"x\\""}').body)).toMatchObject({ memo: 'café "x"' });
    expect(() => pack('{"to":"bob","amount":1,"memo":"\\u00zz"}')).toThrow('json: bad \\u escape');
    expect(() => pack('{"to":"bob","amount":"18446744073709551616"}')).toThrow('json: amount is out of range');
    expect(() => pack('{"to":"Bob!","amount":1}')).toThrow('json: to is not an account name');
    expect(() => pack('{"to":"bob","amount":-1}')).toThrow('json: amount must be a non-negative integer');
    expect(() => pack('{"to":"bob",')).toThrow(/aborted with message: json: /);
  });

  it("lets other origins of the node read its answers (CORS, as psibase's servePackAction and queries)", () => {
    const cors = (r: { headers: { name: string; value: string }[] }) => Object.fromEntries(r.headers.filter((h) => h.name.startsWith('Access-Control-')).map((h) => [h.name, h.value]));
    const packed = get(chain, 'tokens', '/pack_action/transfer', { method: 'POST', contentType: 'application/json', body: new TextEncoder().encode('{"to":"bob","amount":1}') });
    expect(cors(packed)).toMatchObject({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': expect.stringContaining('POST') });
    expect(cors(get(chain, 'tokens', '/balances/alice'))['Access-Control-Allow-Origin']).toBe('*');
  });

  it('serves its UI from sites on the tokens subdomain', () => {
    const files = tokensUiFiles();
    expect(files.map((f) => f.path)).toEqual(['/app.js', '/index.html', '/style.css']);
    expect(files.reduce((n, f) => n + f.content.length, 0)).toBeLessThan(8192);
    for (const action of tokensUiActions()) {
      expect(action.sender).toBe(accountNumber('tokens'));
      expect(action.method).toBe(methodNumber('storeSys'));
      const r = chain.push('tokens', 'sites', 'storeSys', action.rawData);
      expect(r.error).toBeUndefined();
    }
    const page = get(chain, 'tokens', '/');
    expect(page.status).toBe(200);
    expect(page.contentType).toBe('text/html');
    expect(text(page)).toContain('<script type="module" src="/app.js">');
    const script = get(chain, 'tokens', '/app.js');
    expect(script.contentType).toBe('text/javascript');
    expect(text(script)).toContain("import { getSupervisor } from '/common/common-lib.js'");
    expect(get(chain, 'tokens', '/style.css').contentType).toBe('text/css');
  });
});

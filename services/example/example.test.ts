import { beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../scripts/build-services.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { packProtocol, protocolSchema, unpackProtocol } from '../../src/protocol/types.ts';
import { TestChain } from '../sdk/testing/host.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    IncArgs: { Object: { by: 'u32' } },
    GetArgs: { Object: { account: 'AccountNumber' } },
    Counter: { Object: { account: 'AccountNumber', value: 'u64' } },
    i32: { Int: { bits: 32, isSigned: true } },
    ServeSysArgs: { Object: { request: 'HttpRequest', socket: { Option: 'i32' }, user: { Option: 'AccountNumber' } } },
    ServeSysOldArgs: { Object: { request: 'HttpRequest' } },
    OptionalReply: { Option: 'HttpReply' },
  },
  { mode: 'native' },
);

const u64Of = (b: Uint8Array): bigint => schema.type('u64').decode(b) as bigint;
const beU64 = (v: bigint): string => v.toString(16).padStart(16, '0');

let chain: TestChain;
beforeAll(async () => {
  chain = new TestChain();
  chain.deploy('example', await compileService('services/example/example.ts'));
}, COMPILE_TIMEOUT_MS);

const inc = (sender: string, by: number): bigint =>
  u64Of(chain.push(sender, 'example', 'inc', schema.type('IncArgs').encode({ by })));
const get = (account: string): bigint =>
  u64Of(chain.push('alice', 'example', 'get', schema.type('GetArgs').encode({ account: accountNumber(account) })));

function request(target: string, method = 'GET') {
  return { host: 'example.psibase.localhost', method, target, contentType: '', headers: [{ name: 'Accept', value: '*/*' }], body: new Uint8Array(0) };
}
function serve(target: string, old = false) {
  const rawData = old
    ? schema.type('ServeSysOldArgs').encode({ request: request(target) })
    : schema.type('ServeSysArgs').encode({ request: request(target), socket: 3, user: accountNumber('alice') });
  return schema.type('OptionalReply').decode(chain.push('x-http', 'example', 'serveSys', rawData)) as {
    status: number;
    contentType: string;
    body: Uint8Array;
    headers: unknown[];
  } | null;
}

describe('example counter service', () => {
  it('counts per sender and reads back', () => {
    expect(inc('alice', 5)).toBe(5n);
    expect(inc('alice', 3)).toBe(8n);
    expect(inc('bob', 1)).toBe(1n);
    expect(get('alice')).toBe(8n);
    expect(get('carol')).toBe(0n);
  });

  it('stores rows under psibase table keys through a handle from db.open', () => {
    const service = beU64(accountNumber('example'));
    const key = service + '0000' + '00' + beU64(accountNumber('alice'));
    const row = chain.kv.get(key);
    expect(row).toBeDefined();
    expect(schema.type('Counter').decode(row!)).toEqual({ account: accountNumber('alice'), value: 8n });
    // Writes go through a read-write handle; reads (as in queries) through a read-only one.
    const writeOpen = chain.opens.find((o) => o.mode === 3);
    expect(writeOpen).toMatchObject({ sender: accountNumber('example'), db: 0, mode: 3 });
    expect(Buffer.from(writeOpen!.prefix).toString('hex')).toBe(service + '0000');
    expect(chain.opens.at(-1)).toMatchObject({ sender: accountNumber('example'), db: 0, mode: 1 });
  });

  it('serves JSON from serveSys, with or without the socket and user arguments', () => {
    const reply = serve('/counter?account=alice');
    expect(reply).not.toBeNull();
    expect(reply!.status).toBe(200);
    expect(reply!.contentType).toBe('application/json');
    expect(JSON.parse(new TextDecoder().decode(reply!.body))).toEqual({ account: 'alice', value: '8' });
    expect(serve('/counter?account=bob', true)!.body).toEqual(new TextEncoder().encode('{"account":"bob","value":"1"}'));
    expect(serve('/counter')!.status).toBe(400);
    expect(serve('/elsewhere')).toBeNull();
  });

  it('aborts on an unknown action, naming it', () => {
    expect(() => chain.push('alice', 'example', 'frobnicate', new Uint8Array([0, 0]))).toThrow('unknown service action: frobnicate');
  });

  it('rejects malformed arguments and keeps state unchanged', () => {
    const before = new Map(chain.kv);
    expect(() => chain.push('alice', 'example', 'inc', new Uint8Array([4, 0, 1]))).toThrow(/^fracpack: /);
    // trailing bytes after the arguments
    expect(() => chain.push('alice', 'example', 'inc', new Uint8Array([4, 0, 1, 0, 0, 0, 9]))).toThrow(/^fracpack: /);
    expect(chain.kv).toEqual(before);
  });

  it('round-trips the packed Action it dispatches on', () => {
    const action = { sender: accountNumber('alice'), service: accountNumber('example'), method: 1n, rawData: new Uint8Array([1]) };
    expect(unpackProtocol('Action', packProtocol('Action', action))).toEqual(action);
  });
});

// The example service on psiweb's real service host, opening its table through the
// `db` service as a psibase node would make it.
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
    IncArgs: { Object: { by: 'u32' } },
    GetArgs: { Object: { account: 'AccountNumber' } },
    Counter: { Object: { account: 'AccountNumber', value: 'u64' } },
    ServeSysArgs: { Object: { request: 'HttpRequest' } },
    OptionalReply: { Option: 'HttpReply' },
  },
  { mode: 'native' },
);

const be = (name: string): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, accountNumber(name));
  return b;
};

let chain: VmChain;
beforeAll(async () => {
  chain = await VmChain.create({ example: 'services/example/example.ts' });
}, COMPILE_TIMEOUT_MS);

function retval(r: ReturnType<VmChain['push']>): Uint8Array {
  expect(r.error).toBeUndefined();
  return r.retval;
}

describe('example service on the psiweb service host', () => {
  it('counts, stores the row under its psibase key, and reads it back', () => {
    const inc = (by: number) => schema.type('u64').decode(retval(chain.push('alice', 'example', 'inc', schema.type('IncArgs').encode({ by }))));
    expect(inc(2)).toBe(2n);
    expect(inc(40)).toBe(42n);
    const key = new Uint8Array([...be('example'), 0, 0, 0, ...be('alice')]);
    const row = chain.state.get(dbKey(DbId.service, key));
    expect(row && schema.type('Counter').decode(row)).toEqual({ account: accountNumber('alice'), value: 42n });
    const got = chain.push('bob', 'example', 'get', schema.type('GetArgs').encode({ account: accountNumber('alice') }));
    expect(schema.type('u64').decode(retval(got))).toBe(42n);
  });

  it('answers serveSys', () => {
    const request = { host: 'example.psiweb.localhost', method: 'GET', target: '/counter?account=alice', contentType: '', headers: [], body: new Uint8Array(0) };
    const r = chain.push('x-http', 'example', 'serveSys', schema.type('ServeSysArgs').encode({ request }));
    const reply = schema.type('OptionalReply').decode(retval(r)) as { status: number; body: Uint8Array } | null;
    expect(reply?.status).toBe(200);
    expect(new TextDecoder().decode(reply!.body)).toBe('{"account":"alice","value":"42"}');
  });

  it('fails an unknown action with psibase\'s message', () => {
    const r = chain.push('alice', 'example', 'reset', new Uint8Array([0, 0]));
    expect(r.error?.message).toContain('unknown service action: reset');
  });
});

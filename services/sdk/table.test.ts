import { beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../scripts/build-services.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { TestChain } from './testing/host.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    PutArgs: { Object: { id: 'u64', name: 'string' } },
    IdArg: { Object: { id: 'u64' } },
    NameArg: { Object: { name: 'string' } },
    OptId: { Option: 'u64' },
    Lists: { Object: { byId: { List: 'string' }, byName: { List: 'string' } } },
  },
  { mode: 'native' },
);

let chain: TestChain;
beforeAll(async () => {
  chain = new TestChain();
  chain.deploy('probe', await compileService('services/sdk/testing/probe.ts'));
}, COMPILE_TIMEOUT_MS);

const put = (id: bigint, name: string) => chain.push('alice', 'probe', 'tabput', schema.type('PutArgs').encode({ id, name }));
const del = (id: bigint) => chain.push('alice', 'probe', 'tabdel', schema.type('IdArg').encode({ id }));
const byName = (name: string) =>
  schema.type('OptId').decode(chain.push('alice', 'probe', 'tabbyname', schema.type('NameArg').encode({ name })));
const lists = () => schema.type('Lists').decode(chain.push('alice', 'probe', 'tablist', new Uint8Array([0, 0])));

describe('Table over KV', () => {
  it('keeps a secondary index in step with puts, replacements and erases', () => {
    put(3n, 'carol');
    put(1n, 'bob');
    put(2n, 'alice');
    expect(lists()).toEqual({ byId: ['bob', 'alice', 'carol'], byName: ['alice', 'bob', 'carol'] });
    expect(byName('bob')).toBe(1n);
    put(1n, 'dave');
    expect(byName('bob')).toBeNull();
    expect(byName('dave')).toBe(1n);
    del(2n);
    expect(lists()).toEqual({ byId: ['dave', 'carol'], byName: ['carol', 'dave'] });
  });

  it('lays keys out as psibase does: service, table, index, key', () => {
    const service = Buffer.alloc(8);
    service.writeBigUInt64BE(accountNumber('probe'));
    const prefix = service.toString('hex') + '0001';
    const primary = prefix + '00' + '0000000000000003';
    const secondary = prefix + '01' + Buffer.from('carol').toString('hex') + '0000';
    expect(chain.kv.has(primary)).toBe(true);
    expect(chain.kv.get(secondary)).toEqual(new Uint8Array(Buffer.from('00' + '0000000000000003', 'hex')));
  });

  it('refuses a duplicate secondary key and leaves the table as it was', () => {
    const before = new Map(chain.kv);
    expect(() => put(9n, 'carol')).toThrow('duplicate key in secondary index 1');
    expect(chain.kv).toEqual(before);
  });

  it('opens one handle per table however many Table objects a service makes', () => {
    const opens = chain.opens.length;
    lists();
    expect(chain.opens.length).toBe(opens + 1);
  });
});

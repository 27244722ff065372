import { beforeAll, describe, expect, it } from 'vitest';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber } from '../../src/protocol/names.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { DbId, KvMode, dbKey } from '../../src/vm/index.ts';
import { VmChain } from '../sdk/testing/vm.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

const schema = new FracSchema(
  {
    ...protocolSchema,
    OpenArgs: { Object: { db: 'u32', prefix: 'hex', mode: 'u8' } },
    CodeRow: { Object: { codeNum: 'AccountNumber', flags: 'u64', codeHash: 'Checksum256', vmType: 'u8', vmVersion: 'u8' } },
  },
  { mode: 'native' },
);

const be = (name: string, extra: number[] = []): Uint8Array => {
  const b = new Uint8Array(8 + extra.length);
  new DataView(b.buffer).setBigUint64(0, accountNumber(name));
  b.set(extra, 8);
  return b;
};

let chain: VmChain;
beforeAll(async () => {
  chain = await VmChain.create({});
}, COMPILE_TIMEOUT_MS);

function open(sender: string, db: number, prefix: Uint8Array, mode: number) {
  return chain.push(sender, 'db', 'open', schema.type('OpenArgs').encode({ db, prefix, mode }));
}

describe('db service (on the psiweb service host)', () => {
  it('opens the sender\'s own prefix for writing and returns handle index 0', () => {
    const r = open('alice', DbId.service, be('alice', [0, 7]), KvMode.readWrite);
    expect(r.error).toBeUndefined();
    expect(r.retval).toEqual(new Uint8Array(4));
  });

  it('refuses writes to another service\'s prefix, naming it and the table', () => {
    const r = open('alice', DbId.service, be('bob', [0, 7]), KvMode.write);
    expect(r.error?.message).toContain("alice cannot write to another service's prefix: bob:7");
  });

  it('lets subaccounts of one account read each other', () => {
    expect(open('alice+1', DbId.service, be('alice+2'), KvMode.read).error).toBeUndefined();
    expect(open('alice+1', DbId.service, be('alice+2'), KvMode.readWrite).error?.message).toContain('cannot write to');
    expect(open('alice', DbId.writeOnly, be('bob'), KvMode.read).error?.message).toContain('alice cannot read from');
  });

  it('lets only privileged senders write the native db', () => {
    expect(open('alice', DbId.native, new Uint8Array(0), KvMode.read).error).toBeUndefined();
    expect(open('alice', DbId.native, new Uint8Array(0), KvMode.write).error?.message).toContain('alice cannot write db native');
    const key = new Uint8Array([0, 2, 0, ...be('alice')]);
    const row = { codeNum: accountNumber('alice'), flags: 1n, codeHash: new Uint8Array(32), vmType: 0, vmVersion: 0 };
    chain.state.put(dbKey(DbId.native, key), schema.type('CodeRow').encode(row));
    expect(open('alice', DbId.native, new Uint8Array(0), KvMode.write).error).toBeUndefined();
  });

  it('refuses writing the block log and opening other databases', () => {
    expect(open('alice', DbId.blockLog, new Uint8Array(0), KvMode.write).error?.message).toContain('alice cannot write db blockLog');
    expect(open('alice', DbId.subjective, be('alice'), KvMode.read).error?.message).toContain('alice cannot open db subjective');
  });
});

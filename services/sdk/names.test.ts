import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../scripts/build-services.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { TestChain } from './testing/host.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

const names = JSON.parse(readFileSync(new URL('../../test/vectors/psibase/names.json', import.meta.url), 'utf8')) as Record<
  'accounts' | 'accounts_parse_only' | 'methods' | 'methods_parse_only',
  [string, string][]
>;

const schema = new FracSchema(
  {
    ...protocolSchema,
    StrArg: { Object: { s: 'string' } },
    U64Arg: { Object: { n: 'u64' } },
    KeyArgs: {
      Object: { a: 'u8', b: 'u16', c: 'u32', d: 'u64', e: 'i32', f: 'i64', g: 'bool', h: 'string', i: 'hex' },
    },
    i32: { Int: { bits: 32, isSigned: true } },
  },
  { mode: 'native' },
);

let chain: TestChain;
beforeAll(async () => {
  chain = new TestChain();
  chain.deploy('probe', await compileService('services/sdk/testing/probe.ts'));
}, COMPILE_TIMEOUT_MS);

const u64Of = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
const strOf = (b: Uint8Array): string => schema.type('string').decode(b) as string;
const withStr = (action: string, s: string): Uint8Array =>
  chain.push('alice', 'probe', action, schema.type('StrArg').encode({ s }));
const withU64 = (action: string, n: bigint): Uint8Array =>
  chain.push('alice', 'probe', action, schema.type('U64Arg').encode({ n }));

describe('AccountNumber in AssemblyScript', () => {
  for (const [name, number] of names.accounts) {
    it(`${JSON.stringify(name)} <-> ${number}`, () => {
      expect(u64Of(withStr('acctnum', name))).toBe(BigInt(number));
      expect(strOf(withU64('acctname', BigInt(number)))).toBe(name);
    });
  }
  for (const [name, number] of names.accounts_parse_only) {
    it(`parses ${JSON.stringify(name)} as ${number}`, () => {
      expect(u64Of(withStr('acctnum', name))).toBe(BigInt(number));
    });
  }
  it('gives 0 for invalid names', () => {
    for (const bad of ['-a', 'a-', 'a--b', 'abcdefghijk', 'a b', 'A_']) expect(u64Of(withStr('acctnum', bad))).toBe(0n);
  });
});

describe('MethodNumber in AssemblyScript', () => {
  for (const [name, number] of names.methods) {
    it(`${JSON.stringify(name)} <-> ${number}`, () => {
      expect(u64Of(withStr('methnum', name))).toBe(BigInt(number));
      expect(strOf(withU64('methname', BigInt(number)))).toBe(name);
    });
  }
  for (const [name, number] of names.methods_parse_only) {
    it(`parses ${JSON.stringify(name)} as ${number}`, () => {
      expect(u64Of(withStr('methnum', name))).toBe(BigInt(number));
    });
  }
});

describe('to_key encoding', () => {
  it('is big-endian, sign-offset, and escapes strings', () => {
    const args = { a: 0x12, b: 0x3456, c: 0x789abcde, d: 0x0102030405060708n, e: -2, f: 5n, g: true, h: 'a\0b', i: new Uint8Array([0, 7]) };
    const key = schema.type('hex').decode(chain.push('alice', 'probe', 'key', schema.type('KeyArgs').encode(args))) as Uint8Array;
    expect(Buffer.from(key).toString('hex')).toBe(
      [
        '12',
        '3456',
        '789abcde',
        '0102030405060708',
        '7ffffffe', // -2 + 2^31
        '8000000000000005', // 5 + 2^63
        '01',
        '61' + '0001' + '62' + '0000', // 'a', 0 escaped as 0 1, 'b', end 0 0
        '0001' + '07' + '0000',
      ].join(''),
    );
  });
});

describe('method numbers written out in service sources', () => {
  it('match methodNumber of the name beside them', async () => {
    const { methodNumber } = await import('../../src/protocol/names.ts');
    const { readdirSync } = await import('node:fs');
    const root = new URL('../', import.meta.url);
    const written = /: u64 = (0x[0-9a-f]+); \/\/ = methodNumber\("([^"]+)"\)/g;
    let checked = 0;
    for (const dir of readdirSync(root, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      for (const file of readdirSync(new URL(`${dir.name}/`, root))) {
        if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
        const source = readFileSync(new URL(`${dir.name}/${file}`, root), 'utf8');
        for (const [, value, name] of source.matchAll(written)) {
          expect(`${name} = ${value}`).toBe(`${name} = 0x${methodNumber(name!).toString(16)}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });
});

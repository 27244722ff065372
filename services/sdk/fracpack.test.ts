import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../scripts/build-services.ts';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { protocolSchema } from '../../src/protocol/types.ts';
import { TestChain } from './testing/host.ts';

// Compiling a service takes seconds, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 120_000;

interface Vector {
  type: string;
  json?: unknown;
  fracpack: string;
  compat?: string;
  error?: boolean;
}

// Conformance types and the probe action that decodes and re-encodes each.
const PROBES: Record<string, string> = {
  u8: 'tu8', i8: 'ti8', u16: 'tu16', i16: 'ti16', u32: 'tu32', i32: 'ti32', u64: 'tu64', i64: 'ti64',
  f32: 'tf32', f64: 'tf64', bool: 'tbool', str: 'tstr', hex: 'thex',
  'opt-u8': 'toptu8', 'opt-str': 'toptstr', 'opt-bytes': 'toptbytes',
  'i8[]': 'tveci8', 'vec-u16': 'tvecu16', 'opt<u8>[]': 'tvecoptu8',
  '()': 'tempty', EmptyObject: 'tempty',
  Extensible: 'textensible', 'multiple-optionals': 'topt3', TrailingTest: 'topt1', '(u8?)': 'topt1',
  '(u8, opt<u8>)': 'tu8optu8', OffsetTest: 'tu32optu8', '(u32,u8?)': 'tu32optu8',
  IntMember: 'tintmember', '(i32)': 'tintmember', StringMember: 'tstrmember', '(str)': 'tstrmember',
  '(hex)': 'tbytesmember', '(u8[])': 'tbytesmember', '(i8[])': 'tbytesmember',
  FixedStruct: 'tfixedstruct', VariableStruct2: 'tvarstruct2',
};

const vectors = (
  JSON.parse(readFileSync(new URL('../../test/vectors/psibase/fracpack-tests.json', import.meta.url), 'utf8')) as { values: Vector[] }[]
).flatMap((f) => f.values);

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

let chain: TestChain;
beforeAll(async () => {
  chain = new TestChain();
  chain.deploy('probe', await compileService('services/sdk/testing/probe.ts'));
}, COMPILE_TIMEOUT_MS);

const probe = (action: string, data: Uint8Array): Uint8Array => chain.push('alice', 'probe', action, data);

describe('AssemblyScript fracpack against psibase conformance vectors', () => {
  const covered = vectors.filter((v) => v.type in PROBES);

  it('covers every vector of the probed types, valid and invalid', () => {
    expect(covered.length).toBeGreaterThan(90);
    expect(covered.filter((v) => v.error).length).toBeGreaterThan(25);
  });

  for (const [i, v] of covered.entries()) {
    const action = PROBES[v.type]!;
    if (v.error) {
      it(`#${i} ${v.type}: rejects ${v.fracpack}`, () => {
        expect(() => probe(action, bytes(v.fracpack))).toThrow(/^fracpack: /);
      });
    } else {
      it(`#${i} ${v.type}: ${JSON.stringify(v.json)} round-trips`, () => {
        expect(hexOf(probe(action, bytes(v.fracpack)))).toBe(v.fracpack.toUpperCase());
        if (v.compat) expect(hexOf(probe(action, bytes(v.compat)))).toBe(v.fracpack.toUpperCase());
      });
    }
  }

  for (const [i, v] of vectors.filter((v) => ['(hex)', '(u8[])'].includes(v.type)).entries()) {
    it(`#${i} ${v.type} read as a view: ${v.error ? 'rejects' : 'round-trips'} ${v.fracpack}`, () => {
      if (v.error) expect(() => probe('tbytesview', bytes(v.fracpack))).toThrow(/^fracpack: /);
      else expect(hexOf(probe('tbytesview', bytes(v.fracpack)))).toBe(v.fracpack.toUpperCase());
    });
  }

  it('packs nested child writers in place as the reference encoder does', () => {
    const schema = new FracSchema(
      {
        ...protocolSchema,
        Args: { Object: { s: 'string', b: 'hex' } },
        Item: { Object: { n: 'u8', s: 'string' } },
        Inner: { Object: { s: 'string' } },
        Nested: { Object: { s: 'string', items: { List: 'Item' }, opt: { Option: 'Inner' }, b: 'hex' } },
      },
      { mode: 'native' },
    );
    for (const [s, b] of [['héllo ✓ 😀', new Uint8Array([0, 1, 255])], ['', new Uint8Array(0)]] as const) {
      const out = probe('tnested', schema.type('Args').encode({ s, b }));
      const expected = { s, items: [{ n: 1, s }, { n: 2, s: '' }], opt: { s }, b };
      expect(hexOf(out)).toBe(hexOf(schema.type('Nested').encode(expected)));
    }
  });

  it('refuses to finish a writer whose attached child changed', () => {
    expect(() => probe('tchildchanged', new Uint8Array([0, 0]))).toThrow(/^fracpack: a child writer changed after it was attached$/);
  });

  it('reports malformed data as a fracpack abort', () => {
    expect(() => probe('tstrmember', bytes('04000400000000000000'))).toThrow(/^fracpack: empty container must use offset 0$/);
  });
});

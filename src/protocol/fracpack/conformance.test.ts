import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../errors.ts';
import { FracSchema, fromHex, toHex, type Schema } from './index.ts';
import { jsonEquivalent } from './json-equal.ts';

interface Vector {
  type: string;
  json?: unknown;
  fracpack: string;
  compat?: string;
  error?: boolean;
}
interface VectorFile {
  schema: Schema;
  schema_bin?: string;
  schema_schema?: Schema;
  values: Vector[];
}

const file = join(process.cwd(), 'test/vectors/psibase/fracpack-tests.json');
const groups = JSON.parse(readFileSync(file, 'utf8')) as VectorFile[];

describe('psibase fracpack vectors', () => {
  groups.forEach((g, gi) => {
    const schema = new FracSchema(g.schema);
    g.values.forEach((v, i) => {
      const label = `#${gi}.${i} ${v.type} ${v.error ? 'error ' : ''}${v.compat ? 'compat ' : ''}${v.fracpack}`;
      it(label, () => {
        const t = schema.type(v.type);
        const bytes = fromHex(v.fracpack);
        if (v.error) {
          expect(() => t.decode(bytes)).toThrow(DecodeError);
          return;
        }
        const decoded = t.decodeWithInfo(bytes);
        expect(decoded.hasUnknown).toBe(false);
        expect(jsonEquivalent(decoded.value, v.json)).toBe(true);
        expect(toHex(t.encode(v.json))).toBe(v.fracpack.toUpperCase());
        expect(toHex(t.encode(decoded.value))).toBe(v.fracpack.toUpperCase());
        // Every proper prefix of a valid encoding is invalid.
        for (let n = 0; n < bytes.length; n++) expect(() => t.decode(bytes.subarray(0, n))).toThrow(DecodeError);
        if (v.compat) {
          const c = t.decodeWithInfo(fromHex(v.compat));
          expect(c.hasUnknown).toBe(true);
          expect(jsonEquivalent(c.value, decoded.value)).toBe(true);
        }
      });
    });
    if (g.schema_bin && g.schema_schema) {
      it(`#${gi} schema packs as schema_bin under the schema schema`, () => {
        const t = new FracSchema(g.schema_schema!).type('schema');
        expect(toHex(t.encode(g.schema))).toBe(g.schema_bin!.toUpperCase());
        expect(jsonEquivalent(t.decode(fromHex(g.schema_bin!)), g.schema)).toBe(true);
      });
    }
  });
});

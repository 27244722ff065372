/**
 * Checks vector files against our codecs: psibase's fracpack vectors
 * (fracpack-tests.json format) and name vectors (names.json format). Used by
 * `npm run conformance` and by tests.
 */
import { DecodeError, PsiwebError } from '../errors.ts';
import { FracSchema, fromHex, toHex, type Schema } from './fracpack/index.ts';
import { jsonEquivalent } from './fracpack/json-equal.ts';
import { accountName, accountNumber, methodName, methodNumber } from './names.ts';

export interface CheckResult {
  passed: number;
  failures: string[];
}

/** A vector file that is not in the expected format at all. */
export class VectorFileError extends PsiwebError {
  override name = 'VectorFileError';
}

const describeError = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function check(result: CheckResult, label: string, fn: () => string | undefined): void {
  let problem: string | undefined;
  try {
    problem = fn();
  } catch (e) {
    problem = `threw ${describeError(e)}`;
  }
  if (problem === undefined) result.passed++;
  else result.failures.push(`${label}: ${problem}`);
}

interface FracVector {
  type: string;
  json?: unknown;
  fracpack: string;
  compat?: string;
  error?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkFracpackVectors(data: unknown): CheckResult {
  if (!Array.isArray(data) || !data.every((g) => isObject(g) && isObject(g.schema) && Array.isArray(g.values)))
    throw new VectorFileError('expected an array of {schema, values} groups');
  const result: CheckResult = { passed: 0, failures: [] };
  data.forEach((group: { schema: Schema; values: unknown[]; schema_bin?: unknown; schema_schema?: unknown }, gi) => {
    let schema: FracSchema;
    try {
      schema = new FracSchema(group.schema);
    } catch (e) {
      result.failures.push(`group ${gi}: schema rejected: ${describeError(e)}`);
      return;
    }
    group.values.forEach((raw, vi) => {
      const v = raw as FracVector;
      const label = `group ${gi} value ${vi} (${String(v?.type)} ${String(v?.fracpack)})`;
      check(result, label, () => {
        if (!isObject(raw) || typeof v.type !== 'string' || typeof v.fracpack !== 'string') return 'malformed vector';
        const t = schema.type(v.type);
        const bytes = fromHex(v.fracpack);
        if (v.error) {
          try {
            t.decode(bytes);
          } catch (e) {
            return e instanceof DecodeError ? undefined : `threw ${describeError(e)} instead of DecodeError`;
          }
          return 'decoded, but must fail';
        }
        const decoded = t.decode(bytes);
        if (!jsonEquivalent(decoded, v.json)) return `decoded to ${JSON.stringify(decoded)}, expected ${JSON.stringify(v.json)}`;
        const packed = toHex(t.encode(v.json));
        if (packed !== v.fracpack.toUpperCase()) return `packed to ${packed}`;
        if (v.compat !== undefined) {
          const c = t.decode(fromHex(v.compat));
          if (!jsonEquivalent(c, decoded)) return `compat ${v.compat} decoded to ${JSON.stringify(c)}`;
        }
        return undefined;
      });
    });
    if (group.schema_bin !== undefined && group.schema_schema !== undefined) {
      check(result, `group ${gi} schema_bin`, () => {
        const t = new FracSchema(group.schema_schema as Schema).type('schema');
        const packed = toHex(t.encode(group.schema));
        if (packed !== String(group.schema_bin).toUpperCase()) return `schema packed to ${packed.slice(0, 64)}…`;
        if (!jsonEquivalent(t.decode(fromHex(group.schema_bin)), group.schema)) return 'schema_bin decodes to a different schema';
        return undefined;
      });
    }
  });
  return result;
}

function pairs(data: Record<string, unknown>, key: string, required: boolean): Array<[string, string]> {
  const list = data[key];
  if (list === undefined && !required) return [];
  if (!Array.isArray(list) || !list.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string'))
    throw new VectorFileError(`'${key}' must be an array of [name, decimal number] pairs`);
  return list as Array<[string, string]>;
}

export function checkNameVectors(data: unknown): CheckResult {
  if (!isObject(data)) throw new VectorFileError('expected an object with accounts and methods');
  const result: CheckResult = { passed: 0, failures: [] };
  const kinds = [
    ['accounts', accountNumber, accountName],
    ['methods', methodNumber, methodName],
  ] as const;
  for (const [key, toNumber, toName] of kinds) {
    const both = pairs(data, key, true);
    const parseOnly = pairs(data, `${key}_parse_only`, false);
    for (const [name, num] of both) {
      check(result, `${key} ${JSON.stringify(name)} ↔ ${num}`, () => {
        const n = toNumber(name);
        if (n.toString() !== num) return `name gives ${n}`;
        const back = toName(BigInt(num));
        return back === name ? undefined : `number gives ${JSON.stringify(back)}`;
      });
    }
    for (const [name, num] of parseOnly) {
      check(result, `${key}_parse_only ${JSON.stringify(name)} → ${num}`, () => {
        const n = toNumber(name);
        return n.toString() === num ? undefined : `name gives ${n}`;
      });
    }
  }
  return result;
}

export const USAGE = 'usage: conformance fracpack|names|p2p FILE';

/** Checkers of other layers (e.g. `p2p` from src/net/wire), passed in by the command line. */
export type ExtraCheckers = Readonly<Record<string, (data: unknown) => CheckResult>>;

/**
 * The command line: returns the lines to print and the exit code (0 all passed,
 * 1 some failed, 2 bad arguments or an unreadable or malformed file).
 */
export function runConformance(
  args: string[],
  readFile: (path: string) => string,
  extra: ExtraCheckers = {},
): { code: number; lines: string[] } {
  const [kind, path, ...rest] = args;
  const known = kind === 'fracpack' || kind === 'names' || (kind !== undefined && Object.hasOwn(extra, kind));
  if (!known || path === undefined || rest.length > 0) return { code: 2, lines: [USAGE] };
  let data: unknown;
  try {
    data = JSON.parse(readFile(path));
  } catch (e) {
    return { code: 2, lines: [`cannot read ${path}: ${describeError(e)}`, USAGE] };
  }
  let result: CheckResult;
  try {
    result = kind === 'fracpack' ? checkFracpackVectors(data) : kind === 'names' ? checkNameVectors(data) : extra[kind]!(data);
  } catch (e) {
    if (e instanceof VectorFileError) return { code: 2, lines: [`malformed ${kind} file ${path}: ${e.message}`, USAGE] };
    throw e;
  }
  return {
    code: result.failures.length > 0 ? 1 : 0,
    lines: [...result.failures, `${result.passed} passed, ${result.failures.length} failed`],
  };
}

/**
 * The type system a schema is built from (GraphQL spec §3), kept to what psibase's
 * services publish: scalars, enums, object types, unions (psio's std::variant), lists
 * and non-null; arguments of
 * scalar and list types. Object types take their fields as a thunk so types can refer
 * to each other. `buildSchema` collects every reachable type and adds introspection
 * (introspection.ts) and `printSchema` writes the SDL psibase's `GET /graphql` serves.
 */
import { GraphqlError } from './errors.ts';
import type { ValueNode } from './parse.ts';

export interface ScalarType {
  kind: 'SCALAR';
  name: string;
  description?: string;
  /** A resolved value as JSON; throws GraphqlError when it is not one. */
  serialize(value: unknown): unknown;
  /** A JSON input value (a variable's) as the argument value; throws GraphqlError. */
  parseValue(value: unknown): unknown;
}

export interface EnumType {
  kind: 'ENUM';
  name: string;
  description?: string;
  values: readonly string[];
}

export interface ObjectType<Ctx = unknown> {
  kind: 'OBJECT';
  name: string;
  description?: string;
  fields: () => Record<string, FieldDef<Ctx>>;
}

/**
 * A union (psio maps std::variant to one): a value is one of `types`, which `resolve`
 * picks, giving the member's value (e.g. psibase's JSON `{"CftConsensus": {…}}`).
 */
export interface UnionType {
  kind: 'UNION';
  name: string;
  description?: string;
  types: readonly ObjectType<any>[];
  resolve(value: unknown): { type: ObjectType<any>; value: unknown };
}

/** A union of psibase's variant JSON form, `{"Alternative": value}`, by member type name. */
export function variantUnion(name: string, types: readonly ObjectType<any>[], description?: string): UnionType {
  return {
    kind: 'UNION',
    name,
    ...(description !== undefined && { description }),
    types,
    resolve(value) {
      const entries = typeof value === 'object' && value !== null ? Object.entries(value) : [];
      const type = entries.length === 1 ? types.find((t) => t.name === entries[0]![0]) : undefined;
      if (!type) throw new GraphqlError(`${name} cannot represent ${describe(value)}`);
      return { type, value: entries[0]![1] };
    },
  };
}

export type NamedType = ScalarType | EnumType | ObjectType<any> | UnionType;
export type TypeRef = NamedType | { kind: 'LIST'; ofType: TypeRef } | { kind: 'NON_NULL'; ofType: TypeRef };

export interface ArgDef {
  type: TypeRef;
  description?: string;
  defaultValue?: unknown;
}

export interface ResolveInfo {
  /** The response path of the field being resolved. */
  path: (string | number)[];
}

export interface FieldDef<Ctx = unknown> {
  type: TypeRef;
  description?: string;
  args?: Record<string, ArgDef>;
  /** The field's value; by default the parent's property of the field's name. */
  resolve?: (parent: any, args: Record<string, unknown>, ctx: Ctx, info: ResolveInfo) => unknown;
}

export const list = (ofType: TypeRef): TypeRef => ({ kind: 'LIST', ofType });
export const nonNull = (ofType: TypeRef): TypeRef => ({ kind: 'NON_NULL', ofType });

export function namedType(t: TypeRef): NamedType {
  while (t.kind === 'LIST' || t.kind === 'NON_NULL') t = t.ofType;
  return t;
}

export function typeString(t: TypeRef): string {
  if (t.kind === 'LIST') return `[${typeString(t.ofType)}]`;
  if (t.kind === 'NON_NULL') return `${typeString(t.ofType)}!`;
  return t.name;
}

const describe = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}` : JSON.stringify(v) ?? String(v));

export const GraphqlInt: ScalarType = {
  kind: 'SCALAR',
  name: 'Int',
  serialize(v) {
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n === 'number' && Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff) return n;
    throw new GraphqlError(`Int cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return v;
    throw new GraphqlError(`Int cannot represent ${describe(v)}`);
  },
};

export const GraphqlFloat: ScalarType = {
  kind: 'SCALAR',
  name: 'Float',
  serialize(v) {
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n === 'number' && Number.isFinite(n)) return n;
    throw new GraphqlError(`Float cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    throw new GraphqlError(`Float cannot represent ${describe(v)}`);
  },
};

export const GraphqlString: ScalarType = {
  kind: 'SCALAR',
  name: 'String',
  serialize(v) {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    throw new GraphqlError(`String cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'string') return v;
    throw new GraphqlError(`String cannot represent ${describe(v)}`);
  },
};

export const GraphqlBoolean: ScalarType = {
  kind: 'SCALAR',
  name: 'Boolean',
  serialize(v) {
    if (typeof v === 'boolean') return v;
    throw new GraphqlError(`Boolean cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'boolean') return v;
    throw new GraphqlError(`Boolean cannot represent ${describe(v)}`);
  },
};

export const GraphqlId: ScalarType = {
  kind: 'SCALAR',
  name: 'ID',
  serialize(v) {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return String(v);
    throw new GraphqlError(`ID cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return String(v);
    throw new GraphqlError(`ID cannot represent ${describe(v)}`);
  },
};

export const BUILTIN_SCALARS: readonly ScalarType[] = [GraphqlInt, GraphqlFloat, GraphqlString, GraphqlBoolean, GraphqlId];

/** A literal as a JSON value for `parseValue` (variables are resolved by the executor). */
export function literalValue(node: ValueNode, variable: (name: string) => unknown): unknown {
  switch (node.kind) {
    case 'variable':
      return variable(node.name);
    case 'int':
    case 'float':
      return Number(node.value);
    case 'string':
    case 'enum':
      return node.value;
    case 'boolean':
      return node.value;
    case 'null':
      return null;
    case 'list':
      return node.values.map((v) => literalValue(v, variable));
    case 'object':
      return Object.fromEntries(node.fields.map((f) => [f.name, literalValue(f.value, variable)]));
  }
}

/**
 * Input coercion (§3.11, §3.12, §3.5): `value` (JSON: from a literal or a variable) as
 * the argument of type `type`. Throws GraphqlError naming what is wrong.
 */
export function coerceInput(type: TypeRef, value: unknown, what: string): unknown {
  if (type.kind === 'NON_NULL') {
    if (value === null || value === undefined) throw new GraphqlError(`${what} must not be null`);
    return coerceInput(type.ofType, value, what);
  }
  if (value === null || value === undefined) return null;
  if (type.kind === 'LIST') {
    const items = Array.isArray(value) ? value : [value];
    return items.map((v, i) => coerceInput(type.ofType, v, `${what}[${i}]`));
  }
  if (type.kind === 'SCALAR') {
    // Int literals are accepted where a Float is expected (§3.5.2).
    try {
      return type.parseValue(value);
    } catch (e) {
      throw new GraphqlError(`${what}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (type.kind === 'ENUM') {
    if (typeof value === 'string' && type.values.includes(value)) return value;
    throw new GraphqlError(`${what}: ${type.name} has no value ${describe(value)}`);
  }
  throw new GraphqlError(`${what}: ${type.name} is not an input type`);
}

export interface Schema<Ctx = unknown> {
  query: ObjectType<Ctx>;
  types: Map<string, NamedType>;
}

/** Every type reachable from `query` (and the built-in scalars), names checked unique. */
export function collectTypes(roots: readonly NamedType[]): Map<string, NamedType> {
  const types = new Map<string, NamedType>();
  const visit = (t: TypeRef) => {
    const n = namedType(t);
    const known = types.get(n.name);
    if (known) {
      if (known !== n) throw new Error(`two different GraphQL types are named ${n.name}`);
      return;
    }
    types.set(n.name, n);
    if (n.kind === 'UNION') for (const m of n.types) visit(m);
    if (n.kind === 'OBJECT') {
      for (const f of Object.values(n.fields())) {
        visit(f.type);
        for (const a of Object.values(f.args ?? {})) visit(a.type);
      }
    }
  };
  for (const s of BUILTIN_SCALARS) visit(s);
  for (const r of roots) visit(r);
  return types;
}

function printDescription(d: string | undefined, indent: string): string {
  if (!d) return '';
  return `${indent}"""${d.replace(/"""/g, '\\"""')}"""\n`;
}

function printDefault(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(printDefault).join(', ')}]`;
  return JSON.stringify(v);
}

/** The schema as SDL (what psibase's `GET /graphql` answers), introspection left out. */
export function printSchema(schema: Schema<any>): string {
  const out: string[] = [];
  for (const t of schema.types.values()) {
    if (t.name.startsWith('__') || BUILTIN_SCALARS.includes(t as ScalarType)) continue;
    if (t.kind === 'SCALAR') out.push(`${printDescription(t.description, '')}scalar ${t.name}\n`);
    else if (t.kind === 'UNION') out.push(`${printDescription(t.description, '')}union ${t.name} = ${t.types.map((m) => m.name).join(' | ')}\n`);
    else if (t.kind === 'ENUM') out.push(`${printDescription(t.description, '')}enum ${t.name} {\n${t.values.map((v) => `    ${v}\n`).join('')}}\n`);
    else {
      const fields = Object.entries(t.fields())
        .filter(([name]) => !name.startsWith('__'))
        .map(([name, f]) => {
          const args = Object.entries(f.args ?? {});
          const a = args.length
            ? `(${args.map(([n, d]) => `${n}: ${typeString(d.type)}${d.defaultValue !== undefined ? ` = ${printDefault(d.defaultValue)}` : ''}`).join(' ')})`
            : '';
          return `${printDescription(f.description, '    ')}    ${name}${a}: ${typeString(f.type)}\n`;
        });
      out.push(`${printDescription(t.description, '')}type ${t.name} {\n${fields.join('')}}\n`);
    }
  }
  return out.join('');
}

/**
 * Introspection (GraphQL spec §4): `__schema`, `__type(name:)` and the `__Type`,
 * `__Field`, … types tools ask, answered from the schema's own type objects. With
 * `__typename` (answered by the executor on every object) this is what GraphiQL,
 * codegen and psibase's UIs' tooling read.
 */
import {
  GraphqlBoolean,
  GraphqlString,
  collectTypes,
  list,
  nonNull,
  type ArgDef,
  type EnumType,
  type FieldDef,
  type NamedType,
  type ObjectType,
  type Schema,
  type TypeRef,
} from './schema.ts';

interface FieldEntry {
  name: string;
  def: FieldDef<any>;
}

interface ArgEntry {
  name: string;
  def: ArgDef;
}

const TypeKind: EnumType = { kind: 'ENUM', name: '__TypeKind', values: ['SCALAR', 'OBJECT', 'INTERFACE', 'UNION', 'ENUM', 'INPUT_OBJECT', 'LIST', 'NON_NULL'] };

const DirectiveLocation: EnumType = {
  kind: 'ENUM',
  name: '__DirectiveLocation',
  values: [
    'QUERY',
    'MUTATION',
    'SUBSCRIPTION',
    'FIELD',
    'FRAGMENT_DEFINITION',
    'FRAGMENT_SPREAD',
    'INLINE_FRAGMENT',
    'VARIABLE_DEFINITION',
    'SCHEMA',
    'SCALAR',
    'OBJECT',
    'FIELD_DEFINITION',
    'ARGUMENT_DEFINITION',
    'INTERFACE',
    'UNION',
    'ENUM',
    'ENUM_VALUE',
    'INPUT_OBJECT',
    'INPUT_FIELD_DEFINITION',
  ],
};

const deprecatedArg = { includeDeprecated: { type: GraphqlBoolean, defaultValue: false } };
const str = GraphqlString;
const nnStr = nonNull(GraphqlString);
const nnBool = nonNull(GraphqlBoolean);

function printLiteral(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(printLiteral).join(', ')}]`;
  return JSON.stringify(v);
}

const InputValue: ObjectType = {
  kind: 'OBJECT',
  name: '__InputValue',
  fields: () => ({
    name: { type: nnStr, resolve: (a: ArgEntry) => a.name },
    description: { type: str, resolve: (a: ArgEntry) => a.def.description ?? null },
    type: { type: nonNull(Type), resolve: (a: ArgEntry) => a.def.type },
    defaultValue: { type: str, resolve: (a: ArgEntry) => (a.def.defaultValue === undefined ? null : printLiteral(a.def.defaultValue)) },
    isDeprecated: { type: nnBool, resolve: () => false },
    deprecationReason: { type: str, resolve: () => null },
  }),
};

const argsOf = (def: { args?: Record<string, ArgDef> }): ArgEntry[] => Object.entries(def.args ?? {}).map(([name, d]) => ({ name, def: d }));

const Field: ObjectType = {
  kind: 'OBJECT',
  name: '__Field',
  fields: () => ({
    name: { type: nnStr, resolve: (f: FieldEntry) => f.name },
    description: { type: str, resolve: (f: FieldEntry) => f.def.description ?? null },
    args: { type: nonNull(list(nonNull(InputValue))), args: deprecatedArg, resolve: (f: FieldEntry) => argsOf(f.def) },
    type: { type: nonNull(Type), resolve: (f: FieldEntry) => f.def.type },
    isDeprecated: { type: nnBool, resolve: () => false },
    deprecationReason: { type: str, resolve: () => null },
  }),
};

const EnumValue: ObjectType = {
  kind: 'OBJECT',
  name: '__EnumValue',
  fields: () => ({
    name: { type: nnStr, resolve: (v: string) => v },
    description: { type: str, resolve: () => null },
    isDeprecated: { type: nnBool, resolve: () => false },
    deprecationReason: { type: str, resolve: () => null },
  }),
};

const Type: ObjectType = {
  kind: 'OBJECT',
  name: '__Type',
  fields: () => ({
    kind: { type: nonNull(TypeKind), resolve: (t: TypeRef) => t.kind },
    name: { type: str, resolve: (t: TypeRef) => ('name' in t ? t.name : null) },
    description: { type: str, resolve: (t: TypeRef) => ('description' in t ? (t.description ?? null) : null) },
    specifiedByURL: { type: str, resolve: () => null },
    fields: {
      type: list(nonNull(Field)),
      args: deprecatedArg,
      resolve: (t: TypeRef) =>
        t.kind === 'OBJECT'
          ? Object.entries(t.fields())
              .filter(([name]) => !name.startsWith('__'))
              .map(([name, def]) => ({ name, def }))
          : null,
    },
    interfaces: { type: list(nonNull(Type)), resolve: (t: TypeRef) => (t.kind === 'OBJECT' ? [] : null) },
    possibleTypes: { type: list(nonNull(Type)), resolve: (t: TypeRef) => (t.kind === 'UNION' ? t.types : null) },
    enumValues: { type: list(nonNull(EnumValue)), args: deprecatedArg, resolve: (t: TypeRef) => (t.kind === 'ENUM' ? t.values : null) },
    inputFields: { type: list(nonNull(InputValue)), args: deprecatedArg, resolve: () => null },
    ofType: { type: Type, resolve: (t: TypeRef) => (t.kind === 'LIST' || t.kind === 'NON_NULL' ? t.ofType : null) },
    isOneOf: { type: GraphqlBoolean, resolve: () => null },
  }),
};

interface DirectiveEntry {
  name: string;
  description: string;
  locations: string[];
  args: ArgEntry[];
}

const Directive: ObjectType = {
  kind: 'OBJECT',
  name: '__Directive',
  fields: () => ({
    name: { type: nnStr },
    description: { type: str },
    locations: { type: nonNull(list(nonNull(DirectiveLocation))) },
    args: { type: nonNull(list(nonNull(InputValue))), args: deprecatedArg },
    isRepeatable: { type: nnBool, resolve: () => false },
  }),
};

const DIRECTIVES: DirectiveEntry[] = ['skip', 'include'].map((name) => ({
  name,
  description: name === 'skip' ? 'Leaves out this field or fragment when `if` is true.' : 'Includes this field or fragment only when `if` is true.',
  locations: ['FIELD', 'FRAGMENT_SPREAD', 'INLINE_FRAGMENT'],
  args: [{ name: 'if', def: { type: nonNull(GraphqlBoolean) } }],
}));

const SchemaType: ObjectType<any> = {
  kind: 'OBJECT',
  name: '__Schema',
  fields: () => ({
    description: { type: str, resolve: () => null },
    types: { type: nonNull(list(nonNull(Type))), resolve: (s: Schema) => [...s.types.values()] },
    queryType: { type: nonNull(Type), resolve: (s: Schema) => s.query },
    mutationType: { type: Type, resolve: () => null },
    subscriptionType: { type: Type, resolve: () => null },
    directives: { type: nonNull(list(nonNull(Directive))), resolve: () => DIRECTIVES },
  }),
};

/**
 * A schema whose root is `query` plus `__schema` and `__type(name:)`; every type of it
 * (introspection's too) is listed in `types`.
 */
export function buildSchema<Ctx>(query: ObjectType<Ctx>): Schema<Ctx> {
  const schema: Schema<Ctx> = { query: undefined as unknown as ObjectType<Ctx>, types: new Map() };
  const root: ObjectType<Ctx> = {
    kind: 'OBJECT',
    name: query.name,
    ...(query.description !== undefined && { description: query.description }),
    fields: () => ({
      ...query.fields(),
      __schema: { type: nonNull(SchemaType), resolve: () => schema },
      __type: {
        type: Type,
        args: { name: { type: nonNull(GraphqlString) } },
        resolve: (_p: unknown, args: Record<string, unknown>) => schema.types.get(args.name as string) ?? null,
      },
    }),
  };
  schema.query = root;
  schema.types = collectTypes([root, SchemaType, Type, TypeKind, DirectiveLocation] as NamedType[]);
  return schema;
}

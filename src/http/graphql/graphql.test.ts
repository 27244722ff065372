import { describe, expect, it } from 'vitest';
import { GraphqlError } from './errors.ts';
import { connectionField, kvIndex, makeConnection, positionIndex, type ConnectionArgs, type KeyedIndex } from './connection.ts';
import { MemoryKv } from '../../state/memory-kv.ts';
import { DEFAULT_LIMITS, execute, type GraphqlResponse } from './execute.ts';
import { buildSchema } from './introspection.ts';
import { parse } from './parse.ts';
import { GraphqlFloat, GraphqlInt, GraphqlString, list, nonNull, printSchema, variantUnion, type ObjectType, type ScalarType } from './schema.ts';

/** Fixed data: rows keyed by even u32s 2..20 (ten rows). */
interface Row {
  id: number;
  name: string;
}
const ROWS: Row[] = Array.from({ length: 10 }, (_, i) => ({ id: 2 * (i + 1), name: `row${2 * (i + 1)}` }));

function u32Key(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new GraphqlError(`a key must be a u32, got ${v}`);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v);
  return b;
}

const rowIndex = (rows: Row[]): KeyedIndex<Row> => ({ size: rows.length, key: (p) => u32Key(rows[p]!.id), node: (p) => rows[p]! });

interface Ctx {
  rows: Row[];
  loads: number;
}

const RowType: ObjectType<Ctx> = {
  kind: 'OBJECT',
  name: 'Row',
  fields: () => ({
    id: { type: nonNull(GraphqlFloat) },
    name: { type: nonNull(GraphqlString) },
    shout: { type: nonNull(GraphqlString), args: { suffix: { type: GraphqlString, defaultValue: '!' } }, resolve: (r: Row, a) => `${r.name.toUpperCase()}${a.suffix as string}` },
    broken: { type: GraphqlString, resolve: () => Promise.reject(new Error('broken on purpose')) },
    brokenNonNull: { type: nonNull(GraphqlString), resolve: () => null },
    self: { type: RowType, resolve: (r: Row) => r },
    slowNonNull: { type: nonNull(GraphqlString), resolve: async () => null },
    slowSelf: { type: RowType, resolve: async (r: Row) => r },
  }),
};

const Circle: ObjectType = { kind: 'OBJECT', name: 'Circle', fields: () => ({ r: { type: nonNull(GraphqlFloat) } }) };
const Square: ObjectType = { kind: 'OBJECT', name: 'Square', fields: () => ({ side: { type: nonNull(GraphqlFloat) } }) };
const Shape = variantUnion('Shape', [Circle, Square]);
/** psibase's JSON for a variant: `{"Alternative": value}`; the last is not a Shape. */
const SHAPES = [{ Circle: { r: 1 } }, { Square: { side: 2 } }];

const Query: ObjectType<Ctx> = {
  kind: 'OBJECT',
  name: 'Query',
  fields: () => ({
    hello: { type: nonNull(GraphqlString), resolve: () => 'world' },
    firstRows: { type: nonNull(list(RowType)), resolve: (_p, _a, ctx) => ctx.rows.slice(0, 2) },
    shapes: { type: nonNull(list(nonNull(Shape))), resolve: () => SHAPES },
    oddShape: { type: Shape, resolve: () => ({ Triangle: {} }) },
    count: { type: nonNull(GraphqlInt), args: { plus: { type: nonNull(GraphqlInt) } }, resolve: (_p, a, ctx) => ctx.rows.length + (a.plus as number) },
    names: { type: nonNull(list(nonNull(GraphqlString))), args: { ids: { type: list(nonNull(GraphqlFloat)) } }, resolve: (_p, a, ctx) => ctx.rows.filter((r) => (a.ids as number[] | null)?.includes(r.id) ?? true).map((r) => r.name) },
    rows: connectionField<Ctx, Row, number>(RowType, GraphqlFloat, u32Key, (ctx) => {
      ctx.loads++;
      return rowIndex(ctx.rows);
    }),
    smallPages: connectionField<Ctx, Row, number>(RowType, GraphqlFloat, u32Key, (ctx) => rowIndex(ctx.rows), undefined, 3),
  }),
};

const schema = buildSchema(Query);
const run = (query: string, variables?: Record<string, unknown>, limits = DEFAULT_LIMITS): Promise<GraphqlResponse> =>
  execute(schema, { query, variables: variables ?? null }, { rows: ROWS, loads: 0 }, limits);

async function data(query: string, variables?: Record<string, unknown>): Promise<any> {
  const r = await run(query, variables);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data;
}

async function refused(query: string, variables?: Record<string, unknown>, limits = DEFAULT_LIMITS): Promise<string> {
  const r = await run(query, variables, limits);
  expect(r.data, 'a refused query has no data').toBeUndefined();
  expect(r.errors).toHaveLength(1);
  return r.errors![0]!.message;
}

const page = (q: string) => `{ rows(${q}) { edges { cursor node { id } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }`;
const ids = (d: any) => d.rows.edges.map((e: any) => e.node.id);

describe('GraphQL parse', () => {
  it('reads operations, aliases, arguments, variables, fragments and directives', () => {
    const doc = parse(`# a comment
      query Q($a: Int! = 3, $b: [String]) @x { first: f(a: $a, s: "x\\n\\u0041", l: [1, 2.5e3, true, null, E], o: {k: "v"}) { ...F ... on T { g } } }
      fragment F on T { h @skip(if: true) }
      { other }`);
    expect(doc.operations.map((o) => o.name)).toEqual(['Q', undefined]);
    const op = doc.operations[0]!;
    expect(op.variables.map((v) => [v.name, v.type, v.defaultValue?.kind])).toEqual([
      ['a', { kind: 'nonNull', of: { kind: 'named', name: 'Int' } }, 'int'],
      ['b', { kind: 'list', of: { kind: 'named', name: 'String' } }, undefined],
    ]);
    const f = op.selections[0]!;
    expect(f.kind === 'field' && [f.alias, f.name, f.args.map((a) => a.value.kind)]).toEqual(['first', 'f', ['variable', 'string', 'list', 'object']]);
    expect(f.kind === 'field' && f.args[1]!.value).toMatchObject({ value: 'x\nA' });
    expect(doc.fragments.get('F')?.typeCondition).toBe('T');
    expect(parse('{ a(s: """\n    two\n      lines\n  """) }').operations[0]!.selections[0]).toMatchObject({ args: [{ value: { value: 'two\n  lines' } }] });
  });

  it('refuses what is not a query, with where', () => {
    expect(() => parse('{ a')).toThrow(/expected a name, found the end of the query/);
    expect(() => parse('')).toThrow(/expected a query/);
    expect(() => parse('type Query { a: Int }')).toThrow(/"type" is not a query/);
    expect(() => parse('{ a(x: "open) }')).toThrow(/unterminated string/);
    expect(() => parse('{ a(x: 1.) }')).toThrow(/invalid number/);
    expect(() => parse('{ a(x: 0x1) }')).toThrow(/invalid number/);
    expect(() => parse('{ a ; }')).toThrow(/unexpected character ";"/);
    expect(() => parse('fragment on on T { a }')).toThrow(/cannot be named "on"/);
    try {
      parse('{\n  a(x: )\n}');
      expect.unreachable();
    } catch (e) {
      expect((e as GraphqlError).locations).toEqual([{ line: 2, column: 8 }]);
    }
  });

  it('bounds length, tokens and nesting', () => {
    expect(() => parse('{ a }', { maxLength: 4, maxTokens: 100, maxNesting: 10 })).toThrow(/longer than 4 characters/);
    expect(() => parse('{ a b c d }', { maxLength: 100, maxTokens: 4, maxNesting: 10 })).toThrow(/more than 4 tokens/);
    expect(() => parse('{ a { b { c } } }', { maxLength: 100, maxTokens: 100, maxNesting: 2 })).toThrow(/deeper than 2 levels/);
    // A very deep list literal cannot overflow the stack: it is refused first.
    expect(() => parse(`{ a(x: ${'['.repeat(100_000)}) }`, { maxLength: 200_000, maxTokens: 200_000, maxNesting: 64 })).toThrow(/deeper than 64/);
  });
});

describe('GraphQL execute', () => {
  it('answers fields, aliases, arguments, variables and fragments', async () => {
    expect(await data('{ hello }')).toEqual({ hello: 'world' });
    expect(await data('query { a: hello b: hello __typename }')).toEqual({ a: 'world', b: 'world', __typename: 'Query' });
    expect(await data('query($n: Int!) { count(plus: $n) }', { n: 5 })).toEqual({ count: 15 });
    expect(await data('query($n: Int! = 7) { count(plus: $n) }')).toEqual({ count: 17 });
    expect(await data('{ names(ids: [4, 6]) }')).toEqual({ names: ['row4', 'row6'] });
    // A single value where a list goes is a list of one (§3.1.7 input coercion).
    expect(await data('{ names(ids: 8) }')).toEqual({ names: ['row8'] });
    expect(await data('query($ids: [Float!]) { names(ids: $ids) }', { ids: [2] })).toEqual({ names: ['row2'] });
    const frag = await data(`{ rows(first: 1) { edges { node { ...R ... on Row { shout(suffix: "?") } ... { s2: shout } } } } }
      fragment R on Row { id name __typename }`);
    expect(frag.rows.edges[0].node).toEqual({ id: 2, name: 'row2', __typename: 'Row', shout: 'ROW2?', s2: 'ROW2!' });
    expect(await data('query($s: Boolean!) { a: hello @skip(if: $s) b: hello @include(if: $s) }', { s: true })).toEqual({ b: 'world' });
    // Same-key fields merge their selections.
    expect(await data('{ rows(first: 1) { edges { node { id } } } rows(first: 1) { edges { node { name } } } }')).toEqual({ rows: { edges: [{ node: { id: 2, name: 'row2' } }] } });
    const named = await execute(schema, { query: 'query A { hello } query B { h: hello }', operationName: 'B' }, { rows: ROWS, loads: 0 });
    expect(named).toEqual({ data: { h: 'world' } });
  });

  it('refuses a bad query as a whole, naming the problem', async () => {
    expect(await refused('{ nope }')).toBe('Cannot query field "nope" on type "Query"');
    expect(await refused('{ hello(x: 1) }')).toBe('Unknown argument "x" on field "Query.hello"');
    expect(await refused('{ count }')).toBe('Field "Query.count" needs the argument "plus" of type "Int!"');
    expect(await refused('{ count(plus: "1") }')).toBe('argument "plus" of type "Int" cannot be the string "1"');
    expect(await refused('{ count(plus: 1.5) }')).toBe('argument "plus" of type "Int" cannot be 1.5');
    expect(await refused('{ count(plus: 9999999999) }')).toBe('argument "plus": Int cannot represent 9999999999');
    expect(await refused('{ count(plus: null) }')).toBe('argument "plus" must not be null');
    expect(await refused('{ rows }')).toBe('Field "rows" of type "RowConnection!" needs a selection of subfields');
    expect(await refused('{ hello { x } }')).toBe('Field "hello" of type "String!" has no subfields');
    expect(await refused('mutation { hello }')).toMatch(/^Mutations are not served/);
    expect(await refused('subscription { hello }')).toMatch(/^Subscriptions are not served/);
    expect(await refused('{ ...F }')).toBe('Unknown fragment "F"');
    expect(await refused('{ ...F } fragment F on Query { ...G } fragment G on Query { ...F }')).toBe('Fragment "F" spreads itself (F → G → F)');
    expect(await refused('{ ... on Row { id } }')).toBe('A fragment on "Row" cannot be spread within "Query"');
    expect(await refused('{ ... on Nope { id } }')).toBe('Unknown type "Nope"');
    expect(await refused('query($n: Int!) { count(plus: $n) }')).toBe('The variable "$n" of type "Int!" was not given');
    expect(await refused('query($n: Int!) { count(plus: $n) }', { n: 'x' })).toBe('variable "$n": Int cannot represent "x"');
    expect(await refused('query($n: String) { count(plus: $n) }')).toBe('Variable "$n" of type "String" cannot be used for argument "plus" of type "Int!"');
    expect(await refused('{ count(plus: $n) }')).toBe('Variable "$n" is not defined');
    expect(await refused('query($n: Row) { hello }')).toBe('Variables cannot be of the output type "Row"');
    expect(await refused('{ hello @nope }')).toBe('Unknown directive "@nope"');
    expect(await refused('query A { hello } query B { hello }')).toMatch(/several operations/);
    expect(await refused('query A { hello } { hello }')).toMatch(/anonymous operation must be the only/);
    expect(await refused('{ hello')).toMatch(/^Syntax error: expected a name/);
    expect(await refused('{ a: hello a: count(plus: 1) }')).toBe('Fields "a" conflict because "hello" and "count" are different fields; use different aliases');
    expect(await refused('{ rows(first: 1) { edges { cursor } } ...F } fragment F on Query { rows(first: 2) { pageInfo { hasNextPage } } }')).toBe(
      'Fields "rows" conflict because they have different arguments; use different aliases',
    );
    // The same field with the same arguments merges, in any argument order.
    expect(await data('{ count(plus: 1) ...F } fragment F on Query { count(plus: 1) }')).toEqual({ count: 11 });
    // Fields of different members of a union may share a key.
    expect(await data('{ shapes { ... on Circle { x: r } ... on Square { x: side } } }')).toEqual({ shapes: [{ x: 1 }, { x: 2 }] });
    const r = await run('{\n  nope\n}');
    expect(r.errors![0]!.locations).toEqual([{ line: 2, column: 3 }]);
    const noQuery = await execute(schema, { query: undefined as unknown as string }, { rows: ROWS, loads: 0 });
    expect(noQuery.errors![0]!.message).toMatch(/no query/);
  });

  it('answers a failing field with null and its path, and bubbles a non-null one', async () => {
    const r = await run('{ rows(first: 2) { edges { node { id broken } } } }');
    expect(r.data).toEqual({ rows: { edges: [{ node: { id: 2, broken: null } }, { node: { id: 4, broken: null } }] } });
    expect(r.errors).toEqual([
      { message: 'broken on purpose', locations: [{ line: 1, column: 38 }], path: ['rows', 'edges', 0, 'node', 'broken'] },
      { message: 'broken on purpose', locations: [{ line: 1, column: 38 }], path: ['rows', 'edges', 1, 'node', 'broken'] },
    ]);
    // node is non-null, edges' items are non-null, edges is non-null, rows is non-null: data is null.
    const b = await run('{ hello rows(first: 1) { edges { node { brokenNonNull } } } }');
    expect(b.data).toBeNull();
    expect(b.errors).toEqual([{ message: 'Cannot return null for non-nullable field', locations: [{ line: 1, column: 41 }], path: ['rows', 'edges', 0, 'node', 'brokenNonNull'] }]);
    // A nullable parent stops the bubble.
    const c = await run('{ rows(first: 1) { edges { node { self { brokenNonNull } } } } }');
    expect(c.data).toEqual({ rows: { edges: [{ node: { self: null } }] } });
    // A field error in a bound (a key that is no u32) is an error at that field.
    const d = await run('{ hello rows(ge: -1) { edges { cursor } } }');
    expect(d.data).toBeNull();
    expect(d.errors![0]).toMatchObject({ message: 'a key must be a u32, got -1', path: ['rows'] });
  });

  it('bubbles nulls of values that come later (promises) as it does those at hand', async () => {
    // The first node's non-null field is null: up through node, the non-null edge, edges
    // and rows to data; nothing after it runs.
    const a = await run('{ rows(first: 2) { edges { node { id slowNonNull } } } }');
    expect(a).toEqual({ data: null, errors: [{ message: 'Cannot return null for non-nullable field', locations: [{ line: 1, column: 38 }], path: ['rows', 'edges', 0, 'node', 'slowNonNull'] }] });
    // A nullable field whose value came later stops it, for each item.
    const b = await run('{ rows(first: 2) { edges { node { id slowSelf { slowNonNull } } } } }');
    expect(b.data).toEqual({ rows: { edges: [{ node: { id: 2, slowSelf: null } }, { node: { id: 4, slowSelf: null } }] } });
    expect(b.errors!.map((e) => e.path)).toEqual([
      ['rows', 'edges', 0, 'node', 'slowSelf', 'slowNonNull'],
      ['rows', 'edges', 1, 'node', 'slowSelf', 'slowNonNull'],
    ]);
    // So does a nullable list item.
    const c = await run('{ firstRows { id slowNonNull } }');
    expect(c.data).toEqual({ firstRows: [null, null] });
    expect(c.errors!.map((e) => e.path)).toEqual([
      ['firstRows', 0, 'slowNonNull'],
      ['firstRows', 1, 'slowNonNull'],
    ]);
  });

  it('limits depth and the size of the answer', async () => {
    const deep = `{ rows(first: 1) { edges { node { ${'self { '.repeat(20)}id${' }'.repeat(20)} } } } }`;
    expect(await refused(deep)).toBe('the query is deeper than 16 fields');
    const limits = { ...DEFAULT_LIMITS, maxFields: 30 };
    expect(await refused('{ rows(first: 10) { edges { node { id name } } } }', undefined, limits)).toMatch(/^the answer would have more than 30 fields/);
    // Fragments spread in fragments expand exponentially; the expansion is bounded before anything runs.
    const frags = ['fragment F0 on Row { id }'];
    for (let i = 1; i <= 12; i++) frags.push(`fragment F${i} on Row { a: self { ...F${i - 1} } b: self { ...F${i - 1} } }`);
    const bomb = `{ rows(first: 1) { edges { node { ...F12 } } } } ${frags.join(' ')}`;
    expect(await refused(bomb, undefined, { ...DEFAULT_LIMITS, maxFields: 1000 })).toBe('the query expands to more than 1000 fields');
    // With the default limits: one full page of a 1,000-row table is fine, five are too much.
    const big = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `r${i}` }));
    const pages = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `p${i}: rows(first: 1000) { edges { cursor node { id name } } }`).join(' ')} }`;
    const one = await execute(schema, { query: pages(1) }, { rows: big, loads: 0 });
    expect((one.data as any).p0.edges).toHaveLength(1000);
    const five = await execute(schema, { query: pages(5) }, { rows: big, loads: 0 });
    expect(five).toEqual({ errors: [{ message: expect.stringMatching(/^the answer would have more than 20000 fields/), locations: [{ line: 1, column: expect.any(Number) }] }] });
  });

  it('introspects: __schema, __type, and the SDL', async () => {
    const d = await data('{ __schema { queryType { name } types { name kind } directives { name } } }');
    expect(d.__schema.queryType).toEqual({ name: 'Query' });
    const names = d.__schema.types.map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(['Query', 'Row', 'RowConnection', 'RowEdge', 'PageInfo', 'String', 'Float', 'Boolean', '__Type', '__Schema']));
    expect(d.__schema.directives.map((x: any) => x.name)).toEqual(['skip', 'include']);
    const t = await data('{ __type(name: "Row") { kind name fields { name args { name defaultValue type { name } } type { kind name ofType { kind name } } } } }');
    expect(t.__type.fields[0]).toEqual({ name: 'id', args: [], type: { kind: 'NON_NULL', name: null, ofType: { kind: 'SCALAR', name: 'Float' } } });
    expect(t.__type.fields.find((f: any) => f.name === 'shout').args).toEqual([{ name: 'suffix', defaultValue: '"!"', type: { name: 'String' } }]);
    expect(await data('{ __type(name: "Nope") { name } }')).toEqual({ __type: null });
    expect(await refused('{ rows(first: 1) { edges { node { __schema { types { name } } } } } }')).toBe('Cannot query field "__schema" on type "Row"');
    const sdl = printSchema(schema);
    expect(sdl).toContain('type Row {\n    id: Float!\n');
    expect(sdl).toContain('    rows(gt: Float ge: Float lt: Float le: Float first: Float last: Float before: String after: String): RowConnection!\n');
    expect(sdl).not.toContain('__');
  });

  it('runs the standard introspection query GraphiQL sends', async () => {
    const q = `query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
      types { ...FullType } directives { name description locations args { ...InputValue } } } }
      fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue }
        type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef }
        enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
      fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
      fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
        ofType { kind name ofType { kind name } } } } } } } }`;
    const d = await data(q);
    expect(d.__schema.types.find((t: any) => t.name === '__TypeKind').enumValues.map((v: any) => v.name)).toContain('NON_NULL');
  });
});

describe('GraphQL connections (psibase makeConnection)', () => {
  it('pages forward with first/after through the whole table', async () => {
    const seen: number[] = [];
    let after = '';
    let pages = 0;
    for (;;) {
      const d = await data(page(`first: 3 after: "${after}"`));
      seen.push(...ids(d));
      pages++;
      expect(d.rows.pageInfo.hasPreviousPage).toBe(pages > 1);
      if (!d.rows.pageInfo.hasNextPage) break;
      after = d.rows.pageInfo.endCursor;
    }
    expect(seen).toEqual(ROWS.map((r) => r.id));
    expect(pages).toBe(4);
    const d = await data(page('first: 2'));
    expect(d.rows.edges.map((e: any) => e.cursor)).toEqual(['00000002', '00000004']);
    expect(d.rows.pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: true, startCursor: '00000002', endCursor: '00000004' });
  });

  it('pages backward with last/before', async () => {
    const seen: number[] = [];
    let before = '';
    for (;;) {
      const d = await data(page(`last: 4 before: "${before}"`));
      seen.unshift(...ids(d));
      if (!d.rows.pageInfo.hasPreviousPage) break;
      before = d.rows.pageInfo.startCursor;
    }
    expect(seen).toEqual(ROWS.map((r) => r.id));
    const d = await data(page('last: 2'));
    expect(ids(d)).toEqual([18, 20]);
    expect(d.rows.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const mid = await data(page('last: 2 before: "0000000A"'));
    expect(ids(mid)).toEqual([6, 8]);
    expect(mid.rows.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('cuts the range with ge/gt/le/lt, any combination', async () => {
    expect(ids(await data(page('ge: 6 le: 10')))).toEqual([6, 8, 10]);
    expect(ids(await data(page('gt: 6 lt: 10')))).toEqual([8]);
    expect(ids(await data(page('ge: 5 lt: 9')))).toEqual([6, 8]);
    expect(ids(await data(page('ge: 3 gt: 7 le: 100 lt: 13')))).toEqual([8, 10, 12]);
    // psinode.py's get_block_header(n): first:1 ge:n.
    expect(ids(await data(page('first: 1 ge: 7')))).toEqual([8]);
    const bounded = await data(page('ge: 6 le: 10 first: 1'));
    expect(bounded.rows.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const back = await data(page('ge: 6 le: 10 last: 1'));
    expect(ids(back)).toEqual([10]);
    expect(back.rows.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    // A cursor outside the range is clamped to it.
    expect(ids(await data(page('ge: 6 le: 10 after: "00000001"')))).toEqual([6, 8, 10]);
    expect(ids(await data(page('ge: 6 le: 10 before: "FFFFFFFF"')))).toEqual([6, 8, 10]);
  });

  it('answers empty pages with empty cursors', async () => {
    const empty = { edges: [], pageInfo: { hasPreviousPage: false, hasNextPage: false, startCursor: '', endCursor: '' } };
    expect((await data(page('ge: 100'))).rows).toEqual(empty);
    expect((await data(page('ge: 10 lt: 10'))).rows).toEqual(empty);
    expect((await data(page('gt: 12 lt: 6'))).rows).toEqual(empty);
    expect((await data(page('first: 0'))).rows).toEqual({ ...empty, pageInfo: { ...empty.pageInfo, hasNextPage: true } });
    expect((await data(page('after: "00000014"'))).rows).toEqual({ ...empty, pageInfo: { ...empty.pageInfo, hasPreviousPage: true } });
    const none = await execute(schema, { query: page('first: 5') }, { rows: [], loads: 0 });
    expect(none).toEqual({ data: { rows: empty } });
  });

  it('first with last keeps the last of the first (as the spec and psibase do)', async () => {
    const d = await data(page('first: 5 last: 2'));
    expect(ids(d)).toEqual([8, 10]);
    expect(d.rows.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('caps pages and refuses bad counts and cursors', async () => {
    const small = (q: string) => `{ smallPages${q ? `(${q})` : ''} { edges { node { id } } pageInfo { hasNextPage } } }`;
    const d = await data(small(''));
    expect(d.smallPages.edges).toHaveLength(3);
    expect(d.smallPages.pageInfo.hasNextPage).toBe(true);
    const r = await run(small('first: 4'));
    expect(r.errors![0]!.message).toBe('"first" is 4, but a page holds at most 3 rows: page through with "after"/"before"');
    expect(r.errors![0]!.path).toEqual(['smallPages']);
    expect((await run(small('last: 4'))).errors![0]!.message).toMatch(/"last" is 4/);
    expect((await run(page('first: -1'))).errors![0]!.message).toBe('"first" must be a whole number of rows (0 or more), got -1');
    expect((await run(page('first: 1.5'))).errors![0]!.message).toBe('"first" must be a whole number of rows (0 or more), got 1.5');
    expect((await run(page('after: "xyz"'))).errors![0]!.message).toBe('"after" must be a cursor from an earlier page (hex), got "xyz"');
    expect(await refused(page('first: "3"'))).toBe('argument "first" of type "Float" cannot be the string "3"');
  });

  it('walks a key/value prefix (kvIndex) exactly as it walks positions, for every combination', () => {
    // The rows under a 2-byte prefix, with neighbours before and after it that must never show.
    const prefix = new Uint8Array([7, 7]);
    const kv = new MemoryKv();
    const key = (id: number) => new Uint8Array([...prefix, ...u32Key(id)]);
    for (const r of ROWS) kv.put(key(r.id), new TextEncoder().encode(r.name));
    kv.put(new Uint8Array([7, 6, 0xff]), new Uint8Array([1]));
    kv.put(new Uint8Array([7, 8]), new Uint8Array([2]));
    kv.put(new Uint8Array([7, 7]), new Uint8Array([3])); // the prefix itself is no row of the index...
    // ...so it is left out of the positions too: kvIndex would see it as the empty key.
    const viaKv = kvIndex(kv, prefix, (v) => new TextDecoder().decode(v));
    const withEmpty: KeyedIndex<string> = { size: ROWS.length + 1, key: (p) => (p === 0 ? new Uint8Array(0) : u32Key(ROWS[p - 1]!.id)), node: (p) => (p === 0 ? '\u0003' : ROWS[p - 1]!.name) };
    const viaPositions = positionIndex(withEmpty);
    const counts = [undefined, 0, 1, 3, 20];
    const bounds = [undefined, 0, 4, 5, 20, 21];
    const cursors = [undefined, '', '00000004', '00000005', '00', 'FFFFFFFF'];
    let compared = 0;
    const run = (args: ConnectionArgs<number>) => {
      const a = makeConnection(viaKv, args, u32Key);
      const b = makeConnection(viaPositions, args, u32Key);
      const view = (c: typeof a) => ({ cursors: c.edges.map((e) => e.cursor), nodes: c.edges.map((e) => e.node()), pageInfo: c.pageInfo });
      expect(view(a), JSON.stringify(args)).toEqual(view(b));
      compared++;
    };
    for (const first of counts) for (const last of counts) for (const after of cursors) run({ first, last, after });
    for (const last of counts) for (const before of cursors) for (const after of cursors) run({ last, before, after });
    for (const ge of bounds) for (const gt of bounds) for (const le of bounds) for (const lt of bounds) run({ ge, gt, le, lt, first: 2 });
    for (const ge of bounds) for (const lt of bounds) for (const before of cursors) run({ ge, lt, last: 2, before });
    expect(compared).toBeGreaterThan(1500);
    // And it is psibase's walk: a page of the real rows.
    const page = makeConnection(viaKv, { gt: 4, first: 2 }, u32Key);
    expect(page.edges.map((e) => e.node())).toEqual(['row6', 'row8']);
    // The range starts at 6, so as psibase has it there is no previous page within it.
    expect(page.pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: true, startCursor: '00000006', endCursor: '00000008' });
  });

  it('loads nodes only when asked for', () => {
    let loads = 0;
    const index: KeyedIndex<Row> = { ...rowIndex(ROWS), node: (p) => (loads++, ROWS[p]!) };
    const c = makeConnection(index, { first: 5 }, u32Key);
    expect(c.edges).toHaveLength(5);
    expect(loads).toBe(0);
    expect(c.edges[1]!.node()).toBe(ROWS[1]);
    expect(loads).toBe(1);
  });
});

describe('GraphQL unions (psio variants)', () => {
  it('answers the member each value is, through fragments on it', async () => {
    expect(await data('{ shapes { __typename ... on Circle { r } ... on Square { side } } }')).toEqual({
      shapes: [
        { __typename: 'Circle', r: 1 },
        { __typename: 'Square', side: 2 },
      ],
    });
    expect(await data('{ shapes { ...S } } fragment S on Shape { ... on Square { side } }')).toEqual({ shapes: [{}, { side: 2 }] });
    expect(await data('{ shapes { ...C } } fragment C on Circle { r }')).toEqual({ shapes: [{ r: 1 }, {}] });
  });

  it('refuses fields asked of the union itself and fragments that cannot apply', async () => {
    expect(await refused('{ shapes { r } }')).toBe('Cannot query field "r" on type "Shape"');
    expect(await refused('{ shapes }')).toBe('Field "shapes" of type "[Shape!]!" needs a selection of subfields');
    expect(await refused('{ shapes { ... on Row { id } } }')).toBe('A fragment on "Row" cannot be spread within "Shape"');
    expect(await refused('{ shapes { ... on String { id } } }')).toBe('A fragment cannot be on the scalar "String"');
    expect(await refused('query($s: Shape) { hello }')).toBe('Variables cannot be of the output type "Shape"');
  });

  it('answers a value that is no member with a field error', async () => {
    const r = await run('{ oddShape { __typename } }');
    expect(r).toEqual({ data: { oddShape: null }, errors: [{ message: 'Shape cannot represent {"Triangle":{}}', locations: [{ line: 1, column: 3 }], path: ['oddShape'] }] });
  });

  it('introspects and prints unions', async () => {
    expect(await data('{ __type(name: "Shape") { kind possibleTypes { name } fields { name } } }')).toEqual({
      __type: { kind: 'UNION', possibleTypes: [{ name: 'Circle' }, { name: 'Square' }], fields: null },
    });
    expect(printSchema(schema)).toContain('union Shape = Circle | Square\n');
  });
});

describe('GraphQL scalars', () => {
  it('refuses a resolver value its type cannot represent', async () => {
    const Bad: ObjectType = { kind: 'OBJECT', name: 'Query', fields: () => ({ n: { type: GraphqlInt, resolve: () => 2 ** 40 } }) };
    const r = await execute(buildSchema(Bad), { query: '{ n }' }, undefined);
    expect(r).toEqual({ data: { n: null }, errors: [{ message: 'Int cannot represent 1099511627776', locations: [{ line: 1, column: 3 }], path: ['n'] }] });
    const s: ScalarType = GraphqlString;
    expect(() => s.serialize({})).toThrow(GraphqlError);
  });
});

/**
 * psibase's tables as GraphQL connections (serveGraphQL.hpp makeConnection): a range
 * of an index cut by the key bounds `gt ge lt le` (any combination: the intersection),
 * paged forward with `first`/`after` or backward with `last`/`before`, answered as
 * `edges { node cursor }` and `pageInfo { hasPreviousPage hasNextPage startCursor
 * endCursor }`. A cursor is the hex of the row's key (upper case, as psio writes it);
 * an empty cursor means none, as psibase reads it, so a client may pass back the ""
 * an empty page's pageInfo holds.
 *
 * Unlike psibase, a page has at most `maxPage` rows: without `first` or `last` the
 * first `maxPage` rows come (hasNextPage tells there are more), and asking for more
 * than `maxPage` is an error, so no query makes the node read a whole table.
 */
import { fromHex, toHex } from '../../protocol/fracpack/index.ts';
import { GraphqlError } from './errors.ts';
import { GraphqlBoolean, GraphqlFloat, GraphqlInt, GraphqlString, list, nonNull, type ArgDef, type FieldDef, type ObjectType, type ScalarType } from './schema.ts';

/** An index: positions 0..size-1 in key order, keys strictly increasing (bytewise). */
export interface KeyedIndex<Node> {
  readonly size: number;
  key(pos: number): Uint8Array;
  node(pos: number): Node | Promise<Node>;
}

export interface ConnectionArgs<Key> {
  gt?: Key | null;
  ge?: Key | null;
  lt?: Key | null;
  le?: Key | null;
  first?: number | null;
  last?: number | null;
  before?: string | null;
  after?: string | null;
}

export interface Edge<Node> {
  cursor: string;
  /** Loaded only when the query asks for it. */
  node: () => Node | Promise<Node>;
}

export interface PageInfo {
  hasPreviousPage: boolean;
  hasNextPage: boolean;
  startCursor: string;
  endCursor: string;
}

export interface Connection<Node> {
  edges: Edge<Node>[];
  pageInfo: PageInfo;
}

export const DEFAULT_MAX_PAGE = 1000;

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * An index as psibase's TableIndex is walked: iterators in key order, `end` past the
 * last. makeConnection needs no more than this, so a table can be read without
 * counting it.
 */
export interface OrderedIndex<It, Node> {
  begin(): It;
  end(): It;
  /** The first entry whose key is >= key. */
  lowerBound(key: Uint8Array): It;
  /** The first entry whose key is > key. */
  upperBound(key: Uint8Array): It;
  next(it: It): It;
  prev(it: It): It;
  /** Order of two iterators (end is after every entry). */
  cmp(a: It, b: It): number;
  /** The entry's key within the index: its cursor. */
  key(it: It): Uint8Array;
  node(it: It): Node | Promise<Node>;
}

/** A KeyedIndex as an OrderedIndex whose iterators are positions (binary search). */
export function positionIndex<Node>(index: KeyedIndex<Node>): OrderedIndex<number, Node> {
  const bound = (key: Uint8Array, strict: boolean) => {
    let lo = 0;
    let hi = index.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare(index.key(mid), key);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    begin: () => 0,
    end: () => index.size,
    lowerBound: (k) => bound(k, false),
    upperBound: (k) => bound(k, true),
    next: (i) => i + 1,
    prev: (i) => i - 1,
    cmp: (a, b) => a - b,
    key: (i) => index.key(i),
    node: (i) => index.node(i),
  };
}

/** What a KvReader-backed index needs: psibase's kvGreaterEqual, kvLessThan, kvMax. */
export interface OrderedKv {
  greaterEqual(key: Uint8Array, prefixLen: number): { key: Uint8Array; value: Uint8Array } | undefined;
  lessThan(key: Uint8Array, prefixLen: number): { key: Uint8Array; value: Uint8Array } | undefined;
  max(prefix: Uint8Array): { key: Uint8Array; value: Uint8Array } | undefined;
}

type KvIt = { key: Uint8Array; value: Uint8Array } | null;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const ZERO = new Uint8Array(1);

/**
 * The entries of `kv` under `prefix` as an index (psibase's TableIndex over one
 * index prefix): keys are the rest of each key, nodes `decode(value, key)`. Reads are
 * synchronous; over IndexedDB run makeConnection inside StateDb.run. Nodes are decoded
 * from the values read then, so they need no further reads.
 */
export function kvIndex<Node>(kv: OrderedKv, prefix: Uint8Array, decode: (value: Uint8Array, key: Uint8Array) => Node): OrderedIndex<KvIt, Node> {
  const n = prefix.length;
  const ge = (key: Uint8Array): KvIt => kv.greaterEqual(key, n) ?? null;
  return {
    begin: () => ge(prefix),
    end: () => null,
    lowerBound: (k) => ge(concat(prefix, k)),
    // The smallest key after k is k ‖ 0.
    upperBound: (k) => ge(concat(concat(prefix, k), ZERO)),
    next: (it) => (it === null ? null : ge(concat(it.key, ZERO))),
    prev: (it) => (it === null ? (kv.max(prefix) ?? null) : (kv.lessThan(it.key, n) ?? null)),
    cmp: (a, b) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : compare(a.key, b.key)),
    key: (it) => it!.key.subarray(n),
    node: (it) => decode(it!.value, it!.key.subarray(n)),
  };
}

function cursorKey(name: string, cursor: string | null | undefined): Uint8Array | undefined {
  if (cursor === null || cursor === undefined || cursor === '') return undefined;
  try {
    return fromHex(cursor);
  } catch (e) {
    throw new GraphqlError(`"${name}" must be a cursor from an earlier page (hex), got ${JSON.stringify(cursor)}`, { cause: e });
  }
}

function count(name: string, v: number | null | undefined, maxPage: number): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 0) throw new GraphqlError(`"${name}" must be a whole number of rows (0 or more), got ${v}`);
  if (v > maxPage) throw new GraphqlError(`"${name}" is ${v}, but a page holds at most ${maxPage} rows: page through with "after"/"before"`);
  return v;
}

/**
 * psibase's makeConnection over `index` (a KeyedIndex, or any OrderedIndex), with
 * `keyBytes` turning a bound's value into the key bytes it compares as. Throws
 * GraphqlError for a bad count or cursor.
 */
export function makeConnection<Node, Key>(index: KeyedIndex<Node>, args: ConnectionArgs<Key>, keyBytes: (k: Key) => Uint8Array, maxPage?: number): Connection<Node>;
export function makeConnection<It, Node, Key>(index: OrderedIndex<It, Node>, args: ConnectionArgs<Key>, keyBytes: (k: Key) => Uint8Array, maxPage?: number): Connection<Node>;
export function makeConnection<Node, Key>(
  index: KeyedIndex<Node> | OrderedIndex<unknown, Node>,
  args: ConnectionArgs<Key>,
  keyBytes: (k: Key) => Uint8Array,
  maxPage = DEFAULT_MAX_PAGE,
): Connection<Node> {
  return walk('size' in index ? (positionIndex(index) as OrderedIndex<unknown, Node>) : index, args, keyBytes, maxPage);
}

function walk<It, Node, Key>(index: OrderedIndex<It, Node>, args: ConnectionArgs<Key>, keyBytes: (k: Key) => Uint8Array, maxPage: number): Connection<Node> {
  let first = count('first', args.first, maxPage);
  const last = count('last', args.last, maxPage);
  const after = cursorKey('after', args.after);
  const before = cursorKey('before', args.before);
  const max = (a: It, b: It) => (index.cmp(a, b) >= 0 ? a : b);
  const min = (a: It, b: It) => (index.cmp(a, b) <= 0 ? a : b);
  const clamp = (v: It, lo: It, hi: It) => min(max(v, lo), hi);
  const same = (a: It, b: It) => index.cmp(a, b) === 0;

  let rangeBegin = index.begin();
  let rangeEnd = index.end();
  if (args.ge != null) rangeBegin = max(rangeBegin, index.lowerBound(keyBytes(args.ge)));
  if (args.gt != null) rangeBegin = max(rangeBegin, index.upperBound(keyBytes(args.gt)));
  if (args.le != null) rangeEnd = min(rangeEnd, index.upperBound(keyBytes(args.le)));
  if (args.lt != null) rangeEnd = min(rangeEnd, index.lowerBound(keyBytes(args.lt)));
  rangeEnd = max(rangeBegin, rangeEnd);

  let it = rangeBegin;
  let end = rangeEnd;
  if (after) it = clamp(index.upperBound(after), rangeBegin, rangeEnd);
  if (before) end = clamp(index.lowerBound(before), rangeBegin, rangeEnd);
  end = max(it, end);

  const rows: It[] = [];
  const pageInfo: PageInfo = { hasPreviousPage: false, hasNextPage: false, startCursor: '', endCursor: '' };
  if (last !== undefined && first === undefined) {
    pageInfo.hasNextPage = !same(end, rangeEnd);
    let n = last;
    while (!same(it, end) && n-- > 0) {
      end = index.prev(end);
      rows.push(end);
    }
    pageInfo.hasPreviousPage = !same(end, rangeBegin);
    rows.reverse();
  } else {
    first ??= maxPage;
    pageInfo.hasPreviousPage = !same(it, rangeBegin);
    let n = first;
    for (; !same(it, end) && n-- > 0; it = index.next(it)) rows.push(it);
    pageInfo.hasNextPage = !same(it, rangeEnd);
    if (last !== undefined && last < rows.length) {
      pageInfo.hasPreviousPage = true;
      rows.splice(0, rows.length - last);
    }
  }
  const edges = rows.map((row) => ({ cursor: toHex(index.key(row)), node: () => index.node(row) }));
  if (edges.length) {
    pageInfo.startCursor = edges[0]!.cursor;
    pageInfo.endCursor = edges[edges.length - 1]!.cursor;
  }
  return { edges, pageInfo };
}

export const PageInfoType: ObjectType = {
  kind: 'OBJECT',
  name: 'PageInfo',
  fields: () => ({
    hasPreviousPage: { type: nonNull(GraphqlBoolean) },
    hasNextPage: { type: nonNull(GraphqlBoolean) },
    startCursor: { type: nonNull(GraphqlString) },
    endCursor: { type: nonNull(GraphqlString) },
  }),
};

/** `<Node>Edge` for a node type: its node (resolved lazily) and its cursor. */
function edgeType(node: ObjectType<any>): ObjectType {
  return {
    kind: 'OBJECT',
    name: `${node.name}Edge`,
    fields: () => ({
      node: { type: nonNull(node), resolve: (e: Edge<unknown>) => e.node() },
      cursor: { type: nonNull(GraphqlString) },
    }),
  };
}

/** One `<Node>Connection` type per node type and flavour, with `fields` given its edge type. */
function cachedConnectionType(cache: WeakMap<ObjectType<any>, ObjectType>, node: ObjectType<any>, fields: (edge: ObjectType) => ObjectType['fields']): ObjectType {
  const known = cache.get(node);
  if (known) return known;
  const connection: ObjectType = { kind: 'OBJECT', name: `${node.name}Connection`, fields: fields(edgeType(node)) };
  cache.set(node, connection);
  return connection;
}

/** `<Node>Edge` and `<Node>Connection` for a node type, named as psibase names them. */
const connectionTypes = new WeakMap<ObjectType<any>, ObjectType>();

export function connectionType(node: ObjectType<any>): ObjectType {
  return cachedConnectionType(connectionTypes, node, (edge) => () => ({
    edges: { type: nonNull(list(nonNull(edge))) },
    pageInfo: { type: nonNull(PageInfoType) },
  }));
}

/** makeConnection's arguments, the bounds of type `key` (psibase: Float for u32 keys). */
export function connectionArgs(key: ScalarType): Record<string, ArgDef> {
  return {
    gt: { type: key },
    ge: { type: key },
    lt: { type: key },
    le: { type: key },
    first: { type: GraphqlFloat },
    last: { type: GraphqlFloat },
    before: { type: GraphqlString },
    after: { type: GraphqlString },
  };
}

/** A connection field over the index `index(ctx)` returns. */
export function connectionField<Ctx, Node, Key>(
  node: ObjectType<any>,
  key: ScalarType,
  keyBytes: (k: Key) => Uint8Array,
  index: (ctx: Ctx) => KeyedIndex<Node> | OrderedIndex<any, Node> | Promise<KeyedIndex<Node> | OrderedIndex<any, Node>>,
  description?: string,
  maxPage = DEFAULT_MAX_PAGE,
): FieldDef<Ctx> {
  return {
    type: nonNull(connectionType(node)),
    args: connectionArgs(key),
    ...(description !== undefined && { description }),
    resolve: async (_parent, args, ctx) => makeConnection(await index(ctx) as OrderedIndex<unknown, Node>, args as ConnectionArgs<Key>, keyBytes, maxPage),
  };
}

/**
 * async-graphql's PageInfo, as psibase's Rust services (TableQuery) answer it: the
 * cursors are null on an empty page. Named PageInfo, so a schema has either this or
 * PageInfoType, never both.
 */
export const NullableCursorPageInfoType: ObjectType = {
  kind: 'OBJECT',
  name: 'PageInfo',
  fields: () => ({
    hasPreviousPage: { type: nonNull(GraphqlBoolean) },
    hasNextPage: { type: nonNull(GraphqlBoolean) },
    startCursor: { type: GraphqlString, resolve: (p: PageInfo) => p.startCursor || null },
    endCursor: { type: GraphqlString, resolve: (p: PageInfo) => p.endCursor || null },
  }),
};

const rustConnectionTypes = new WeakMap<ObjectType<any>, ObjectType>();

/**
 * `<Node>Connection` as async-graphql's `Connection<RawKey, Node>` (psibase's Rust
 * services) has it: `edges { node cursor }`, `nodes` (the edges' nodes) and a
 * PageInfo with nullable cursors (NullableCursorPageInfoType). Its value is a
 * makeConnection result.
 */
export function rustConnectionType(node: ObjectType<any>): ObjectType {
  return cachedConnectionType(rustConnectionTypes, node, (edge) => () => ({
    pageInfo: { type: nonNull(NullableCursorPageInfoType) },
    edges: { type: nonNull(list(nonNull(edge))) },
    nodes: { type: nonNull(list(nonNull(node))), resolve: (c: Connection<unknown>) => Promise.all(c.edges.map((e) => e.node())) },
  }));
}

/** The paging arguments of psibase's Rust TableQuery (`first`/`last` are i32: Int). */
export function rustConnectionArgs(): Record<string, ArgDef> {
  return {
    first: { type: GraphqlInt },
    last: { type: GraphqlInt },
    before: { type: GraphqlString },
    after: { type: GraphqlString },
  };
}

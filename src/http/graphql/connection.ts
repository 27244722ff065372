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
import { GraphqlBoolean, GraphqlFloat, GraphqlString, list, nonNull, type ArgDef, type FieldDef, type ObjectType, type ScalarType } from './schema.ts';

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

/** The first position whose key is >= key (strict: > key). */
function bound(index: KeyedIndex<unknown>, key: Uint8Array, strict: boolean): number {
  let lo = 0;
  let hi = index.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compare(index.key(mid), key);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/**
 * psibase's makeConnection over `index`, with `keyBytes` turning a bound's value into
 * the key bytes it compares as. Throws GraphqlError for a bad count or cursor.
 */
export function makeConnection<Node, Key>(index: KeyedIndex<Node>, args: ConnectionArgs<Key>, keyBytes: (k: Key) => Uint8Array, maxPage = DEFAULT_MAX_PAGE): Connection<Node> {
  let first = count('first', args.first, maxPage);
  const last = count('last', args.last, maxPage);
  const after = cursorKey('after', args.after);
  const before = cursorKey('before', args.before);

  let rangeBegin = 0;
  let rangeEnd = index.size;
  if (args.ge != null) rangeBegin = Math.max(rangeBegin, bound(index, keyBytes(args.ge), false));
  if (args.gt != null) rangeBegin = Math.max(rangeBegin, bound(index, keyBytes(args.gt), true));
  if (args.le != null) rangeEnd = Math.min(rangeEnd, bound(index, keyBytes(args.le), true));
  if (args.lt != null) rangeEnd = Math.min(rangeEnd, bound(index, keyBytes(args.lt), false));
  rangeEnd = Math.max(rangeBegin, rangeEnd);

  let it = rangeBegin;
  let end = rangeEnd;
  if (after) it = clamp(bound(index, after, true), rangeBegin, rangeEnd);
  if (before) end = clamp(bound(index, before, false), rangeBegin, rangeEnd);
  end = Math.max(it, end);

  const positions: number[] = [];
  const pageInfo: PageInfo = { hasPreviousPage: false, hasNextPage: false, startCursor: '', endCursor: '' };
  if (last !== undefined && first === undefined) {
    pageInfo.hasNextPage = end !== rangeEnd;
    let n = last;
    while (it !== end && n-- > 0) positions.push(--end);
    pageInfo.hasPreviousPage = end !== rangeBegin;
    positions.reverse();
  } else {
    first ??= maxPage;
    pageInfo.hasPreviousPage = it !== rangeBegin;
    let n = first;
    for (; it !== end && n-- > 0; ++it) positions.push(it);
    pageInfo.hasNextPage = it !== rangeEnd;
    if (last !== undefined && last < positions.length) {
      pageInfo.hasPreviousPage = true;
      positions.splice(0, positions.length - last);
    }
  }
  const edges = positions.map((pos) => ({ cursor: toHex(index.key(pos)), node: () => index.node(pos) }));
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

/** `<Node>Edge` and `<Node>Connection` for a node type, named as psibase names them. */
const connectionTypes = new WeakMap<ObjectType<any>, ObjectType>();

export function connectionType(node: ObjectType<any>): ObjectType {
  const known = connectionTypes.get(node);
  if (known) return known;
  const edge: ObjectType = {
    kind: 'OBJECT',
    name: `${node.name}Edge`,
    fields: () => ({
      node: { type: nonNull(node), resolve: (e: Edge<unknown>) => e.node() },
      cursor: { type: nonNull(GraphqlString) },
    }),
  };
  const connection: ObjectType = {
    kind: 'OBJECT',
    name: `${node.name}Connection`,
    fields: () => ({
      edges: { type: nonNull(list(nonNull(edge))) },
      pageInfo: { type: nonNull(PageInfoType) },
    }),
  };
  connectionTypes.set(node, connection);
  return connection;
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

/** A connection field over the index `index(parent, ctx)` returns. */
export function connectionField<Ctx, Node, Key>(
  node: ObjectType<any>,
  key: ScalarType,
  keyBytes: (k: Key) => Uint8Array,
  index: (ctx: Ctx) => KeyedIndex<Node> | Promise<KeyedIndex<Node>>,
  description?: string,
  maxPage = DEFAULT_MAX_PAGE,
): FieldDef<Ctx> {
  return {
    type: nonNull(connectionType(node)),
    args: connectionArgs(key),
    ...(description !== undefined && { description }),
    resolve: async (_parent, args, ctx) => makeConnection(await index(ctx), args as ConnectionArgs<Key>, keyBytes, maxPage),
  };
}

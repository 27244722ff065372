/** GraphQL for service queries: the executor, psibase's connections, and the chain's queries. */
export { GraphqlError, GraphqlLimitError, GraphqlSyntaxError, GraphqlValidationError, type GraphqlErrorJson, type SourceLocation } from './errors.ts';
export { parse, DEFAULT_PARSE_LIMITS, type DocumentNode, type ParseLimits } from './parse.ts';
export { execute, DEFAULT_LIMITS, type ExecutionLimits, type GraphqlRequest, type GraphqlResponse } from './execute.ts';
export { buildSchema } from './introspection.ts';
export * from './schema.ts';
export {
  connectionArgs,
  connectionField,
  connectionType,
  kvIndex,
  makeConnection,
  rustConnectionArgs,
  rustConnectionType,
  NullableCursorPageInfoType,
  positionIndex,
  DEFAULT_MAX_PAGE,
  type Connection,
  type ConnectionArgs,
  type KeyedIndex,
  type OrderedIndex,
  type OrderedKv,
  type PageInfo,
} from './connection.ts';
export { CHAIN_GRAPHQL, ChainSnapshot, chainRunner, u32KeyBytes } from './chain-queries.ts';
export { TOKENS_GRAPHQL, formatDecimal } from './tokens-queries.ts';
export { tableIndexPrefix } from './tables.ts';
export { GRAPHQL_PATH, runner, serveGraphql, type GraphqlRunner } from './serve.ts';

/** src/vm's public surface for the chain executor and the HTTP layer. */
export { ServiceHost } from './host.ts';
export type { ActionResult, PoolStats, ServiceHostInit } from './host.ts';
export { TransactionContext, DB_MODES, DEFAULT_LIMITS } from './transaction.ts';
export type { Clock, DbMode, Limits, RunMode, TransactionOptions, VmError } from './transaction.ts';
export { CodeFlags } from './execution.ts';
export type { ServiceCode } from './execution.ts';
export { DbId, KvMode, dbKey } from './dbs.ts';
export { LimitError, ModuleError, ServiceError } from './errors.ts';
export type { LimitKind } from './errors.ts';

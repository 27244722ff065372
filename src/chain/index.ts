/** The block executor's public surface (psibase's native layer). */
export { Chain, bootChain, genesisTransaction, openTransaction, traceJson } from './executor.ts';
export type { BlockProver, BootOptions, ChainInit, InitTransactions, OpenedTransaction, ProduceOptions, ProducedBlock } from './executor.ts';
export { BlockContext, blockSignatureData, transactionInfo, transactionMerkleRoot } from './block-context.ts';
export { BlockValidationError, ChainHaltError, TransactionRejectedError, type RejectReason } from './errors.ts';
export {
  NativeTable,
  NativeTables,
  NotifyType,
  blockLogKey,
  codeByHashKey,
  codeKey,
  configKey,
  nativeSchema,
  notifyKey,
  statusKey,
  wasmConfigKey,
} from './native-tables.ts';
export type { BlockInfo, CodeByHashRow, CodeRow, GenesisActionData, GenesisService, StatusRow } from './native-tables.ts';
export { sigVerifier } from './sig-verifier.ts';
export type { NativeVerifier, ProofToCheck } from './verify.ts';
export * as chainConstants from './constants.ts';

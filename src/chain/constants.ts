/** The chain executor's fixed numbers, each with the psibase rule it mirrors. */
import { accountNumber, methodNumber } from '../protocol/names.ts';

/** serviceEntry.hpp transactionServiceNum: native hands every transaction to this service. */
export const TRANSACT = accountNumber('transact');

/** The wasm export native enters transact through (ExecutionContext::execProcessTransaction). */
export const PROCESS_TRANSACTION_EXPORT = 'processTransaction';

/** BlockContext::callStartBlock's action method. */
export const START_BLOCK = methodNumber('startBlock');

/** The method verify services are called with (TransactionContext::execVerifyProof). */
export const VERIFY_SYS = methodNumber('verifySys');

/** BlockContext::start: a chain without a head starts at block 2, the genesis block. */
export const GENESIS_BLOCK_NUM = 2;

/** Block times are microseconds; the next block defaults to one second after the head. */
export const ONE_SECOND_US = 1_000_000n;

/** Transact.cpp maxTrxLifetime: a transaction may expire at most an hour after the block. */
export const MAX_TRX_LIFETIME_SEC = 3600n;

/** Tapos::valid_flags and do_not_broadcast_flag (block.hpp). */
export const TAPOS_VALID_FLAGS = 0x0001;
export const TAPOS_DO_NOT_BROADCAST = 0x0001;

/** BlockSignatureInfo's 4-byte prefix before the block id (block.hpp). */
export const BLOCK_SIGNATURE_PREFIX = Uint8Array.of(0x00, 0xce, 0xa8, 0x42);

/**
 * Transactions a producing node holds (checking or in the open block) before refusing more: several blocks’ worth at the
 * throughput this node targets (3,000 transfers/s), small enough to stay in memory.
 */
export const MAX_PENDING_TRANSACTIONS = 20_000;

/**
 * The host's limits and fixed numbers, each with the psibase rule it mirrors.
 */

/** VMOptions::max_pages (psibase block.hpp): 32 MiB of linear memory per service. */
export const MAX_PAGES = 512;

/** VMOptions::max_table_elements (psibase block.hpp). */
export const MAX_TABLE_ELEMENTS = 8192;

/** VMOptions::max_stack_bytes (psibase block.hpp): the stack shared by all nested calls. */
export const MAX_STACK_BYTES = 1024 * 1024;

/** VMOptions::stack_usage_for_call: what each `call` takes from the shared stack. */
export const STACK_USAGE_FOR_CALL = 4096;

/** WasmConfigRow::maxHandles (psibase nativeTables.hpp): open kv handles per service. */
export const MAX_HANDLES = 64;

/** ConfigRow::maxKeySize and maxValueSize defaults (psibase nativeTables.hpp). */
export const MAX_KEY_SIZE = 128;
export const MAX_VALUE_SIZE = 8 << 20;

/**
 * Default CPU budget of a transaction, in meter units: one unit per function entry,
 * function exit and loop iteration (see meter.ts). About a second of tight looping in
 * V8 on this machine, well above any honest service's need, and the same verdict on
 * every node because it counts work instead of time.
 */
export const DEFAULT_CPU_BUDGET = 300_000_000n;

/**
 * setMaxCpuTime(ns) converts nanoseconds into meter units at this rate. psibase applies
 * that timer only on the producer (NativeFunctions::setMaxCpuTime), so the factor only
 * shapes what a producer accepts, never a validator's verdict.
 */
export const METER_UNITS_PER_NS = 0.3;

/** psibase's KvHandle::invalid. */
export const INVALID_HANDLE = 0xffffffff;

/** The (u32)-1 that getResult-style functions return for "no result". */
export const NO_RESULT = -1;

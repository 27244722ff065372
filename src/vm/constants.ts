/**
 * The host's limits and fixed numbers, each with the psibase rule it mirrors.
 */

/** The wasm page: memories grow and are sized in these. */
export const WASM_PAGE_BYTES = 65536;

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
 * Default CPU budget of a transaction, in meter units: roughly one unit per wasm
 * instruction executed (meter.ts charges each loop iteration and call the length of the
 * basic block it starts, and bulk memory operations their size). About a second of
 * typical service code in V8 on this machine (see METER_UNITS_PER_NS), far above any
 * honest service's need, and the same verdict on every node because it counts work
 * instead of time.
 */
export const DEFAULT_CPU_BUDGET = 5_000_000_000n;

/**
 * setMaxCpuTime(ns) converts nanoseconds into meter units at this rate, and the CPU
 * clocks services read convert back: optimized code with loads, stores and branches
 * runs about 5 units per ns here (the tightest register-only loops reach 25). psibase
 * applies that timer only on the producer (NativeFunctions::setMaxCpuTime), so the
 * factor only shapes what a producer accepts, never a validator's verdict.
 */
export const METER_UNITS_PER_NS = 5;

/**
 * What the host keeps of closed transactions for later ones: idle instances (see
 * instance.ts) and the memories of instances that cannot be reused. V8 takes longer to
 * instantiate a module, or even to allocate its memory, than to zero a used memory of
 * a few MiB; psibase likewise keeps its executionMemories across transactions.
 * Larger memories are left to the garbage collector, and the total is capped so that
 * an idle node holds at most 64 MiB this way (host.ts: the least recently returned
 * entries make room for new ones, so the pool serves whatever runs now).
 */
export const MAX_POOLED_PAGES = 64;
export const MAX_POOL_PAGES = 1024;
/** Idle instances over all services: enough for the services of a few transactions in flight. */
export const MAX_POOLED_INSTANCES = 64;

/** psibase's KvHandle::invalid. */
export const INVALID_HANDLE = 0xffffffff;

/** The (u32)-1 that getResult-style functions return for "no result". */
export const NO_RESULT = -1;

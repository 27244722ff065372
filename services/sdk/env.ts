// psibase's native functions, imported from module `env` under the names and
// wasm signatures of psibase's service API (api.hpp, check.hpp). Pointers are
// wasm32 addresses; KvHandle, DbId and KvMode travel as u32.

// @ts-ignore: decorator
@external("env", "getResult")
export declare function getResult(dest: usize, destSize: u32, offset: u32): u32;

// @ts-ignore: decorator
@external("env", "getKey")
export declare function getKey(dest: usize, destSize: u32): u32;

// @ts-ignore: decorator
@external("env", "writeConsole")
export declare function writeConsole(message: usize, len: u32): void;

// @ts-ignore: decorator
@external("env", "abortMessage")
export declare function abortMessage(message: usize, len: u32): void;

// @ts-ignore: decorator
@external("env", "getCurrentAction")
export declare function getCurrentAction(): u32;

// @ts-ignore: decorator
@external("env", "call")
export declare function call(action: usize, len: u32, flags: u64): u32;

// @ts-ignore: decorator
@external("env", "setRetval")
export declare function setRetval(retval: usize, len: u32): void;

// @ts-ignore: decorator
@external("env", "kvOpen")
export declare function kvOpen(db: u32, prefix: usize, len: u32, mode: u32): u32;

// @ts-ignore: decorator
@external("env", "kvOpenAt")
export declare function kvOpenAt(handle: u32, prefix: usize, len: u32, mode: u32): u32;

// @ts-ignore: decorator
@external("env", "kvClose")
export declare function kvClose(handle: u32): void;

// @ts-ignore: decorator
@external("env", "exportHandles")
export declare function exportHandles(handles: usize, len: u32): void;

// @ts-ignore: decorator
@external("env", "importHandles")
export declare function importHandles(): u32;

// @ts-ignore: decorator
@external("env", "kvPut")
export declare function kvPut(handle: u32, key: usize, keyLen: u32, value: usize, valueLen: u32): void;

// @ts-ignore: decorator
@external("env", "kvRemove")
export declare function kvRemove(handle: u32, key: usize, keyLen: u32): void;

// @ts-ignore: decorator
@external("env", "kvGet")
export declare function kvGet(handle: u32, key: usize, keyLen: u32): u32;

// @ts-ignore: decorator
@external("env", "kvGreaterEqual")
export declare function kvGreaterEqual(handle: u32, key: usize, keyLen: u32, matchKeySize: u32): u32;

// @ts-ignore: decorator
@external("env", "kvLessThan")
export declare function kvLessThan(handle: u32, key: usize, keyLen: u32, matchKeySize: u32): u32;

// @ts-ignore: decorator
@external("env", "kvMax")
export declare function kvMax(handle: u32, key: usize, keyLen: u32): u32;

// @ts-ignore: decorator
@external("env", "clockTimeGet")
export declare function clockTimeGet(id: u32, time: usize): i32;

// @ts-ignore: decorator
@external("env", "getRandom")
export declare function getRandom(buf: usize, len: usize): void;

// @ts-ignore: decorator
@external("env", "setMaxCpuTime")
export declare function setMaxCpuTime(ns: u64): void;

// @ts-ignore: decorator
@external("env", "checkoutSubjective")
export declare function checkoutSubjective(): void;

// @ts-ignore: decorator
@external("env", "commitSubjective")
export declare function commitSubjective(): bool;

// @ts-ignore: decorator
@external("env", "abortSubjective")
export declare function abortSubjective(): void;

// @ts-ignore: decorator
@external("env", "socketOpen")
export declare function socketOpen(data: usize, len: usize): i32;

// @ts-ignore: decorator
@external("env", "socketSend")
export declare function socketSend(fd: i32, data: usize, len: usize, flags: u32): i32;

// @ts-ignore: decorator
@external("env", "socketSetFlags")
export declare function socketSetFlags(fd: i32, mask: u32, value: u32): i32;

// @ts-ignore: decorator
@external("env", "readFile")
export declare function readFile(name: usize, len: u32): u32;

/** Returned by getResult-style calls (kvGet, kvGreaterEqual, …) when nothing was found. */
export const NOT_FOUND: u32 = 0xffffffff;

/**
 * The import signatures a service may use. `env` is psibase's native ABI as registered
 * by ExecutionContext::registerHostFunctions (psibase ExecutionContext.cpp; the
 * declarations are in psibase api.hpp and rust/psibase/src/native_raw.rs).
 * `wasi_snapshot_preview1` covers what psibase's service polyfills define
 * (libraries/psibase/service/src/wasi-polyfill and cargo-psibase's
 * service_wasi_polyfill), so a module built for wasm32-wasip1 runs without linking one.
 * Like eos-vm, the host refuses a module whose import does not match its signature.
 */
type T = 'i32' | 'i64';
export interface Signature {
  params: T[];
  results: T[];
}
const sig = (params: T[], results: T[] = []): Signature => ({ params, results });
const i32 = 'i32' as const;
const i64 = 'i64' as const;

export const ENV_IMPORTS: Record<string, Signature> = {
  getResult: sig([i32, i32, i32], [i32]),
  getKey: sig([i32, i32], [i32]),
  writeConsole: sig([i32, i32]),
  abortMessage: sig([i32, i32]),
  clockTimeGet: sig([i32, i32], [i32]),
  getRandom: sig([i32, i32]),
  setMaxCpuTime: sig([i64]),
  getCurrentAction: sig([], [i32]),
  call: sig([i32, i32, i64], [i32]),
  setRetval: sig([i32, i32]),
  kvOpen: sig([i32, i32, i32, i32], [i32]),
  kvOpenAt: sig([i32, i32, i32, i32], [i32]),
  kvClose: sig([i32]),
  exportHandles: sig([i32, i32]),
  importHandles: sig([], [i32]),
  kvPut: sig([i32, i32, i32, i32, i32]),
  kvRemove: sig([i32, i32, i32]),
  kvGet: sig([i32, i32, i32], [i32]),
  kvGreaterEqual: sig([i32, i32, i32, i32], [i32]),
  kvLessThan: sig([i32, i32, i32, i32], [i32]),
  kvMax: sig([i32, i32, i32], [i32]),
  checkoutSubjective: sig([]),
  commitSubjective: sig([], [i32]),
  abortSubjective: sig([]),
  socketOpen: sig([i32, i32], [i32]),
  socketSend: sig([i32, i32, i32, i32], [i32]),
  socketSetFlags: sig([i32, i32, i32], [i32]),
  readFile: sig([i32, i32], [i32]),
};

export const WASI_IMPORTS: Record<string, Signature> = {
  fd_write: sig([i32, i32, i32, i32], [i32]),
  fd_read: sig([i32, i32, i32, i32], [i32]),
  fd_close: sig([i32], [i32]),
  fd_seek: sig([i32, i64, i32, i32], [i32]),
  fd_fdstat_get: sig([i32, i32], [i32]),
  fd_fdstat_set_flags: sig([i32, i32], [i32]),
  fd_filestat_get: sig([i32, i32], [i32]),
  fd_prestat_get: sig([i32, i32], [i32]),
  fd_prestat_dir_name: sig([i32, i32, i32], [i32]),
  fd_readdir: sig([i32, i32, i32, i64, i32], [i32]),
  path_open: sig([i32, i32, i32, i32, i32, i64, i64, i32, i32], [i32]),
  path_filestat_get: sig([i32, i32, i32, i32, i32], [i32]),
  path_unlink_file: sig([i32, i32, i32], [i32]),
  environ_get: sig([i32, i32], [i32]),
  environ_sizes_get: sig([i32, i32], [i32]),
  clock_time_get: sig([i32, i64, i32], [i32]),
  random_get: sig([i32, i32], [i32]),
  proc_exit: sig([i32]),
};

export const IMPORTS: Record<string, Record<string, Signature>> = {
  env: ENV_IMPORTS,
  wasi_snapshot_preview1: WASI_IMPORTS,
};

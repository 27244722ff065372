/**
 * The wasi_snapshot_preview1 functions a wasm32-wasip1 service imports, answered the
 * way psibase's service polyfills answer them (cargo-psibase's service_wasi_polyfill,
 * which Rust services link; libraries/psibase/service/src/wasi-polyfill for the rest):
 * stdout/stderr go to the console, the environment is empty, proc_exit aborts, the
 * clock is psibase's clockTimeGet, random_get yields zeros (a deterministic lie the
 * Rust polyfill tells so libraries that seed hash maps keep working), and there is no
 * file system apart from an empty preopened "/" as fd 3.
 */
import type { GuestMemory } from './memory.ts';
import { ServiceError } from './errors.ts';

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOENT = 44;
const ROOT_DIR_FD = 3;
const PREOPENTYPE_DIR = 0;
const FILETYPE_CHARACTER_DEVICE = 2;
const FDFLAGS_APPEND = 1;
const RIGHTS_FD_READ_WRITE = 2n | 64n;

export interface WasiHost {
  memory(): GuestMemory;
  writeConsole(bytes: Uint8Array): void;
  /** Throws the abort (abortMessage). */
  abort(message: string): never;
  clockTimeGet(id: number, timePtr: number): number;
}

export function wasiImports(host: WasiHost): Record<string, (...args: never[]) => unknown> {
  const notImplemented = (name: string) => () => {
    throw new ServiceError(`__wasi_${name} not implemented`);
  };
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
      const mem = host.memory();
      if (nwritten !== 0) mem.setU32(nwritten, 0);
      if (fd < 0 || fd > 2) return ERRNO_BADF;
      let total = 0;
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const buf = mem.u32(iovs + i * 8);
        const len = mem.u32(iovs + i * 8 + 4);
        host.writeConsole(mem.read(buf, len));
        total += len;
      }
      if (nwritten !== 0) mem.setU32(nwritten, total);
      return ERRNO_SUCCESS;
    },
    fd_read: () => ERRNO_BADF,
    fd_close: () => ERRNO_BADF,
    fd_seek: () => ERRNO_INVAL,
    fd_fdstat_get(_fd: number, stat: number): number {
      const b = host.memory().bytes(stat, 24);
      b.fill(0);
      const view = new DataView(b.buffer, b.byteOffset, 24);
      view.setUint8(0, FILETYPE_CHARACTER_DEVICE);
      view.setUint16(2, FDFLAGS_APPEND, true);
      view.setBigUint64(8, RIGHTS_FD_READ_WRITE, true);
      return ERRNO_SUCCESS;
    },
    fd_fdstat_set_flags: notImplemented('fd_fdstat_set_flags'),
    fd_filestat_get: notImplemented('fd_filestat_get'),
    fd_prestat_get(fd: number, buf: number): number {
      if (fd !== ROOT_DIR_FD) return ERRNO_BADF;
      const mem = host.memory();
      mem.setU32(buf, PREOPENTYPE_DIR);
      mem.setU32(buf + 4, 1);
      return ERRNO_SUCCESS;
    },
    fd_prestat_dir_name(fd: number, path: number, pathLen: number): number {
      if (fd !== ROOT_DIR_FD) return ERRNO_BADF;
      if (pathLen >>> 0 > 0) host.memory().write(path, Uint8Array.of(0x2f));
      return ERRNO_SUCCESS;
    },
    fd_readdir: () => ERRNO_BADF,
    path_open: () => ERRNO_INVAL,
    path_filestat_get: () => ERRNO_NOENT,
    path_unlink_file: () => ERRNO_INVAL,
    environ_get: () => ERRNO_SUCCESS,
    environ_sizes_get(count: number, size: number): number {
      const mem = host.memory();
      mem.setU32(count, 0);
      mem.setU32(size, 0);
      return ERRNO_SUCCESS;
    },
    clock_time_get: (id: number, _precision: bigint, time: number) => host.clockTimeGet(id, time),
    random_get(buf: number, len: number): number {
      host.memory().bytes(buf, len).fill(0);
      return ERRNO_SUCCESS;
    },
    proc_exit: () => host.abort(''),
  };
}

// The tinyplugin: AssemblyScript compiled to a core module whose exports follow the
// canonical ABI (strings as UTF-8 pointer and length; a returned string through a
// return area), named `<interface>__<function>` here and renamed by the build to the
// component model's `<package>/<interface>#<function>`.

/** The host allocates argument memory through this (canonical ABI realloc). */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  const p = heap.alloc(newSize + align) + align - 1;
  const aligned = p & ~(align - 1);
  if (oldPtr != 0) memory.copy(aligned, oldPtr, min(oldSize, newSize));
  return aligned;
}

/** Return area for a string result: pointer then length. */
const RET = memory.data(8, 4);

export function api__greet(ptr: usize, len: usize): usize {
  const name = String.UTF8.decodeUnsafe(ptr, len);
  const out = String.UTF8.encode("Hello, " + name + ", from the tiny plugin");
  store<u32>(RET, <u32>changetype<usize>(out));
  store<u32>(RET, <u32>out.byteLength, 4);
  return RET;
}

/** AssemblyScript's abort (the build points `abort` here): a trap, no imports. */
export function trap(message: usize, file: usize, line: u32, column: u32): void {
  unreachable();
}

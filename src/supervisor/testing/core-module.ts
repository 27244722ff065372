/** A valid empty core module carrying a custom section `pad` of `size` bytes, each `fill` (tests of the transpile cache and of shared cores). */
export function coreModule(size: number, fill = 0): Uint8Array {
  const name = new TextEncoder().encode('pad');
  const content = new Uint8Array(1 + name.length + size).fill(fill);
  content[0] = name.length;
  content.set(name, 1);
  const len: number[] = [];
  for (let n = content.length; ; ) {
    const b = n & 0x7f;
    n >>>= 7;
    if (n === 0) {
      len.push(b);
      break;
    }
    len.push(b | 0x80);
  }
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, ...len, ...content]);
}

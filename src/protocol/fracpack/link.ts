import { EncodeError } from '../../errors.ts';
import type { CustomTypes } from './compile.ts';
import { Node, type Member, type Mode } from './node.ts';
import { consumeTrailing, fail, finish, need, setPos, Stream } from './stream.ts';
import { Writer } from './writer.ts';
import { readInt } from './scalars.ts';

/** Own-property lookup, so JSON members named like Object.prototype keys are safe. */
export function field(obj: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function setField(obj: Record<string, unknown>, name: string, v: unknown): void {
  if (name === '__proto__') Object.defineProperty(obj, name, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[name] = v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function notContainer(at: number): never {
  return fail('offset 0 (empty container) used for a type that is not a container', at);
}

function fixedRead(n: Node): (s: Stream) => unknown {
  return (s) => n.readAt(s, need(s, n.size));
}

/** Read a member that sits in a fixed area at `p`: inline, or through its offset. */
export function readEmbedded(m: Node, s: Stream, p: number): unknown {
  if (m.fixed) return m.readAt(s, p);
  const off = s.view.getUint32(p, true);
  if (m.kind === 'option') {
    if (off === 1) return null;
    return readPointer(m.elem!, s, p, off);
  }
  return readPointer(m, s, p, off);
}

function readPointer(t: Node, s: Stream, p: number, off: number): unknown {
  // Offsets 0-3 point into the pointer itself: 0 = empty container, 1 = empty
  // optional (handled by the caller), 2-3 reserved (fracpack.md "Offset Pointers").
  if (off === 0) return t.empty(p);
  if (off < 4) fail(`reserved offset value ${off}`, p);
  setPos(s, p + off, p);
  return t.read(s, false);
}

interface Fixup {
  at: number;
  node: Node;
  value: unknown;
}

/** Write a member into the fixed area; variable data is queued for the heap. */
function writeEmbedded(m: Node, w: Writer, v: unknown, heap: Fixup[]): void {
  if (m.fixed) {
    m.write(w, v);
    return;
  }
  let t = m;
  if (m.kind === 'option') {
    if (v === null || v === undefined) {
      w.u32(1);
      return;
    }
    t = m.elem!;
  }
  // An empty container MUST be encoded as offset 0, never with an offset.
  if (t.isEmpty(v)) {
    w.u32(0);
    return;
  }
  heap.push({ at: w.pos, node: t, value: v });
  w.u32(0);
}

function writeHeap(w: Writer, heap: Fixup[]): void {
  for (const f of heap) {
    w.patchU32(f.at, w.pos - f.at);
    f.node.write(w, f.value);
  }
}

const isOptional = (n: Node) => n.kind === 'option';

/** Decode the members of an extensible struct or tuple (fixed area starts at s.pos). */
function readExtensible(s: Stream, members: Member[], put: (i: number, v: unknown) => void): void {
  const fixedSize = s.view.getUint16(need(s, 2), true);
  const start = need(s, fixedSize);
  const fixedEnd = start + fixedSize;
  let p = start;
  let atEnd = false;
  let lastEmpty = false;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!.node;
    const remaining = fixedEnd - p;
    if (remaining < m.size) atEnd = true;
    if (atEnd) {
      // Members missing from an older encoding must be optionals (compatibility rules).
      if (remaining !== 0 || !isOptional(m)) fail('fixed data ends inside a member', p);
      put(i, null);
    } else {
      lastEmpty = isOptional(m) && s.view.getUint32(p, true) === 1;
      put(i, readEmbedded(m, s, p));
      p += m.size;
    }
  }
  consumeTrailing(s, p, fixedEnd, lastEmpty);
}

/** Encode an extensible struct or tuple, omitting trailing empty optionals. */
function writeExtensible(w: Writer, members: Member[], get: (i: number) => unknown): void {
  const start = w.pos;
  w.u16(0);
  const heap: Fixup[] = [];
  let pendingEmpty = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!.node;
    const v = get(i);
    if (isOptional(m) && (v === null || v === undefined)) {
      pendingEmpty++;
      continue;
    }
    if (v === undefined) throw new EncodeError(`missing member '${members[i]!.name}'`);
    for (; pendingEmpty > 0; pendingEmpty--) w.u32(1);
    writeEmbedded(m, w, v, heap);
  }
  const fixedSize = w.pos - start - 2;
  if (fixedSize > 0xffff) throw new EncodeError('fixed data larger than 65535 bytes');
  w.patchU16(start, fixedSize);
  writeHeap(w, heap);
}

function expectObject(v: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw new EncodeError(`expected an object for ${what}`);
  return v;
}

function expectArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new EncodeError(`expected an array for ${what}`);
  return v;
}

export function linkNode(n: Node, mode: Mode, custom: CustomTypes): void {
  n.empty = notContainer;
  n.isEmpty = () => false;
  switch (n.kind) {
    case 'int':
    case 'float': {
      const [readAt, write] = n.kind === 'int' ? readInt(n, mode) : readFloat(n);
      n.readAt = readAt;
      n.write = write;
      n.read = fixedRead(n);
      return;
    }
    case 'struct':
      return linkStruct(n);
    case 'object':
    case 'tuple': {
      const members = n.members;
      if (n.kind === 'object') {
        n.read = (s) => {
          const out: Record<string, unknown> = {};
          readExtensible(s, members, (i, v) => setField(out, members[i]!.name, v));
          return out;
        };
        n.write = (w, v) => {
          const obj = expectObject(v, 'Object');
          writeExtensible(w, members, (i) => field(obj, members[i]!.name));
        };
      } else {
        n.read = (s) => {
          const out: unknown[] = new Array(members.length);
          readExtensible(s, members, (i, v) => (out[i] = v));
          return out;
        };
        n.write = (w, v) => {
          const arr = expectArray(v, 'Tuple');
          if (arr.length !== members.length) throw new EncodeError(`expected a tuple of ${members.length}`);
          writeExtensible(w, members, (i) => arr[i]);
        };
      }
      return;
    }
    case 'array':
      return linkArray(n);
    case 'list':
      return linkList(n);
    case 'option': {
      const elem = n.elem!;
      n.read = (s) => {
        const p = need(s, 4);
        const off = s.view.getUint32(p, true);
        if (off === 1) return null;
        return readPointer(elem, s, p, off);
      };
      n.write = (w, v) => {
        const heap: Fixup[] = [];
        writeEmbedded(n, w, v, heap);
        writeHeap(w, heap);
      };
      return;
    }
    case 'variant':
      return linkVariant(n, mode);
    case 'fracpack':
      return linkFracPack(n, mode);
    case 'custom':
      custom.get(n.customId)!.link(n, n.repr!, mode);
      return;
  }
}

function readFloat(n: Node): [(s: Stream, p: number) => unknown, (w: Writer, v: unknown) => void] {
  const single = n.size === 4;
  return [
    (s, p) => {
      const x = single ? s.view.getFloat32(p, true) : s.view.getFloat64(p, true);
      // psibase's JSON has no literal for these, so it writes them as strings.
      if (Number.isFinite(x)) return x;
      return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
    },
    (w, v) => {
      const x = toFloat(v);
      w.ensure(n.size);
      if (single) w.view.setFloat32(w.pos, x, true);
      else w.view.setFloat64(w.pos, x, true);
      w.pos += n.size;
    },
  ];
}

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === 'Infinity' || t === 'inf' || t === '+inf') return Infinity;
    if (t === '-Infinity' || t === '-inf') return -Infinity;
    if (t === 'NaN' || t === 'nan') return NaN;
    const x = Number(t);
    if (t !== '' && !Number.isNaN(x)) return x;
  }
  throw new EncodeError(`expected a number, got ${JSON.stringify(v)}`);
}

function linkStruct(n: Node): void {
  const members = n.members;
  if (n.fixed) {
    n.readAt = (s, p) => {
      const out: Record<string, unknown> = {};
      for (const m of members) {
        setField(out, m.name, m.node.readAt(s, p));
        p += m.node.size;
      }
      return out;
    };
    n.read = fixedRead(n);
    n.write = (w, v) => {
      const obj = expectObject(v, 'Struct');
      for (const m of members) {
        const x = field(obj, m.name);
        if (x === undefined) throw new EncodeError(`missing member '${m.name}'`);
        m.node.write(w, x);
      }
    };
    return;
  }
  // A non-extensible struct with variable members: no size prefix, fixed area of known size.
  const fixedSize = n.len;
  n.read = (s) => {
    let p = need(s, fixedSize);
    const out: Record<string, unknown> = {};
    for (const m of members) {
      setField(out, m.name, readEmbedded(m.node, s, p));
      p += m.node.size;
    }
    return out;
  };
  n.write = (w, v) => {
    const obj = expectObject(v, 'Struct');
    const heap: Fixup[] = [];
    for (const m of members) {
      const x = field(obj, m.name);
      if (x === undefined && !isOptional(m.node)) throw new EncodeError(`missing member '${m.name}'`);
      writeEmbedded(m.node, w, x, heap);
    }
    writeHeap(w, heap);
  };
}

function linkArray(n: Node): void {
  const e = n.elem!;
  const len = n.len;
  const readItems = (s: Stream, p: number): unknown[] => {
    const out: unknown[] = new Array(len);
    for (let i = 0; i < len; i++, p += e.size) out[i] = readEmbedded(e, s, p);
    return out;
  };
  const check = (v: unknown) => {
    const arr = expectArray(v, 'Array');
    if (arr.length !== len) throw new EncodeError(`expected an array of length ${len}`);
    return arr;
  };
  if (n.fixed) {
    n.readAt = readItems;
    n.read = fixedRead(n);
    n.write = (w, v) => {
      for (const x of check(v)) e.write(w, x);
    };
    return;
  }
  n.read = (s) => readItems(s, need(s, e.size * len));
  n.write = (w, v) => {
    const heap: Fixup[] = [];
    for (const x of check(v)) writeEmbedded(e, w, x, heap);
    writeHeap(w, heap);
  };
}

/** Length prefix of a list/string/bytes; an empty one is only valid where allowed. */
export function readListSize(s: Stream, allowEmpty: boolean): number {
  const p = need(s, 4);
  const size = s.view.getUint32(p, true);
  // "An offset pointer to an empty vector MUST be represented as 0"
  if (size === 0 && !allowEmpty) fail('empty list must be encoded as offset 0', p);
  return size;
}

function linkList(n: Node): void {
  const e = n.elem!;
  n.empty = () => [];
  n.isEmpty = (v) => Array.isArray(v) && v.length === 0;
  n.read = (s, allowEmpty) => {
    const size = readListSize(s, allowEmpty);
    if (e.size === 0) {
      if (size !== 0) fail('list of zero-size elements with nonzero size', s.pos);
      return [];
    }
    // "The size of a vector MUST be an exact multiple of the fixed size of each element"
    if (size % e.size !== 0) fail(`list size ${size} is not a multiple of ${e.size}`, s.pos - 4);
    let p = need(s, size);
    const count = size / e.size;
    const out: unknown[] = new Array(count);
    if (e.fixed) for (let i = 0; i < count; i++, p += e.size) out[i] = e.readAt(s, p);
    else for (let i = 0; i < count; i++, p += 4) out[i] = readEmbedded(e, s, p);
    return out;
  };
  n.write = (w, v) => {
    const arr = expectArray(v, 'List');
    if (e.size === 0 && arr.length > 0) throw new EncodeError('cannot pack a list of zero-size elements');
    const size = arr.length * e.size;
    if (size > 0xffffffff) throw new EncodeError('list too large');
    w.u32(size);
    if (e.fixed) {
      for (const x of arr) e.write(w, x);
      return;
    }
    const heap: Fixup[] = [];
    for (const x of arr) writeEmbedded(e, w, x, heap);
    writeHeap(w, heap);
  };
}

function linkVariant(n: Node, mode: Mode): void {
  const alts = n.members;
  n.read = (s) => {
    const p = need(s, 5);
    const tag = s.buf[p]!;
    const size = s.view.getUint32(p + 1, true);
    if (tag >= alts.length) fail(`variant tag ${tag} out of range`, p);
    const start = need(s, size);
    const sub = new Stream(s.buf, s.view, start, start + size);
    const alt = alts[tag]!;
    const v = alt.node.read(sub, true);
    // "The size of a variant MUST be the same as the size of the inner object"
    finish(sub);
    if (sub.hasUnknown) s.hasUnknown = true;
    if (mode === 'json' && alt.name.startsWith('@')) return v;
    const out: Record<string, unknown> = {};
    setField(out, alt.name, v);
    return out;
  };
  const writeAlt = (w: Writer, tag: number, v: unknown) => {
    w.u8(tag);
    const at = w.pos;
    w.u32(0);
    alts[tag]!.node.write(w, v);
    w.patchU32(at, w.pos - at - 4);
  };
  n.write = (w, v) => {
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1) {
        const tag = alts.findIndex((a) => a.name === keys[0]);
        if (tag >= 0) return writeAlt(w, tag, v[keys[0]!]);
      }
    }
    // Untagged alternatives (names starting with '@') take the value as it is.
    const start = w.pos;
    for (let tag = 0; tag < alts.length; tag++) {
      if (!alts[tag]!.name.startsWith('@')) continue;
      try {
        return writeAlt(w, tag, v);
      } catch (e) {
        if (!(e instanceof EncodeError)) throw e;
        w.pos = start;
      }
    }
    throw new EncodeError(`no variant alternative matches ${JSON.stringify(v)?.slice(0, 80)}`);
  };
}

function linkFracPack(n: Node, mode: Mode): void {
  const inner = n.elem!;
  // Types that pack to no bytes at all: their nested byte vector is always empty, and
  // an empty container MUST be encoded as offset 0.
  const zeroSize = (inner.fixed && inner.size === 0) || (inner.kind === 'array' && inner.len === 0);
  const decodeInner = (s: Stream, start: number, size: number) => {
    const sub = new Stream(s.buf, s.view, start, start + size);
    const v = inner.read(sub, true);
    finish(sub);
    if (sub.hasUnknown) s.hasUnknown = true;
    return v;
  };
  if (mode === 'native') {
    // Native form keeps the nested bytes (e.g. a signed Transaction, whose id is the
    // hash of exactly these bytes) after checking them.
    n.empty = (at) => (zeroSize ? new Uint8Array(0) : notContainer(at));
    n.read = (s, allowEmpty) => {
      const size = readListSize(s, allowEmpty);
      const start = need(s, size);
      decodeInner(s, start, size);
      return s.buf.slice(start, start + size);
    };
    n.write = (w, v) => {
      if (!(v instanceof Uint8Array)) throw new EncodeError('expected packed bytes for a nested value');
      const s = new Stream(v, new DataView(v.buffer, v.byteOffset, v.byteLength), 0, v.length);
      try {
        inner.read(s, true);
        finish(s);
      } catch (e) {
        throw new EncodeError('nested bytes are not valid for their type', { cause: e });
      }
      w.u32(v.length);
      w.bytes(v);
    };
    n.isEmpty = (v) => v instanceof Uint8Array && v.length === 0;
    return;
  }
  // A nested value that packs to no bytes is an empty byte vector, so offset 0.
  n.isEmpty = () => zeroSize;
  n.empty = (at) => (zeroSize ? decodeInner(new Stream(new Uint8Array(0), new DataView(new ArrayBuffer(0)), 0, 0), 0, 0) : notContainer(at));
  n.read = (s, allowEmpty) => {
    const size = readListSize(s, allowEmpty);
    return decodeInner(s, need(s, size), size);
  };
  n.write = (w, v) => {
    const at = w.pos;
    w.u32(0);
    inner.write(w, v);
    w.patchU32(at, w.pos - at - 4);
  };
}


import { DecodeError, EncodeError } from '../../errors.ts';
import type { CustomHandler } from './compile.ts';
import { fromHex, toHex } from './hex.ts';
import { field, readListSize } from './link.ts';
import { deref, type Mode, type Node } from './node.ts';
import { readIntBig, writeIntBig } from './scalars.ts';
import { fail, need, Stream } from './stream.ts';
import { formatTime, parseTime } from './time.ts';
import type { Writer } from './writer.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

const isByteList = (n: Node) => n.kind === 'list' && deref(n.elem!).kind === 'int' && deref(n.elem!).bits === 8;

/** A fixed single-member struct packs exactly as its member, so custom ids look through it. */
export function unwrapStruct(n: Node): Node {
  while (n.kind === 'struct' && n.fixed && n.members.length === 1) n = deref(n.members[0]!.node);
  return n;
}

function fixedCodec(node: Node, readAt: (s: Stream, p: number) => unknown, write: (w: Writer, v: unknown) => void): void {
  node.readAt = readAt;
  node.read = (s) => readAt(s, need(s, node.size));
  node.write = write;
  node.empty = (at) => fail('offset 0 (empty container) used for a fixed-size type', at);
  node.isEmpty = () => false;
}

export const boolType: CustomHandler = {
  matches: (b) => b.kind === 'int' && b.bits === 1 && !b.signed,
  link(node) {
    fixedCodec(
      node,
      (s, p) => {
        const b = s.buf[p]!;
        // Spec: "Boolean: 1 byte; either 0 or 1".
        if (b > 1) fail(`invalid bool ${b}`, p);
        return b === 1;
      },
      (w, v) => {
        if (typeof v !== 'boolean') throw new EncodeError(`expected a boolean, got ${JSON.stringify(v)}`);
        w.u8(v ? 1 : 0);
      },
    );
  },
};

export const stringType: CustomHandler = {
  matches: isByteList,
  link(node) {
    node.empty = () => '';
    node.isEmpty = (v) => v === '';
    node.read = (s, allowEmpty) => {
      const size = readListSize(s, allowEmpty);
      const p = need(s, size);
      try {
        return utf8.decode(s.buf.subarray(p, p + size));
      } catch (e) {
        throw new DecodeError(`fracpack: invalid UTF-8 string at byte ${p}`, { cause: e, details: { pos: p } });
      }
    };
    node.write = (w, v) => {
      if (typeof v !== 'string' || !v.isWellFormed()) throw new EncodeError(`expected a string, got ${typeof v}`);
      const b = utf8Encoder.encode(v);
      w.u32(b.length);
      w.bytes(b);
    };
  },
};

/** hex: bytes of a fixed-size type, a list of fixed-size elements, or a nested value. */
export const hexType: CustomHandler = {
  matches: (b) => b.fixed || b.kind === 'fracpack' || (b.kind === 'list' && deref(b.elem!).fixed),
  link(node, base, mode) {
    const out = mode === 'json' ? (s: Stream, a: number, b: number) => toHex(s.buf, a, b) : (s: Stream, a: number, b: number) => s.buf.slice(a, b);
    const input = (v: unknown): Uint8Array => (mode === 'native' && v instanceof Uint8Array ? v : fromHex(v));
    if (base.fixed) {
      fixedCodec(
        node,
        (s, p) => {
          base.readAt(s, p); // validates the bytes (e.g. bools inside a struct)
          return out(s, p, p + base.size);
        },
        (w, v) => {
          const b = input(v);
          if (b.length !== base.size) throw new EncodeError(`expected ${base.size} bytes, got ${b.length}`);
          checkBytes(base, b);
          w.bytes(b);
        },
      );
      return;
    }
    const plainBytes = isByteList(base);
    node.empty = (at) => (base.kind === 'list' || base.elem!.size === 0 ? (mode === 'json' ? '' : new Uint8Array(0)) : base.empty(at));
    node.isEmpty = (v) => (typeof v === 'string' || v instanceof Uint8Array) && v.length === 0;
    node.read = (s, allowEmpty) => {
      if (plainBytes) {
        const size = readListSize(s, allowEmpty);
        const p = need(s, size);
        return out(s, p, p + size);
      }
      const start = s.pos;
      base.read(s, allowEmpty); // validates element or nested content
      return out(s, start + 4, s.pos);
    };
    node.write = (w, v) => {
      const b = input(v);
      if (!plainBytes) {
        const framed = new Uint8Array(4 + b.length);
        new DataView(framed.buffer).setUint32(0, b.length, true);
        framed.set(b, 4);
        checkBytes(base, framed);
      }
      w.u32(b.length);
      w.bytes(b);
    };
  },
};

/** Packing raw bytes for a typed representation: they must decode as that type. */
function checkBytes(base: Node, b: Uint8Array): void {
  try {
    const s = new Stream(b, new DataView(b.buffer, b.byteOffset, b.byteLength), 0, b.length);
    base.read(s, true);
    if (s.knownEnd && s.pos !== s.end) throw new DecodeError('extra bytes');
  } catch (e) {
    if (e instanceof DecodeError) throw new EncodeError('bytes are not valid for the hex type', { cause: e });
    throw e;
  }
}

/** map: a list of two-member structs or tuples, shown as a JSON object. */
export const mapType: CustomHandler = {
  matches(b) {
    if (b.kind !== 'list') return false;
    const e = deref(b.elem!);
    return (e.kind === 'object' || e.kind === 'struct' || e.kind === 'tuple') && e.members.length === 2;
  },
  link(node, base, mode) {
    const e = deref(base.elem!);
    const k = e.members[0]!;
    const val = e.members[1]!;
    node.empty = () => (mode === 'json' ? {} : []);
    node.isEmpty = (v) => (mode === 'json' ? typeof v === 'object' && v !== null && Object.keys(v).length === 0 : Array.isArray(v) && v.length === 0);
    if (mode === 'native') {
      node.read = base.read;
      node.write = base.write;
      return;
    }
    const keyOf = e.kind === 'tuple' ? (x: unknown) => (x as unknown[])[0] : (x: unknown) => field(x as Record<string, unknown>, k.name);
    const valOf = e.kind === 'tuple' ? (x: unknown) => (x as unknown[])[1] : (x: unknown) => field(x as Record<string, unknown>, val.name);
    node.read = (s, allowEmpty) => {
      const at = s.pos;
      const items = base.read(s, allowEmpty) as unknown[];
      const out: Record<string, unknown> = {};
      for (const item of items) {
        const key = keyOf(item);
        if (typeof key !== 'string') fail('map key is not a string', at);
        Object.defineProperty(out, key, { value: valOf(item), enumerable: true, writable: true, configurable: true });
      }
      return out;
    };
    node.write = (w, v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EncodeError('expected an object for a map');
      const items = Object.entries(v).map(([key, x]) => (e.kind === 'tuple' ? [key, x] : { [k.name]: key, [val.name]: x }));
      base.write(w, items);
    };
  },
};

/** A u64 (possibly wrapped in a one-member struct) shown as a name string. */
export function nameType(toName: (n: bigint) => string, toNumber: (s: string) => bigint): CustomHandler {
  return {
    matches: (b) => {
      const u = unwrapStruct(b);
      return u.kind === 'int' && u.bits === 64 && !u.signed;
    },
    link(node, base, mode) {
      const u = unwrapStruct(base);
      if (mode === 'native') {
        fixedCodec(node, (s, p) => s.view.getBigUint64(p, true), (w, v) => writeIntBig(u, w, typeof v === 'string' ? toNumber(v) : (v as bigint)));
        return;
      }
      fixedCodec(
        node,
        (s, p) => toName(s.view.getBigUint64(p, true)),
        (w, v) => {
          if (typeof v !== 'string') throw new EncodeError(`expected a name string, got ${JSON.stringify(v)}`);
          let n: bigint;
          try {
            n = toNumber(v);
          } catch (e) {
            throw new EncodeError(`invalid name ${JSON.stringify(v)}`, { cause: e });
          }
          writeIntBig(u, w, n);
        },
      );
    },
  };
}

/** TimePointSec / TimePointUSec: an integer count of seconds or µs, shown as ISO 8601. */
export function timeType(digits: number): CustomHandler {
  return {
    matches: (b) => unwrapStruct(b).kind === 'int',
    link(node, base, mode: Mode) {
      const u = unwrapStruct(base);
      if (mode === 'native') {
        fixedCodec(node, (s, p) => u.readAt(s, p), (w, v) => u.write(w, v));
        return;
      }
      fixedCodec(
        node,
        (s, p) => {
          const text = formatTime(readIntBig(u, s, p), digits);
          if (text === undefined) fail('time point outside years 0000-9999', p);
          return text;
        },
        (w, v) => writeIntBig(u, w, parseTime(v, digits)),
      );
    },
  };
}

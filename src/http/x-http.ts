/**
 * The node-local `x-http` service, as far as on-chain services reach it: psibase's
 * http service asks `x-http::rootHost(host) -> string` for the root host a request
 * came in on (XHttp.cpp getRootHost: the most specific configured host the request's
 * host is or ends with, else the first). A psiweb node serves exactly one root host,
 * so the answer is that host whatever the argument.
 *
 * The module is emitted here as bytes rather than compiled: the service worker runs
 * queries too and has no compiler, and the whole service is one constant. It imports
 * only psibase's `env` ABI, so it runs on the real service host like any service.
 */
import { DecodeError } from '../errors.ts';
import { methodNumber } from '../protocol/names.ts';
import type { ServiceCode } from '../vm/index.ts';

/** psibase's XHttp::service. */
export const X_HTTP_SERVICE = 'x-http';

const ROOT_HOST = methodNumber('rootHost');

/** Where the action's fixed part is read to (its method is at +18: u16 size, sender, service). */
const ACTION_BUF = 1024;
const METHOD_OFFSET = 18;
/** The packed reply (a fracpack string) and the abort message live from here. */
const DATA_START = 16;

// Wasm binary format (WebAssembly core spec §5): the few encodings this module needs.
const I32 = 0x7f;
const I64 = 0x7e;

/** Unsigned LEB128, as the wasm binary format encodes sizes and indices. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb64(v: bigint): number[] {
  const out: number[] = [];
  let n = BigInt.asIntN(64, v);
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const funcType = (params: number[], results: number[]): number[] => [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
const i32Const = (n: number): number[] => [0x41, ...sleb64(BigInt(n))];

/** fracpack of a std::string: u32 length, then the UTF-8 bytes. */
function packString(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, true);
  out.set(bytes, 4);
  return out;
}

/** The wasm module of an x-http whose rootHost always answers `rootHost`. */
export function xHttpModule(rootHost: string): Uint8Array {
  const reply = packString(rootHost);
  const error = new TextEncoder().encode('x-http: only rootHost is available to on-chain services');
  const errorAt = DATA_START + reply.length;
  if (errorAt + error.length > ACTION_BUF) throw new DecodeError('root host name is too long');

  // Types: 0 start(i64), 1 called(i64, i64), 2 () -> i32, 3 (i32, i32, i32) -> i32, 4 (i32, i32).
  const types = vec([funcType([I64], []), funcType([I64, I64], []), funcType([], [I32]), funcType([I32, I32, I32], [I32]), funcType([I32, I32], [])]);
  // Imported functions 0..3; this module's own functions are 4 (start) and 5 (called).
  const imports = vec([
    [...name('env'), ...name('getCurrentAction'), 0x00, 2],
    [...name('env'), ...name('getResult'), 0x00, 3],
    [...name('env'), ...name('setRetval'), 0x00, 4],
    [...name('env'), ...name('abortMessage'), 0x00, 4],
  ]);
  const GET_CURRENT_ACTION = 0;
  const GET_RESULT = 1;
  const SET_RETVAL = 2;
  const ABORT_MESSAGE = 3;
  const functions = vec([[0], [1]]);
  const memory = vec([[0x00, 1]]);
  const exports = vec([
    [...name('memory'), 0x02, 0],
    [...name('start'), 0x00, 4],
    [...name('called'), 0x00, 5],
  ]);
  const startBody = [0x00, 0x0b];
  // getCurrentAction makes the action the pending result; only its fixed part up to
  // the method is copied out: the method decides, the argument does not.
  const calledBody = [
    0x00, // no locals
    0x10, GET_CURRENT_ACTION,
    0x1a, // drop the action's size
    ...i32Const(ACTION_BUF), ...i32Const(METHOD_OFFSET + 8), ...i32Const(0),
    0x10, GET_RESULT,
    0x1a, // drop
    ...i32Const(ACTION_BUF + METHOD_OFFSET),
    0x29, 0x03, 0x00, // i64.load align=8 offset=0
    0x42, ...sleb64(ROOT_HOST),
    0x51, // i64.eq
    0x04, 0x40, // if (no result)
    ...i32Const(DATA_START), ...i32Const(reply.length), 0x10, SET_RETVAL,
    0x05, // else
    ...i32Const(errorAt), ...i32Const(error.length), 0x10, ABORT_MESSAGE,
    0x0b, // end if
    0x0b, // end
  ];
  const body = (b: number[]) => [...uleb(b.length), ...b];
  const code = vec([body(startBody), body(calledBody)]);
  const dataBytes = [...reply, ...error];
  const data = vec([[0x00, ...i32Const(DATA_START), 0x0b, ...uleb(dataBytes.length), ...dataBytes]]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, code),
    ...section(11, data),
  ]);
}

/** x-http as a node-local service for `rootHost`. */
export function xHttpService(rootHost: string): ServiceCode {
  return { code: xHttpModule(rootHost), isLocal: true };
}

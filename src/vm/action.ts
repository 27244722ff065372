/**
 * The canonical fracpack form of an Action, read and written directly: `call` and
 * `getCurrentAction` are the hottest paths of nested calls, and the schema-driven
 * codec in src/protocol costs several times the rest of a call there.
 *
 * Action is an extensible struct: u16 fixed size (28), sender, service and method as
 * u64, and a u32 offset to rawData, which is 0 when rawData is empty and otherwise 4
 * (the heap starts right after the fixed part) followed by u32 size and the bytes.
 * Only that exact layout is read here; any other encoding goes to the general codec,
 * which knows which of them psibase accepts.
 */
import { packAction } from '../protocol/types.ts';
import type { Action } from '../protocol/types.ts';

const FIXED_SIZE = 28;
const EMPTY_SIZE = 2 + FIXED_SIZE;
const HEAP = EMPTY_SIZE + 4;
const NO_DATA = new Uint8Array(0);
/** V8 keeps typed arrays of up to this many bytes on its heap (typed_array_max_size_in_heap). */
const ON_HEAP_MAX = 64;

/**
 * Decodes the `n` bytes at `p` of `u8` (viewed by `view`) when they are an Action in
 * canonical form; `undefined` when they are not (which says nothing about validity).
 * The result shares no memory with `u8`.
 */
export function decodeCanonicalAction(u8: Uint8Array, view: DataView, p: number, n: number): Action | undefined {
  if (n < EMPTY_SIZE || view.getUint16(p, true) !== FIXED_SIZE) return undefined;
  const offset = view.getUint32(p + 26, true);
  let rawData: Uint8Array;
  if (offset === 0 && n === EMPTY_SIZE) rawData = NO_DATA;
  else if (offset === 4 && n > HEAP && view.getUint32(p + EMPTY_SIZE, true) === n - HEAP) rawData = u8.slice(p + HEAP, p + n);
  else return undefined;
  return {
    sender: view.getBigUint64(p + 2, true),
    service: view.getBigUint64(p + 10, true),
    method: view.getBigUint64(p + 18, true),
    rawData,
  };
}

/**
 * As decodeCanonicalAction, with a copy of the packed action (getCurrentAction's
 * result) taken at the same time: rawData is a view into that one copy.
 */
export function copyCanonicalAction(u8: Uint8Array, view: DataView, p: number, n: number): { action: Action; packed: Uint8Array } | undefined {
  if (n < EMPTY_SIZE || view.getUint16(p, true) !== FIXED_SIZE) return undefined;
  const offset = view.getUint32(p + 26, true);
  if (!((offset === 0 && n === EMPTY_SIZE) || (offset === 4 && n > HEAP && view.getUint32(p + EMPTY_SIZE, true) === n - HEAP))) return undefined;
  const packed = u8.slice(p, p + n);
  // A view into the copy saves copying rawData twice, except where the copy is small
  // enough to live on V8's heap: a view would make V8 move it off the heap first,
  // which costs more than a second small copy.
  const rawData = offset === 0 ? NO_DATA : n > ON_HEAP_MAX ? packed.subarray(HEAP) : u8.slice(p + HEAP, p + n);
  const action: Action = {
    sender: view.getBigUint64(p + 2, true),
    service: view.getBigUint64(p + 10, true),
    method: view.getBigUint64(p + 18, true),
    rawData,
  };
  return { action, packed };
}

const isU64 = (v: bigint) => BigInt.asUintN(64, v) === v;
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

function setU64(out: Uint8Array, at: number, v: bigint): void {
  scratch.setBigUint64(0, v, true);
  out.set(scratchBytes, at);
}

/** The canonical fracpack of `action`, as packAction gives it (which also reports bad values). */
export function packCanonicalAction(action: Action): Uint8Array {
  if (!isU64(action.sender) || !isU64(action.service) || !isU64(action.method)) return packAction(action);
  // Small typed arrays live on V8's heap until someone asks for their buffer, so this
  // writes bytes rather than build a DataView over the result.
  const size = action.rawData.length;
  const out = new Uint8Array(size === 0 ? EMPTY_SIZE : HEAP + size);
  out[0] = FIXED_SIZE;
  setU64(out, 2, action.sender);
  setU64(out, 10, action.service);
  setU64(out, 18, action.method);
  if (size > 0) {
    out[26] = 4;
    out[EMPTY_SIZE] = size & 0xff;
    out[EMPTY_SIZE + 1] = (size >>> 8) & 0xff;
    out[EMPTY_SIZE + 2] = (size >>> 16) & 0xff;
    out[EMPTY_SIZE + 3] = size >>> 24;
    out.set(action.rawData, HEAP);
  }
  return out;
}

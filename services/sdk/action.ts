import { call as nativeCall, getCurrentAction, getKey, getResult, NOT_FOUND } from "./env";
import { allocBytes, ObjectReader, ObjectWriter } from "./fracpack";

/** psibase `Action{sender, service, method, rawData}` (an extensible struct). */
export class Action {
  constructor(
    public sender: u64,
    public service: u64,
    public method: u64,
    public rawData: Uint8Array,
  ) {}

  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.sender).u64(this.service).u64(this.method).bytes(this.rawData).finish();
  }

  /** `rawData` is a view into `data`, which must not change afterwards. */
  static unpack(data: Uint8Array): Action {
    const r = ObjectReader.struct(data);
    const action = new Action(r.u64(), r.u64(), r.u64(), r.bytesView());
    r.done();
    return action;
  }
}

/** Copy the host's current result (`size` bytes, as returned by the call that set it). */
export function resultBytes(size: u32): Uint8Array {
  // getResult fills it all.
  const out = allocBytes(<i32>size);
  if (size > 0) getResult(out.dataStart, size, 0);
  return out;
}

/** The key found by the last kvGreaterEqual / kvLessThan / kvMax, relative to the handle's prefix. */
export function resultKey(): Uint8Array {
  const size = getKey(0, 0);
  const out = allocBytes(<i32>size);
  if (size > 0) getKey(out.dataStart, size);
  return out;
}

/** The result, or null when the host returned NOT_FOUND. */
export function optionalResult(size: u32): Uint8Array | null {
  return size == NOT_FOUND ? null : resultBytes(size);
}

export function currentAction(): Action {
  return Action.unpack(resultBytes(getCurrentAction()));
}

/** psibase CallFlags. */
export enum CallFlags {
  none = 0,
  runModeRpc = 1,
  runModeCallback = 2,
}

/** Run `action` synchronously and return the callee's packed return value. */
export function callAction(action: Action, flags: u64 = CallFlags.none): Uint8Array {
  const packed = action.pack();
  return resultBytes(nativeCall(packed.dataStart, <u32>packed.length, flags));
}

// Action dispatch. A service registers handlers by method name at top level and
// re-exports `start` and `called`; psibase calls `start(thisService)` once after
// instantiating the module and `called(receiver, sender)` for each action.

import { abortWith } from "./check";
import { setRetval } from "./env";
import { Action, currentAction } from "./action";
import { ObjectReader, ObjectWriter, packBytes, packString } from "./fracpack";
import { hashedMethodNumber, methodName, methodNumber } from "./names";

let receiverAccount: u64 = 0;
let senderAccount: u64 = 0;

/** The account this service runs as. */
export function receiver(): u64 {
  return receiverAccount;
}

/** The sender of the action being handled. */
export function sender(): u64 {
  return senderAccount;
}

/** One action being handled: its arguments and a way to return a value. */
export class Call {
  private reader: ObjectReader | null = null;
  private raw: bool = false;

  constructor(public action: Action) {}

  get sender(): u64 { return this.action.sender; }
  get service(): u64 { return this.action.service; }

  /** The arguments: a tuple of the method's parameters, read in order. */
  get args(): ObjectReader {
    let r = this.reader;
    if (r === null) {
      r = ObjectReader.struct(this.action.rawData);
      this.reader = r;
    }
    return r;
  }

  /** The packed arguments; a handler that reads them itself also takes over validating them. */
  get rawData(): Uint8Array {
    this.raw = true;
    return this.action.rawData;
  }

  /** Validate what remains of the arguments; dispatch does this after the handler if it did not. */
  finishArgs(): void {
    if (!this.raw) this.args.done();
  }

  /** Return an already packed value. Methods that return nothing never call this. */
  ret(packed: Uint8Array): void { setRetval(packed.dataStart, <u32>packed.length); }
  retBool(v: bool): void { this.ret(ObjectWriter.fixed().bool(v).finish()); }
  retU32(v: u32): void { this.ret(ObjectWriter.fixed().u32(v).finish()); }
  retI32(v: i32): void { this.ret(ObjectWriter.fixed().i32(v).finish()); }
  retU64(v: u64): void { this.ret(ObjectWriter.fixed().u64(v).finish()); }
  retI64(v: i64): void { this.ret(ObjectWriter.fixed().i64(v).finish()); }
  retString(s: string): void { this.ret(packString(s)); }
  retBytes(b: Uint8Array): void { this.ret(packBytes(b)); }
  retStruct(w: ObjectWriter): void { this.ret(w.finish()); }
}

export type ActionHandler = (call: Call) => void;

const names = new Array<string>();
/** Each name's method number once dispatch has needed it; 0 until then. */
const methods = new Array<u64>();
const handlers = new Array<ActionHandler>();

/**
 * Register the handler of the action `name`. The module's top level runs again for every
 * transaction (each starts from a fresh instance), so the method number, which takes a
 * while to compute, waits until dispatch needs it.
 */
export function action(name: string, handler: ActionHandler): void {
  if (names.includes(name)) abortWith("action registered twice: " + name);
  names.push(name);
  methods.push(0);
  handlers.push(handler);
}

/** The index of the handler of `method`, or -1; computes method numbers in registration order as needed. */
function handlerIndex(method: u64): i32 {
  for (let i = 0; i < names.length; i++) {
    let number = methods[i];
    if (number == 0) {
      number = methodNumber(names[i]);
      methods[i] = number;
    }
    if (number == method) return i;
  }
  // psibase's allowHashedMethods: a name whose code does not fit may come hashed (Rust
  // clients hash it where C++ keeps a truncated code).
  if ((method & HASHED_METHOD) != 0) {
    for (let i = 0; i < names.length; i++) if (hashedMethodNumber(names[i]) == method) return i;
  }
  return -1;
}

const HASHED_METHOD: u64 = 1 << 56;

export function start(thisService: u64): void {
  receiverAccount = thisService;
}

export function called(receiverArg: u64, senderArg: u64): void {
  const previousSender = senderAccount;
  receiverAccount = receiverArg;
  senderAccount = senderArg;
  const act = currentAction();
  const index = handlerIndex(act.method);
  if (index < 0) abortWith("unknown service action: " + methodName(act.method));
  const c = new Call(act);
  handlers[index](c);
  c.finishArgs();
  // A service may be re-entered through `call`; the outer action keeps its sender.
  senderAccount = previousSender;
}

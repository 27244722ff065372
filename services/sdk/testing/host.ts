// A test-only stand-in for psibase's service host: just enough of the `env`
// imports, over an in-memory map, to run SDK-built services from vitest. Each push
// runs in fresh instances, and an abort rolls the map back, as a transaction would.
// The `db` service's `open` is emulated with psibase's prefix rule.

import { FracSchema } from '../../../src/protocol/fracpack/index.ts';
import { packProtocol, protocolSchema, unpackProtocol, type Action } from '../../../src/protocol/types.ts';
import { accountNumber, methodNumber } from '../../../src/protocol/names.ts';

export class ServiceAbort extends Error {
  override name = 'ServiceAbort';
}

const NOT_FOUND = 0xffffffff;
const UNSUPPORTED = ['kvOpen', 'kvOpenAt', 'clockTimeGet', 'getRandom', 'setMaxCpuTime', 'checkoutSubjective', 'commitSubjective', 'abortSubjective', 'socketOpen', 'socketSend', 'socketSetFlags', 'readFile'];
const KV_MODE_WRITE = 2;

const schema = new FracSchema(
  {
    ...protocolSchema,
    DbOpenArgs: { Object: { db: 'u32', prefix: 'hex', mode: 'u8' } },
    HandleList: { List: 'u32' },
  },
  { mode: 'native' },
);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function beU64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.length <= a.length && prefix.every((x, i) => a[i] === x);
}

interface Handle {
  db: number;
  prefix: Uint8Array;
  mode: number;
}

class Context {
  readonly handles: (Handle | undefined)[] = [];
  readonly actions: Uint8Array[] = [];
  result: Uint8Array = new Uint8Array(0);
  key: Uint8Array = new Uint8Array(0);
  imports: number[] = [];
  exports: number[] = [];
  retval: Uint8Array | undefined;
  instance!: WebAssembly.Instance;

  constructor(readonly account: bigint) {}

  memory(): Uint8Array {
    return new Uint8Array((this.instance.exports.memory as WebAssembly.Memory).buffer);
  }
  read(ptr: number, len: number): Uint8Array {
    return this.memory().slice(ptr, ptr + len);
  }
  setResult(value: Uint8Array, key: Uint8Array = new Uint8Array(0)): number {
    this.result = value;
    this.key = key;
    return value.length;
  }
}

export class TestChain {
  /** Full keys (hex) of the `service` database to values. */
  kv = new Map<string, Uint8Array>();
  readonly console: string[] = [];
  /** Every db.open request: who asked for which prefix. */
  readonly opens: { sender: bigint; db: number; prefix: Uint8Array; mode: number }[] = [];
  private readonly code = new Map<bigint, WebAssembly.Module>();
  private contexts = new Map<bigint, Context>();

  deploy(account: string, wasm: Uint8Array<ArrayBuffer>): void {
    this.code.set(accountNumber(account), new WebAssembly.Module(wasm));
  }

  /** Run one action as a transaction of its own; returns the packed return value (empty if none). */
  push(sender: string, service: string, method: string, rawData: Uint8Array): Uint8Array {
    const snapshot = new Map(this.kv);
    this.contexts = new Map();
    try {
      const action = { sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData };
      return this.run(action);
    } catch (e) {
      this.kv = snapshot;
      throw e;
    }
  }

  private context(account: bigint): Context {
    let ctx = this.contexts.get(account);
    if (ctx) return ctx;
    const mod = this.code.get(account);
    if (!mod) throw new ServiceAbort(`service ${account} does not exist`);
    ctx = new Context(account);
    ctx.instance = new WebAssembly.Instance(mod, { env: this.env(ctx) });
    this.contexts.set(account, ctx);
    (ctx.instance.exports.start as (s: bigint) => void)(account);
    return ctx;
  }

  private run(action: Action): Uint8Array {
    if (action.service === accountNumber('db')) return this.dbService(action);
    const ctx = this.context(action.service);
    ctx.actions.push(packProtocol('Action', action));
    const outerRetval = ctx.retval;
    ctx.retval = undefined;
    try {
      (ctx.instance.exports.called as (r: bigint, s: bigint) => void)(action.service, action.sender);
      return ctx.retval ?? new Uint8Array(0);
    } finally {
      ctx.actions.pop();
      ctx.retval = outerRetval;
    }
  }

  private dbService(action: Action): Uint8Array {
    if (action.method !== methodNumber('open')) throw new ServiceAbort('db: unknown action');
    const caller = this.contexts.get(action.sender);
    if (!caller) throw new ServiceAbort('db: caller is not running');
    const args = schema.type('DbOpenArgs').decode(action.rawData) as { db: number; prefix: Uint8Array; mode: number };
    this.opens.push({ sender: action.sender, ...args });
    if (args.db !== 0) throw new ServiceAbort(`db: this test host serves only the service database, not ${args.db}`);
    const owner = beU64(action.sender);
    // psibase: writers need their own 8-byte account prefix; readers share the 7-byte base account.
    const required = args.mode & KV_MODE_WRITE ? owner : owner.subarray(0, 7);
    if (!startsWith(args.prefix, required)) throw new ServiceAbort('db: cannot open another service\'s prefix');
    caller.handles.push({ db: args.db, prefix: args.prefix.slice(), mode: args.mode });
    caller.imports = [caller.handles.length - 1];
    // Returns the packed u32 0: the handle is the first of those it exported.
    return new Uint8Array(4);
  }

  private handle(ctx: Context, h: number): Handle {
    const handle = ctx.handles[h];
    if (!handle) throw new ServiceAbort(`invalid kv handle ${h}`);
    return handle;
  }

  private sortedKeys(): string[] {
    return [...this.kv.keys()].sort();
  }

  private env(ctx: Context): Record<string, (...args: never[]) => unknown> {
    const chain = this;
    const keyOf = (handle: Handle, ptr: number, len: number): Uint8Array => {
      const k = ctx.read(ptr, len);
      const full = new Uint8Array(handle.prefix.length + k.length);
      full.set(handle.prefix);
      full.set(k, handle.prefix.length);
      return full;
    };
    const found = (handle: Handle, full: string | undefined): number => {
      if (full === undefined) {
        ctx.setResult(new Uint8Array(0));
        return NOT_FOUND;
      }
      return ctx.setResult(chain.kv.get(full)!, unhex(full).subarray(handle.prefix.length));
    };
    const unsupported = (name: string) => (): never => {
      throw new ServiceAbort(`${name} is not supported by the test host`);
    };
    return {
      ...Object.fromEntries(UNSUPPORTED.map((name) => [name, unsupported(name)])),
      getResult(dest: number, size: number, offset: number): number {
        if (offset < ctx.result.length) ctx.memory().set(ctx.result.subarray(offset, offset + size), dest);
        return ctx.result.length;
      },
      getKey(dest: number, size: number): number {
        ctx.memory().set(ctx.key.subarray(0, size), dest);
        return ctx.key.length;
      },
      writeConsole(ptr: number, len: number): void {
        chain.console.push(new TextDecoder().decode(ctx.read(ptr, len)));
      },
      abortMessage(ptr: number, len: number): never {
        throw new ServiceAbort(new TextDecoder().decode(ctx.read(ptr, len)));
      },
      getCurrentAction(): number {
        return ctx.setResult(ctx.actions.at(-1)!);
      },
      call(ptr: number, len: number, flags: bigint): number {
        if (flags !== 0n) throw new ServiceAbort('call flags are not supported by the test host');
        const action = unpackProtocol('Action', ctx.read(ptr, len));
        if (action.sender !== ctx.account) throw new ServiceAbort('action sender must be the calling service');
        return ctx.setResult(chain.run(action));
      },
      setRetval(ptr: number, len: number): void {
        ctx.retval = ctx.read(ptr, len);
      },
      importHandles(): number {
        const packed = schema.type('HandleList').encode(ctx.imports);
        ctx.imports = [];
        return ctx.setResult(packed);
      },
      exportHandles(ptr: number, len: number): void {
        ctx.exports = schema.type('HandleList').decode(ctx.read(ptr, len)) as number[];
      },
      kvClose(h: number): void {
        chain.handle(ctx, h);
        ctx.handles[h] = undefined;
      },
      kvPut(h: number, key: number, keyLen: number, value: number, valueLen: number): void {
        const handle = chain.handle(ctx, h);
        if (!(handle.mode & KV_MODE_WRITE)) throw new ServiceAbort('handle is read-only');
        chain.kv.set(hex(keyOf(handle, key, keyLen)), ctx.read(value, valueLen));
      },
      kvRemove(h: number, key: number, keyLen: number): void {
        const handle = chain.handle(ctx, h);
        if (!(handle.mode & KV_MODE_WRITE)) throw new ServiceAbort('handle is read-only');
        chain.kv.delete(hex(keyOf(handle, key, keyLen)));
      },
      kvGet(h: number, key: number, keyLen: number): number {
        const handle = chain.handle(ctx, h);
        const full = hex(keyOf(handle, key, keyLen));
        return found(handle, chain.kv.has(full) ? full : undefined);
      },
      kvGreaterEqual(h: number, key: number, keyLen: number, matchKeySize: number): number {
        const handle = chain.handle(ctx, h);
        const full = hex(keyOf(handle, key, keyLen));
        const match = full.slice(0, 2 * (handle.prefix.length + matchKeySize));
        const next = chain.sortedKeys().find((k) => k >= full);
        return found(handle, next?.startsWith(match) ? next : undefined);
      },
      kvLessThan(h: number, key: number, keyLen: number, matchKeySize: number): number {
        const handle = chain.handle(ctx, h);
        const full = hex(keyOf(handle, key, keyLen));
        const match = full.slice(0, 2 * (handle.prefix.length + matchKeySize));
        const prev = chain.sortedKeys().filter((k) => k < full).at(-1);
        return found(handle, prev?.startsWith(match) ? prev : undefined);
      },
      kvMax(h: number, key: number, keyLen: number): number {
        const handle = chain.handle(ctx, h);
        const prefix = hex(keyOf(handle, key, keyLen));
        return found(handle, chain.sortedKeys().filter((k) => k.startsWith(prefix)).at(-1));
      },
    };
  }
}

/**
 * WAT services for the router tests: each answers every action with a fixed return
 * value, or aborts with a fixed message, so routing is tested without depending on
 * the AssemblyScript services (those run in the node's end-to-end tests).
 */
import { FracSchema } from '../protocol/fracpack/index.ts';
import { protocolSchema, type HttpReply } from '../protocol/types.ts';
import { wat2wasm } from '../vm/test-kit.ts';

const schema = new FracSchema({ ...protocolSchema, OptionalReply: { Option: 'HttpReply' } }, { mode: 'native' });

export const packReply = (reply: HttpReply): Uint8Array => schema.type('HttpReply').encode(reply);
export const packOptionalReply = (reply: HttpReply | null): Uint8Array => schema.type('OptionalReply').encode(reply);

const watBytes = (b: Uint8Array) => Array.from(b, (x) => `\\${x.toString(16).padStart(2, '0')}`).join('');

/** A service whose every action returns `retval`, or aborts with `abort`. */
export function constantService(result: { retval: Uint8Array } | { abort: string }): Promise<Uint8Array> {
  const bytes = 'retval' in result ? result.retval : new TextEncoder().encode(result.abort);
  const call = 'retval' in result ? '$setRetval' : '$abortMessage';
  return wat2wasm(`
(module
  (import "env" "setRetval" (func $setRetval (param i32 i32)))
  (import "env" "abortMessage" (func $abortMessage (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "${watBytes(bytes)}")
  (func (export "start") (param i64))
  (func (export "called") (param i64 i64) (call ${call} (i32.const 16) (i32.const ${bytes.length}))))
`);
}

export function textReply(status: number, text: string, headers: HttpReply['headers'] = []): HttpReply {
  return { status, contentType: 'text/plain', body: new TextEncoder().encode(text), headers };
}

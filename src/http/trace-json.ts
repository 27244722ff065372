/**
 * A TransactionTrace as the text of psibase's JSON form, written straight to a string:
 * exactly `JSON.stringify(transactionTraceJson(trace))` (a test holds them equal), without
 * the object tree in between. Every pushed transaction is answered with one, and most of
 * it is names and hex, which need no escaping; only free text (console output, event
 * names, errors) goes through JSON.stringify.
 */
import { toHex } from '../protocol/fracpack/index.ts';
import { accountName, methodName } from '../protocol/names.ts';
import type { ActionTrace, TransactionTrace } from '../protocol/types.ts';

interface NodeBuffer {
  from(buffer: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'hex'): string };
}
/** Node's Buffer where there is one (its hex is a native loop), else undefined. */
const NodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/** Upper-case hex, as psibase writes bytes. */
function hex(bytes: Uint8Array): string {
  if (NodeBuffer === undefined || bytes.length < 32) return toHex(bytes);
  return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex').toUpperCase();
}

/** Account and method names are [a-z0-9-] (and a `+N` subaccount suffix, `#…` for unnamed methods): no escaping needed. */
function plain(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function actionTraceText(t: ActionTrace): string {
  const a = t.action;
  let s =
    `{"action":{"sender":${plain(accountName(a.sender))},"service":${plain(accountName(a.service))},"method":${plain(methodName(a.method))},` +
    `"rawData":"${hex(a.rawData)}"},"rawRetval":"${hex(t.rawRetval)}","innerTraces":[`;
  const inner = t.innerTraces;
  for (let i = 0; i < inner.length; i++) {
    if (i > 0) s += ',';
    const x = inner[i]!.inner;
    if ('ActionTrace' in x) s += `{"inner":{"ActionTrace":${actionTraceText(x.ActionTrace)}}}`;
    else if ('EventTrace' in x) s += `{"inner":{"EventTrace":{"name":${JSON.stringify(x.EventTrace.name)},"data":"${hex(x.EventTrace.data)}"}}}`;
    else s += `{"inner":{"ConsoleTrace":{"console":${JSON.stringify(x.ConsoleTrace.console)}}}}`;
  }
  return `${s}],"totalTime":"${BigInt.asIntN(64, t.totalTime)}","error":${t.error == null ? 'null' : JSON.stringify(t.error)}}`;
}

export function traceJsonText(trace: TransactionTrace): string {
  let s = '{"actionTraces":[';
  const traces = trace.actionTraces;
  for (let i = 0; i < traces.length; i++) {
    if (i > 0) s += ',';
    s += actionTraceText(traces[i]!);
  }
  return `${s}],"error":${trace.error == null ? 'null' : JSON.stringify(trace.error)}}`;
}

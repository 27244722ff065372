import { describe, expect, it } from 'vitest';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { transactionTraceJson, type ActionTrace, type TransactionTrace } from '../protocol/types.ts';
import { traceJsonText } from './trace-json.ts';

/** A seeded generator, so a failure names a trace that comes back. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function trace(seed: number): TransactionTrace {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const bytes = () => Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256));
  const u64 = () => BigInt(Math.floor(r() * 2 ** 32)) * BigInt(Math.floor(r() * 2 ** 32));
  const account = () => (r() < 0.1 ? 0n : r() < 0.1 ? accountNumber('alice') + 7n : accountNumber(pick(['alice', 'tokens', 'transact', 'a-b-c', 'x', 'zzzzzzzzzz'])));
  // Text that needs escaping: quotes, backslashes, control characters, non-ASCII, lone surrogates.
  const text = () => pick(['', 'ok', 'ünïcödé "quoted"\n', 'back\\slash\ttab\u0001', '\ud800 lone', '</script>', 'insufficient balance']);
  const method = () => methodNumber(pick(['transfer', 'processTransaction', 'credit', 'a', 'getauthof', 'averyveryverylongmethodnamewhichishashed']));
  const action = (depth: number): ActionTrace => ({
    action: { sender: account(), service: account(), method: method(), rawData: bytes() },
    rawRetval: bytes(),
    innerTraces: Array.from({ length: depth > 2 ? 0 : Math.floor(r() * 5) }, () => {
      const k = r();
      if (k < 0.33) return { inner: { ConsoleTrace: { console: text() } } };
      if (k < 0.66) return { inner: { EventTrace: { name: text(), data: bytes() } } };
      return { inner: { ActionTrace: action(depth + 1) } };
    }),
    totalTime: r() < 0.1 ? -5n : r() < 0.1 ? (1n << 64n) - 1n : u64() & ((1n << 63n) - 1n),
    ...(r() < 0.5 && { error: r() < 0.5 ? text() : null }),
  });
  return { actionTraces: Array.from({ length: Math.floor(r() * 4) }, () => action(0)), ...(r() < 0.7 && { error: r() < 0.4 ? text() : null }) };
}

describe('traceJsonText', () => {
  it('is exactly JSON.stringify(transactionTraceJson(trace)), for 1,000 seeded traces', () => {
    for (let seed = 0; seed < 1000; seed++) {
      const t = trace(seed);
      expect(traceJsonText(t), `seed ${seed}`).toBe(JSON.stringify(transactionTraceJson(t)));
    }
  });
});

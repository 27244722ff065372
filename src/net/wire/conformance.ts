/**
 * `npm run conformance -- p2p FILE`: checks a JSON array of peer-protocol vectors
 * `{"type": K, "json": …, "hex": "…"}` where K is a message kind (`PrepareMessage`,
 * `SignedMessage<PrepareMessage>` …; hex = type byte + fracpack) or one of the payload
 * types messages carry (`BlockConfirm`, `ProducerConfirm`, `ExtendedBlockId`; hex = plain
 * fracpack). A vector passes when decoding the hex gives the JSON and encoding the JSON
 * gives the hex. `{"type": K, "hex": "…", "error": true}` must be refused with a
 * MessageDecodeError. `"extended": true` marks bytes of a newer version of the type
 * (unknown trailing fields, which psio::from_frac accepts): they must decode to the
 * JSON of the known fields, and encoding that JSON is not expected to give them back.
 * Other members (e.g. `why`) are comments.
 */
import { fromHex, toHex } from '../../protocol/fracpack/index.ts';
import { jsonEquivalent } from '../../protocol/fracpack/json-equal.ts';
import { VectorFileError, type CheckResult } from '../../protocol/conformance.ts';
import { MessageDecodeError } from './errors.ts';
import {
  decodeMessage,
  decodeMessageAs,
  encodeMessage,
  isSignedMessageName,
  messageFromJson,
  messageToJson,
  packPayload,
  parseKind,
  payloadFromJson,
  payloadToJson,
  unpackPayload,
  type AnyMessage,
  type MessageKind,
  type WirePayloadName,
} from './messages.ts';

export type P2pCheckResult = CheckResult;

/** A vector file that is not an array of vectors at all. */
export class P2pVectorFileError extends VectorFileError {
  override name = 'P2pVectorFileError';
}

const PAYLOADS: ReadonlySet<string> = new Set(['BlockConfirm', 'ProducerConfirm', 'ExtendedBlockId']);
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** psibase's JSON writes byte strings as hex of either case: compare them case-blind. */
function normalize(v: unknown): unknown {
  if (typeof v === 'string') return HEX.test(v) ? v.toUpperCase() : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

export const p2pJsonEqual = (a: unknown, b: unknown): boolean => jsonEquivalent(normalize(a), normalize(b));

const describeError = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function checkOne(v: Record<string, unknown>): string | undefined {
  const type = v.type;
  if (typeof type !== 'string' || typeof v.hex !== 'string') return 'malformed vector (needs string type and hex)';
  const kind = parseKind(type);
  if (!kind && !PAYLOADS.has(type)) return `unknown type ${JSON.stringify(type)}`;
  const bytes = fromHex(v.hex);
  const decode = (b: Uint8Array) => (kind ? decodeMessageAs(type as MessageKind, b) : unpackPayload(type as WirePayloadName, b));
  if (v.error === true) {
    try {
      decode(bytes);
    } catch (e) {
      return e instanceof MessageDecodeError ? undefined : `threw ${describeError(e)} instead of MessageDecodeError`;
    }
    return 'decoded, but must fail';
  }
  if (!('json' in v)) return 'malformed vector (needs json, or error: true)';
  const value = decode(bytes);
  const asJson = kind ? messageToJson(type as MessageKind, value as never) : payloadToJson(type as WirePayloadName, value as never);
  if (!p2pJsonEqual(asJson, v.json)) return `decoded to ${JSON.stringify(asJson)}, expected ${JSON.stringify(v.json)}`;
  if (v.extended === true) return undefined;
  const packed = kind
    ? encodeMessage({ kind: type, value: messageFromJson(type as MessageKind, v.json) } as AnyMessage)
    : packPayload(type as WirePayloadName, payloadFromJson(type as WirePayloadName, v.json) as never);
  if (toHex(packed) !== v.hex.toUpperCase()) return `encoded to ${toHex(packed).toLowerCase()}`;
  // Signed kinds and every message without a signer are what the wire carries under
  // their type byte: the receiving decoder must agree.
  if (kind && (kind.signed || !isSignedMessageName(kind.name))) {
    const wire = decodeMessage(bytes);
    if (wire.kind !== type) return `wire decoder read it as ${wire.kind}`;
  }
  return undefined;
}

export function checkP2pVectors(data: unknown): P2pCheckResult {
  if (!Array.isArray(data)) throw new P2pVectorFileError('expected an array of {type, json, hex} vectors');
  const result: P2pCheckResult = { passed: 0, failures: [] };
  data.forEach((raw, i) => {
    const isObj = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
    const label = isObj ? `vector ${i} (${String((raw as { type?: unknown }).type)})` : `vector ${i}`;
    let problem: string | undefined;
    try {
      problem = isObj ? checkOne(raw as Record<string, unknown>) : 'not an object';
    } catch (e) {
      problem = `threw ${describeError(e)}`;
    }
    if (problem === undefined) result.passed++;
    else result.failures.push(`${label}: ${problem}`);
  });
  return result;
}

/**
 * Packing action arguments from psibase's JSON form with a service's schema (psibase's
 * ServiceSchema: {service, types, actions: {name: {params, result}}},
 * doc/src/specifications/data-formats/schema.md). The built-in services publish theirs
 * (services/<name>/schema.json, served at `packages.<root>/schema?service=…` by
 * src/http/service-schemas.ts); `psiweb push` fetches it from the node, as psibase's CLI
 * does, and the devnet's boot packs with the built-in ones directly.
 */
import { PsiwebError } from '../errors.ts';
import type { CustomHandler, CustomTypes } from '../protocol/fracpack/compile.ts';
import { FracSchema, standardCustomTypes, toHex } from '../protocol/fracpack/index.ts';
import { publicKeyFromPem, publicKeyToPem } from '../crypto/keys.ts';
import { BUILT_IN_SCHEMAS, SHARED_TYPES, type ServiceSchema } from '../http/service-schemas.ts';

export type { ActionSchema, ServiceSchema } from '../http/service-schemas.ts';

export class SchemaLookupError extends PsiwebError {
  override name = 'SchemaLookupError';
}

/**
 * psibase's JSON for a SubjectPublicKeyInfo is its PEM text; hex is accepted too.
 * The bytes are DER, exactly what auth-sig stores.
 */
const publicKeyType: CustomHandler = {
  matches: (base) => standardCustomTypes.get('hex')!.matches(base),
  link(node, base, mode) {
    standardCustomTypes.get('hex')!.link(node, base, mode);
    if (mode !== 'json') return;
    const write = node.write;
    const read = node.read;
    node.write = (w, v) => write(w, typeof v === 'string' && v.includes('-----BEGIN') ? toHex(publicKeyFromPem(v)) : v);
    node.read = (s, allowEmpty) => {
      const hex = read(s, allowEmpty) as string;
      try {
        return publicKeyToPem(Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16)));
      } catch {
        return hex;
      }
    };
  },
};

const customTypes: CustomTypes = new Map([...standardCustomTypes, ['PublicKey', publicKeyType]]);

const compiled = new Map<string, FracSchema>();

function schemaOf(service: string): { schema: ServiceSchema; codec: FracSchema } {
  const schema = BUILT_IN_SCHEMAS.get(service);
  if (!schema) throw new SchemaLookupError(`no schema for service "${service}"; known: ${[...BUILT_IN_SCHEMAS.keys()].join(', ')}`);
  let codec = compiled.get(service);
  if (!codec) {
    codec = new FracSchema({ ...SHARED_TYPES, ...schema.types }, { mode: 'json', customTypes });
    compiled.set(service, codec);
  }
  return { schema, codec };
}

/** The action's fracpacked arguments from their psibase JSON form (EncodeError when they do not fit). */
export function packActionArgs(service: string, method: string, args: unknown): Uint8Array {
  const { schema, codec } = schemaOf(service);
  const action = schema.actions[method];
  if (!action) throw new SchemaLookupError(`service "${service}" has no action "${method}"; it has: ${Object.keys(schema.actions).join(', ')}`);
  return codec.typeOf(action.params).encode(args);
}

/**
 * Packs an action's JSON arguments with a schema the caller has (psibase's
 * ServiceSchema JSON, e.g. the file given to `psiweb deploy` or `push --schema`); and,
 * when the action declares a result type, a decoder for its return value.
 */
export function packWithSchema(schema: ServiceSchema, method: string, args: unknown): { rawData: Uint8Array; decodeResult?: (bytes: Uint8Array) => unknown } {
  if (typeof schema !== 'object' || schema === null || typeof schema.actions !== 'object' || schema.actions === null) {
    throw new SchemaLookupError('not a service schema: a JSON object with an "actions" object');
  }
  const action = schema.actions[method];
  if (!action) throw new SchemaLookupError(`the schema of "${schema.service}" has no action "${method}"; it has: ${Object.keys(schema.actions).join(', ')}`);
  const codec = new FracSchema({ ...SHARED_TYPES, ...(schema.types ?? {}) }, { mode: 'json', customTypes });
  const rawData = codec.typeOf(action.params).encode(args);
  const result = action.result;
  return result === undefined ? { rawData } : { rawData, decodeResult: (bytes) => codec.typeOf(result).decode(bytes) };
}

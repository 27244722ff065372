/**
 * The schemas psiweb's built-in services publish, and `packages.<root>/schema?service=NAME`,
 * where psibase clients (its CLI's push, rpc.rs's HttpSchemaFetcher) fetch them.
 *
 * Each service declares its schema beside its source, `services/<name>/schema.json`, in
 * psibase's ServiceSchema format (doc/src/specifications/data-formats/schema.md), naming
 * shared types (u64, AccountNumber, Producer, …) it does not define itself. What is
 * published is self-contained, as psibase's is: the shared types the schema reaches are
 * copied into its `types`. psibase's `packages` service stores schemas in a table at
 * install and its RPackages serves them; psiweb has no packages service, so the node
 * answers the endpoint itself (like the chain GraphQL queries), for a built-in service
 * that is deployed on the chain (a service without a schema, or not deployed: 404).
 */
import { accountNumber, isValidAccountName } from '../protocol/names.ts';
import type { AnyType, Schema } from '../protocol/fracpack/index.ts';
import { protocolSchema } from '../protocol/schema.ts';
import { HttpError } from './errors.ts';
import { corsHeaders, jsonResponse, preflightResponse } from './responses.ts';
import accountsSchema from '../../services/accounts/schema.json' with { type: 'json' };
import authAnySchema from '../../services/auth-any/schema.json' with { type: 'json' };
import authDelgSchema from '../../services/auth-delg/schema.json' with { type: 'json' };
import authSigSchema from '../../services/auth-sig/schema.json' with { type: 'json' };
import commonApiSchema from '../../services/common-api/schema.json' with { type: 'json' };
import dbSchema from '../../services/db/schema.json' with { type: 'json' };
import exampleSchema from '../../services/example/schema.json' with { type: 'json' };
import httpSchema from '../../services/http/schema.json' with { type: 'json' };
import producersSchema from '../../services/producers/schema.json' with { type: 'json' };
import setcodeSchema from '../../services/setcode/schema.json' with { type: 'json' };
import sitesSchema from '../../services/sites/schema.json' with { type: 'json' };
import tokensSchema from '../../services/tokens/schema.json' with { type: 'json' };
import transactSchema from '../../services/transact/schema.json' with { type: 'json' };
import verifySigSchema from '../../services/verify-sig/schema.json' with { type: 'json' };

export interface ActionSchema {
  /** An Object type: the action's parameters, in order. */
  params: AnyType;
  result?: AnyType;
}

export interface ServiceSchema {
  service: string;
  types: Schema;
  actions: Record<string, ActionSchema>;
}

/** The path psibase's packages service answers schemas on. */
export const SCHEMA_PATH = '/schema';
export const PACKAGES = accountNumber('packages');

/** Types services' schemas may name without defining: psibase's protocol types and a few more. */
export const SHARED_TYPES: Schema = {
  ...protocolSchema,
  i32: { Int: { bits: 32, isSigned: true } },
  // A SubjectPublicKeyInfo's DER bytes; psiweb's JSON for it is PEM (src/node/schemas.ts).
  PublicKey: { Custom: { type: { List: 'u8' }, id: 'PublicKey' } },
  ServiceMethod: { Object: { service: 'AccountNumber', method: 'MethodNumber' } },
};

/** The schemas as declared beside the services' sources. */
const DECLARED = [
  accountsSchema,
  authAnySchema,
  authDelgSchema,
  authSigSchema,
  commonApiSchema,
  dbSchema,
  exampleSchema,
  httpSchema,
  producersSchema,
  setcodeSchema,
  sitesSchema,
  tokensSchema,
  transactSchema,
  verifySigSchema,
] as unknown as ServiceSchema[];

/** Every named type `type` reaches, from SHARED_TYPES into `into`, unless the schema defines it. */
function collect(type: AnyType | undefined, own: Schema, into: Schema): void {
  if (type === undefined || type === null) return;
  if (typeof type === 'string') {
    if (type in own || type in into) return;
    const shared = SHARED_TYPES[type];
    if (shared === undefined) throw new TypeError(`type "${type}" is neither defined by the schema nor shared`);
    into[type] = shared;
    collect(shared, own, into);
    return;
  }
  const [kind, body] = Object.entries(type as Record<string, unknown>)[0] ?? [];
  switch (kind) {
    case 'Object':
    case 'Struct':
    case 'Variant':
      for (const t of Object.values(body as Record<string, AnyType>)) collect(t, own, into);
      return;
    case 'Tuple':
      for (const t of body as AnyType[]) collect(t, own, into);
      return;
    case 'List':
    case 'Option':
    case 'FracPack':
      collect(body as AnyType, own, into);
      return;
    case 'Array':
    case 'Custom':
      collect((body as { type: AnyType }).type, own, into);
      return;
    default:
      return; // Int, Float
  }
}

/** A declared schema with the shared types it names added, as psibase publishes schemas (self-contained). */
export function publishSchema(declared: ServiceSchema): ServiceSchema {
  const own = declared.types ?? {};
  const added: Schema = {};
  for (const t of Object.values(own)) collect(t, own, added);
  for (const a of Object.values(declared.actions)) {
    collect(a.params, own, added);
    collect(a.result, own, added);
  }
  return { service: declared.service, types: { ...added, ...own }, actions: declared.actions };
}

/** The published schemas of psiweb's built-in services, by service name. */
export const BUILT_IN_SCHEMAS: ReadonlyMap<string, ServiceSchema> = new Map(DECLARED.map((s) => [s.service, publishSchema(s)]));

/**
 * `GET packages.<root>/schema?service=NAME`: the service's schema as JSON, CORS-open
 * (RPackages' allowCors). `hasCode` tells whether the service is deployed.
 */
export async function serveSchema(request: Request, url: URL, hasCode: (service: bigint) => Promise<boolean>): Promise<Response> {
  if (request.method === 'OPTIONS') return preflightResponse('GET, HEAD, OPTIONS');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new HttpError(405, `${SCHEMA_PATH} answers GET, not ${request.method}`, { headers: { ...corsHeaders(), Allow: 'GET, HEAD, OPTIONS' } });
  }
  const names = url.searchParams.getAll('service');
  if (names.length !== 1) {
    throw new HttpError(400, `${SCHEMA_PATH} needs one ?service=NAME query parameter, got ${names.length}`, { headers: corsHeaders() });
  }
  const name = names[0]!;
  if (!isValidAccountName(name)) throw new HttpError(400, `service "${name}" is not an account name`, { headers: corsHeaders() });
  const schema = BUILT_IN_SCHEMAS.get(name);
  if (!schema || !(await hasCode(accountNumber(name)))) {
    throw new HttpError(404, `No schema for service '${name}'${schema ? ' (it is not deployed on this chain)' : ''}`, { headers: corsHeaders() });
  }
  return jsonResponse(schema, 200, corsHeaders());
}

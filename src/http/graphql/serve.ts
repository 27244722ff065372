/**
 * `/graphql` over HTTP, as psibase's serveGraphQL answers it, CORS-open:
 *  - `GET /graphql`: the schema (SDL, text).
 *  - `GET /graphql?query=…` (and `POST /graphql?query=…`): run the query in the URL;
 *    `variables` (JSON) and `operationName` may be given beside it.
 *  - `POST /graphql` with `application/json`: `{"query": "…", "variables": {…},
 *    "operationName": "…"}`; with `application/graphql`: the body is the query.
 * Every answer to a query is 200 with `{"data": …, "errors": […]}` (psibase's clients
 * look for `errors`); a body that is not JSON is 400, a body of another type 415.
 */
import { HttpError } from '../errors.ts';
import { corsHeaders, jsonResponse, preflightResponse, textResponse } from '../responses.ts';
import { DEFAULT_LIMITS, execute, type ExecutionLimits, type GraphqlRequest, type GraphqlResponse } from './execute.ts';
import { printSchema, type Schema } from './schema.ts';

export const GRAPHQL_PATH = '/graphql';
const METHODS = 'GET, POST, HEAD, OPTIONS';

/** Runs one request's query; `run` picks the context (and may retry on a new head). */
export type GraphqlRunner = (request: GraphqlRequest) => Promise<GraphqlResponse>;

function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function badRequest(message: string, status = 400): Response {
  return jsonResponse({ errors: [{ message }] }, status, corsHeaders());
}

/** The request's query from the URL (`?query=`), or undefined when it has none. */
function fromUrl(url: URL): GraphqlRequest | Response | undefined {
  const query = url.searchParams.get('query');
  if (query === null) return undefined;
  const out: GraphqlRequest = { query };
  const vars = url.searchParams.get('variables');
  if (vars !== null && vars !== '') {
    try {
      out.variables = JSON.parse(vars) as Record<string, unknown>;
    } catch (e) {
      return badRequest(`"variables" is not JSON: ${(e as Error).message}`);
    }
  }
  const op = url.searchParams.get('operationName');
  if (op) out.operationName = op;
  return out;
}

function fromBody(request: Request, body: Uint8Array): GraphqlRequest | Response {
  const type = mediaType(request.headers.get('content-type'));
  const text = new TextDecoder().decode(body);
  if (type === 'application/graphql') return { query: text };
  if (type !== 'application/json') {
    return badRequest(`POST ${GRAPHQL_PATH} takes application/json ({"query": "…"}) or application/graphql, not ${JSON.stringify(type || 'no content type')}`, 415);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return badRequest(`the body is not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return badRequest('the body must be a JSON object: {"query": "…"}');
  const { query, variables, operationName } = json as Record<string, unknown>;
  if (typeof query !== 'string') return badRequest('the body has no "query" string: send {"query": "…"}');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return badRequest('"operationName" must be a string');
  return { query, variables: variables as Record<string, unknown> | null, operationName: (operationName as string | null | undefined) ?? null };
}

/** Answers a request for `/graphql` on a service that has `schema`. */
export async function serveGraphql(request: Request, url: URL, body: Uint8Array, schema: Schema<any>, run: GraphqlRunner): Promise<Response> {
  if (request.method === 'OPTIONS') return preflightResponse(METHODS);
  let req: GraphqlRequest | Response | undefined = fromUrl(url);
  if (request.method === 'GET' || request.method === 'HEAD') {
    req ??= textResponse(printSchema(schema), 200, corsHeaders());
  } else if (request.method === 'POST') {
    req ??= fromBody(request, body);
  } else {
    throw new HttpError(405, `${GRAPHQL_PATH} does not accept the method ${request.method}`, { headers: { ...corsHeaders(), Allow: METHODS } });
  }
  if (req instanceof Response) return req;
  return jsonResponse(await run(req), 200, corsHeaders());
}

/** Runs `request` against `schema` with the context `open()` gives, to completion. */
export function runner<Ctx>(schema: Schema<Ctx>, open: () => Promise<Ctx>, limits: ExecutionLimits = DEFAULT_LIMITS): GraphqlRunner {
  return async (request) => execute(schema, request, await open(), limits);
}

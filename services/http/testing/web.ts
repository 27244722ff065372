// Shared by the http, sites, common-api and tokens tests: psibase's HTTP types and a
// way to send a request through the `http` service as the node (x-http) does.
import { FracSchema } from '../../../src/protocol/fracpack/index.ts';
import { protocolSchema } from '../../../src/protocol/types.ts';
import type { VmChain } from '../../sdk/testing/vm.ts';

export const webSchema = new FracSchema(
  {
    ...protocolSchema,
    ServeArgs: { Object: { socket: 'i32', req: 'HttpRequest' } },
    ServeSysArgs: { Object: { request: 'HttpRequest', socket: { Option: 'i32' } } },
    OptionalReply: { Option: 'HttpReply' },
    i32: { Int: { bits: 32, isSigned: true } },
  },
  { mode: 'native' },
);

export interface Header {
  name: string;
  value: string;
}

export interface Request {
  host: string;
  method: string;
  target: string;
  contentType: string;
  headers: Header[];
  body: Uint8Array;
}

export interface Reply {
  status: number;
  contentType: string;
  body: Uint8Array;
  headers: Header[];
}

export const ROOT = 'psiweb.localhost';

export function request(host: string, target: string, init: Partial<Request> = {}): Request {
  return { host, method: 'GET', target, contentType: '', headers: [], body: new Uint8Array(0), ...init };
}

/** Runs `http::serve` as x-http; throws with the abort message if the service aborts. */
export function serve(chain: VmChain, req: Request, socket = 7): Reply {
  const r = chain.push('x-http', 'http', 'serve', webSchema.type('ServeArgs').encode({ socket, req }));
  if (r.error) throw r.error;
  return webSchema.type('HttpReply').decode(r.retval) as Reply;
}

export function get(chain: VmChain, service: string, target: string, init: Partial<Request> = {}): Reply {
  return serve(chain, request(service ? `${service}.${ROOT}` : ROOT, target, init));
}

export const text = (reply: Reply): string => new TextDecoder().decode(reply.body);

export function header(reply: Reply, name: string): string | undefined {
  return reply.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

export const CORS = [
  { name: 'Access-Control-Allow-Origin', value: '*' },
  { name: 'Access-Control-Allow-Methods', value: 'POST, GET, OPTIONS, HEAD, PUT, DELETE' },
  { name: 'Access-Control-Allow-Headers', value: '*' },
];

/** The services an HTTP request passes through, plus the x-http stand-in. */
export const WEB_SERVICES = {
  'x-http': 'services/http/testing/x-http.ts',
  http: 'services/http/http.ts',
  sites: 'services/sites/sites.ts',
};

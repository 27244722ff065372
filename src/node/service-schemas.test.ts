/**
 * The schemas the built-in services publish (services/<name>/schema.json, served at
 * `packages.<root>/schema?service=NAME` by src/http/service-schemas.ts), over a booted
 * devnet: every devnet service publishes one, self-contained, and each action's
 * parameters are what its handler reads — arguments packed from the schema run in the
 * VM without a fracpack error, and the same arguments without their last field do not;
 * what an action returns decodes as its declared result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../chain/executor.ts';
import { Router } from '../http/router.ts';
import { BUILT_IN_SCHEMAS, type ServiceSchema } from '../http/service-schemas.ts';
import { FracSchema, standardCustomTypes, type AnyType, type Schema } from '../protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { MemoryStore, StateDb, WriteOverlay } from '../state/index.ts';
import { bootDevnet, DEVNET_SERVICES, loadDevnet } from './devnet.ts';
import { packWithSchema } from './schemas.ts';

// A cold services/build compiles every service first.
const BUILD_TIMEOUT_MS = 300_000;
const ROOT = 'psiweb.localhost';
let chain: Chain;
let router: Router;

beforeAll(async () => {
  const devnet = await loadDevnet();
  chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  await bootDevnet(chain, devnet, 1_700_000_000_000_000n);
  router = new Router({ rootHost: ROOT, chain });
}, BUILD_TIMEOUT_MS);

const get = (path: string, init: RequestInit = {}) => router.handle(new Request(`http://packages.${ROOT}${path}`, init));

/** Actions whose handler refuses other senders before reading its arguments: the sender that gets past that check. */
const SENDERS: Record<string, string> = { 'http::serve': 'x-http' };

/**
 * Actions the service cannot be called by under the number psiweb's clients give their
 * name. None now: src/protocol/names.ts hashes a name whose code runs past 64 bits (as
 * psibase's Rust does) where services/sdk keeps the truncated code (as psibase's C++
 * method_to_number does), and the SDK's dispatch accepts the hashed number too, as
 * psibase's allowHashedMethods() does (transact's removeCallback and checkFirstAuth).
 */
const UNREACHABLE = new Set<string>();

/** Runs an action from alice (or SENDERS') against the head as a transaction would, without committing it: its error message, or its return value. */
function runAction(service: string, method: string, rawData: Uint8Array): { error?: string; retval?: Uint8Array } {
  const sender = SENDERS[`${service}::${method}`] ?? 'alice';
  const reader = chain.state.reader;
  const tx = chain.host.transaction({ state: new WriteOverlay(reader), codeFor: (s) => chain.codeFor(reader, s), mode: 'transaction' });
  try {
    const { trace, error } = tx.runAction({ sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData });
    return error ? { error: String((error as Error).message ?? error) } : { retval: trace.rawRetval };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    tx.close();
  }
}
const run = (service: string, method: string, rawData: Uint8Array) => runAction(service, method, rawData).error;

/** A JSON value of `type` (zeros, empty lists, none, the first alternative). */
function sample(type: AnyType, types: Schema): unknown {
  if (typeof type === 'string') return sample(types[type]!, types);
  const [kind, body] = Object.entries(type as Record<string, unknown>)[0]!;
  switch (kind) {
    case 'Custom': {
      const { id, type: base } = body as { id: string; type: AnyType };
      if (id === 'bool') return false;
      if (id === 'string') return '';
      if (id === 'AccountNumber') return 'alice';
      if (id === 'MethodNumber') return 'transfer';
      if (id === 'TimePointSec' || id === 'TimePointUSec') return '2030-01-01T00:00:00Z';
      if (id === 'hex' || id === 'PublicKey') {
        const resolved = typeof base === 'string' ? types[base]! : base;
        const len = (resolved as { Array?: { len: number } }).Array?.len ?? 0;
        return '00'.repeat(len);
      }
      return sample(base, types);
    }
    case 'Int':
      return 0;
    case 'Object':
    case 'Struct':
      return Object.fromEntries(Object.entries(body as Record<string, AnyType>).map(([k, t]) => [k, sample(t, types)]));
    case 'Variant': {
      const [name, t] = Object.entries(body as Record<string, AnyType>)[0]!;
      return { [name]: sample(t, types) };
    }
    case 'List':
      return [];
    case 'FracPack':
      return sample(body as AnyType, types);
    case 'Option':
      return null;
    case 'Array': {
      const { type: t, len } = body as { type: AnyType; len: number };
      return Array.from({ length: len }, () => sample(t, types));
    }
    case 'Tuple':
      return (body as AnyType[]).map((t) => sample(t, types));
    default:
      throw new Error(`no sample for ${kind}`);
  }
}

/**
 * The action names a service's source registers: `action("name", …)`, and `serveSys`
 * for a service that serves HTTP through the SDK's serveHttp (which registers it).
 */
function registeredActions(service: string): Set<string> {
  const source = readFileSync(join('services', service, `${service}.ts`), 'utf8');
  const names = new Set([...source.matchAll(/^action\("([A-Za-z0-9]+)"/gm)].map((m) => m[1]!));
  if (/^serveHttp\(/m.test(source)) names.add('serveSys');
  return names;
}

describe('packages.<root>/schema', () => {
  it('answers every devnet service with its published schema, self-contained and CORS-open', async () => {
    for (const { name } of DEVNET_SERVICES) {
      const res = await get(`/schema?service=${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const schema = (await res.json()) as ServiceSchema;
      expect(schema).toEqual(BUILT_IN_SCHEMAS.get(name));
      expect(schema.service).toBe(name);
      // Self-contained: every type it names is in its own `types` (no psiweb-only table).
      const codec = new FracSchema(schema.types, { mode: 'json', customTypes: standardCustomTypes });
      for (const [method, action] of Object.entries(schema.actions)) {
        expect(() => codec.typeOf(action.params), `${name}::${method}`).not.toThrow();
        if (action.result !== undefined) expect(() => codec.typeOf(action.result!), `${name}::${method} result`).not.toThrow();
      }
    }
  });

  it('refuses bad queries with 400, unknown services with 404, other methods with 405', async () => {
    const cases: [string, number, RegExp][] = [
      ['/schema', 400, /needs one \?service=NAME query parameter, got 0/],
      ['/schema?service=tokens&service=accounts', 400, /got 2/],
      ['/schema?service=Not%20A%20Name', 400, /"Not A Name" is not an account name/],
      ['/schema?service=nosuchsvc', 404, /^No schema for service 'nosuchsvc'$/],
      // A built-in service this chain does not run (no code on the account).
      ['/schema?service=example', 404, /^No schema for service 'example' \(it is not deployed on this chain\)$/],
    ];
    for (const [path, status, message] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(status);
      expect(await res.text(), path).toMatch(message);
    }
    const post = await get('/schema?service=tokens', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect((await get('/schema?service=tokens', { method: 'OPTIONS' })).status).toBeLessThan(300);
    // Still serving.
    expect((await get('/schema?service=tokens')).status).toBe(200);
  });
});

describe("built-in schemas match their services' handlers", () => {
  it('names only actions the service registers', () => {
    for (const [name, schema] of BUILT_IN_SCHEMAS) {
      const registered = registeredActions(name);
      for (const method of Object.keys(schema.actions)) expect(registered.has(method), `${name}::${method}`).toBe(true);
    }
  });

  it('names every action the service registers', () => {
    let registeredCount = 0;
    for (const [name, schema] of BUILT_IN_SCHEMAS) {
      const registered = registeredActions(name);
      registeredCount += registered.size;
      const missing = [...registered].filter((method) => !(method in schema.actions));
      expect(missing, `${name}'s schema.json lacks these registered actions`).toEqual([]);
    }
    // The source scan finds actions (a scan that found none would pass vacuously).
    expect(registeredCount).toBeGreaterThan(80);
  });

  it('packs arguments each handler reads in full, and no fewer; results decode as declared', () => {
    const checked: string[] = [];
    const returned: string[] = [];
    for (const { name } of DEVNET_SERVICES) {
      const schema = BUILT_IN_SCHEMAS.get(name)!;
      for (const [method, action] of Object.entries(schema.actions)) {
        const fields = (action.params as { Object: Record<string, AnyType> }).Object;
        const args = sample(action.params, schema.types) as Record<string, unknown>;
        const packed = packWithSchema(schema, method, args);
        const { error, retval } = runAction(name, method, packed.rawData);
        const unreachable = /unknown service action/.test(error ?? '');
        expect(unreachable, `${name}::${method} reached (${error ?? 'no error'})`).toBe(UNREACHABLE.has(`${name}::${method}`));
        if (unreachable) continue;
        expect(error ?? '', `${name}::${method} with ${JSON.stringify(args)}`).not.toMatch(/fracpack/);
        // A return value is exactly the declared result (a result and no declared one: none at all).
        if (retval !== undefined && packed.decodeResult) {
          expect(() => packed.decodeResult!(retval), `${name}::${method} result`).not.toThrow();
          returned.push(`${name}::${method}`);
        } else if (retval !== undefined) expect(retval, `${name}::${method} returns nothing`).toHaveLength(0);
        // Without its last field (unless an optional one, which fracpack may leave out),
        // a handler reading the whole schema runs out of arguments.
        const names = Object.keys(fields);
        const last = names[names.length - 1];
        if (last === undefined || 'Option' in (typeof fields[last] === 'object' ? (fields[last] as object) : {})) continue;
        const shorter = { ...schema, actions: { [method]: { params: { Object: Object.fromEntries(names.slice(0, -1).map((n) => [n, fields[n]!])) } } } };
        const { [last]: _dropped, ...rest } = args;
        const shortError = run(name, method, packWithSchema(shorter, method, rest).rawData);
        // The SDK's readers say "fracpack"; transact's checkFirstAuth reads its raw arguments itself.
        expect(shortError ?? '', `${name}::${method} without ${last}`).toMatch(/fracpack|transaction has invalid format/);
        checked.push(`${name}::${method}`);
      }
    }
    expect(checked.length).toBeGreaterThan(30);
    expect(returned.length).toBeGreaterThan(8);
  });
});

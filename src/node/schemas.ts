/**
 * Action schemas of the services a devnet runs, for packing JSON arguments
 * (`psiweb push`). psibase services publish a ServiceSchema ({service, types, actions:
 * {name: {params, result}}}, doc/src/specifications/data-formats/schema.md) that the
 * `packages` service stores and serves at `/schema?service=…`, and psibase's CLI packs
 * from it. psiweb's AssemblyScript services publish none yet, so their schemas live
 * here, written in the same format with psibase's parameter names, from what each
 * service's handlers read.
 */
import { PsiwebError } from '../errors.ts';
import type { CustomHandler, CustomTypes } from '../protocol/fracpack/compile.ts';
import { FracSchema, standardCustomTypes, toHex, type AnyType, type Schema } from '../protocol/fracpack/index.ts';
import { protocolSchema } from '../protocol/schema.ts';
import { publicKeyFromPem, publicKeyToPem } from '../crypto/keys.ts';

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

export class SchemaLookupError extends PsiwebError {
  override name = 'SchemaLookupError';
}

const obj = (fields: Record<string, AnyType>): AnyType => ({ Object: fields });
const none = obj({});

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

const sharedTypes: Schema = {
  ...protocolSchema,
  i32: { Int: { bits: 32, isSigned: true } },
  PublicKey: { Custom: { type: { List: 'u8' }, id: 'PublicKey' } },
};

export const SERVICE_SCHEMAS: Record<string, ServiceSchema> = {
  transact: {
    service: 'transact',
    types: {},
    actions: {
      startBoot: { params: obj({ bootTransactions: { List: 'Checksum256' } }) },
      finishBoot: { params: none },
      setSnapTime: { params: obj({ seconds: 'u32' }) },
    },
  },
  accounts: {
    service: 'accounts',
    types: {},
    actions: {
      init: { params: none },
      newAccount: { params: obj({ name: 'AccountNumber', authService: 'AccountNumber', requireMatch: 'bool' }) },
      setAuthServ: { params: obj({ authService: 'AccountNumber' }) },
      exists: { params: obj({ name: 'AccountNumber' }), result: 'bool' },
      preapproveAcc: { params: obj({ name: 'AccountNumber' }) },
    },
  },
  'auth-sig': {
    service: 'auth-sig',
    types: {},
    actions: {
      setKey: { params: obj({ key: 'PublicKey' }) },
      newAccount: { params: obj({ name: 'AccountNumber', key: 'PublicKey' }) },
    },
  },
  'auth-delg': {
    service: 'auth-delg',
    types: {},
    actions: {
      setOwner: { params: obj({ owner: 'AccountNumber' }) },
      newAccount: { params: obj({ name: 'AccountNumber', owner: 'AccountNumber', requireMatch: 'bool' }) },
    },
  },
  setcode: {
    service: 'setcode',
    types: {},
    actions: {
      init: { params: none },
      setCode: { params: obj({ service: 'AccountNumber', vmType: 'u8', vmVersion: 'u8', code: 'hex' }) },
      stageCode: { params: obj({ service: 'AccountNumber', id: 'u64', vmType: 'u8', vmVersion: 'u8', code: 'hex' }) },
      unstageCode: { params: obj({ service: 'AccountNumber', id: 'u64' }) },
      setCodeStaged: { params: obj({ from: 'AccountNumber', id: 'u64', vmType: 'u8', vmVersion: 'u8', codeHash: 'Checksum256' }) },
      setFlags: { params: obj({ service: 'AccountNumber', flags: 'u64' }) },
    },
  },
  producers: {
    service: 'producers',
    types: {},
    actions: {
      setConsensus: { params: obj({ consensus: 'ConsensusData' }) },
      setProducers: { params: obj({ prods: { List: 'Producer' } }) },
      regCandidate: { params: obj({ endpoint: 'string', claim: 'Claim' }) },
      unregCand: { params: none },
      setMaxProds: { params: obj({ maxProds: 'u8' }) },
    },
  },
  http: {
    service: 'http',
    types: {},
    actions: {
      registerServer: { params: obj({ server: 'AccountNumber' }) },
      setRedirect: { params: obj({ destination: 'AccountNumber' }) },
      clearRedirect: { params: none },
    },
  },
  sites: {
    service: 'sites',
    types: {},
    actions: {
      storeSys: { params: obj({ path: 'string', contentType: 'string', contentEncoding: { Option: 'string' }, content: 'hex' }) },
      hardlink: { params: obj({ path: 'string', contentType: 'string', contentEncoding: { Option: 'string' }, contentHash: 'Checksum256' }) },
      remove: { params: obj({ path: 'string' }) },
      enableSpa: { params: obj({ enable: 'bool' }) },
      enableCache: { params: obj({ enable: 'bool' }) },
      setCsp: { params: obj({ path: 'string', csp: 'string' }) },
      deleteCsp: { params: obj({ path: 'string' }) },
      setProxy: { params: obj({ proxy: 'AccountNumber' }) },
      clearProxy: { params: none },
    },
  },
  tokens: {
    service: 'tokens',
    types: {},
    actions: {
      init: { params: obj({ supply: 'u64', owner: { Option: 'AccountNumber' } }) },
      transfer: { params: obj({ to: 'AccountNumber', amount: 'u64', memo: 'string' }) },
      balance: { params: obj({ account: 'AccountNumber' }), result: 'u64' },
    },
  },
};

const compiled = new Map<string, FracSchema>();

function schemaOf(service: string): { schema: ServiceSchema; codec: FracSchema } {
  const schema = SERVICE_SCHEMAS[service];
  if (!schema) throw new SchemaLookupError(`no schema for service "${service}"; known: ${Object.keys(SERVICE_SCHEMAS).join(', ')}`);
  let codec = compiled.get(service);
  if (!codec) {
    codec = new FracSchema({ ...sharedTypes, ...schema.types }, { mode: 'json', customTypes });
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
  const codec = new FracSchema({ ...sharedTypes, ...(schema.types ?? {}) }, { mode: 'json', customTypes });
  const rawData = codec.typeOf(action.params).encode(args);
  const result = action.result;
  return result === undefined ? { rawData } : { rawData, decodeResult: (bytes) => codec.typeOf(result).decode(bytes) };
}

// common-api on psiweb's real service host, reached through http on any subdomain:
// the JSON shapes psibase answers, and JSON → fracpack for transactions checked
// against psiweb's own protocol codec.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FracSchema } from '../../src/protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { packProtocol, protocolSchema } from '../../src/protocol/types.ts';
import { DbId, dbKey } from '../../src/vm/index.ts';
import { CORS, get, request, ROOT, serve, text, WEB_SERVICES, webSchema } from '../http/testing/web.ts';
import { VmChain } from '../sdk/testing/vm.ts';
import { storeSysArgs } from '../sites/upload.ts';

// Compiling services takes seconds each, more when other test files compile alongside.
const COMPILE_TIMEOUT_MS = 300_000;

// The leading fields of psibase's StatusRow, which are all common-api reads; the
// service must not depend on what follows them.
const schema = new FracSchema(
  {
    ...protocolSchema,
    HeaderStart: { Object: { previous: 'Checksum256', blockNum: 'u32' } },
    BlockInfoStart: { Object: { header: 'HeaderStart', blockId: 'Checksum256' } },
    StatusStart: { Object: { chainId: 'Checksum256', current: 'HeaderStart', head: { Option: 'BlockInfoStart' }, consensus: 'hex' } },
    Account: { Object: { account: 'AccountNumber' } },
  },
  { mode: 'native' },
);

let chain: VmChain;
beforeAll(async () => {
  chain = await VmChain.create({ ...WEB_SERVICES, 'common-api': 'services/common-api/common-api.ts' });
  const r = chain.push('common-api', 'http', 'registerServer', schema.type('Account').encode({ account: accountNumber('common-api') }));
  if (r.error) throw r.error;
}, COMPILE_TIMEOUT_MS);

const STATUS_KEY = dbKey(DbId.native, new Uint8Array([0, 1, 0]));
const chainIdBytes = createHash('sha256').update('test chain').digest();

function setStatus(head: { blockNum: number; blockId: Uint8Array } | null): void {
  const header = (blockNum: number) => ({ previous: new Uint8Array(32), blockNum });
  chain.state.put(STATUS_KEY, schema.type('StatusStart').encode({
    chainId: new Uint8Array(chainIdBytes),
    current: header((head?.blockNum ?? 0) + 1),
    head: head && { header: header(head.blockNum), blockId: head.blockId },
    consensus: new Uint8Array([1, 2, 3]),
  }));
}

const json = (service: string, target: string) => {
  const reply = get(chain, service, target);
  expect(reply.status).toBe(200);
  expect(reply.contentType).toBe('application/json');
  expect(reply.headers).toEqual(CORS);
  return JSON.parse(text(reply));
};

const post = (target: string, body: unknown) =>
  get(chain, 'alice', target, { method: 'POST', contentType: 'application/json', body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)) });

describe('common-api', () => {
  it('answers /common/thisservice and /common/rootdomain on every subdomain', () => {
    expect(json('alice', '/common/thisservice')).toBe('alice');
    expect(json('tokens', '/common/thisservice')).toBe('tokens');
    expect(json('tokens', '/common/rootdomain')).toBe(ROOT);
  });

  it('answers the chain id as psio writes a checksum', () => {
    setStatus(null);
    expect(json('alice', '/common/chainid')).toBe(chainIdBytes.toString('hex').toUpperCase());
  });

  it('answers the head block\'s TaPoS, or zeros before the first block', () => {
    setStatus(null);
    expect(json('alice', '/common/tapos/head')).toEqual({ refBlockIndex: 0, refBlockSuffix: 0 });
    const blockId = new Uint8Array(32).map((_, i) => i + 1);
    setStatus({ blockNum: 300, blockId });
    // 300 & 0x7f = 44; bytes 28..31 = 29,30,31,32 read little-endian
    expect(json('alice', '/common/tapos/head')).toEqual({ refBlockIndex: 44, refBlockSuffix: 0x201f1e1d });
  });

  it('leaves other /common/ paths to common-api\'s files in sites', () => {
    const r = chain.push('common-api', 'sites', 'storeSys', storeSysArgs({ path: '/common/common-lib.js', contentType: 'text/javascript', content: new TextEncoder().encode('export {}') }));
    expect(r.error).toBeUndefined();
    expect(text(get(chain, 'bob', '/common/common-lib.js'))).toBe('export {}');
    expect(get(chain, 'bob', '/common/nothing').status).toBe(404);
  });

  const tx = {
    tapos: { expiration: '2022-05-31T21:32:23Z', refBlockSuffix: 4000000000, flags: 0, refBlockIndex: 44 },
    actions: [{ sender: 'alice', service: 'tokens', method: 'transfer', rawData: '0A0b' }],
    claims: [{ service: 'verify-sig', rawData: '00ff' }],
  };
  const txPacked = packProtocol('Transaction', {
    tapos: { expiration: BigInt(Date.UTC(2022, 4, 31, 21, 32, 23) / 1000), refBlockSuffix: 4000000000, flags: 0, refBlockIndex: 44 },
    actions: [{ sender: accountNumber('alice'), service: accountNumber('tokens'), method: methodNumber('transfer'), rawData: new Uint8Array([10, 11]) }],
    claims: [{ service: accountNumber('verify-sig'), rawData: new Uint8Array([0, 255]) }],
  });

  it('packs a Transaction from JSON', () => {
    const reply = post('/common/pack/Transaction', tx);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/octet-stream');
    expect(reply.headers).toEqual(CORS);
    expect(Buffer.from(reply.body).toString('hex')).toBe(Buffer.from(txPacked).toString('hex'));
    const empty = post('/common/pack/Transaction', { tapos: { expiration: '1970-01-01T00:00:00.500Z' }, actions: [], claims: [] });
    expect(empty.body).toEqual(packProtocol('Transaction', { tapos: { expiration: 0n, refBlockSuffix: 0, flags: 0, refBlockIndex: 0 }, actions: [], claims: [] }));
  });

  it('packs a SignedTransaction from an object or from hex', () => {
    const expected = packProtocol('SignedTransaction', { transaction: txPacked, proofs: [new Uint8Array([1, 2])] });
    expect(post('/common/pack/SignedTransaction', { transaction: tx, proofs: ['0102'] }).body).toEqual(expected);
    expect(post('/common/pack/SignedTransaction', { transaction: Buffer.from(txPacked).toString('hex'), proofs: ['0102'] }).body).toEqual(expected);
    const withSubjective = packProtocol('SignedTransaction', { transaction: txPacked, proofs: [], subjectiveData: [new Uint8Array([7])] });
    expect(post('/common/pack/SignedTransaction', { transaction: tx, proofs: [], subjectiveData: ['07'] }).body).toEqual(withSubjective);
  });

  it('refuses malformed transactions', () => {
    const bad = (body: unknown, message: string) => expect(() => post('/common/pack/Transaction', body)).toThrow(message);
    bad({ actions: [] }, 'json: tapos is required');
    bad({ ...tx, tapos: { ...tx.tapos, expiration: 'yesterday' } }, 'json: expiration must be a time');
    bad({ ...tx, tapos: { ...tx.tapos, refBlockIndex: 256 } }, 'json: refBlockIndex is out of range');
    bad({ ...tx, actions: [{ ...tx.actions[0], sender: 'Alice!' }] }, 'json: sender is not an account name');
    bad({ ...tx, actions: [{ ...tx.actions[0], rawData: 'abc' }] }, 'json: rawData must be hex');
    bad({ ...tx, actions: {} }, 'json: actions must be an array');
    bad('{"tapos":', 'json: unexpected end');
    expect(() => post('/common/pack/SignedTransaction', { proofs: [] })).toThrow('json: transaction is required');
  });

  it('answers only GET and POST on its paths', () => {
    expect(get(chain, 'alice', '/common/chainid', { method: 'PUT' }).status).toBe(404);
    expect(get(chain, 'alice', '/common/pack/Transaction').status).toBe(404);
  });

  it('refuses /common/thisservice for the root host', () => {
    // Through http the root host is redirected to homepage first; asked directly,
    // common-api refuses as psibase's does.
    expect(serve(chain, request(ROOT, '/common/thisservice')).status).toBe(308);
    const direct = chain.push('http', 'common-api', 'serveSys', webSchema.type('ServeSysArgs').encode({ request: request(ROOT, '/common/thisservice'), socket: null }));
    expect(direct.error?.message).toContain('Invalid host');
  });
});

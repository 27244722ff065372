/**
 * The router over a booted devnet (the real AssemblyScript services): the paths that
 * depend on what those services do, such as common-api refusing bad JSON.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../chain/executor.ts';
import { bootDevnet, loadDevnet } from './devnet.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { Router } from '../http/router.ts';

// A cold services/build compiles every service first.
const BUILD_TIMEOUT_MS = 300_000;
const ROOT = 'psiweb.localhost';
let router: Router;

beforeAll(async () => {
  const devnet = await loadDevnet();
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  await bootDevnet(chain, devnet, 1_700_000_000_000_000n);
  router = new Router({ rootHost: ROOT, chain });
}, BUILD_TIMEOUT_MS);

const post = (host: string, path: string, body: string) =>
  router.handle(new Request(`http://${host}${path}`, { method: 'POST', body, headers: { host, 'content-type': 'application/json' } }));

describe('router on a devnet: /common/pack', () => {
  it('answers bad JSON with 400 on the root host and on app hosts, and keeps serving', async () => {
    const cases: [string, string][] = [
      ['{"tapos":', 'json: unexpected end at 9'],
      ['{}', 'json: tapos is required'],
      ['null', 'json: expected an object'],
      ['{"tapos":{"expiration":"soon"},"actions":[],"claims":[]}', 'json: expiration must be a time like 2022-05-31T21:32:23Z'],
    ];
    for (const host of [ROOT, `tokens.${ROOT}`]) {
      for (const [body, message] of cases) {
        const res = await post(host, '/common/pack/Transaction', body);
        expect(res.status, `${host} ${body}`).toBe(400);
        expect(await res.text()).toBe(`/common/pack/Transaction could not pack the request body: ${message}`);
      }
      const signed = await post(host, '/common/pack/SignedTransaction', '{"proofs":[]}');
      expect(signed.status).toBe(400);
      expect(await signed.text()).toContain('json: transaction is required');
      const ok = await post(host, '/common/pack/Transaction', '{"tapos":{"expiration":"2030-01-01T00:00:00Z"},"actions":[],"claims":[]}');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('application/octet-stream');
    }
  });
});

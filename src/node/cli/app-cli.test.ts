/**
 * psibase's app-developer commands against a real devnet: `startPeer` (the node `psiweb
 * start` runs) on a free 127.0.0.1 port producing a block a second, driven by
 * `psiweb create`, `deploy`, `upload` and `push` run in-process. A service built by
 * psibase's own Rust toolchain (test/fixtures/psibase/simple.wasm.gz) is deployed and
 * called with --hex; psiweb's example service shows a redeploy keeps its tables.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, privateKeyToPem, publicKeyToPem } from '../../crypto/keys.ts';
import { fetchNode, serviceUrl } from '../client.ts';
import { loadDevnet } from '../devnet.ts';
import { startPeer, type Peer } from '../peer.ts';
import { serviceWasm } from '../service-build.ts';
import { defaultCreator, runCreate } from './create.ts';
import { runDeploy } from './deploy.ts';
import { UsageError, type CliIo, capturingIo } from './io.ts';
import { simpleWasmFile } from '../../../test/fixtures/psibase/simple.ts';
import { runPush } from './push.ts';
import { runUpload } from './upload.ts';

const BUILD_TIMEOUT_MS = 300_000;
const STEP_TIMEOUT_MS = 60_000;
/** psibase's simple.wasm, written into the test's directory (beforeAll). */
let SIMPLE_WASM: string;
const EXAMPLE_WASM = join('services', 'build', 'example.wasm');


interface Trace {
  error: string | null;
  actions: { sender: string; service: string; method: string; rawRetval: string; console: string; result?: unknown }[];
  actionTraces: unknown[];
}

let dir: string;
let peer: Peer;
let url: string;

/** Runs a command; its exit code and what it printed. */
async function cli(run: (argv: string[], io: CliIo) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capturingIo();
  const code = await run([...argv, '--url', url], io);
  return { code, out: io.out, err: io.err };
}

async function head(): Promise<number> {
  return ((await fetchNode(`${url}/native/status`)).json() as { head: { num: number } }).head.num;
}

beforeAll(async () => {
  await loadDevnet();
  await serviceWasm('example');
  dir = mkdtempSync(join(tmpdir(), 'psiweb-app-cli-'));
  SIMPLE_WASM = simpleWasmFile(dir);
  const dist = join(dir, 'dist');
  mkdirSync(dist);
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>shell</title>');
  peer = await startPeer({ dataDir: join(dir, 'data'), port: 0, rootHost: 'psiweb.localhost', distDir: dist, log: () => undefined });
  url = peer.url;
  // The genesis block names the producer set; transactions go in from the next blocks.
  while ((await head()) < 2) await new Promise((r) => setTimeout(r, 100));
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await peer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('psiweb deploy and push --hex', () => {
  it(
    "deploys psibase's Rust-built simple.wasm with -c and returns add(2,40) = 42",
    async () => {
      const deployed = await cli(runDeploy, ['simpleapp', SIMPLE_WASM, '-c']);
      expect(deployed.err).toBe('');
      expect(deployed.code).toBe(0);
      expect(deployed.out).toMatch(/^deployed .*simple\.wasm \(2201509 bytes\) on simpleapp/);
      const pushed = await cli(runPush, ['alice', 'simpleapp', 'add', '--hex', '08000200000028000000']);
      expect(pushed.err).toBe('');
      expect(pushed.code).toBe(0);
      const trace = JSON.parse(pushed.out) as Trace;
      expect(trace.error).toBeNull();
      expect(trace.actions).toEqual([{ sender: 'alice', service: 'simpleapp', method: 'add', rawRetval: '2a000000', console: '' }]);
      expect(trace.actionTraces.length).toBeGreaterThan(0);
      const times = await cli(runPush, ['alice', 'simpleapp', 'multiply', '--hex', '08000600000007000000']);
      expect((JSON.parse(times.out) as Trace).actions[0]?.rawRetval).toBe('2a000000');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'packs JSON arguments with the schema given to deploy (push --schema) and decodes the result',
    async () => {
      const schema = join(dir, 'simple.schema.json');
      writeFileSync(
        schema,
        JSON.stringify({
          service: 'simpleapp',
          types: { i32: { Int: { bits: 32, isSigned: true } } },
          actions: { add: { params: { Object: { a: 'i32', b: 'i32' } }, result: 'i32' }, multiply: { params: { Object: { a: 'i32', b: 'i32' } }, result: 'i32' } },
        }),
      );
      expect((await cli(runDeploy, ['simpleapp', SIMPLE_WASM, schema])).code).toBe(0);
      const pushed = await cli(runPush, ['alice', 'simpleapp', 'multiply', '{"a":-6,"b":7}', '--schema', schema]);
      expect(pushed.err).toBe('');
      expect((JSON.parse(pushed.out) as Trace).actions).toEqual([{ sender: 'alice', service: 'simpleapp', method: 'multiply', rawRetval: 'd6ffffff', console: '', result: -42 }]);
      await expect(cli(runPush, ['alice', 'simpleapp', 'divide', '{"a":1,"b":1}', '--schema', schema])).rejects.toThrow(/cannot pack simpleapp::divide arguments: .*has no action "divide"; it has: add, multiply/);
      await expect(cli(runPush, ['alice', 'simpleapp', 'add', '{"a":"x","b":1}', '--schema', schema])).rejects.toThrow(/cannot pack simpleapp::add arguments/);
      writeFileSync(join(dir, 'bad.schema.json'), '{"service":"x"}');
      await expect(cli(runDeploy, ['simpleapp', SIMPLE_WASM, join(dir, 'bad.schema.json')])).rejects.toThrow(/is not a service schema/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "packs JSON arguments with the schema the node publishes (packages.<root>/schema), as psibase's CLI does",
    async () => {
      const schema = await fetchNode(serviceUrl(url, 'packages', '/schema?service=tokens'));
      expect(schema.status).toBe(200);
      expect((schema.json() as { actions: Record<string, unknown> }).actions).toHaveProperty('transfer');
      const pushed = await cli(runPush, ['alice', 'tokens', 'transfer', '{"to":"bob","amount":"3","memo":"schema"}']);
      expect(pushed.err).toBe('');
      expect(pushed.code).toBe(0);
      expect((JSON.parse(pushed.out) as Trace).actions).toEqual([{ sender: 'alice', service: 'tokens', method: 'transfer', rawRetval: '', console: '' }]);
      // A result type in the published schema is decoded.
      const balance = await cli(runPush, ['alice', 'tokens', 'balance', '{"account":"bob"}']);
      expect(typeof (JSON.parse(balance.out) as Trace).actions[0]?.result).toBe('string');
      // accounts publishes its schema too; auth-sig's PublicKey takes PEM.
      const exists = await cli(runPush, ['alice', 'accounts', 'exists', '{"name":"bob"}']);
      expect((JSON.parse(exists.out) as Trace).actions[0]?.result).toBe(true);
      await expect(cli(runPush, ['alice', 'tokens', 'transfer', '{"to":"bob","amount":"lots"}'])).rejects.toThrow(/cannot pack tokens::transfer arguments/);
      await expect(cli(runPush, ['alice', 'tokens', 'mint', '{}'])).rejects.toThrow(/has no action "mint"/);
      await expect(cli(runPush, ['alice', 'nosuchsvc', 'x', '{}'])).rejects.toThrow(/the node publishes no schema for service "nosuchsvc" .*--schema FILE.*--hex/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'redeploys a service with -p: its tables stay, its HTTP answers on its subdomain',
    async () => {
      expect((await cli(runDeploy, ['examplesvc', EXAMPLE_WASM, '-c', '-p', '-S', 'bob'])).code).toBe(0);
      const inc = await cli(runPush, ['alice', 'examplesvc', 'inc', '--hex', '040005000000']);
      expect(inc.code).toBe(0);
      expect((JSON.parse(inc.out) as Trace).actions[0]?.rawRetval).toBe('0500000000000000');
      const counter = async () => (await fetchNode(serviceUrl(url, 'examplesvc', '/counter?account=alice'))).json();
      expect(await counter()).toEqual({ account: 'alice', value: '5' });
      // Other code, then the example again: setCode replaces code rows only.
      expect((await cli(runDeploy, ['examplesvc', SIMPLE_WASM])).code).toBe(0);
      expect((await cli(runDeploy, ['examplesvc', EXAMPLE_WASM])).code).toBe(0);
      expect(await counter()).toEqual({ account: 'alice', value: '5' });
      const again = await cli(runPush, ['alice', 'examplesvc', 'inc', '--hex', '040001000000']);
      expect((JSON.parse(again.out) as Trace).actions[0]?.rawRetval).toBe('0600000000000000');
    },
    STEP_TIMEOUT_MS,
  );
});

describe('psiweb create', () => {
  it(
    'creates an account with its devnet key (default sender), which then pushes',
    async () => {
      const created = await cli(runCreate, ['carolinea']);
      expect(created.err).toBe('');
      expect(created.code).toBe(0);
      expect(created.out).toBe('created carolinea (auth-sig, its devnet key)\n');
      const pushed = await cli(runPush, ['carolinea', 'simpleapp', 'add', '--hex', '0800ffffffff01000000']);
      expect(pushed.code).toBe(0);
      expect((JSON.parse(pushed.out) as Trace).actions[0]?.rawRetval).toBe('00000000');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'creates an account with -k PUBKEY, which signs with -s and not with its devnet key',
    async () => {
      const key = await generateKeyPair('p256', { extractable: true });
      const priv = join(dir, 'dave.pem');
      const pub = join(dir, 'dave.pub.pem');
      writeFileSync(priv, await privateKeyToPem(key));
      writeFileSync(pub, publicKeyToPem(key.publicKeyDer));
      expect((await cli(runCreate, ['davidsson', '-k', pub, '-S', 'alice'])).code).toBe(0);
      const withDevnetKey = await cli(runPush, ['davidsson', 'simpleapp', 'add', '--hex', '08000100000001000000']);
      expect(withDevnetKey.code).toBe(1);
      expect(withDevnetKey.err).toMatch(/^transaction failed: .+/);
      const signed = await cli(runPush, ['davidsson', 'simpleapp', 'add', '--hex', '08000100000001000000', '-s', priv]);
      expect(signed.err).toBe('');
      expect(signed.code).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "defaults the creator to root only where the chain has it: here (no root) the devnet's producer, also with -s",
    async () => {
      expect(await defaultCreator(peer.url)).toBe('prod');
      const key = await generateKeyPair('p256', { extractable: true });
      const pem = join(dir, 'not-prod.pem');
      writeFileSync(pem, await privateKeyToPem(key));
      // Signed with a key that is not prod's: the chain refuses prod's authorization, not a missing root.
      const refused = await cli(runCreate, ['erinerin', '-s', pem]);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/prod/);
      expect(refused.err).not.toMatch(/root/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'creates an insecure account with -i: anyone may act as it',
    async () => {
      expect((await cli(runCreate, ['opensesame', '-i', '-S', 'bob'])).code).toBe(0);
      const other = await generateKeyPair('p256', { extractable: true });
      const pem = join(dir, 'other.pem');
      writeFileSync(pem, await privateKeyToPem(other));
      expect((await cli(runPush, ['opensesame', 'simpleapp', 'add', '--hex', '08000100000001000000', '-s', pem])).code).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );
});

describe('psiweb upload', () => {
  it(
    "uploads a directory with -r and serves it from the account's origin",
    async () => {
      const site = join(dir, 'site');
      mkdirSync(join(site, 'css', 'deep'), { recursive: true });
      writeFileSync(join(site, 'index.html'), '<!doctype html><h1>carol</h1>');
      writeFileSync(join(site, 'css', 'deep', 'app.css'), 'h1 { color: teal }');
      writeFileSync(join(site, 'notes.unknownext'), 'skipped');
      const uploaded = await cli(runUpload, [site, '-r', '-S', 'carolinea']);
      expect(uploaded.code).toBe(0);
      expect(uploaded.err).toContain('skip unknown mime type');
      expect(uploaded.out).toContain('/css/deep/app.css <=== ');
      const css = await fetchNode(`http://carolinea.psiweb.localhost:${peer.port}/css/deep/app.css`);
      expect(css.status).toBe(200);
      expect(css.headers['content-type']).toBe('text/css');
      expect(css.text()).toBe('h1 { color: teal }');
      const index = await fetchNode(`http://carolinea.psiweb.localhost:${peer.port}/index.html`);
      expect(index.text()).toContain('<h1>carol</h1>');
      expect((await fetchNode(`http://carolinea.psiweb.localhost:${peer.port}/notes.unknownext`)).status).toBe(404);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'uploads one file to DEST with -t, and many files in batches',
    async () => {
      const file = join(dir, 'data.bin');
      writeFileSync(file, 'plain words');
      expect((await cli(runUpload, [file, 'docs/words', '-t', 'text/plain', '-S', 'carolinea'])).code).toBe(0);
      const got = await fetchNode(`http://carolinea.psiweb.localhost:${peer.port}/docs/words`);
      expect(got.headers['content-type']).toBe('text/plain');
      expect(got.text()).toBe('plain words');
      const many = join(dir, 'many');
      mkdirSync(many);
      for (let i = 0; i < 23; i++) writeFileSync(join(many, `f${String(i).padStart(2, '0')}.txt`), `file ${i}`);
      const up = await cli(runUpload, [many, 'm', '-r', '-S', 'carolinea']);
      expect(up.code).toBe(0);
      expect(up.out.trim().split('\n')).toHaveLength(23);
      expect((await fetchNode(`http://carolinea.psiweb.localhost:${peer.port}/m/f22.txt`)).text()).toBe('file 22');
    },
    STEP_TIMEOUT_MS,
  );
});

describe('bad input: a clear message, exit 1 or 2, nothing changed', () => {
  const usage = async (run: (argv: string[], io: CliIo) => Promise<number>, argv: string[], message: RegExp) => {
    const promise = cli(run, argv);
    await expect(promise).rejects.toThrow(UsageError);
    await expect(promise).rejects.toThrow(message);
  };

  it('refuses bad arguments before sending anything', async () => {
    await usage(runPush, ['alice', 'simpleapp', 'add', '--hex', '080002'.slice(0, 5)], /--hex must be hex digits in pairs/);
    await usage(runPush, ['alice', 'simpleapp', 'add', '--hex', 'zz'], /--hex must be hex digits in pairs/);
    await usage(runPush, ['alice', 'simpleapp', 'add', '{}', '--hex', '00'], /JSON-ARGS and --hex together/);
    await usage(runPush, ['alice', 'tokens', 'transfer', '{"to":'], /JSON-ARGS is not JSON/);
    await usage(runPush, ['alice', 'simpleapp', 'add', '{"a":1}'], /no schema for service "simpleapp".*--hex/);
    await usage(runDeploy, ['simpleapp', join(dir, 'missing.wasm')], /cannot read .*missing\.wasm/);
    await usage(runDeploy, ['simpleapp', join(dir, 'data.bin')], /is not a wasm module/);
    await usage(runDeploy, ['simpleapp', SIMPLE_WASM, '-S', 'alice'], /-S\/--sender needs -c/);
    await usage(runDeploy, ['simpleapp', SIMPLE_WASM, join(dir, 'missing.json')], /cannot read schema/);
    await usage(runDeploy, ['Bad!', SIMPLE_WASM], /ACCOUNT must be an account name/);
    await usage(runCreate, ['newperson', '-k', 'nope.pem'], /-k nope\.pem is neither a PEM public key nor a readable file/);
    await usage(runCreate, ['newperson', '-k', join(dir, 'dave.pem')], /is not a PEM public key/);
    await usage(runCreate, ['newperson', '-i', '-k', join(dir, 'dave.pub.pem')], /-k or -i, not both/);
    await usage(runCreate, ['newperson', '-s', join(dir, 'missing.pem')], /cannot read --sign/);
    await usage(runUpload, [join(dir, 'site'), '-S', 'carolinea'], /is a directory: use -r/);
    await usage(runUpload, [join(dir, 'nothing-here'), '-S', 'carolinea'], /cannot read .*nothing-here/);
    await usage(runUpload, [join(dir, 'site', 'index.html')], /-S ACCOUNT is required/);
    await usage(runUpload, [join(dir, 'site', 'notes.unknownext'), '-S', 'carolinea'], /unknown mime type/);
  });

  it(
    'reports what the chain refuses (unknown account, short name, wrong key) with exit 1 and changes nothing',
    async () => {
      const unknownSender = await cli(runPush, ['nobodyhere', 'simpleapp', 'add', '--hex', '08000100000001000000']);
      expect(unknownSender.code).toBe(1);
      expect(unknownSender.err).toBe("transaction failed: service 'accounts' aborted with message: account nobodyhere does not exist\n");
      // Deploying on an account that does not exist, without -c: nothing is created.
      const noAccount = await cli(runDeploy, ['ghostsvc', SIMPLE_WASM]);
      expect(noAccount.code).toBe(1);
      expect(noAccount.err).toBe("transaction failed: service 'accounts' aborted with message: account ghostsvc does not exist\n");
      expect((await cli(runPush, ['alice', 'ghostsvc', 'add', '--hex', '08000100000001000000'])).code).toBe(1);
      // Re-creating an auth-sig account would replace its key: the chain refuses.
      const again = await cli(runCreate, ['carolinea']);
      expect(again.code).toBe(1);
      expect(again.out).toBe('');
      expect(again.err).toMatch(/^transaction failed: .*account already exists\n$/);
      const short = await cli(runCreate, ['shorty']);
      expect(short.code).toBe(1);
      expect(short.err).toMatch(/^transaction failed: .*account name must be at least 8 characters: shorty\n$/);
      // An upload as someone else's account, signed with a key that is not theirs.
      const stranger = join(dir, 'other.pem');
      const site = join(dir, 'site', 'index.html');
      const refused = await cli(runUpload, [site, 'stolen.html', '-S', 'carolinea', '-s', stranger]);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/^transaction failed: .*Authorization for carolinea -> sites::storesys failed\nthese files were in the failed transaction:\n .*index\.html\n$/);
      expect((await fetchNode(`http://carolinea.psiweb.localhost:${peer.port}/stolen.html`)).status).toBe(404);
    },
    STEP_TIMEOUT_MS,
  );
});

/**
 * `psiweb new NAME [--account ACCOUNT] [--dir DIR]`: writes a ready app project in
 * DIR/NAME (default ./NAME):
 *
 *   service/service.ts  an AssemblyScript service with psiweb's SDK: a visit counter
 *                       (action `visit`, GET /count answered by its serveSys)
 *   ui/                 its page, uploaded to sites and served at http://ACCOUNT.<root>/
 *   tests/app.test.ts   a browser test on a fresh devnet (psiweb/playwright's startDevnet):
 *                       the page shows the count, a visit pushed, still shown offline
 *   package.json        npm run build | deploy (to the local devnet) | test
 *
 * psiweb is a dependency by path (`file:` this psiweb's folder): it is not published.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isValidAccountName } from '../../protocol/names.ts';
import { EXIT_OK, UsageError, type CliIo } from './io.ts';

export const NEW_USAGE = `usage: psiweb new NAME [--account ACCOUNT] [--dir DIR]
  writes a new app project in DIR/NAME: an AssemblyScript service, its UI, a browser test
  --account ACCOUNT: the app's account (default NAME; 8 or more characters)
  then: cd NAME && npm install && npm run deploy   (with psiweb start running)
        npm test                                    (a fresh devnet of its own)`;

const PSIWEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Names shorter than this need the chain's preapproval (accounts service). */
const MIN_ACCOUNT_LENGTH = 8;

export function templateFiles(name: string, account: string, psiwebPath: string): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        private: true,
        type: 'module',
        scripts: {
          build: 'psiweb build service/service.ts -o build/service.wasm',
          deploy: `npm run build && psiweb deploy ${account} build/service.wasm -c -p && psiweb upload ui -r -S ${account}`,
          test: 'npm run build && node --import tsx --test tests/app.test.ts',
        },
        devDependencies: { psiweb: `file:${psiwebPath}`, tsx: '^4.23.0' },
      },
      null,
      2,
    )}\n`,
    '.gitignore': 'node_modules/\nbuild/\n',
    'service/service.ts': `// ${account}: counts visits. \`visit()\` adds one to the caller's count and
// returns the total; GET /count answers {"total": N} (served by serveSys, so the
// browser node answers it offline too). Table 0 holds one row: the total.
import { action, Call, HttpReply, HttpRequest, Key, ObjectReader, ObjectWriter, receiver, Row, serveHttp, Table } from "../node_modules/psiweb/services/sdk";
export { start, called } from "../node_modules/psiweb/services/sdk";

class Total extends Row {
  constructor(public count: u64) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.count).finish();
  }
  primaryKey(): Uint8Array {
    return new Key().finish();
  }
  static unpack(data: Uint8Array): Total {
    const r = ObjectReader.struct(data);
    const row = new Total(r.u64());
    r.done();
    return row;
  }
}

function totals(): Table<Total> {
  return new Table<Total>(receiver(), 0, Total.unpack);
}

function total(): u64 {
  const row = totals().get(new Key().finish());
  return row === null ? 0 : row.count;
}

action("visit", (c: Call): void => {
  const next = total() + 1;
  totals().put(new Total(next));
  c.retU64(next);
});

serveHttp((req: HttpRequest, user: u64): HttpReply | null => {
  if (req.method != "GET" || req.path() != "/count") return null;
  return HttpReply.json("{\\"total\\":" + total().toString() + "}");
});
`,
    'ui/index.html': `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${name}</title>
  </head>
  <body>
    <h1>${name}</h1>
    <p>Visits so far: <strong id="total">…</strong></p>
    <script type="module" src="/app.js"></script>
  </body>
</html>
`,
    'ui/app.js': `// Reads the count from the service (GET /count on this app's own origin).
const reply = await fetch('/count');
document.getElementById('total').textContent = String((await reply.json()).total);
`,
    'tests/app.test.ts': `// The app on a fresh devnet of its own: deployed, its page read online, a visit
// pushed, then read again with the browser offline (the browser node answers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDevnet } from 'psiweb/playwright';

test('${name} shows its visits, online and offline', { timeout: 120_000 }, async () => {
  const devnet = await startDevnet({ app: { account: '${account}', wasm: 'build/service.wasm', site: 'ui' } });
  try {
    const page = await devnet.open();
    const total = page.locator('#total');
    await total.filter({ hasText: '0' }).waitFor();

    const visit = await devnet.push('alice', '${account}', 'visit', '0000');
    assert.equal(visit.error, null);
    assert.equal(visit.actions[0]?.rawRetval, '0100000000000000');
    await devnet.waitForSync();
    await page.reload();
    await total.filter({ hasText: '1' }).waitFor();

    await devnet.offline();
    await page.reload();
    await total.filter({ hasText: '1' }).waitFor();
    assert.equal(await page.locator('h1').textContent(), '${name}');
  } finally {
    await devnet.close();
  }
});
`,
    'README.md': `# ${name}

A psibase app on psiweb: an AssemblyScript service (\`service/service.ts\`, account
\`${account}\`), its UI (\`ui/\`, served from sites at http://${account}.psiweb.localhost:8080/)
and a browser test on a devnet of its own (\`tests/app.test.ts\`).

\`\`\`sh
npm install
npm run deploy     # builds the service and deploys it and the UI to the local devnet (psiweb start)
npm test           # builds, then runs the test: a fresh devnet, Chromium, online then offline
\`\`\`

\`npm run deploy\` talks to http://psiweb.localhost:8080 (set PSIWEB_URL for another node).
Call the service: \`npx psiweb push alice ${account} visit --hex 0000\`.
The test uses Debian's Chromium (/usr/bin/chromium; PSIWEB_CHROMIUM for another) and
psiweb's PWA build (\`npm run build\` in psiweb, or PSIWEB_DIST).
`,
  };
}

export async function runNew(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { account: { type: 'string' }, dir: { type: 'string', default: '.' } } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected NAME, got ${positionals.length} argument(s)`);
  const name = positionals[0]!;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new UsageError(`NAME must be lower-case letters, digits and '-', starting with a letter; got "${name}"`);
  const account = values.account ?? name;
  if (!isValidAccountName(account)) throw new UsageError(`the app's account must be an account name, got "${account}"${values.account ? '' : ' (give one with --account)'}`);
  if (account.length < MIN_ACCOUNT_LENGTH) throw new UsageError(`the app's account "${account}" is shorter than ${MIN_ACCOUNT_LENGTH} characters, which needs the chain's preapproval; give a longer one with --account`);
  const dir = resolve(values.dir, name);
  if (existsSync(dir)) throw new UsageError(`${dir} already exists: pick another NAME or --dir`);
  const files = templateFiles(name, account, PSIWEB_ROOT);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  io.stdout(`created ${relative('.', dir) || '.'} (account ${account}):\n${Object.keys(files).map((f) => `  ${f}\n`).join('')}next:\n  cd ${relative('.', dir)} && npm install && npm run deploy\n`);
  return EXIT_OK;
}

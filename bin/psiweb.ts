#!/usr/bin/env -S npx tsx
/**
 * The `psiweb` command for Node. `psiweb start` serves the PWA build on the root host.
 * The chain, producer and the other sub-commands (exec, push, boot, deploy) come with
 * the services work (issue 3).
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { staticHandler } from '../src/node/static-server.ts';

const USAGE = `usage: psiweb start [--port 8080] [--host psiweb.localhost] [--listen 127.0.0.1]`;

function fail(message: string): never {
  console.error(`psiweb: ${message}\n${USAGE}`);
  process.exit(2);
}

async function start(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: 'psiweb.localhost' },
        listen: { type: 'string', default: '127.0.0.1' },
        dist: { type: 'string', default: 'dist' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);
  const rootHost = values.host;
  const serveStatic = staticHandler(values.dist);
  const server = createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host === 'localhost' || host === '127.0.0.1') {
      res.writeHead(301, { location: `http://${rootHost}:${port}${req.url ?? '/'}` }).end();
      return;
    }
    serveStatic(req, res);
  });
  server.on('error', (err) => fail(`cannot listen on ${values.listen}:${port}: ${err.message}`));
  server.listen(port, values.listen, () => {
    const addr = server.address();
    const actual = typeof addr === 'object' && addr ? addr.port : port;
    console.log(`psiweb: serving http://${rootHost}:${actual}/ (listening on ${values.listen}:${actual})`);
  });
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'start':
    await start(rest);
    break;
  case undefined:
  case '--help':
  case '-h':
    console.log(USAGE);
    break;
  default:
    fail(`unknown command '${command}'`);
}

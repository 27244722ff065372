/**
 * `psiweb start`: runs the Node peer (src/node/peer.ts) until SIGINT or SIGTERM, then
 * stops it cleanly. Prints the URL once serving, then one line per block.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ROOT_HOST } from '../../http/constants.ts';
import { normalizeRootHost } from '../../http/hosts.ts';
import { DEFAULT_DATA_DIR, DEFAULT_PORT } from '../constants.ts';
import { startPeer } from '../peer.ts';
import { EXIT_OK, UsageError, type CliIo } from './io.ts';

export const START_USAGE = `usage: psiweb start [--port ${DEFAULT_PORT}] [--data DIR] [--host ${DEFAULT_ROOT_HOST}] [--dist dist]
  --data: where the chain is kept (default ./${DEFAULT_DATA_DIR}); a directory that never held a chain gets a new devnet
  --host: the root host; apps are served on <service>.<host>
  --dist: the PWA build served on the root host`;

export interface StartOptions {
  port: number;
  dataDir: string;
  rootHost: string;
  distDir: string;
}

export function parseStartArgs(argv: string[]): StartOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: String(DEFAULT_PORT) },
        data: { type: 'string', default: DEFAULT_DATA_DIR },
        host: { type: 'string', default: DEFAULT_ROOT_HOST },
        dist: { type: 'string', default: 'dist' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  let rootHost: string;
  try {
    rootHost = normalizeRootHost(values.host);
  } catch (e) {
    throw new UsageError(`--host: ${(e as Error).message}`);
  }
  return { port, dataDir: resolve(values.data), rootHost, distDir: resolve(values.dist) };
}

/** Runs until a stop signal; resolves with the exit code once everything is closed. */
export async function runStart(argv: string[], io: CliIo): Promise<number> {
  const options = parseStartArgs(argv);
  const log = (line: string) => io.stdout(`${line}\n`);
  const peer = await startPeer({ ...options, log });
  io.stdout(`psiweb: serving ${peer.url}/ (listening on 127.0.0.1:${peer.port}, data in ${options.dataDir})\n`);
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping`);
      // A second signal while stopping means: do not wait.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void peer.close().then(done);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  log('stopped');
  return EXIT_OK;
}

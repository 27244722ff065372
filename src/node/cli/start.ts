/**
 * `psiweb start`: runs the Node peer (src/node/peer.ts) until SIGINT or SIGTERM, then
 * stops it cleanly. Prints the URL once serving, then one line per block.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ROOT_HOST } from '../../http/constants.ts';
import { normalizeRootHost } from '../../http/hosts.ts';
import { BLOCK_INTERVAL_MS, DEFAULT_DATA_DIR, DEFAULT_PORT } from '../constants.ts';
import { startPeer } from '../peer.ts';
import { EXIT_OK, UsageError, type CliIo } from './io.ts';
import { isValidAccountName } from '../../protocol/names.ts';

export const START_USAGE = `usage: psiweb start [--port ${DEFAULT_PORT}] [--data DIR] [--host ${DEFAULT_ROOT_HOST}] [--dist dist]
                    [--peer URL]... [--follow] [--block-interval-ms ${BLOCK_INTERVAL_MS}]
                    [--producers a,b,c,d [--mode cft|bft]] [--producer NAME]
  --data: where the chain is kept (default ./${DEFAULT_DATA_DIR}); a directory that never held a chain gets a new devnet
          (a follower's gets the chain of its peers instead)
  --host: the root host; apps are served on <service>.<host>, peers connect to x-peers.<host>/p2p
  --dist: the PWA build served on the root host
  --peer: a peer to connect to and stay connected to (repeatable), e.g. http://psiweb.localhost:8080
          (psibase's peer protocol over a WebSocket at x-peers.<host>/p2p, as psinode's x-peers dials)
  --follow: do not produce: boot nothing, take every block from the peers (genesis first), validate and apply each,
            and follow new blocks as the producer announces them; such a node reports role "follower"
  --block-interval-ms: milliseconds between blocks the producer makes (default ${BLOCK_INTERVAL_MS}, as psinode)
  --producers: boot the devnet (in a directory that holds no chain) with these block producers, each an account
               signing with its devnet key; the nodes then agree on blocks by consensus (--mode, default cft)
  --producer: the producer this node signs as (default: the first of --producers, else prod); with no chain here,
              no --producers and a --peer, the node joins that network as this producer`;

export interface StartOptions {
  port: number;
  dataDir: string;
  rootHost: string;
  distDir: string;
  peers: string[];
  follow: boolean;
  blockIntervalMs: number;
  producers?: string[];
  mode?: 'cft' | 'bft';
  producer?: string;
}

/** `--host`: a root host name, or a UsageError saying why not. */
export function parseHostOption(value: string): string {
  try {
    return normalizeRootHost(value);
  } catch (e) {
    throw new UsageError(`--host: ${(e as Error).message}`);
  }
}

/** `--block-interval-ms`: whole milliseconds from 1 to an hour, or a UsageError. */
export function parseBlockIntervalOption(interval: string): number {
  const ms = Number(interval);
  if (!/^\d+$/.test(interval) || ms < 1 || ms > 3_600_000)
    throw new UsageError(`--block-interval-ms must be a whole number of milliseconds from 1 to 3600000, got "${interval}"`);
  return ms;
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
        peer: { type: 'string', multiple: true, default: [] },
        follow: { type: 'boolean', default: false },
        'block-interval-ms': { type: 'string', default: String(BLOCK_INTERVAL_MS) },
        producers: { type: 'string' },
        mode: { type: 'string' },
        producer: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  const rootHost = parseHostOption(values.host);
  const blockIntervalMs = parseBlockIntervalOption(values['block-interval-ms']);
  const peers: string[] = [];
  for (const peer of values.peer) {
    let url: URL;
    try {
      url = new URL(peer.includes('://') ? peer : `http://${peer}`);
    } catch {
      throw new UsageError(`--peer must be a URL like http://psiweb.localhost:8080, got "${peer}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'ws:') throw new UsageError(`--peer: only http:// and ws:// peers are supported, got "${peer}"`);
    peers.push(url.href);
  }
  if (values.follow && peers.length === 0) throw new UsageError('--follow needs at least one --peer to follow');
  let producers: string[] | undefined;
  if (values.producers !== undefined) {
    producers = values.producers.split(',').map((p) => p.trim());
    const bad = producers.find((p) => !isValidAccountName(p));
    if (bad !== undefined || producers.length === 0) throw new UsageError(`--producers must be account names separated by commas, got "${values.producers}"`);
    if (new Set(producers).size !== producers.length) throw new UsageError(`--producers names a producer twice: "${values.producers}"`);
  }
  if (values.mode !== undefined && values.mode !== 'cft' && values.mode !== 'bft') throw new UsageError(`--mode must be cft or bft, got "${values.mode}"`);
  if (values.mode !== undefined && !producers) throw new UsageError('--mode goes with --producers (the consensus of a new devnet)');
  if (values.producer !== undefined && !isValidAccountName(values.producer)) throw new UsageError(`--producer must be an account name, got "${values.producer}"`);
  if (values.producer !== undefined && producers && !producers.includes(values.producer)) throw new UsageError(`--producer ${values.producer} is not one of --producers ${producers.join(',')}`);
  if (values.follow && (producers || values.producer)) throw new UsageError('--follow does not produce: it takes no --producers or --producer');
  return {
    port,
    dataDir: resolve(values.data),
    rootHost,
    distDir: resolve(values.dist),
    peers,
    follow: values.follow,
    blockIntervalMs,
    ...(producers && { producers }),
    ...(values.mode !== undefined && { mode: values.mode as 'cft' | 'bft' }),
    ...(values.producer !== undefined && { producer: values.producer }),
  };
}

/** Runs until a stop signal; resolves with the exit code once everything is closed. */
export async function runStart(argv: string[], io: CliIo): Promise<number> {
  const options = parseStartArgs(argv);
  const log = (line: string) => io.stdout(`${line}\n`);
  const peer = await startPeer({ ...options, log });
  io.stdout(`psiweb: serving ${peer.url}/ as a ${peer.role} (listening on 127.0.0.1:${peer.port}, data in ${options.dataDir}; peers connect to ${peer.url.replace('://', '://x-peers.')}/p2p)\n`);
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

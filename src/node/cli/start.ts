/**
 * `psiweb start`: runs the Node peer (src/node/peer.ts) until SIGINT or SIGTERM, then
 * stops it cleanly. Prints the URL once serving, then one line per block.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ROOT_HOST } from '../../http/constants.ts';
import { normalizeRootHost } from '../../http/hosts.ts';
import { BLOCK_INTERVAL_MS, DEFAULT_DATA_DIR, DEFAULT_PORT } from '../constants.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { defaultLibp2pPort, startPeer } from '../peer.ts';
import { isMultiaddr, multiaddrPeerId } from '../p2p/network.ts';
import { EXIT_OK, UsageError, type CliIo } from './io.ts';
import { isValidAccountName } from '../../protocol/names.ts';

export const START_USAGE = `usage: psiweb start [--port ${DEFAULT_PORT}] [--data DIR] [--host ${DEFAULT_ROOT_HOST}] [--dist dist]
                    [--peer URL|MULTIADDR]... [--follow] [--block-interval-ms ${BLOCK_INTERVAL_MS}]
                    [--producers a,b,c,d [--mode cft|bft]] [--producer NAME] [--libp2p-port N | --no-libp2p]
  --data: where the chain is kept (default ./${DEFAULT_DATA_DIR}); a directory that never held a chain gets a new devnet
          (a follower's gets the chain of its peers instead)
  --host: the root host; apps are served on <service>.<host>, peers connect to x-peers.<host>/p2p
  --dist: the PWA build served on the root host
  --peer: a peer to connect to and stay connected to (repeatable), e.g. http://psiweb.localhost:8080
          (psibase's peer protocol over a WebSocket at x-peers.<host>/p2p, as psinode's x-peers dials),
          or a libp2p multiaddr ending in /p2p/<peer id>, e.g. /ip4/127.0.0.1/tcp/8081/ws/p2p/12D3KooW…
          (the same messages over libp2p; the multiaddrs of a node are in its /native/status, libp2p.addrs)
  --libp2p-port: the libp2p host's WebSocket port on 127.0.0.1 (default: --port + 1, so 8081; 0: any free port);
                 browsers and Node peers reach this node there (psibase's peer protocol, circuit relay v2);
                 its key, and so its peer id, is kept in the data directory (libp2p.key)
  --no-libp2p: run no libp2p host (only the peer WebSocket)
  --follow: do not produce: boot nothing, take every block from the peers (genesis first), validate and apply each,
            and follow new blocks as the producer announces them; such a node reports role "follower"
  --block-interval-ms: milliseconds between blocks the producer makes (default ${BLOCK_INTERVAL_MS}, as psinode)
  --producers: boot the devnet (in a directory that holds no chain) with these block producers, each an account
               signing with its devnet key; the nodes then agree on blocks by consensus (--mode, default cft)
  --producer: the producer this node signs as (default: the first of --producers, else prod); with no chain here,
              no --producers and a --peer, the node joins that network as this producer`;

export interface StartOptions {
  port: number;
  /** The libp2p host's port, or false for none (--no-libp2p). */
  libp2pPort: number | false;
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
        'libp2p-port': { type: 'string' },
        'no-libp2p': { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  const rootHost = parseHostOption(values.host);
  const blockIntervalMs = parseBlockIntervalOption(values['block-interval-ms']);
  let libp2pPort: number | false;
  const given = values['libp2p-port'];
  if (values['no-libp2p']) {
    if (given !== undefined) throw new UsageError('--libp2p-port and --no-libp2p: pick one');
    libp2pPort = false;
  } else if (given !== undefined) {
    libp2pPort = Number(given);
    if (!/^\d+$/.test(given) || libp2pPort > 65535) throw new UsageError(`--libp2p-port must be a number from 0 to 65535, got "${given}"`);
    if (libp2pPort !== 0 && libp2pPort === port) throw new UsageError(`--libp2p-port ${given} is the HTTP --port: pick another`);
  } else {
    libp2pPort = defaultLibp2pPort(port);
    if (libp2pPort > 65535) throw new UsageError(`--port ${port} leaves no port above it for libp2p: give --libp2p-port N (0: any free port) or --no-libp2p`);
  }
  const peers: string[] = [];
  for (const peer of values.peer) {
    if (isMultiaddr(peer)) {
      peers.push(parseMultiaddrPeer(peer, libp2pPort));
      continue;
    }
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
    libp2pPort,
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

/** `--peer` given as a libp2p multiaddr: one that parses and ends in /p2p/<peer id>, or a UsageError. */
export function parseMultiaddrPeer(peer: string, libp2pPort: number | false): string {
  let addr: string;
  try {
    addr = multiaddr(peer).toString();
  } catch (e) {
    throw new UsageError(`--peer: "${peer}" is not a multiaddr (${(e as Error).message}); give e.g. /ip4/127.0.0.1/tcp/8081/ws/p2p/<peer id>`);
  }
  if (multiaddrPeerId(addr) === undefined) throw new UsageError(`--peer: the multiaddr "${peer}" names no peer: it must end in /p2p/<peer id> (the node's /native/status lists its libp2p.addrs)`);
  if (libp2pPort === false) throw new UsageError(`--peer ${peer} is a libp2p multiaddr: it needs the libp2p host, which --no-libp2p turns off`);
  return addr;
}

/** Runs until a stop signal; resolves with the exit code once everything is closed. */
export async function runStart(argv: string[], io: CliIo): Promise<number> {
  const options = parseStartArgs(argv);
  const log = (line: string) => io.stdout(`${line}\n`);
  const peer = await startPeer({ ...options, log });
  io.stdout(`psiweb: serving ${peer.url}/ as a ${peer.role} (listening on 127.0.0.1:${peer.port}, data in ${options.dataDir}; peers connect to ${peer.url.replace('://', '://x-peers.')}/p2p)\n`);
  if (peer.libp2p) io.stdout(`psiweb: libp2p peer ${peer.libp2p.peerId} at ${peer.libp2p.addresses().map(String).join(' ')}\n`);
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

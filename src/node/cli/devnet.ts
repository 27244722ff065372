/**
 * `psiweb devnet --nodes N`: N producer processes (`psiweb start`) on ports P..P+N-1,
 * one chain under consensus. The first boots the devnet with every producer
 * (`--producers prod1,…,prodN --mode`); the others join it as prod2…prodN with
 * `--peer` and learn of each other from there. Each node's lines are printed with its
 * name in front. Ctrl-C (or SIGTERM) stops them all; if one exits on its own, the
 * others are stopped and the command fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ROOT_HOST } from '../../http/constants.ts';
import { BLOCK_INTERVAL_MS, DEFAULT_PORT } from '../constants.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo } from './io.ts';
import { parseBlockIntervalOption, parseHostOption } from './start.ts';

export const DEVNET_USAGE = `usage: psiweb devnet --nodes N [--mode cft|bft] [--port ${DEFAULT_PORT}] [--data psiweb-devnet] [--host ${DEFAULT_ROOT_HOST}]
                     [--dist dist] [--block-interval-ms ${BLOCK_INTERVAL_MS}]
  N producer nodes (2 to 32) on ports P..P+N-1, each in DIR/prodI, one chain: prod1 boots it with producers
  prod1..prodN under --mode (default bft), the others join it; Ctrl-C stops them all`;

export const MAX_DEVNET_NODES = 32;

export interface DevnetCliOptions {
  nodes: number;
  mode: 'cft' | 'bft';
  port: number;
  dataDir: string;
  rootHost: string;
  distDir: string;
  blockIntervalMs: number;
}

export function parseDevnetArgs(argv: string[]): DevnetCliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        nodes: { type: 'string' },
        mode: { type: 'string', default: 'bft' },
        port: { type: 'string', default: String(DEFAULT_PORT) },
        data: { type: 'string', default: 'psiweb-devnet' },
        host: { type: 'string', default: DEFAULT_ROOT_HOST },
        dist: { type: 'string', default: 'dist' },
        'block-interval-ms': { type: 'string', default: String(BLOCK_INTERVAL_MS) },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.nodes === undefined) throw new UsageError('--nodes N is required');
  const nodes = Number(values.nodes);
  if (!/^\d+$/.test(values.nodes) || nodes < 2 || nodes > MAX_DEVNET_NODES) throw new UsageError(`--nodes must be a whole number from 2 to ${MAX_DEVNET_NODES}, got "${values.nodes}"`);
  if (values.mode !== 'cft' && values.mode !== 'bft') throw new UsageError(`--mode must be cft or bft, got "${values.mode}"`);
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port < 1 || port + 2 * nodes - 1 > 65535) throw new UsageError(`--port must leave room for ${2 * nodes} ports below 65536 (HTTP and libp2p for each node), got "${values.port}"`);
  const rootHost = parseHostOption(values.host);
  const blockIntervalMs = parseBlockIntervalOption(values['block-interval-ms']);
  return { nodes, mode: values.mode, port, dataDir: resolve(values.data), rootHost, distDir: resolve(values.dist), blockIntervalMs };
}

/** The `psiweb start` arguments of each node of a devnet. */
export function devnetNodeArgs(o: DevnetCliOptions): { name: string; args: string[] }[] {
  const names = Array.from({ length: o.nodes }, (_, i) => `prod${i + 1}`);
  const first = `http://${o.rootHost}:${o.port}`;
  return names.map((name, i) => {
    // HTTP on port … port + nodes - 1, libp2p on the next `nodes` ports (a lone node's
    // default, HTTP + 1, would take the next node's HTTP port).
    const common = ['--port', String(o.port + i), '--libp2p-port', String(o.port + o.nodes + i), '--data', join(o.dataDir, name), '--host', o.rootHost, '--dist', o.distDir, '--block-interval-ms', String(o.blockIntervalMs)];
    return { name, args: i === 0 ? [...common, '--producers', names.join(','), '--mode', o.mode] : [...common, '--producer', name, '--peer', first] };
  });
}

const PSIWEB_BIN = fileURLToPath(new URL('../../../bin/psiweb.ts', import.meta.url));

/** Runs the nodes until a stop signal (or one of them exits); resolves with the exit code. */
export async function runDevnet(argv: string[], io: CliIo): Promise<number> {
  const options = parseDevnetArgs(argv);
  const children: { name: string; proc: ChildProcess; exited: Promise<number | null> }[] = [];
  let stopping = false;
  let failed = false;
  const stopAll = () => {
    stopping = true;
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
  };
  const launch = (name: string, args: string[]) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', PSIWEB_BIN, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = (chunk: Buffer, out: (s: string) => void) => {
      for (const line of chunk.toString().split('\n')) if (line.length > 0) out(`[${name}] ${line}\n`);
    };
    proc.stdout!.on('data', (d: Buffer) => prefix(d, io.stdout));
    proc.stderr!.on('data', (d: Buffer) => prefix(d, io.stderr));
    const exited = new Promise<number | null>((done) =>
      proc.on('exit', (code) => {
        if (!stopping) {
          failed = true;
          io.stderr(`psiweb devnet: ${name} exited (${code ?? 'signal'}); stopping the others\n`);
          stopAll();
        }
        done(code);
      }),
    );
    children.push({ name, proc, exited });
  };
  const nodes = devnetNodeArgs(options);
  // The first node boots the chain; the others take its genesis block when they start.
  launch(nodes[0]!.name, nodes[0]!.args);
  const firstUrl = `http://${options.rootHost}:${options.port}`;
  if (!(await waitServing(children[0]!.proc))) {
    stopAll();
    await Promise.all(children.map((c) => c.exited));
    io.stderr(`psiweb devnet: ${nodes[0]!.name} did not start\n`);
    return EXIT_FAILED;
  }
  for (const n of nodes.slice(1)) launch(n.name, n.args);
  io.stdout(`psiweb devnet: ${options.nodes} producers (${options.mode}) — ${firstUrl}/ and the next ${options.nodes - 1} ports; Ctrl-C stops them all\n`);
  await new Promise<void>((done) => {
    const onSignal = () => {
      stopAll();
      done();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    void Promise.race(children.map((c) => c.exited)).then(() => {
      if (failed) done();
    });
  });
  await Promise.all(children.map((c) => c.exited));
  return failed ? EXIT_FAILED : EXIT_OK;
}

/** Resolves true once the process prints that it serves, false if it exits first. */
function waitServing(proc: ChildProcess): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (/serving http:\/\//.test(seen)) {
        proc.stdout!.off('data', onData);
        resolve(true);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', () => resolve(false));
  });
}

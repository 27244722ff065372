/**
 * The Node peer as `psiweb start` runs it: an lmdb store in a data directory (a devnet
 * booted into it when it is empty), the producing node, and the router behind an HTTP
 * server on 127.0.0.1. `close()` stops in order: no new requests, the block in
 * production commits, then the store closes, so a stop never tears a write.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Chain } from '../chain/executor.ts';
import { PsiwebError } from '../errors.ts';
import { MAX_BODY_BYTES } from '../http/constants.ts';
import { normalizeRootHost } from '../http/hosts.ts';
import { Router } from '../http/router.ts';
import { toHex } from '../state/bytes.ts';
import { LmdbStore } from '../state/lmdb-store.ts';
import { StateDb } from '../state/state-db.ts';
import { LOOPBACK } from './constants.ts';
import { bootDevnet, loadDevnet } from './devnet.ts';
import { createHttpServer } from './http-server.ts';
import { PsiwebNode } from './node.ts';
import { distSite } from './static-server.ts';

export class DataDirInUseError extends PsiwebError {
  override name = 'DataDirInUseError';
}

export interface PeerOptions {
  dataDir: string;
  port: number;
  rootHost: string;
  /** The PWA build to serve on the root host. */
  distDir: string;
  log: (line: string) => void;
  /** Block production on the timer (default true); tests may drive it themselves. */
  produce?: boolean;
  maxBodyBytes?: number;
}

export interface Peer {
  url: string;
  port: number;
  node: PsiwebNode;
  router: Router;
  close(): Promise<void>;
}

const LOCK_FILE = 'psiweb.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One producer per data directory: a second one would fork the chain it holds. */
function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new DataDirInUseError(`${dir} is in use by another psiweb (pid ${pid})`);
      }
      // Left by a process that died without stopping: take it over.
      rmSync(path, { force: true });
    }
  }
  throw new DataDirInUseError(`cannot lock ${dir}`);
}

export async function startPeer(options: PeerOptions): Promise<Peer> {
  const rootHost = normalizeRootHost(options.rootHost);
  mkdirSync(options.dataDir, { recursive: true });
  const unlock = lockDataDir(options.dataDir);
  let store: LmdbStore | undefined;
  try {
    const devnet = await loadDevnet();
    store = LmdbStore.open(join(options.dataDir, 'chain'));
    const chain = await Chain.open({ state: new StateDb(store), nativeVerifiers: devnet.nativeVerifiers });
    if (!chain.head) {
      const genesis = await bootDevnet(chain, devnet, BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n);
      options.log(`booted a devnet: chain ${toHex(chain.chainId!)}, genesis block ${genesis.block.block.header.blockNum} with ${genesis.traces.length} transactions`);
    } else {
      options.log(`resuming chain ${toHex(chain.chainId!)} at block ${chain.head.num}`);
    }
    const node = new PsiwebNode({ chain, producer: devnet.producer, prover: devnet.prover, log: options.log });
    const router = new Router({
      rootHost,
      chain,
      submitter: node,
      nativeStatus: () => node.status(),
      site: distSite(options.distDir),
      onError: (e) => options.log(`request failed: ${(e as Error).stack ?? String(e)}`),
    });
    const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    const server = createHttpServer((r) => router.handle(r), {
      maxBodyBytes,
      onError: (e) => options.log(`http: ${(e as Error).message}`),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    if (options.produce ?? true) node.start();
    const openStore = store;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${rootHost}:${port}`,
      port,
      node,
      router,
      close: () =>
        (closing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeAllConnections();
          await closed;
          await node.stop();
          await openStore.close();
          unlock();
        })()),
    };
  } catch (e) {
    await store?.close();
    unlock();
    throw e;
  }
}

/**
 * `psiweb start` in a process of its own, for benches that need the node and their
 * client on separate event loops: on port 0 with no PWA, resolved once it says where
 * it serves.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface SpawnedNode {
  url: string;
  /** SIGTERM, resolved once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), resolved once the process has exited. */
  kill(): Promise<void>;
  /** Everything it printed so far. */
  output(): string;
}

/** `nodeArgs` go to Node itself (e.g. --cpu-prof), `startArgs` to `psiweb start`. */
export async function spawnPsiwebStart(dataDir: string, options: { nodeArgs?: string[]; startArgs?: string[]; timeoutMs?: number } = {}): Promise<SpawnedNode> {
  const args = [...(options.nodeArgs ?? []), '--import', 'tsx', 'bin/psiweb.ts', 'start', '--port', '0', '--data', dataDir, '--dist', join(dataDir, 'no-dist'), ...(options.startArgs ?? [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const m = output.match(/serving (http:\/\/[^\s]+?)\/ /);
    if (m) return { url: m[1]!, stop: () => (proc.kill('SIGTERM'), exited), kill: () => (proc.kill('SIGKILL'), exited), output: () => output };
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`psiweb start did not come up:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

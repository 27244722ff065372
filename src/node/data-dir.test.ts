/**
 * A data directory is used by one node at a time, and a damaged or lost store is
 * reported, never served, built on or silently replaced by a new devnet. These tests
 * damage a real devnet's directory the ways the issue reproduced.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreDamagedError } from '../errors.ts';
import { signedTransfer } from './browser/tx.ts';
import { runCheck } from './cli/check.ts';
import { DataDirInUseError, lockDataDir, STORE_DIR } from './data-dir.ts';
import { PortInUseError, startPeer, type Peer } from './peer.ts';

const HOLDER = new URL('./testing/lock-holder.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'psiweb-data-dir-'));
/** A devnet booted once, with a few blocks; each test copies it. */
const template = join(root, 'template');
let n = 0;

function copyOfTemplate(): string {
  const dir = join(root, `dir-${n++}`);
  cpSync(template, dir, { recursive: true });
  return dir;
}

function start(dataDir: string, port = 0): Promise<Peer> {
  return startPeer({ dataDir, port, rootHost: 'psiweb.localhost', distDir: join(root, 'no-dist'), log: () => undefined, produce: false });
}

async function get(peer: Peer, url: string): Promise<{ status: number; text: string }> {
  const r = await peer.router.handle(new Request(url));
  return { status: r.status, text: await r.text() };
}

function runHolder(dir: string, mode: string, ms = '1500', at?: number) {
  const args = ['--import', 'tsx', HOLDER, dir, mode, ms, ...(at === undefined ? [] : [String(at)])];
  return spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
}

function firstLine(child: ReturnType<typeof runHolder>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    child.on('exit', () => resolve(text.trim()));
    child.on('error', reject);
  });
}

async function checkOutput(dir: string): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCheck(['--data', dir], { stdout: (t) => (out += t), stderr: () => undefined });
  return { code, out };
}

beforeAll(async () => {
  const peer = await start(template);
  for (let i = 0; i < 3; i++) await peer.node.produceBlock();
  await peer.close();
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the data directory lock', () => {
  it('six racing processes: exactly one gets the directory', async () => {
    const dir = join(root, 'race');
    mkdirSync(dir);
    // A stale lock file from an older psiweb naming a dead pid changes nothing.
    writeFileSync(join(dir, 'psiweb.lock'), '999999');
    // All six try at the same instant, well after they have all started.
    const at = Date.now() + 6000;
    const lines = await Promise.all(Array.from({ length: 6 }, () => firstLine(runHolder(dir, 'hold', '4000', at))));
    expect(lines.filter((l) => l.startsWith('locked'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('refused'))).toHaveLength(5);
    const winner = lines.find((l) => l.startsWith('locked'))!.split(' ')[1];
    for (const l of lines.filter((x) => x.startsWith('refused'))) expect(l).toContain(`in use by another psiweb (pid ${winner})`);
  }, 60_000);

  it('a holder killed with SIGKILL, or left a zombie, no longer holds it; a pid file naming a live process is not a lock', async () => {
    const dir = join(root, 'crash');
    mkdirSync(dir);
    const child = runHolder(dir, 'hold', '60000');
    expect(await firstLine(child)).toMatch(/^locked/);
    await expect(lockDataDir(dir)).rejects.toBeInstanceOf(DataDirInUseError);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await lockDataDir(dir);
    await lock.release();

    // A zombie: the holder exits while its parent (a shell that became `sleep`) never reaps it.
    const shell = spawn('sh', ['-c', `"${process.execPath}" --import tsx "${HOLDER}" "${dir}" exit & exec sleep 30`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await firstLine(shell);
    expect(line).toMatch(/^locked/);
    const zombie = Number(line.split(' ')[1]);
    for (let i = 0; i < 100 && !/\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /);
    writeFileSync(join(dir, 'psiweb.lock'), String(zombie));
    const again = await lockDataDir(dir);
    await again.release();
    shell.kill('SIGKILL');

    // A reused pid: the lock file names a live process that is not a psiweb node.
    writeFileSync(join(dir, 'psiweb.lock'), String(process.pid === 1 ? 2 : 1));
    const third = await lockDataDir(dir);
    await third.release();
  }, 60_000);

  it('a port in use fails before the data directory is touched', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const dir = join(root, 'never-created');
    await expect(start(dir, port)).rejects.toBeInstanceOf(PortInUseError);
    expect(existsSync(dir)).toBe(false);
    busy.close();
  });
});

describe('a damaged or lost store', () => {
  it('an intact directory resumes, and psiweb check finds it intact (block log and replayed state)', async () => {
    const dir = copyOfTemplate();
    const { code, out } = await checkOutput(dir);
    expect(out).toMatch(/replay: \d+ blocks replayed; the state they give equals the stored state/);
    expect(code).toBe(0);
    const peer = await start(dir);
    expect(peer.node.chain.head!.num).toBeGreaterThanOrEqual(5);
    await peer.close();
  });

  it('a deleted or emptied store is refused: no new devnet over a directory that held a chain', async () => {
    const dir = copyOfTemplate();
    const file = join(dir, STORE_DIR, 'data.mdb');
    truncateSync(file, 0);
    await expect(start(dir)).rejects.toThrow(/held chain [0-9a-f]{16}… but its store \(chain\/data\.mdb\) is empty/);
    expect(statSync(file).size).toBe(0);
    rmSync(join(dir, STORE_DIR), { recursive: true });
    await expect(start(dir)).rejects.toThrow(/but its store \(chain\/data\.mdb\) is missing/);
    expect(existsSync(file)).toBe(false);
  });

  it('a truncated store is refused with a message instead of a crash', async () => {
    const dir = copyOfTemplate();
    const file = join(dir, STORE_DIR, 'data.mdb');
    truncateSync(file, Math.floor(statSync(file).size / 3));
    await expect(start(dir)).rejects.toThrow(/truncated/);
    const { code, out } = await checkOutput(dir);
    expect(code).toBe(1);
    expect(out).toMatch(/DAMAGED .*truncated/);
  });

  it('a balance changed on disk is not served, and psiweb check names the record', async () => {
    const dir = copyOfTemplate();
    let peer = await start(dir);
    const before = await get(peer, 'http://tokens.psiweb.localhost/balances/alice');
    expect(before.status).toBe(200);
    await peer.close();
    // Change every stored copy of the state records holding alice's balance (a u64).
    const amount = (JSON.parse(before.text) as { balance: string }).balance;
    expect(BigInt(amount)).toBeGreaterThan(0n);
    const le = Buffer.alloc(8);
    le.writeBigUInt64LE(BigInt(amount));
    const flipped = flipStoredValues(dir, (v) => v.indexOf(le) >= 0);
    expect(flipped).toBeGreaterThan(0);
    peer = await start(dir);
    const after = await get(peer, 'http://tokens.psiweb.localhost/balances/alice');
    expect(after.status).toBe(500);
    expect(after.text).not.toContain(amount);
    // A transfer from alice reads the record: it is refused, not built on.
    const tapos = JSON.parse((await get(peer, 'http://tokens.psiweb.localhost/common/tapos/head')).text) as { refBlockIndex: number; refBlockSuffix: number };
    const transfer = await signedTransfer({ from: 'alice', to: 'bob', amount: '5', memo: '', tapos, expiration: BigInt(Math.floor(Date.now() / 1000) + 60) });
    await expect(peer.node.submit(transfer)).rejects.toBeInstanceOf(StoreDamagedError);
    await peer.close();
    const { code, out } = await checkOutput(dir);
    expect(code).toBe(1);
    expect(out).toMatch(/DAMAGED state: \d+ record\(s\) fail their checksum/);
    expect(out).toMatch(/DAMAGED replay: \d+ key\(s\) differ/);
  });

  it('a block record changed on disk is refused at open, and not served with 200 by a running node', async () => {
    const dir = copyOfTemplate();
    // Under a running node: lmdb's shared map sees the change at once.
    const peer = await start(dir);
    expect((await peer.router.handle(new Request('http://psiweb.localhost/native/blocks?from=3&count=1'))).status).toBe(200);
    expect(flipBlockRecord(dir, 3)).toBeGreaterThan(0);
    const r = await peer.router.handle(new Request('http://psiweb.localhost/native/blocks?from=3&count=1'));
    expect(r.status).toBe(500);
    await peer.close();
    // Opening checks the newest blocks' chain of ids.
    await expect(start(dir)).rejects.toThrow(/block 3's record fails its checksum/);
    const { code, out } = await checkOutput(dir);
    expect(code).toBe(1);
    expect(out).toMatch(/DAMAGED .*block 3's record fails its checksum/);
  });
});

/** Flips one byte in every on-disk copy of the stored state values `pick` selects. */
function flipStoredValues(dir: string, pick: (value: Buffer) => boolean): number {
  const path = join(dir, STORE_DIR);
  const env = open({ path, maxDbs: 4 });
  const state = env.openDB<Buffer, Buffer>('state', { keyEncoding: 'binary', encoding: 'binary' });
  const targets: Buffer[] = [];
  for (const { value } of state.getRange({})) if (pick(value)) targets.push(Buffer.from(value));
  void env.close();
  return flipAll(join(path, 'data.mdb'), targets);
}

function flipBlockRecord(dir: string, num: number): number {
  const path = join(dir, STORE_DIR);
  const env = open({ path, maxDbs: 4 });
  const blocks = env.openDB<Buffer, number>('blocks', { keyEncoding: 'uint32', encoding: 'binary' });
  const record = Buffer.from(blocks.get(num)!);
  void env.close();
  return flipAll(join(path, 'data.mdb'), [record.subarray(40, record.length - 4)]);
}

/** Flips a byte in the middle of each occurrence of each target in the file. */
function flipAll(file: string, targets: Buffer[]): number {
  const data = readFileSync(file);
  let count = 0;
  for (const t of targets) {
    for (let at = data.indexOf(t); at >= 0; at = data.indexOf(t, at + 1)) {
      data[at + (t.length >> 1)]! ^= 0x10;
      count++;
    }
  }
  writeFileSync(file, data);
  return count;
}

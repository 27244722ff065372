/**
 * `psiweb check --data DIR`: re-verifies a stopped node's data directory from scratch
 * and says what is wrong, if anything:
 *  1. the data file's header (lmdb-file.ts) and the store format;
 *  2. every state record's checksum;
 *  3. the block log: every block decodes, is stored under its id, and the ids chain
 *     from the head back to genesis;
 *  4. a replay: every block applied, fully validated, to an empty chain in memory, and
 *     the resulting state compared with the stored one, key by key.
 * Exit 0 when everything holds, 1 when something is damaged, 2 for bad usage.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { replayAndCompare, verifyBlockLog } from '../../chain/integrity.ts';
import { StoreDamagedError, StoreFormatError } from '../../errors.ts';
import { toHex } from '../../state/bytes.ts';
import { DEFAULT_DATA_DIR } from '../constants.ts';
import { lockDataDir, openDataDir } from '../data-dir.ts';
import { loadDevnet } from '../devnet.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo } from './io.ts';
import { nodeSigVerifier } from '../node-sig-verifier.ts';

export const CHECK_USAGE = `usage: psiweb check [--data ${DEFAULT_DATA_DIR}] [--no-replay]
  re-verifies a stopped node's data directory: the store file, every record's checksum,
  the block log's chain of ids, and (unless --no-replay) a replay of every block whose
  state must equal the stored state. Exit 0: intact; 1: damaged (what is wrong is printed).`;

export async function runCheck(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { data: { type: 'string', default: DEFAULT_DATA_DIR }, 'no-replay': { type: 'boolean', default: false } } }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const dir = resolve(values.data);
  if (!existsSync(dir)) throw new UsageError(`--data: ${dir} does not exist`);
  const out = (line: string) => io.stdout(`${line}\n`);
  const progress = (line: string) => io.stderr(`${line}\n`);
  const lock = await lockDataDir(dir);
  let problems = 0;
  const problem = (line: string) => {
    problems++;
    out(`DAMAGED ${line}`);
  };
  try {
    const devnet = await loadDevnet();
    let opened;
    try {
      opened = await openDataDir(dir, { nativeVerifiers: devnet.nativeVerifiers.map(nodeSigVerifier), verifyBlocks: 0, log: out });
    } catch (e) {
      if (e instanceof StoreDamagedError || e instanceof StoreFormatError) {
        problem(e.message);
        return EXIT_FAILED;
      }
      throw e;
    }
    const { store, chain } = opened;
    try {
      out(`store: ${dir} opens; chain ${chain.chainId ? toHex(chain.chainId) : '(none)'}, head ${chain.head?.num ?? '(none)'}`);
      let records = 0;
      const damagedKeys: string[] = [];
      for (const _ of store.allState((key) => damagedKeys.push(toHex(key)))) records++;
      if (damagedKeys.length) problem(`state: ${damagedKeys.length} record(s) fail their checksum, e.g. key ${damagedKeys.slice(0, 5).join(', ')}`);
      else out(`state: ${records} records, every checksum holds`);
      try {
        const log = await verifyBlockLog(store, chain.head, { onProgress: (done, total) => progress(`  block log: ${done}/${total}`) });
        out(`block log: ${log.blocks} blocks, ids chain from the head (${log.head?.num ?? '-'}) back to block ${log.from}`);
      } catch (e) {
        if (!(e instanceof StoreDamagedError)) throw e;
        problem(`block log: ${e.message}`);
      }
      if (!values['no-replay']) {
        try {
          const replay = await replayAndCompare(store, store.allState(() => undefined), {
            nativeVerifiers: devnet.nativeVerifiers.map(nodeSigVerifier),
            onProgress: (block, head) => progress(`  replay: block ${block}/${head}`),
          });
          if (replay.differing === 0) out(`replay: ${replay.blocks} blocks replayed; the state they give equals the stored state (${replay.records} records)`);
          else {
            problem(`replay: ${replay.differing} key(s) differ between the stored state and a replay of the ${replay.blocks} blocks:`);
            for (const d of replay.differences) out(`  key ${d.key}: stored ${d.stored ?? '(absent or damaged)'}, replayed ${d.replayed ?? '(absent)'}`);
          }
        } catch (e) {
          if (!(e instanceof StoreDamagedError)) throw e;
          problem(`replay: ${e.message}`);
        }
      }
    } finally {
      await store.close();
    }
  } finally {
    await lock.release();
  }
  out(problems === 0 ? `${dir}: intact` : `${dir}: ${problems} problem(s) found`);
  return problems === 0 ? EXIT_OK : EXIT_FAILED;
}

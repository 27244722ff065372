/**
 * Consensus simulator. `npm run sim -- --mode bft --nodes 4 --byzantine 1 --seeds 1000`
 * runs seeds 1..1000 and prints one line per failing seed, then `N passed, M failed`.
 * `--seed N --trace` replays one seed with a trace of every fault, drop and finality.
 * `--behaviour collude --byzantine 2 --nodes 4` (f+1) must fail; `--unsafe-quorum 2f`
 * with f colluders too: those runs show the simulator catches a real attack.
 * Exit 0 when all pass, 1 on any violation, 2 on bad flags.
 */
import { BYZANTINE_BEHAVIOURS } from '../src/consensus/sim/byzantine.ts';
import { failLine, runSeed, runSeeds, UNSAFE_QUORUMS, unsafeQuorum, type SimMode, type UnsafeQuorumName } from '../src/consensus/sim/run.ts';
import type { ByzantineMode } from '../src/consensus/sim/simulator.ts';

const BEHAVIOURS: readonly ByzantineMode[] = [...BYZANTINE_BEHAVIOURS, 'collude'];

const USAGE = `usage: npm run sim -- [--mode cft|bft|switch] [--nodes N] [--byzantine K]
                      [--behaviour ${BEHAVIOURS.join('|')}] [--unsafe-quorum ${UNSAFE_QUORUMS.join('|')}]
                      [--seeds COUNT [--start FIRST]] | [--seed N [--trace]]
  --mode           consensus under test; switch = CFT→BFT change during faults (default cft)
  --nodes          producers (default 4)
  --byzantine      Byzantine producers, BFT only, fewer than nodes (default 0); more
                   than f = (nodes-1)/3 of them may break safety, and a run says so
  --behaviour      what Byzantine nodes do (default: random per node); collude: one
                   controller for all of them: equivocating leaders, double votes on
                   both sides of every fork
  --unsafe-quorum  a broken quorum, to check the checker: 2f = BFT quorum 2f instead
                   of 2f+1, n/2 = CFT quorum n/2 instead of a majority
  --seeds          number of seeds to run (default 100), starting at --start (default 1)
  --seed           replay one seed; --trace prints its events`;

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, v: string | undefined, min: number): number {
  if (v === undefined || !/^\d+$/.test(v)) fail(`${name} needs a whole number`);
  const n = Number(v);
  if (n < min) fail(`${name} must be at least ${min}`);
  return n;
}

const args = process.argv.slice(2);
let mode: SimMode = 'cft';
let nodes = 4;
let byzantine = 0;
let behaviour: ByzantineMode | undefined;
let unsafe: UnsafeQuorumName | undefined;
let seeds = 100;
let start = 1;
let seed: number | undefined;
let trace = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = args[i + 1];
  switch (a) {
    case '--mode':
      if (v !== 'cft' && v !== 'bft' && v !== 'switch') fail('--mode must be cft, bft or switch');
      mode = v;
      i++;
      break;
    case '--nodes':
      nodes = int(a, v, 1);
      i++;
      break;
    case '--byzantine':
      byzantine = int(a, v, 0);
      i++;
      break;
    case '--behaviour':
      if (!BEHAVIOURS.includes(v as ByzantineMode)) fail(`--behaviour must be one of ${BEHAVIOURS.join(', ')}`);
      behaviour = v as ByzantineMode;
      i++;
      break;
    case '--unsafe-quorum':
      if (!UNSAFE_QUORUMS.includes(v as UnsafeQuorumName)) fail(`--unsafe-quorum must be one of ${UNSAFE_QUORUMS.join(', ')}`);
      unsafe = v as UnsafeQuorumName;
      i++;
      break;
    case '--seeds':
      seeds = int(a, v, 1);
      i++;
      break;
    case '--start':
      start = int(a, v, 0);
      i++;
      break;
    case '--seed':
      seed = int(a, v, 0);
      i++;
      break;
    case '--trace':
      trace = true;
      break;
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
      break;
    default:
      fail(`unknown argument ${a}`);
  }
}
if (nodes > 64) fail('--nodes must be at most 64');
if (byzantine > 0 && mode !== 'bft') fail('--byzantine needs --mode bft (CFT assumes no Byzantine producers)');
if (byzantine >= nodes && byzantine > 0) fail('--byzantine must leave at least one honest producer');
if (behaviour !== undefined && byzantine === 0) fail('--behaviour needs --byzantine');
if (unsafe === '2f' && mode === 'cft') fail('--unsafe-quorum 2f is a BFT quorum: use --mode bft or switch (n/2 for CFT)');
if (unsafe === 'n/2' && mode === 'bft') fail('--unsafe-quorum n/2 is a CFT quorum: use --mode cft or switch (2f for BFT)');
if (trace && seed === undefined) fail('--trace needs --seed');
const f = Math.floor((nodes - 1) / 3);
if (byzantine > f) process.stderr.write(`note: ${byzantine} Byzantine of ${nodes} producers exceed f = ${f}: BFT does not promise safety or liveness\n`);

const opts = {
  mode,
  nodes,
  byzantine,
  behaviour,
  ...(unsafe ? { unsafeQuorum: unsafeQuorum(unsafe) } : {}),
  trace: trace ? (l: string) => process.stdout.write(`${l}\n`) : undefined,
};
if (seed !== undefined) {
  const r = runSeed(opts, seed);
  const ok = r.violations.length === 0;
  process.stdout.write(
    ok
      ? `seed ${seed}: ok (irreversible ${r.irreversible} at ${r.timeMs.toFixed(0)} ms, ${r.messages} messages, ${r.dropped} dropped, ${r.evidence} evidence)\n`
      : `${failLine(r)}\n`,
  );
  process.stdout.write(`${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed\n`);
  process.exit(ok ? 0 : 1);
}
const { passed, failed } = runSeeds(opts, start, seeds, (r) => process.stdout.write(`${failLine(r)}\n`));
process.stdout.write(`${passed} passed, ${failed.length} failed\n`);
process.exit(failed.length > 0 ? 1 : 0);

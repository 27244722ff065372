/**
 * Consensus simulator. `npm run sim -- --mode bft --nodes 4 --byzantine 1 --seeds 1000`
 * runs seeds 1..1000 and prints one line per failing seed, then `N passed, M failed`.
 * `--seed N --trace` replays one seed with a trace of every fault, drop and finality.
 * Exit 0 when all pass, 1 on any violation, 2 on bad flags.
 */
import { BYZANTINE_BEHAVIOURS, type ByzantineBehaviour } from '../src/consensus/sim/byzantine.ts';
import { failLine, runSeed, runSeeds, type SimMode } from '../src/consensus/sim/run.ts';

const USAGE = `usage: npm run sim -- [--mode cft|bft|switch] [--nodes N] [--byzantine K]
                      [--behaviour ${BYZANTINE_BEHAVIOURS.join('|')}]
                      [--seeds COUNT [--start FIRST]] | [--seed N [--trace]]
  --mode       consensus under test; switch = CFT→BFT change during faults (default cft)
  --nodes      producers (default 4)
  --byzantine  Byzantine producers, BFT only, at most (nodes-1)/3 (default 0)
  --behaviour  what Byzantine nodes do (default: random per node)
  --seeds      number of seeds to run (default 100), starting at --start (default 1)
  --seed       replay one seed; --trace prints its events`;

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
let behaviour: ByzantineBehaviour | undefined;
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
      if (!BYZANTINE_BEHAVIOURS.includes(v as ByzantineBehaviour)) fail(`--behaviour must be one of ${BYZANTINE_BEHAVIOURS.join(', ')}`);
      behaviour = v as ByzantineBehaviour;
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
if (byzantine * 3 >= nodes && byzantine > 0) fail('--byzantine must satisfy 3f+1 <= nodes');
if (trace && seed === undefined) fail('--trace needs --seed');

const opts = { mode, nodes, byzantine, behaviour, trace: trace ? (l: string) => process.stdout.write(`${l}\n`) : undefined };
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

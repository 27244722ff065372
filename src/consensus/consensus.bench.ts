/**
 * Consensus state-machine figures, all in the simulator with no faults:
 * throughput (blocks/s of CPU for the whole network), finality latency in network
 * round trips (virtual time over a fixed link delay), and CPU time per block per node.
 */
import { accountName } from '../protocol/names.ts';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { simulate } from './sim/simulator.ts';
import type { ConsensusMode } from './types.ts';

const BLOCKS = 300;
const LINK_MS = 10;

function run(mode: ConsensusMode, nodes: number, blocks: number, onIrreversible?: Parameters<typeof simulate>[0]['onIrreversible']) {
  return simulate({
    seed: 1,
    mode,
    nodes,
    chaosMs: 0,
    livenessMs: 1e9,
    minDelayMs: LINK_MS,
    maxDelayMs: LINK_MS,
    stopAtIrreversible: blocks,
    // Nodes only need a tick per block interval: production and timeouts, no polling.
    tickMs: 100,
    // The state machines' own cost: the simulator's JSON stand-in for the wire codec
    // (which the tests keep on) is not what a node pays.
    wire: null,
    ...(onIrreversible ? { onIrreversible } : {}),
  });
}

/**
 * Best of five wall-clock runs, so a busy second core does not drag the figure down,
 * after an untimed one: a first run of 300 blocks is mostly the JIT compiling and
 * reoptimising the state machines, which made whichever configuration ran first look
 * slowest.
 */
function throughput(mode: ConsensusMode, nodes: number): number {
  run(mode, nodes, BLOCKS);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    run(mode, nodes, BLOCKS);
    best = Math.min(best, performance.now() - t0);
  }
  return BLOCKS / (best / 1000);
}

/** Virtual time from production to irreversibility at the producer, in round trips of the fixed link. */
function finalityRtt(mode: ConsensusMode): number {
  const lat: number[] = [];
  run(mode, 4, 100, (node, h, now) => {
    if (node === accountName(h.producer) && h.blockNum > 10) lat.push(now - Number(h.time) / 1000);
  });
  lat.sort((a, b) => a - b);
  return (lat[Math.floor(lat.length / 2)] ?? NaN) / (2 * LINK_MS);
}

const bench: BenchFile = async () => {
  // Both algorithms once at length before any timing, so the first figure is not the JIT's.
  for (const mode of ['cft', 'bft'] as const) run(mode, 4, 3 * BLOCKS);
  const out: Figure[] = [];
  for (const mode of ['cft', 'bft'] as const) {
    for (const nodes of [4, 7, 16]) {
      const bps = throughput(mode, nodes);
      out.push(
        figure(
          `consensus ${mode.toUpperCase()} throughput, ${nodes} producers (sim, no faults)`,
          'node',
          Math.round(bps),
          'blocks/s',
          nodes === 4 ? { op: '>=', value: 5000, text: '≥ 5,000 blocks/s' } : undefined,
        ),
      );
      out.push(figure(`consensus ${mode.toUpperCase()} CPU per block per node, ${nodes} producers`, 'node', Math.round((1e6 / bps / nodes) * 10) / 10, 'µs'));
    }
  }
  out.push(figure('consensus CFT finality latency at the leader (median)', 'node', finalityRtt('cft'), 'RTT', { op: '<=', value: 1, text: '1 RTT' }));
  out.push(figure('consensus BFT finality latency at the leader (median)', 'node', finalityRtt('bft'), 'RTT', { op: '<=', value: 2, text: '2 RTT' }));
  return out;
};

export default bench;

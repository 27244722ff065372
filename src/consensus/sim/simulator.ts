/**
 * Deterministic consensus simulator: N nodes, one seeded PRNG, virtual time. The
 * network delays, loses, duplicates and reorders messages, partitions and heals;
 * nodes crash and restart from what they asked to persist; Byzantine nodes lie, alone
 * (byzantine.ts) or together (collusion.ts). Every message crosses a codec (wire.ts).
 * Safety invariants are checked on every irreversible block, liveness after healing.
 */
import { ConsensusNode, makeGenesis } from '../node.ts';
import { hexOf } from '../block.ts';
import type { QuorumOverride } from '../producers.ts';
import type { BlockHeader, BlockId, ConsensusMode, HardState, ProducerName, SignedBlock, WireMessage } from '../types.ts';
import { simBlockSource, simConsensus } from './blocks.ts';
import { ByzantineAdversary, BYZANTINE_BEHAVIOURS, type Adversary, type ByzantineBehaviour, type Delivery } from './byzantine.ts';
import { Collusion, type CollusionStats } from './collusion.ts';
import { EventHeap } from './heap.ts';
import { SimKeyring } from './keys.ts';
import { Prng } from './prng.ts';
import { psibaseWire, type SimWire } from './wire.ts';

/** A behaviour for each Byzantine node on its own, or `collude`: all of them under one controller. */
export type ByzantineMode = ByzantineBehaviour | 'collude';

export type FaultAction =
  | { readonly at: number; readonly kind: 'partition'; readonly groups: readonly (readonly number[])[] }
  | { readonly at: number; readonly kind: 'heal' }
  | { readonly at: number; readonly kind: 'crash'; readonly node: number | 'leader' }
  /** Cut the current leader, with `others` more nodes, off from the rest. */
  | { readonly at: number; readonly kind: 'isolate-leader'; readonly others: number }
  | { readonly at: number; readonly kind: 'restart'; readonly node: number }
  | { readonly at: number; readonly kind: 'link'; readonly loss: number; readonly duplicate: number };

/** A producer-set change carried by the first block produced at or after `at`. */
export interface SetChange {
  readonly at: number;
  readonly set: { readonly mode: ConsensusMode; readonly nodes: readonly number[] };
}

export interface SimConfig {
  readonly seed: number;
  readonly mode: ConsensusMode;
  readonly nodes: number;
  /** The last `byzantine` nodes are Byzantine. */
  readonly byzantine?: number;
  readonly byzantineBehaviour?: ByzantineMode;
  /** Producers of the genesis set (node indexes); default all. */
  readonly producers?: readonly number[];
  /** Random delays, loss, duplication, partitions and crashes drawn from the seed. */
  readonly faults?: boolean;
  /** Explicit faults instead of (or on top of) random ones. */
  readonly schedule?: readonly FaultAction[];
  readonly change?: SetChange;
  /** Virtual ms of chaos; then the network heals and crashed nodes restart. */
  readonly chaosMs?: number;
  /** Bound on the time after healing by which new blocks must be irreversible. */
  readonly livenessMs?: number;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly blockIntervalMs?: number;
  readonly tickMs?: number;
  /**
   * How messages cross the network (default psibase's wire codec). `null`: the sender's
   * objects reach the receivers as they are, for figures of the state machines alone.
   */
  readonly wire?: SimWire | null;
  /** Test-only: a broken quorum rule for every node, to show the checker catches it. */
  readonly unsafeQuorum?: QuorumOverride;
  /** Times at which to record the lowest irreversible number over running honest nodes. */
  readonly probes?: readonly number[];
  /** Irreversible blocks each node keeps in memory (ConsensusInit.retainBlocks). */
  readonly retainBlocks?: number;
  /** Stop once this many blocks are irreversible on every honest node (benchmarks). */
  readonly stopAtIrreversible?: number;
  /**
   * Keep running until this time even once liveness is shown (psibase's cases run a fixed
   * time after healing, then check every node's head); liveness is judged as before.
   */
  readonly runUntilMs?: number;
  readonly trace?: (line: string) => void;
  /** Called for every block an honest node reports irreversible, with the virtual time. */
  readonly onIrreversible?: (node: ProducerName, header: BlockHeader, now: number) => void;
  /** Called for every message a node's state machine sends (before a Byzantine node rewrites it), with the virtual time. */
  readonly onSend?: (from: ProducerName, message: WireMessage, now: number) => void;
}

export interface SimResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly timeMs: number;
  /** Lowest irreversible block number over honest nodes at the end. */
  readonly irreversible: number;
  readonly messages: number;
  readonly dropped: number;
  readonly evidence: number;
  readonly finalMode: ConsensusMode;
  /** Lowest and highest irreversible number over running honest nodes at each probe time. */
  readonly probes: readonly { readonly at: number; readonly min: number; readonly max: number }[];
  /** What the colluding controller did (`byzantineBehaviour: 'collude'` only). */
  readonly collusion?: CollusionStats | undefined;
}

interface Storage {
  hardState: HardState | undefined;
  blocks: SignedBlock[];
}

interface SimNode {
  readonly index: number;
  readonly name: ProducerName;
  node: ConsensusNode | undefined;
  readonly storage: Storage;
  readonly adversary: Adversary | undefined;
  /** Every other node, in index order: names for the adversary, indexes for delivery. */
  readonly peerNames: readonly ProducerName[];
  readonly peers: readonly number[];
  /** The last block this node reported irreversible (honest nodes only). */
  lastNum: number;
  lastId: BlockId;
}

const DELIVER = 0;
const TICK = 1;
const FAULT = 2;
const PROBE = 3;
type EventKind = typeof DELIVER | typeof TICK | typeof FAULT | typeof PROBE;

/**
 * One class for every event, so the heap compares objects of a single shape: a union
 * of object literals spread together made event scheduling the simulator's top cost.
 */
class SimEvent {
  constructor(
    readonly time: number,
    readonly seq: number,
    readonly kind: EventKind,
    /** deliver: the receiver; tick: the node. */
    readonly node: number,
    readonly from: number,
    readonly message: unknown,
    readonly action: FaultAction | undefined,
    /** deliver: raw bytes a Byzantine node made up, not an encoded message (they may not decode). */
    readonly raw = false,
  ) {}
}

export const nodeName = (i: number): ProducerName => `p${i}`;

export function randomSchedule(rng: Prng, nodes: number, chaosMs: number, honest: number): FaultAction[] {
  const out: FaultAction[] = [{ at: 0, kind: 'link', loss: rng.chance(0.5) ? rng.range(0, 0.15) : 0, duplicate: rng.chance(0.5) ? rng.range(0, 0.1) : 0 }];
  const events = rng.int(4);
  for (let i = 0; i < events; i++) {
    const at = rng.range(0, chaosMs * 0.8);
    const until = Math.min(chaosMs, at + rng.range(chaosMs * 0.1, chaosMs * 0.6));
    if (rng.chance(0.5) && nodes > 1) {
      const side = Array.from({ length: nodes }, () => rng.int(2));
      const groups = [0, 1].map((g) => side.flatMap((s, n) => (s === g ? [n] : [])));
      out.push({ at, kind: 'partition', groups }, { at: until, kind: 'heal' });
    } else {
      const node = rng.int(honest);
      out.push({ at, kind: 'crash', node }, { at: until, kind: 'restart', node });
    }
  }
  return out;
}

export class Simulation {
  readonly cfg: SimConfig;
  private readonly rng: Prng;
  private readonly netRng: Prng;
  private readonly keys: SimKeyring;
  private readonly heap = new EventHeap<SimEvent>();
  private readonly nodes: SimNode[] = [];
  private readonly indexOf = new Map<ProducerName, number>();
  private readonly genesis: SignedBlock;
  private readonly canonical = new Map<number, BlockId>();
  private readonly violations: string[] = [];
  private readonly probes: { at: number; min: number; max: number }[] = [];
  private seq = 0;
  private now = 0;
  private groupOf: number[] | undefined;
  private loss = 0;
  private duplicate = 0;
  private messages = 0;
  private droppedCount = 0;
  private evidenceCount = 0;
  private readonly chaosMs: number;
  private readonly livenessMs: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly tickMs: number;
  private readonly blockIntervalMs: number;
  private readonly wire: SimWire | null;
  /** Encoded form of each message object sent, so a broadcast is encoded once. */
  private readonly encoded = new WeakMap<object, Uint8Array>();
  private collusion: Collusion | undefined;
  /** Honest nodes whose last irreversible block is at or above `target`: the run's stop test without a scan per event. */
  private target = Infinity;
  private reached = 0;
  private honestCount = 0;

  constructor(cfg: SimConfig) {
    this.cfg = cfg;
    this.rng = new Prng(cfg.seed);
    this.netRng = this.rng.fork();
    const nodeRng = this.rng.fork();
    const faultRng = this.rng.fork();
    this.keys = new SimKeyring(cfg.seed);
    this.chaosMs = cfg.chaosMs ?? 1500;
    this.livenessMs = cfg.livenessMs ?? 20_000;
    this.minDelay = cfg.minDelayMs ?? 2;
    this.maxDelay = cfg.maxDelayMs ?? (cfg.faults ? 40 : 10);
    this.blockIntervalMs = cfg.blockIntervalMs ?? 100;
    this.tickMs = cfg.tickMs ?? 20;
    this.wire = cfg.wire === undefined ? psibaseWire : cfg.wire;
    const producers = (cfg.producers ?? range(cfg.nodes)).map(nodeName);
    this.genesis = makeGenesis(simConsensus(cfg.mode, producers));
    const byz = cfg.byzantine ?? 0;
    const all = range(cfg.nodes);
    for (let i = 0; i < cfg.nodes; i++) {
      const name = nodeName(i);
      const isByz = i >= cfg.nodes - byz;
      const behaviour = cfg.byzantineBehaviour ?? nodeRng.pick(BYZANTINE_BEHAVIOURS);
      let adversary: Adversary | undefined;
      if (isByz && behaviour === 'collude') adversary = this.colluders(byz, nodeRng.fork()).member(name);
      else if (isByz && behaviour !== 'collude') adversary = new ByzantineAdversary(name, this.keys.signerFor(name), behaviour, nodeRng.fork());
      const peers = all.filter((p) => p !== i);
      const sn: SimNode = {
        index: i,
        name,
        node: undefined,
        storage: { hardState: undefined, blocks: [] },
        adversary,
        peerNames: peers.map(nodeName),
        peers,
        lastNum: 1,
        lastId: '',
      };
      this.nodes.push(sn);
      this.indexOf.set(name, i);
      if (!isByz) this.honestCount++;
    }
    this.setTarget(cfg.stopAtIrreversible ?? Infinity);
    for (const sn of this.nodes) {
      this.start(sn, nodeRng.fork());
      sn.lastId = sn.node!.irreversible.id;
      this.canonical.set(1, sn.lastId);
      this.schedule(nodeRng.range(0, this.tickMs), TICK, sn.index);
    }
    const schedule = [...(cfg.faults ? randomSchedule(faultRng, cfg.nodes, this.chaosMs, cfg.nodes - byz) : []), ...(cfg.schedule ?? [])];
    for (const action of schedule) this.schedule(action.at, FAULT, -1, -1, undefined, action);
    for (const at of cfg.probes ?? []) this.schedule(at, PROBE);
  }

  /** The one controller of every Byzantine node (the last `byz` of them), made on first use. */
  private colluders(byz: number, rng: Prng): Collusion {
    if (!this.collusion) {
      const n = this.cfg.nodes;
      const members = range(n).slice(n - byz).map((i) => ({ name: nodeName(i), signer: this.keys.signerFor(nodeName(i)) }));
      const honest = range(n - byz).map(nodeName);
      this.collusion = new Collusion(members, honest, rng, (name) => {
        const i = this.indexOf.get(name);
        return i !== undefined && this.nodes[i]?.node?.consensusMode === 'bft';
      }, this.cfg.trace ? (line) => this.log(line) : undefined);
    }
    return this.collusion;
  }

  private honest(sn: SimNode): boolean {
    return sn.adversary === undefined;
  }

  private log(line: string): void {
    this.cfg.trace?.(`${this.now.toFixed(1).padStart(9)} ${line}`);
  }

  private schedule(at: number, kind: EventKind, node = -1, from = -1, message: unknown = undefined, action: FaultAction | undefined = undefined, raw = false): void {
    this.heap.push(new SimEvent(at, this.seq++, kind, node, from, message, action, raw));
  }

  /** Starts counting honest nodes at or above `target` irreversible blocks (one scan, then incremental). */
  private setTarget(target: number): void {
    this.target = target;
    this.reached = 0;
    for (const sn of this.nodes) if (this.honest(sn) && sn.lastNum >= target) this.reached++;
  }

  private start(sn: SimNode, rng: Prng): void {
    const change = this.cfg.change;
    const restore = sn.storage.blocks.length > 0 || sn.storage.hardState ? { hardState: sn.storage.hardState, blocks: [...sn.storage.blocks] } : undefined;
    sn.node = new ConsensusNode(
      {
        signer: this.keys.signerFor(sn.name),
        verifier: this.keys,
        random: rng,
        blocks: simBlockSource(change ? { at: change.at, consensus: simConsensus(change.set.mode, change.set.nodes.map(nodeName)) } : undefined),
      },
      {
        name: sn.name,
        genesis: this.genesis,
        now: this.now,
        restore,
        blockIntervalMs: this.blockIntervalMs,
        electionTimeoutMs: 3 * this.blockIntervalMs,
        viewChangeTimeoutMs: 4 * this.blockIntervalMs,
        ...(this.cfg.unsafeQuorum ? { unsafeQuorum: this.cfg.unsafeQuorum } : {}),
        ...(this.cfg.retainBlocks !== undefined ? { retainBlocks: this.cfg.retainBlocks } : {}),
      },
    );
    if (restore && this.honest(sn)) {
      const irr = sn.node.irreversible;
      if (irr.num < sn.lastNum || (irr.num === sn.lastNum && irr.id !== sn.lastId))
        this.violate(`irreversible block rolled back on restart of ${sn.name}: had ${sn.lastNum}, restored ${irr.num}`);
    }
    this.drain(sn);
  }

  private violate(what: string): void {
    this.log(`VIOLATION ${what}`);
    this.violations.push(what);
  }

  private drain(sn: SimNode): void {
    const node = sn.node;
    if (!node) return;
    while (node.hasReady()) {
      const r = node.ready();
      if (r.hardState) sn.storage.hardState = r.hardState;
      for (const b of r.blocks) sn.storage.blocks.push(b);
      this.droppedCount += r.dropped.length;
      this.evidenceCount += r.evidence.length;
      if (this.cfg.trace) {
        for (const d of r.dropped) this.log(`${sn.name} dropped from ${d.from}: ${d.reason}`);
        for (const e of r.evidence) this.log(`${sn.name} evidence: ${e.producer} ${e.kind} term ${e.term}`);
      }
      if (this.honest(sn)) for (const b of r.irreversible) this.checkIrreversible(sn, b);
      for (const out of r.messages) {
        this.cfg.onSend?.(sn.name, out.message, this.now);
        if (sn.adversary) this.deliver(sn, sn.adversary.rewrite(out, sn.peerNames));
        else if (out.to === '*') {
          for (const to of sn.peers) this.send(sn.index, to, out.message);
        } else {
          const to = this.indexOf.get(out.to);
          if (to !== undefined) this.send(sn.index, to, out.message);
        }
      }
    }
  }

  private deliver(sn: SimNode, deliveries: readonly Delivery[]): void {
    for (const d of deliveries) {
      const to = this.indexOf.get(d.to);
      const from = d.from === undefined ? sn.index : this.indexOf.get(d.from);
      if (to !== undefined && from !== undefined && from !== to) this.send(from, to, d.message);
    }
  }

  private checkIrreversible(sn: SimNode, b: SignedBlock): void {
    const id = sn.node ? blockIdOf(sn.node, b) : undefined;
    const h = b.block.header;
    if (!id) return;
    const num = h.blockNum;
    // Invariant: an irreversible block never rolls back — each new one extends the last.
    if (num !== sn.lastNum + 1 || hexOf(h.previous) !== sn.lastId)
      this.violate(`irreversible chain of ${sn.name} broken at ${num}: does not extend ${sn.lastNum}`);
    if (sn.lastNum < this.target && num >= this.target) this.reached++;
    sn.lastNum = num;
    sn.lastId = id;
    // Invariant: no two different irreversible blocks at one height across honest nodes.
    const other = this.canonical.get(num);
    if (other === undefined) this.canonical.set(num, id);
    else if (other !== id) this.violate(`conflicting irreversible blocks at height ${num} (${sn.name}: ${id.slice(8, 16)} vs ${other.slice(8, 16)})`);
    this.cfg.onIrreversible?.(sn.name, h, this.now);
    if (this.cfg.trace) this.log(`${sn.name} irreversible ${num} term ${h.term}`);
  }

  private partitioned(a: number, b: number): boolean {
    const g = this.groupOf;
    return g !== undefined && g[a] !== g[b];
  }

  private send(from: number, to: number, message: unknown): void {
    this.messages++;
    if (this.partitioned(from, to) || this.netRng.chance(this.loss)) return;
    const copies = this.netRng.chance(this.duplicate) ? 2 : 1;
    let bytes = message;
    // Bytes a Byzantine node made up go out as they are.
    const raw = message instanceof Uint8Array;
    if (this.wire && !raw) {
      try {
        bytes = this.encode(this.wire, message);
      } catch (err) {
        return this.violate(`${this.wire.name} wire could not encode a message: ${(err as Error).message}`);
      }
    }
    for (let i = 0; i < copies; i++) {
      this.schedule(this.now + this.netRng.range(this.minDelay, this.maxDelay), DELIVER, to, from, bytes, undefined, raw);
    }
  }

  /** The bytes of a message; one object broadcast to every peer is encoded once. */
  private encode(wire: SimWire, message: unknown): Uint8Array {
    const m = message as WireMessage;
    let bytes = this.encoded.get(m);
    if (!bytes) {
      bytes = wire.encode(m);
      this.encoded.set(m, bytes);
    }
    return bytes;
  }

  /**
   * The link between two running nodes opened: each tells the other its head, as
   * psibase's blocknet does when a connection opens (ConsensusNode.connected).
   */
  private linkUp(a: SimNode, b: SimNode): void {
    if (!a.node || !b.node || this.partitioned(a.index, b.index)) return;
    a.node.connected(b.name);
    b.node.connected(a.name);
    this.drain(a);
    this.drain(b);
  }

  /** After the partition changed: every pair cut off before and reachable now reconnects. */
  private reconnect(before: number[] | undefined): void {
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a.index < b.index && before !== undefined && before[a.index] !== before[b.index]) this.linkUp(a, b);
      }
    }
  }

  /** A node (re)started: it connects to every peer it can reach. */
  private connectAll(sn: SimNode): void {
    for (const other of this.nodes) if (other !== sn) this.linkUp(sn, other);
  }

  private apply(a: FaultAction): void {
    this.log(`fault ${JSON.stringify(a)}`);
    const before = this.groupOf;
    switch (a.kind) {
      case 'partition': {
        const g = new Array<number>(this.cfg.nodes).fill(-1);
        a.groups.forEach((members, gi) => members.forEach((n) => (g[n] = gi)));
        this.groupOf = g;
        this.reconnect(before);
        break;
      }
      case 'heal':
        this.groupOf = undefined;
        this.reconnect(before);
        break;
      case 'crash': {
        const sn = this.nodes[a.node === 'leader' ? this.leaderIndex() : a.node];
        if (sn) sn.node = undefined;
        break;
      }
      case 'isolate-leader': {
        const leader = this.leaderIndex();
        const g = this.nodes.map(() => 1);
        g[leader] = 0;
        for (let i = 0, k = 0; i < g.length && k < a.others; i++) if (i !== leader) (g[i] = 0), k++;
        this.groupOf = g;
        this.reconnect(before);
        break;
      }
      case 'restart': {
        const sn = this.nodes[a.node];
        if (sn && !sn.node) {
          this.start(sn, this.rng.fork());
          this.connectAll(sn);
        }
        break;
      }
      case 'link':
        this.loss = a.loss;
        this.duplicate = a.duplicate;
        break;
    }
  }

  /** After chaos: heal every partition, restart every crashed node, stop losing messages. */
  private healAll(): void {
    this.log('heal all');
    const before = this.groupOf;
    this.groupOf = undefined;
    this.loss = 0;
    this.reconnect(before);
    for (const sn of this.nodes) {
      if (sn.node) continue;
      this.start(sn, this.rng.fork());
      this.connectAll(sn);
    }
  }

  /** The node leading now: the CFT leader, or the BFT leader of the highest live term. */
  private leaderIndex(): number {
    let best = 0;
    let bestTerm = -1;
    for (const sn of this.nodes) {
      const n = sn.node;
      if (!n) continue;
      const leads = n.consensusMode === 'cft' ? n.role === 'leader' : n.head.producer === n.name;
      if (leads && n.term > bestTerm) (best = sn.index), (bestTerm = n.term);
    }
    return best;
  }

  private minHonestIrreversible(): number {
    let min = Infinity;
    for (const sn of this.nodes) if (this.honest(sn)) min = Math.min(min, sn.lastNum);
    return min === Infinity ? 0 : min;
  }

  run(): SimResult {
    const healAt = this.chaosMs;
    let healed = false;
    const deadline = healAt + this.livenessMs;
    const stop = this.cfg.stopAtIrreversible;
    let live = false;
    for (;;) {
      const e = this.heap.pop();
      if (!e) break;
      if (!healed && e.time >= healAt) {
        this.now = healAt;
        this.healAll();
        healed = true;
        // Liveness: after healing, every honest node sees a block beyond anything irreversible at heal time.
        if (stop === undefined) this.setTarget(Math.max(...this.nodes.filter((n) => this.honest(n)).map((n) => n.lastNum), 1) + 1);
      }
      if (e.time > (live ? (this.cfg.runUntilMs ?? deadline) : deadline)) break;
      this.now = e.time;
      switch (e.kind) {
        case FAULT:
          if (e.time < healAt) this.apply(e.action!);
          continue;
        case PROBE: {
          const live = this.nodes.filter((sn) => this.honest(sn) && sn.node).map((sn) => sn.lastNum);
          this.probes.push({ at: e.time, min: Math.min(...live), max: Math.max(...live) });
          continue;
        }
        case TICK: {
          const sn = this.nodes[e.node]!;
          if (sn.node) {
            sn.node.tick(this.now);
            this.drain(sn);
          }
          this.schedule(this.now + this.tickMs, TICK, e.node);
          break;
        }
        case DELIVER: {
          const sn = this.nodes[e.node]!;
          if (!sn.node || this.partitioned(e.from, e.node)) continue;
          const fromName = this.nodes[e.from]!.name;
          if (e.raw) {
            // Made-up bytes: the node's own decoder judges them.
            sn.node.stepBytes(fromName, e.message as Uint8Array);
            this.drain(sn);
            break;
          }
          let message = e.message as WireMessage;
          if (this.wire) {
            try {
              message = this.wire.decode(e.message as Uint8Array);
            } catch (err) {
              this.violate(`${this.wire.name} wire could not decode a message it encoded: ${(err as Error).message}`);
              break;
            }
          }
          const seen = sn.adversary?.receive?.(fromName, message);
          if (seen) this.deliver(sn, seen.deliveries);
          if (seen && !seen.pass) break;
          sn.node.step(fromName, message);
          this.drain(sn);
          break;
        }
      }
      if (this.violations.length > 0) break;
      if (!live && this.honestCount > 0 && this.reached === this.honestCount && (stop !== undefined || healed)) {
        live = true;
        if (this.cfg.runUntilMs === undefined) break;
      }
    }
    if (!live && this.violations.length === 0)
      this.violations.push(`liveness: no new irreversible block within ${this.livenessMs} ms after healing (stuck at ${this.minHonestIrreversible()})`);
    const first = this.nodes.find((n) => this.honest(n) && n.node);
    return {
      seed: this.cfg.seed,
      violations: this.violations,
      timeMs: this.now,
      irreversible: this.minHonestIrreversible(),
      messages: this.messages,
      dropped: this.droppedCount,
      evidence: this.evidenceCount,
      finalMode: first?.node?.consensusMode ?? this.cfg.mode,
      probes: this.probes,
      collusion: this.collusion?.stats,
    };
  }

  /** The honest node objects, for scenario assertions. */
  honestNodes(): ConsensusNode[] {
    return this.nodes.filter((n) => this.honest(n) && n.node).map((n) => n.node!);
  }
}

function blockIdOf(node: ConsensusNode, b: SignedBlock): BlockId {
  return node.idOf(b);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export function simulate(cfg: SimConfig): SimResult {
  return new Simulation(cfg).run();
}

/**
 * Whether a producing browser keeps its slots (issue 11 §3). Its node runs in a dedicated
 * worker, whose timers Chrome does not throttle as it throttles a hidden tab's, so a
 * hidden tab goes on producing. What a worker cannot help is not being run at all: a
 * frozen or discarded tab, a sleeping machine, a browser that throttles workers too. The
 * watch finds those times the only way a page can, afterwards: a probe timer due every
 * `probeMs` that fires a block interval or more late means the node did not run for that
 * long, and each block interval in the gap is a slot it may have missed (a vote, a
 * block it should have made as leader). The dashboard says so (consensus panel).
 */
import type { Clock } from '../../core/platform.ts';

/** A time the node did not run: when it noticed, how long it was, the block intervals in it. */
export interface Stall {
  at: number;
  ms: number;
  slots: number;
}

export interface SlotWatchView {
  /** Block intervals missed within the window. */
  missedSlots: number;
  /** The newest stall within the window, or null. */
  lastStall: Stall | null;
}

/** How often the watch's probe is due. */
export const PROBE_MS = 100;
/** How long a stall is reported. */
export const STALL_WINDOW_MS = 60_000;

export class SlotWatch {
  private last: number | undefined;
  private timer: unknown;
  private readonly stalls: Stall[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly probeMs = PROBE_MS,
    private readonly windowMs = STALL_WINDOW_MS,
  ) {}

  /** Probes every probeMs until stop(); `counting` says whether this node had slots to keep (a producer of the set, not paused). */
  start(counting: () => boolean): void {
    this.stop();
    this.last = undefined;
    const loop = () => {
      this.probe(this.clock.now(), counting());
      this.timer = this.clock.setTimeout(loop, this.probeMs);
    };
    loop();
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One probe at `now`: a gap past its due time of a block interval or more is a stall (counted when `counting`). */
  probe(now: number, counting: boolean): void {
    const last = this.last;
    this.last = now;
    if (last === undefined || !counting) return;
    const late = now - last - this.probeMs;
    if (late < this.intervalMs) return;
    this.stalls.push({ at: now, ms: now - last, slots: Math.floor((now - last) / this.intervalMs) });
  }

  view(now: number): SlotWatchView {
    while (this.stalls.length > 0 && this.stalls[0]!.at < now - this.windowMs) this.stalls.shift();
    return { missedSlots: this.stalls.reduce((n, s) => n + s.slots, 0), lastStall: this.stalls.at(-1) ?? null };
  }
}

/**
 * The slot watch of a producing browser: a probe that fires a block interval or more
 * after it was due is a stall with the block intervals in it counted as missed slots —
 * not a probe a little late (a long block, a busy worker), not while the node had no
 * slots to keep — and a stall is reported for a minute.
 */
import { describe, expect, it } from 'vitest';
import { PROBE_MS, SlotWatch, STALL_WINDOW_MS } from './slot-watch.ts';

const T0 = 1_700_000_000_000;

/** A clock whose timers run when the test moves time on. */
function manualClock() {
  let now = T0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  return {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (h: unknown) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    /** Moves time to `t`, running each timer due on the way at its time (the event loop was free). */
    runTo(t: number) {
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const due = timers[0];
        if (!due || due.at > t) break;
        timers.shift();
        now = due.at;
        due.fn();
      }
      now = t;
    },
    /** Moves time on by `ms` without running a timer (the node did not run), then runs what is due. */
    stall(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => t.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    },
    pending: () => timers.length,
  };
}

describe('SlotWatch', () => {
  it('counts nothing while its probe runs on time, nor when it is late by less than a block interval', () => {
    const clock = manualClock();
    const watch = new SlotWatch(clock, 1000);
    watch.start(() => true);
    clock.runTo(T0 + 10_000);
    clock.stall(900);
    clock.runTo(clock.now() + 1000);
    expect(watch.view(clock.now())).toEqual({ missedSlots: 0, lastStall: null });
  });

  it('a stall of 4.05 s with 1 s blocks is four missed slots, reported for a minute', () => {
    const clock = manualClock();
    const watch = new SlotWatch(clock, 1000);
    watch.start(() => true);
    // The last probe on time runs at T0+5000; the next, due at T0+5100, runs 4.05 s after it.
    clock.runTo(T0 + 5_000);
    clock.stall(4_050);
    const at = clock.now();
    expect(watch.view(at)).toEqual({ missedSlots: 4, lastStall: { at, ms: 4_050, slots: 4 } });
    clock.runTo(at + 2_000);
    clock.stall(2_000 + PROBE_MS);
    const v = watch.view(clock.now());
    expect(v.missedSlots).toBe(4 + 2);
    expect(v.lastStall?.slots).toBe(2);
    clock.runTo(at + STALL_WINDOW_MS + 1);
    expect(watch.view(clock.now()).missedSlots).toBe(2);
    clock.runTo(clock.now() + STALL_WINDOW_MS);
    expect(watch.view(clock.now())).toEqual({ missedSlots: 0, lastStall: null });
  });

  it('does not count a stall while the node had no slots to keep (paused, a candidate)', () => {
    const clock = manualClock();
    const watch = new SlotWatch(clock, 1000);
    let counting = false;
    watch.start(() => counting);
    clock.runTo(T0 + 1_000);
    clock.stall(5_000);
    expect(watch.view(clock.now()).missedSlots).toBe(0);
    counting = true;
    clock.runTo(clock.now() + 1_000);
    clock.stall(3_000);
    expect(watch.view(clock.now()).missedSlots).toBe(3);
  });

  it('stop() leaves no timer behind and a restart does not count the time it was stopped', () => {
    const clock = manualClock();
    const watch = new SlotWatch(clock, 1000);
    watch.start(() => true);
    clock.runTo(T0 + 1_000);
    watch.stop();
    expect(clock.pending()).toBe(0);
    clock.runTo(T0 + 30_000);
    watch.start(() => true);
    clock.runTo(T0 + 31_000);
    expect(watch.view(clock.now()).missedSlots).toBe(0);
  });
});

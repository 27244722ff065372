/**
 * A hidden tab, as Chrome makes one, for browser tests. Headless Chromium under
 * Playwright never hides a page (every page stays `visible`, and Playwright turns off
 * background throttling), so the test stands in for the browser: installed before the
 * page loads (`context.addInitScript(hiddenTabInit)`), it does nothing until
 * `setHidden(page, true)`; then the page's `document.visibilityState` is `hidden` (a
 * `visibilitychange` is fired), its timers run only on whole-second wake-ups (Chrome's
 * throttling of a hidden tab's timers) and `requestAnimationFrame` waits until it is
 * shown again. Workers are left alone, as Chrome leaves a hidden tab's dedicated workers.
 */
import type { Page } from 'playwright-core';

declare global {
  interface Window {
    __psiwebSetHidden?: (hidden: boolean) => void;
  }
}

/** For context.addInitScript: the page's window, ready to be hidden. */
export function hiddenTabScript(): void {
  let hidden = false;
  const realSetTimeout = window.setTimeout.bind(window);
  const realClearTimeout = window.clearTimeout.bind(window);
  const realRaf = window.requestAnimationFrame.bind(window);
  // A timer due while hidden runs at the next whole second after it is due.
  const wakeUp = (ms: number) => {
    const delay = Math.max(0, Number(ms) || 0);
    if (!hidden) return delay;
    const due = Date.now() + delay;
    return Math.ceil(due / 1000) * 1000 - Date.now();
  };
  window.setTimeout = ((fn: TimerHandler, ms?: number, ...args: unknown[]) =>
    realSetTimeout(typeof fn === 'function' ? () => (fn as (...a: unknown[]) => void)(...args) : fn, wakeUp(ms ?? 0))) as typeof window.setTimeout;
  // Intervals as chained timeouts, so each tick is throttled from the moment the tab hides.
  const intervals = new Map<number, number>();
  let nextInterval = 1 << 30;
  window.setInterval = ((fn: TimerHandler, ms?: number, ...args: unknown[]) => {
    const id = nextInterval++;
    const tick = () => {
      intervals.set(id, window.setTimeout(tick, ms ?? 0));
      if (typeof fn === 'function') (fn as (...a: unknown[]) => void)(...args);
    };
    intervals.set(id, window.setTimeout(tick, ms ?? 0));
    return id;
  }) as typeof window.setInterval;
  window.clearInterval = ((id?: number) => {
    const t = id === undefined ? undefined : intervals.get(id);
    if (t === undefined) return realClearTimeout(id);
    realClearTimeout(t);
    intervals.delete(id!);
  }) as typeof window.clearInterval;
  const frames: FrameRequestCallback[] = [];
  window.requestAnimationFrame = (cb: FrameRequestCallback) => {
    if (!hidden) return realRaf(cb);
    frames.push(cb);
    return 0;
  };
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__psiwebSetHidden = (h: boolean) => {
    if (h === hidden) return;
    hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
    if (!h) for (const cb of frames.splice(0)) realRaf(cb);
  };
}

/** hiddenTabScript as context.addInitScript takes it (with a stand-in for the name helper a transpiler may have put in its body). */
export const hiddenTabInit = { content: `var __name = globalThis.__name || ((f) => f);\n(${hiddenTabScript.toString()})();` };

/** Hides the page (or shows it again); the page must have loaded with hiddenTabScript. */
export async function setHidden(page: Page, hidden: boolean): Promise<void> {
  const ok = await page.evaluate((h) => {
    if (!window.__psiwebSetHidden) return false;
    window.__psiwebSetHidden(h);
    return document.visibilityState === (h ? 'hidden' : 'visible');
  }, hidden);
  if (!ok) throw new Error('the page was not loaded with hiddenTabScript');
}

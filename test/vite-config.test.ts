/**
 * The production build ships no source maps: every build vite.config.ts configures
 * (the PWA, the root service worker, the app-origin scripts) has sourcemap off.
 * Checked on the config objects, so it costs no build.
 */
import { describe, expect, it } from 'vitest';
import config, { bundleBuildOptions, pwaOptions, SOURCEMAP } from '../vite.config.ts';

describe('vite.config.ts', () => {
  it('turns source maps off for every build it configures', () => {
    expect(SOURCEMAP).toBe(false);
    const resolved = typeof config === 'function' ? undefined : config;
    expect(resolved?.build?.sourcemap).toBe(false);
    expect(pwaOptions.injectManifest?.sourcemap).toBe(false);
    expect(bundleBuildOptions('sw/app-sw.ts').sourcemap).toBe(false);
  });
});

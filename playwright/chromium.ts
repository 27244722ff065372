/**
 * How psiweb launches Chromium, for its fixture and its own tests alike: Debian's build
 * (or PSIWEB_CHROMIUM) through playwright-core, with the flags a loopback-only machine
 * needs (ARCHITECTURE.md §7).
 */
export const CHROMIUM_PATH = process.env.PSIWEB_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these, Chromium dials Google's hosts at start, and a closed network refuses each.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC between peers on 127.0.0.1 only works with loopback candidates allowed.
  '--allow-loopback-in-peer-connection',
];

/**
 * How psiweb launches Chromium, for its fixture and its own tests alike: Debian's build
 * (or PSIWEB_CHROMIUM) through playwright-core, with the flags a loopback-only machine
 * needs (ARCHITECTURE.md §7).
 */
export const CHROMIUM_PATH = process.env.PSIWEB_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Chromium 156 starts a renderer for its own omnibox popup (a WebUI page) with every new
 * window, ~1 s of CPU each: on 2 cores it competed with the page under test. All three
 * must be off for it not to start (checked with `ps` for --top-chrome-webui).
 */
const PSIWEB_DISABLED_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'WebUIOmniboxFullPopup'];

/**
 * Playwright passes a --disable-features of its own, and Chromium takes the last such
 * switch, not both: ours repeats playwright-core 1.65's list so those stay off too.
 */
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
];

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
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, ...PSIWEB_DISABLED_FEATURES].join(',')}`,
];

import { createHash } from 'node:crypto';
import { build, defineConfig, type BuildOptions, type Plugin, type Rollup } from 'vite';
import { VitePWA, type VitePWAOptions } from 'vite-plugin-pwa';
import { commonLibPlugin } from './src/supervisor/vite-plugin.ts';

/**
 * No build ships source maps: a .map file publishes the TypeScript sources next to
 * the minified code (and the root service worker would precache it). Every build this
 * file configures uses this value; test/vite-config.test.ts checks that they do.
 */
export const SOURCEMAP = false;

/** The build options of one self-contained script (see `bundle`). */
export function bundleBuildOptions(entry: string): BuildOptions {
  return {
    write: false,
    target: 'es2022',
    minify: true,
    sourcemap: SOURCEMAP,
    lib: { entry, formats: ['iife'], name: 'psiweb' },
  };
}

/** One self-contained classic script (no imports, no chunks) from a TypeScript entry. */
async function bundle(entry: string, define: Record<string, string> = {}): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    define,
    build: bundleBuildOptions(entry),
  });
  const outputs = Array.isArray(result) ? result : [result];
  for (const out of outputs) {
    if (!('output' in out)) continue;
    for (const file of out.output) if (file.type === 'chunk') return file.code;
  }
  throw new Error(`bundling ${entry} produced no script`);
}

/** A script that is safe inside an inline <script> element. */
const inlineScript = (code: string) => code.replace(/<\/(script)/gi, '<\\/$1');

function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
</head>
<body>
${body}
<script>${inlineScript(script)}</script>
</body>
</html>
`;
}

/**
 * The app-origin side (ARCHITECTURE.md §1): `bridge.html` for the root origin (so the
 * root service worker precaches it), and for app origins `app-sw.js` with the loader
 * page and the bridge client compiled into it, plus `app-loader.html`, which the Node
 * peer serves for a first visit. Each is one file with no imports, so an app origin
 * needs nothing from the build's shared `/assets/` path, which belongs to the app.
 */
function appOrigin(): Plugin {
  return {
    name: 'psiweb-app-origin',
    apply: 'build',
    async generateBundle() {
      const [bridge, loader, client] = await Promise.all([
        bundle('src/ui/loader-bridge.ts'),
        bundle('src/ui/loader-main.ts'),
        bundle('src/ui/loader-app-client.ts'),
      ]);
      const loaderPage = page('Loading…', '<p id="psiweb-loader-status" style="font:16px system-ui,sans-serif;padding:1em">Loading…</p>', loader);
      const appSw = await bundle('sw/app-sw.ts', {
        __PSIWEB_APP_CLIENT__: JSON.stringify(client),
        __PSIWEB_APP_LOADER__: JSON.stringify(loaderPage),
      });
      this.emitFile({ type: 'asset', fileName: 'bridge.html', source: page('psiweb bridge', '', bridge) });
      this.emitFile({ type: 'asset', fileName: 'app-loader.html', source: loaderPage });
      this.emitFile({ type: 'asset', fileName: 'app-sw.js', source: appSw });
    },
  };
}

/** The supervisor origin's service worker, at `supervisor.<root>/supervisor-sw.js`. */
export const SUPERVISOR_SW_FILE = 'supervisor-sw.js';
/** The supervisor origin's pages (src/http/supervisor-origin.ts serves them from the build). */
const SUPERVISOR_PAGES = ['supervisor.html', 'prompt.html'];

/** The files a build output refers to by name (`/assets/…` in HTML, chunks and assets). */
function referencedFiles(output: Rollup.OutputBundle, file: Rollup.OutputAsset | Rollup.OutputChunk): string[] {
  const text = file.type === 'chunk' ? file.code : typeof file.source === 'string' ? file.source : '';
  const found = new Set<string>();
  for (const m of text.matchAll(/assets\/[\w.-]+/g)) if (output[m[0]]) found.add(m[0]);
  if (file.type === 'chunk') for (const f of [...file.imports, ...file.dynamicImports]) found.add(f);
  return [...found];
}

/**
 * What the supervisor worker keeps (sw/supervisor-sw.ts): its pages with everything they
 * load at once (HTML references and static imports) precached, and whatever those may
 * load later (dynamic imports: jco and its wasm) kept on first use.
 */
export function supervisorWorkerBuild(output: Rollup.OutputBundle): { version: string; precache: string[]; runtime: string[] } {
  const walk = (roots: string[], follow: (f: Rollup.OutputAsset | Rollup.OutputChunk) => string[]) => {
    const seen = new Set<string>();
    const todo = [...roots];
    for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
      const f = output[name];
      if (!f || seen.has(name)) continue;
      seen.add(name);
      todo.push(...follow(f));
    }
    return seen;
  };
  const missing = SUPERVISOR_PAGES.filter((p) => !output[p]);
  if (missing.length) throw new Error(`the build has no ${missing.join(', ')} for the supervisor worker`);
  const eager = walk(SUPERVISOR_PAGES, (f) =>
    f.type === 'asset' ? referencedFiles(output, f) : [...f.imports, ...((f as { viteMetadata?: { importedCss?: Set<string> } }).viteMetadata?.importedCss ?? [])],
  );
  const all = walk(SUPERVISOR_PAGES, (f) => referencedFiles(output, f));
  const precache = [...eager].sort();
  const runtime = [...all].filter((f) => !eager.has(f)).sort();
  const hash = createHash('sha256');
  for (const name of [...precache, '|', ...runtime]) {
    hash.update(name);
    const f = output[name];
    if (f && eager.has(name)) hash.update(f.type === 'chunk' ? f.code : f.source);
  }
  const path = (f: string) => `/${f}`;
  return { version: hash.digest('hex').slice(0, 16), precache: precache.map(path), runtime: runtime.map(path) };
}

/** Builds sw/supervisor-sw.ts with the list of what it keeps, once the pages and chunks are final. */
function supervisorWorker(): Plugin {
  return {
    name: 'psiweb-supervisor-worker',
    apply: 'build',
    enforce: 'post',
    async generateBundle(_options, output) {
      const sw = await bundle('sw/supervisor-sw.ts', { __PSIWEB_SUPERVISOR_BUILD__: JSON.stringify(supervisorWorkerBuild(output)) });
      this.emitFile({ type: 'asset', fileName: SUPERVISOR_SW_FILE, source: sw });
    },
  };
}

/** The root service worker's build (vite-plugin-pwa). */
export const pwaOptions: Partial<VitePWAOptions> = {
  // Our own service worker (sw/root-sw.ts): it will answer service HTTP from chain
  // state, which a generated worker cannot do. Workbox injects the precache list.
  strategies: 'injectManifest',
  srcDir: 'sw',
  filename: 'root-sw.ts',
  // The page decides when a waiting worker takes over ("update available"), so an
  // update never swaps code under a running node.
  registerType: 'prompt',
  injectRegister: false,
  injectManifest: {
    // The worker's own build; it would otherwise follow build.sourcemap.
    sourcemap: SOURCEMAP,
    globPatterns: ['**/*.{js,css,html,svg,png,webmanifest,wasm}'],
    // The app origins' worker and loader are of no use on the root origin.
    // jco's bindgen (3.5 MB) runs on the supervisor's origin, whose pages the root worker never serves.
    globIgnores: ['**/node_modules/**/*', 'app-sw.js', 'app-loader.html', SUPERVISOR_SW_FILE, 'assets/js-component-bindgen-component*'],
  },
  includeAssets: ['icons/icon.svg'],
  manifest: {
    name: 'psiweb — psibase node',
    short_name: 'psiweb',
    description: 'A browser-native full node of the psibase protocol',
    id: '/',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#f4f1e8',
    theme_color: '#1f3b73',
    icons: [
      { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
};

export default defineConfig({
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: SOURCEMAP,
    // The PWA, and the supervisor's pages served at supervisor.<root> (src/http/supervisor-origin.ts).
    rolldownOptions: { input: { index: 'index.html', supervisor: 'supervisor.html', prompt: 'prompt.html' } },
  },
  server: { host: '127.0.0.1', port: 5173 },
  plugins: [appOrigin(), commonLibPlugin(SOURCEMAP), supervisorWorker(), VitePWA(pwaOptions)],
});

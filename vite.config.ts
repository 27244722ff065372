import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
  server: { host: '127.0.0.1', port: 5173 },
  plugins: [
    VitePWA({
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
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest,wasm}'],
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
    }),
  ],
});

// The tokens plugin as a file of tokens' site: `/plugin.wasm`, where psibase's
// supervisor (and psiweb's, src/supervisor/) fetches a service's plugin. The devnet
// stores it at boot (src/node/devnet.ts) when `npm run build:plugins` has built it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SiteFile } from '../../services/sites/upload.ts';

/** Where `npm run build:plugins` writes the tokens plugin. */
export const TOKENS_PLUGIN_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'tokens', 'plugin.wasm');

/** `/plugin.wasm` for tokens' site, or undefined when the plugin is not built. */
export function tokensPluginFile(path: string = TOKENS_PLUGIN_PATH): SiteFile | undefined {
  if (!existsSync(path)) return undefined;
  return { path: '/plugin.wasm', contentType: 'application/wasm', content: new Uint8Array(readFileSync(path)) };
}

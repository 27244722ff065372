/**
 * What the Node-side load tests of the tiny AssemblyScript plugin share: the page's
 * env, the plugin's URL, a module importer for jco's JS (a data: URL), and the plugin's
 * bytes plus a replaced version of them.
 */
import { readFileSync } from 'node:fs';
import { pluginWasmPath } from '../../../scripts/build-plugins.ts';
import type { JcoModule } from '../component.ts';
import { builtPlugin } from './harness.ts';
import { withRunMark } from './run-mark.ts';

export const env = { protocol: 'http:', rootHost: 'psiweb.localhost', port: '8080' };
export const TINY_URL = 'http://tinyplugin.psiweb.localhost:8080/plugin.wasm';

export const importData = async (js: string): Promise<JcoModule> =>
  (await import(/* @vite-ignore */ `data:text/javascript;base64,${Buffer.from(js).toString('base64')}`)) as JcoModule;

/** The tiny plugin, built if needed, and a copy marked as replaced (other bytes, same behaviour). */
export async function tinyPlugins(): Promise<{ tiny: Uint8Array; tiny2: Uint8Array }> {
  await builtPlugin('tinyplugin');
  const tiny = readFileSync(pluginWasmPath('tinyplugin'));
  return { tiny, tiny2: withRunMark(tiny, 'replaced') };
}

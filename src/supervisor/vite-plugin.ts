/**
 * Build step for the supervisor's app-side script: `/common/common-lib.js`, one ES
 * module with no imports (src/supervisor/common-lib.ts bundled), at a fixed path so
 * apps import it as psibase apps import `/common/common-lib.js`. The supervisor page
 * itself is the build's `supervisor.html` entry (vite.config.ts).
 */
import { build, type Plugin } from 'vite';

export const COMMON_LIB_FILE = 'common/common-lib.js';

export function commonLibPlugin(sourcemap: boolean): Plugin {
  return {
    name: 'psiweb-common-lib',
    apply: 'build',
    async generateBundle() {
      const result = await build({
        configFile: false,
        logLevel: 'warn',
        publicDir: false,
        build: {
          write: false,
          target: 'es2022',
          minify: true,
          sourcemap,
          lib: { entry: 'src/supervisor/common-lib.ts', formats: ['es'], fileName: 'common-lib' },
        },
      });
      const outputs = Array.isArray(result) ? result : [result];
      for (const out of outputs) {
        if (!('output' in out)) continue;
        for (const file of out.output) {
          if (file.type === 'chunk' && file.isEntry) {
            this.emitFile({ type: 'asset', fileName: COMMON_LIB_FILE, source: file.code });
            return;
          }
        }
      }
      throw new Error('bundling src/supervisor/common-lib.ts produced no script');
    },
  };
}

// The tokens web UI (./ui: HTML, CSS and a script, no framework) as the `sites`
// uploads that put it on the tokens subdomain; http asks the tokens service first
// (its JSON endpoints) and sites for everything else.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Action } from '../../src/protocol/types.ts';
import { siteFiles, storeSysActions, type SiteFile } from '../sites/upload.ts';

export const TOKENS_UI_DIR = join(dirname(fileURLToPath(import.meta.url)), 'ui');

export function tokensUiFiles(): SiteFile[] {
  return siteFiles(TOKENS_UI_DIR);
}

/** `sites::storeSys` actions, sent by `account` (the tokens service's account). */
export function tokensUiActions(account = 'tokens'): Action[] {
  return storeSysActions(account, tokensUiFiles());
}

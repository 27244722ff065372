/** Supervisor key spaces changed in one page reach the other pages' frames (spaces-sync.ts). */
import { describe, expect, it } from 'vitest';
import { announceChanged, followChanges, SPACES_CHANNEL } from './spaces-sync.ts';

describe('spaces-sync', () => {
  it('delivers announced spaces to followers, and ignores malformed messages', async () => {
    const seen: string[] = [];
    const stop = followChanges((s) => seen.push(s));
    try {
      const junk = new BroadcastChannel(SPACES_CHANNEL);
      junk.postMessage({ spaces: 'psiweb/grants' });
      junk.postMessage(null);
      junk.postMessage({ spaces: [7, 'psiweb/prompt'] });
      junk.close();
      announceChanged(['psiweb/grants', 'psiweb/logins']);
      await expect.poll(() => seen).toEqual(['psiweb/prompt', 'psiweb/grants', 'psiweb/logins']);
    } finally {
      stop();
    }
  });
});

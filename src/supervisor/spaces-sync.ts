/**
 * The supervisor's own key spaces (grants, the active prompt, logins) are read into
 * memory once per page; another page of the supervisor origin may change them (the
 * supervisor page revoking a grant, the prompt page answering, another app's frame
 * logging in). Those pages announce what they changed on a BroadcastChannel, and every
 * supervisor frame re-reads those spaces before its next call.
 */
export const SPACES_CHANNEL = 'psiweb-supervisor-spaces';

interface SpacesChanged {
  spaces: string[];
}

/** Tells the other pages of this origin that `spaces` changed (after they are flushed). */
export function announceChanged(spaces: string[]): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const c = new BroadcastChannel(SPACES_CHANNEL);
  c.postMessage({ spaces } satisfies SpacesChanged);
  c.close();
}

/** Calls `changed(space)` for each space another page announced; returns a stop function. */
export function followChanges(changed: (space: string) => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => undefined;
  const c = new BroadcastChannel(SPACES_CHANNEL);
  c.onmessage = (e: MessageEvent) => {
    const spaces = (e.data as Partial<SpacesChanged> | null)?.spaces;
    if (Array.isArray(spaces)) for (const s of spaces) if (typeof s === 'string') changed(s);
  };
  return () => c.close();
}

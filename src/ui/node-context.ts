/**
 * The node handle the dashboard's elements read: set once by main.ts, read by any
 * element. Kept out of the elements so they can be shown with a stand-in handle.
 */
import type { NodeHandle } from '../node/browser/leader.ts';

let current: NodeHandle | undefined;
const waiting = new Set<(n: NodeHandle) => void>();

export function provideNode(node: NodeHandle): void {
  current = node;
  for (const fn of waiting) fn(node);
  waiting.clear();
}

/** Calls `fn` with the node handle now, or once it exists. */
export function withNode(fn: (n: NodeHandle) => void): void {
  if (current) fn(current);
  else waiting.add(fn);
}

export function currentNode(): NodeHandle | undefined {
  return current;
}

/**
 * The state at a block that is not the committed head, read synchronously: the
 * committed state with write sets laid over it in order (each key takes its value
 * from the last set that writes it). Consensus validates and builds blocks on forks
 * this way: the head's state, the undo records back to the fork point, then the write
 * sets of the fork's blocks.
 */
import { WriteOverlay, type KvWrite } from './overlay.ts';
import type { KvReader } from './types.ts';

export function layeredReader(base: KvReader, layers: Iterable<Iterable<KvWrite>>): KvReader {
  const overlay = new WriteOverlay(base);
  for (const layer of layers) {
    for (const [k, v] of layer) {
      if (v === undefined) overlay.remove(k);
      else overlay.put(k, v);
    }
  }
  return overlay;
}

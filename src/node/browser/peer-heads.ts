/**
 * The newest block each peer of the browser core is known to hold, for `/native/status`
 * (`peers[].head`): one PeerHead (src/net/peer-head.ts) per peer, by the core's label.
 */
import { PeerHead } from '../../net/peer-head.ts';

export class PeerHeads {
  private readonly heads = new Map<string, PeerHead>();

  /** Notes a frame (type byte + fracpack) from `label`; frames of other kinds, or that do not decode, are passed over. */
  note(label: string, frame: Uint8Array): void {
    let h = this.heads.get(label);
    if (!h) this.heads.set(label, (h = new PeerHead()));
    h.noteFrame(frame);
  }

  /** The peer is gone. */
  forget(label: string): void {
    this.heads.delete(label);
  }

  /** The newest block `label` is known to hold, its id in hex. */
  head(label: string): { num: number; id: string } | undefined {
    return this.heads.get(label)?.get();
  }

  /** The newest block any peer is known to hold. */
  newest(): { num: number; id: string } | undefined {
    let best: { num: number; id: string } | undefined;
    for (const h of this.heads.values()) {
      const b = h.get();
      if (b && (!best || b.num > best.num)) best = b;
    }
    return best;
  }
}

/**
 * The newest block one peer is known to hold, for `/native/status` (`peers[].head`):
 * the block its hellos name, the blocks it sent and the blocks sent to it. The head is
 * only raised, never lowered. The last block the peer sent is kept as it came and
 * decoded only when the head is asked for (once a status, not once a block: the chain
 * or the core decodes every block already). The Node peer's network (src/node/p2p)
 * holds one per connection, the browser core (src/node/browser) one per peer.
 */
import { toHex } from '../protocol/fracpack/index.ts';
import { blockId } from '../protocol/ids.ts';
import { unpackSignedBlock } from '../protocol/types.ts';
import { decodeMessage, MESSAGE_TYPES } from './wire/index.ts';

export class PeerHead {
  private newest: { num: number; id: Uint8Array } | undefined;
  /** The last block the peer sent, not read yet: a packed SignedBlock, or the whole BlockMessage frame. */
  private unread: { block: Uint8Array } | { frame: Uint8Array } | undefined;

  /** Notes a frame (type byte + fracpack) from the peer; frames of other kinds, or that do not decode, are passed over. */
  noteFrame(frame: Uint8Array): void {
    const type = frame[0];
    if (type === MESSAGE_TYPES.BlockMessage) this.unread = { frame };
    else if (type === MESSAGE_TYPES.HelloRequest) {
      try {
        const m = decodeMessage(frame);
        if (m.kind === 'HelloRequest') this.noteHello(m.value.xid._num, m.value.xid._id);
      } catch {
        // The peer is refused (and dropped) for it: nothing to note.
      }
    }
  }

  /** The peer's hello names block `num`, `id`. */
  noteHello(num: number, id: Uint8Array): void {
    // A hello from an empty node names the block before genesis, all zeros.
    if (id.some((b) => b !== 0)) this.raise(num, id);
  }

  /** The peer sent this block (a packed SignedBlock): read when the head is asked for. */
  noteBlock(block: Uint8Array): void {
    this.unread = { block };
  }

  /** The peer holds block `num`, `id` (it was sent the block, or its header was read). */
  raise(num: number, id: Uint8Array): void {
    if (!this.newest || num > this.newest.num) this.newest = { num, id };
  }

  /** The newest block the peer is known to hold, its id in hex. */
  get(): { num: number; id: string } | undefined {
    const u = this.unread;
    if (u) {
      this.unread = undefined;
      try {
        const block = 'block' in u ? u.block : blockOfFrame(u.frame);
        if (block) {
          const header = unpackSignedBlock(block).block.header;
          this.raise(header.blockNum, blockId(header));
        }
      } catch {
        // A block that does not decode: the peer is dropped for it.
      }
    }
    return this.newest && { num: this.newest.num, id: toHex(this.newest.id) };
  }
}

function blockOfFrame(frame: Uint8Array): Uint8Array | undefined {
  const m = decodeMessage(frame);
  return m.kind === 'BlockMessage' ? m.value.block : undefined;
}

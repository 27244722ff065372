/**
 * The newest block each peer of the browser core is known to hold, for `/native/status`
 * (`peers[].head`): from its hellos (the block it names) and the blocks it sent. A
 * block message is kept as it came and decoded only when a head is asked for (once a
 * status, not once a block: the core decodes every block already).
 */
import { decodeMessage, MESSAGE_TYPES } from '../../net/wire/index.ts';
import { toHex } from '../../protocol/fracpack/index.ts';
import { blockId } from '../../protocol/ids.ts';
import { unpackSignedBlock } from '../../protocol/types.ts';

export class PeerHeads {
  private readonly heads = new Map<string, { num: number; id: Uint8Array }>();
  private readonly lastBlock = new Map<string, Uint8Array>();

  /** Notes a frame (type byte + fracpack) from `label`; frames of other kinds, or that do not decode, are passed over. */
  note(label: string, frame: Uint8Array): void {
    const type = frame[0];
    if (type === MESSAGE_TYPES.BlockMessage) this.lastBlock.set(label, frame);
    else if (type === MESSAGE_TYPES.HelloRequest) {
      try {
        const m = decodeMessage(frame);
        // A hello from an empty node names the block before genesis, all zeros.
        if (m.kind === 'HelloRequest' && m.value.xid._id.some((b) => b !== 0)) this.raise(label, m.value.xid._num, m.value.xid._id);
      } catch {
        // The core refuses it (and drops the peer): nothing to note.
      }
    }
  }

  /** The peer is gone. */
  forget(label: string): void {
    this.heads.delete(label);
    this.lastBlock.delete(label);
  }

  /** The newest block `label` is known to hold, its id in hex. */
  head(label: string): { num: number; id: string } | undefined {
    const frame = this.lastBlock.get(label);
    if (frame) {
      this.lastBlock.delete(label);
      try {
        const m = decodeMessage(frame);
        if (m.kind === 'BlockMessage') {
          const header = unpackSignedBlock(m.value.block).block.header;
          this.raise(label, header.blockNum, blockId(header));
        }
      } catch {
        // A block that does not decode: the core drops the peer for it.
      }
    }
    const h = this.heads.get(label);
    return h && { num: h.num, id: toHex(h.id) };
  }

  private raise(label: string, num: number, id: Uint8Array): void {
    const h = this.heads.get(label);
    if (!h || num > h.num) this.heads.set(label, { num, id });
  }
}

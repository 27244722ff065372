/**
 * Stand-ins for libp2p psibase peer streams in Node tests (no WebRTC): a peer that answers
 * hellos with blocks it is given, and a pair of linked ends between two page transports.
 */
import type { PeerSocketEvents } from './peer-socket.ts';
import type { IdentifiedSocket } from './transport.ts';
import { decodeMessage, encodeMessage } from '../wire/index.ts';

/** A psibase peer on the page's side: answers a HelloRequest with `serve(fromNum)`'s blocks. */
export class FakePeerSocket implements IdentifiedSocket {
  private onMessage: PeerSocketEvents['message'] = () => undefined;
  private onClose: PeerSocketEvents['close'] = () => undefined;
  closedWith: { code: number; reason: string } | undefined;
  readonly received: string[] = [];
  rttMs = undefined;
  bufferedAmount = 0;

  constructor(
    readonly peerId: string,
    private readonly serve: (after: number) => Uint8Array[],
  ) {}

  on<E extends keyof PeerSocketEvents>(event: E, fn: PeerSocketEvents[E]): void {
    if (event === 'message') this.onMessage = fn as PeerSocketEvents['message'];
    else this.onClose = fn as PeerSocketEvents['close'];
  }
  get isOpen() {
    return this.closedWith === undefined;
  }
  send(data: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const m = decodeMessage(data);
    this.received.push(m.kind);
    if (m.kind === 'HelloRequest') {
      const blocks = this.serve(m.value.xid._num);
      setTimeout(() => {
        for (const b of blocks) if (this.isOpen) this.onMessage(encodeMessage({ kind: 'BlockMessage', value: { block: b } }));
      }, 5);
    }
    return true;
  }
  close(code = 1000, reason = ''): void {
    if (this.closedWith) return;
    this.closedWith = { code, reason };
    this.onClose(code, reason);
  }
  destroy(): void {
    this.close(1001, 'destroyed');
  }
  ping(): void {}
  pause(): void {}
  resume(): void {}
  drained(): Promise<void> {
    return Promise.resolve();
  }
}

/** One end of an in-memory psibase peer link between two page transports (a WebRTC stream stand-in). */
export class PairSocket implements IdentifiedSocket {
  other!: PairSocket;
  private onMessage: PeerSocketEvents['message'] = () => undefined;
  private onClose: PeerSocketEvents['close'] = () => undefined;
  private closed = false;
  rttMs = undefined;
  bufferedAmount = 0;
  constructor(readonly peerId: string) {}
  static pair(aId: string, bId: string): [PairSocket, PairSocket] {
    // Each end carries the id of the peer at its far side.
    const a = new PairSocket(bId);
    const b = new PairSocket(aId);
    a.other = b;
    b.other = a;
    return [a, b];
  }
  on<E extends keyof PeerSocketEvents>(event: E, fn: PeerSocketEvents[E]): void {
    if (event === 'message') this.onMessage = fn as PeerSocketEvents['message'];
    else this.onClose = fn as PeerSocketEvents['close'];
  }
  get isOpen() {
    return !this.closed;
  }
  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    const copy = data.slice();
    setTimeout(() => this.other.deliver(copy), 0);
    return true;
  }
  deliver(data: Uint8Array): void {
    if (!this.closed) this.onMessage(data);
  }
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(code, reason);
    this.other.close(code, reason);
  }
  destroy(): void {
    this.close(1001, 'destroyed');
  }
  ping(): void {}
  pause(): void {}
  resume(): void {}
  drained(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * js-libp2p 3 expects Node ≥ 22 (ARCHITECTURE.md §6): it calls Promise.withResolvers,
 * and @libp2p/websockets dials with the global WebSocket, both of which Node 20 lacks
 * (its WebSocket is behind --experimental-websocket). Imported first by the Node-side
 * host: on Node 20 it installs Promise.withResolvers and `ws`'s WebSocket (the one
 * @libp2p/websockets' own listener already speaks); on Node 22 it does nothing.
 */
import { WebSocket as WsWebSocket } from 'ws';

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
  Object.defineProperty(globalThis, 'WebSocket', { configurable: true, writable: true, value: WsWebSocket });
}

export {};

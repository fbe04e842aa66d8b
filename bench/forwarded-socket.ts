/**
 * A `ws` WebSocket class that says, in `X-Forwarded-For`, which address it
 * stands for: the relay under test trusts 127.0.0.1 as a proxy, so each
 * benchmark party counts as the separate client it would be on a real network.
 */
import { WebSocket, type ClientOptions } from 'ws';

/** A WebSocket class (for y-websocket's `WebSocketPolyfill`) whose sockets come "from" `address`. */
export function webSocketFrom(address: string): typeof globalThis.WebSocket {
  class ForwardedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[], options: ClientOptions = {}) {
      super(url, protocols, { ...options, headers: { ...options.headers, 'X-Forwarded-For': address } });
    }
  }
  return ForwardedWebSocket as unknown as typeof globalThis.WebSocket;
}

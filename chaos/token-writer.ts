/**
 * A writer for the kill loop: a stock y-websocket provider (which reconnects on
 * its own, as the app's does) that appends unique tokens such as `w1-000123;` to
 * a Y.Text and keeps, from the relay's `saved` messages (SPEC P9), which of them
 * the relay has promised are on disk.
 *
 * A token is acknowledged when a `saved` state vector covers its last character:
 * `sv[clientID]` at least the clock after the token's insert. Clocks only grow, so
 * the acknowledged tokens are always a prefix of the written ones.
 */
import * as decoding from 'lib0/decoding';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import { MESSAGE_TAGS } from '../lib/protocol';
import type { ChangeSource } from './wait';

/** The token a writer writes as its `seq`-th (0-based). */
export function tokenOf(writer: string, seq: number): string {
  return `${writer}-${String(seq).padStart(6, '0')};`;
}

/** Where a writer connects: the relay's base URL, the document and the query (token, `saved=1`), and the Y.Text it writes to. */
export interface WriterEndpoint {
  readonly baseUrl: string;
  readonly docId: string;
  readonly params: Readonly<Record<string, string>>;
  /** The shared text the tokens go to; `t` unless said. */
  readonly textName?: string;
}

/** One writer of tokens on one document. */
export class TokenWriter {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  /** The clock of this writer's client after each token, in writing order. */
  private readonly endClocks: number[] = [];
  /** The highest clock of this client any `saved` message has covered. */
  private savedClock = 0;
  private lastSaved: ReadonlyMap<number, number> | null = null;
  private readonly savedListeners = new Set<() => void>();
  private readonly textName: string;

  constructor(
    readonly name: string,
    endpoint: WriterEndpoint,
  ) {
    this.textName = endpoint.textName ?? 't';
    this.provider = new WebsocketProvider(endpoint.baseUrl, endpoint.docId, this.doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { ...endpoint.params },
      disableBc: true,
      connect: false,
      // Back quickly after a kill: the campaign times how long convergence takes.
      maxBackoffTime: 250,
    });
    // No presence: the writers are about the document, and a state would only add awareness traffic.
    this.provider.awareness.setLocalState(null);
    this.provider.messageHandlers[MESSAGE_TAGS.saved] = (_encoder, decoder) => {
      const stateVector = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
      this.lastSaved = stateVector;
      this.savedClock = Math.max(this.savedClock, stateVector.get(this.doc.clientID) ?? 0);
      for (const listener of this.savedListeners) listener();
    };
    this.provider.connect();
  }

  /** Appends the next token at the end of the text; returns it. */
  write(): string {
    const token = tokenOf(this.name, this.endClocks.length);
    const text = this.text;
    text.insert(text.length, token);
    this.endClocks.push(Y.getState(this.doc.store, this.doc.clientID));
    return token;
  }

  get text(): Y.Text {
    return this.doc.getText(this.textName);
  }

  /** Tokens written so far. */
  get writtenCount(): number {
    return this.endClocks.length;
  }

  /** Tokens the relay has acknowledged as saved: the first `acknowledgedCount` written. */
  get acknowledgedCount(): number {
    let count = 0;
    while (count < this.endClocks.length && this.endClocks[count]! <= this.savedClock) count += 1;
    return count;
  }

  /** The state vector of the last `saved` message: everything it covers, the relay says, is on disk. */
  get savedStateVector(): ReadonlyMap<number, number> | null {
    return this.lastSaved;
  }

  get isAllSaved(): boolean {
    return this.acknowledgedCount === this.writtenCount;
  }

  /** Changes of the acknowledged count. */
  get savedChanges(): ChangeSource {
    return (onChange) => {
      this.savedListeners.add(onChange);
      return () => this.savedListeners.delete(onChange);
    };
  }

  destroy(): void {
    this.provider.destroy();
    this.doc.destroy();
  }
}

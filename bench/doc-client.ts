/**
 * A full Yjs client for the document-level scenarios (S4 cold load, S6 ingest):
 * unlike the load generator's clients it applies what it receives, so the
 * harness can check that a document arrived complete and exact.
 */
import * as decoding from 'lib0/decoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';

import type { TracePatch } from '../tests/helpers/editing-trace';
import { MESSAGE_TAGS, SYNC_TAGS, encode, readSavedPayload } from '../lib/protocol';
import { frame, hocuspocusAuthMessage, messageOffset, type WireProtocol } from './wire';

/** What counts as "acknowledged" while pushing. */
export type AckMode =
  /** Inkwell's `saved` message: the frames are on disk. */
  | 'saved'
  /** The reply to a sync step 1 sent after them: the server has processed them. */
  | 'processed';

/** Where a client connects. */
export interface DocEndpoint {
  readonly protocol: WireProtocol;
  readonly url: string;
  readonly room: string;
}

export class DocClient {
  readonly doc = new Y.Doc();
  private readonly socket: WebSocket;
  private updatesSent = 0;
  private acknowledged = 0;
  /** Updates sent before each outstanding step 1, oldest first; each step 2 reply settles one. */
  private readonly barriers: number[] = [];
  private ackWaiter: (() => void) | null = null;
  private textWaiter: (() => void) | null = null;

  private constructor(
    private readonly endpoint: DocEndpoint,
    private readonly ackMode: AckMode,
  ) {
    this.socket = new WebSocket(endpoint.url, { perMessageDeflate: false });
    this.socket.binaryType = 'nodebuffer';
    this.socket.on('message', (data: Buffer) => this.onMessage(data));
    this.socket.on('error', () => undefined);
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this) return;
      this.updatesSent += 1;
      this.send(encode({ type: 'update', update }));
    });
  }

  /** Opens a connection and starts the sync handshake. */
  static open(endpoint: DocEndpoint, ackMode: AckMode = 'processed'): Promise<DocClient> {
    const client = new DocClient(endpoint, ackMode);
    return new Promise((resolve, reject) => {
      client.socket.once('open', () => {
        if (endpoint.protocol === 'hocuspocus') client.send(hocuspocusAuthMessage());
        client.sendBarrier();
        resolve(client);
      });
      client.socket.once('error', reject);
    });
  }

  get text(): Y.Text {
    return this.doc.getText('t');
  }

  /**
   * Applies `patches` locally, one update each, keeping at most `window`
   * unacknowledged updates in flight. Resolves once all of them are acknowledged.
   */
  async push(patches: readonly TracePatch[], window: number): Promise<number> {
    const text = this.text;
    for (const [position, deleteCount, insertText] of patches) {
      this.doc.transact(() => {
        if (deleteCount > 0) text.delete(position, deleteCount);
        if (insertText) text.insert(position, insertText);
      });
      if (this.ackMode === 'processed' && this.updatesSent % Math.max(1, window / 4) === 0) this.sendBarrier();
      if (this.updatesSent - this.acknowledged >= window) await this.acknowledgedAtLeast(this.updatesSent - window / 2);
    }
    if (this.ackMode === 'processed') this.sendBarrier();
    await this.acknowledgedAtLeast(this.updatesSent);
    return this.updatesSent;
  }

  /** Resolves once the local text has `length` characters (or rejects after `timeoutMs`). */
  whenTextLength(length: number, timeoutMs: number): Promise<void> {
    if (this.text.length >= length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.textWaiter = null;
        reject(new Error(`text has ${this.text.length} of ${length} characters after ${timeoutMs} ms`));
      }, timeoutMs);
      this.textWaiter = () => {
        if (this.text.length < length) return;
        clearTimeout(timer);
        this.textWaiter = null;
        resolve();
      };
    });
  }

  close(): void {
    this.socket.close();
  }

  private sendBarrier(): void {
    if (this.ackMode === 'processed') this.barriers.push(this.updatesSent);
    this.send(encode({ type: 'sync-step-1', stateVector: Y.encodeStateVector(this.doc) }));
  }

  private acknowledgedAtLeast(count: number): Promise<void> {
    if (this.acknowledged >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.ackWaiter = () => {
        if (this.acknowledged < count) return;
        this.ackWaiter = null;
        resolve();
      };
    });
  }

  private acknowledge(count: number): void {
    this.acknowledged = Math.max(this.acknowledged, count);
    this.ackWaiter?.();
  }

  private send(message: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame(this.endpoint.protocol, this.endpoint.room, message));
  }

  private onMessage(data: Buffer): void {
    const decoder = decoding.createDecoder(data.subarray(messageOffset(this.endpoint.protocol, data)));
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_TAGS.saved && this.ackMode === 'saved') {
      this.acknowledge(readSavedPayload(decoder).changeFramesSaved);
      return;
    }
    if (type !== MESSAGE_TAGS.sync) return;
    const subType = decoding.readVarUint(decoder);
    const payload = decoding.readVarUint8Array(decoder);
    if (subType === SYNC_TAGS.step1) {
      // Answer the server's step 1 as stock clients do.
      this.send(encode({ type: 'sync-step-2', update: Y.encodeStateAsUpdate(this.doc, payload) }));
      return;
    }
    Y.applyUpdate(this.doc, payload, this);
    if (subType === SYNC_TAGS.step2 && this.barriers.length > 0) this.acknowledge(this.barriers.shift()!);
    this.textWaiter?.();
  }
}

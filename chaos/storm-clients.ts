/**
 * The people of a reconnect storm, each a replica of one document in this
 * process: either the app's own `CollabSession` (full-jitter backoff, saved
 * acknowledgements) or an unmodified y-websocket `WebsocketProvider` (its
 * default backoff, no jitter). Content is written as the editor writes it:
 * paragraphs in the `content` fragment.
 */
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import { DOCUMENT_BODY_FIELD } from '../lib/awareness-state';
import { CollabSession } from '../lib/collab/collab-session';
import type { AttemptTally } from './attempt-tally';

/** One simulated person connected to one document. */
export interface StormClient {
  readonly docId: string;
  readonly doc: Y.Doc;
  /** Connected and synced since its last connect, with every change of its own on the relay's disk when it can tell. */
  isCaughtUp(): boolean;
  /** Calls `listener` whenever `isCaughtUp` or the document may have changed; returns the unsubscribe function. */
  watch(listener: () => void): () => void;
  destroy(): void;
}

/** Where and as whom a client connects. */
export interface StormClientOptions {
  /** The relay's `ws://host:port`. */
  readonly relayUrl: string;
  readonly docId: string;
  readonly token: string;
  /** The address the client stands for (sent as X-Forwarded-For). */
  readonly address: string;
  readonly tally: AttemptTally;
}

/** Opens the app's own session, as the page does, minus the browser's local copy. */
export function openAppSession(options: StormClientOptions & { name: string }): StormClient {
  const session = new CollabSession({
    docId: options.docId,
    token: options.token,
    relayUrl: options.relayUrl,
    persistLocally: false,
    // Every session here is another person: none may hear another through this process.
    shareAcrossTabs: false,
    WebSocketImpl: options.tally.webSocketFrom(options.address),
  });
  // Presence, as the page publishes it; the relay checks it against the app's schema.
  session.provider.awareness.setLocalStateField('user', { name: options.name, color: '#1971c2' });
  return {
    docId: options.docId,
    doc: session.doc,
    isCaughtUp: () => {
      const state = session.getState();
      return state.connection.kind === 'live' && state.save === 'saved';
    },
    watch: (listener) => {
      const unsubscribe = session.subscribe(listener);
      session.doc.on('update', listener);
      return () => {
        unsubscribe();
        session.doc.off('update', listener);
      };
    },
    destroy: () => session.destroy(),
  };
}

/** Opens a stock `WebsocketProvider` with its default reconnect policy; the token goes in the URL, as stock clients must. */
export function openStockClient(options: StormClientOptions): StormClient {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(options.relayUrl, options.docId, doc, {
    WebSocketPolyfill: options.tally.webSocketFrom(options.address),
    params: { token: options.token },
    // Every client here is another person: none may hear another through this process.
    disableBc: true,
  });
  return {
    docId: options.docId,
    doc,
    isCaughtUp: () => provider.wsconnected && provider.synced,
    watch: (listener) => {
      provider.on('sync', listener);
      provider.on('status', listener);
      doc.on('update', listener);
      return () => {
        provider.off('sync', listener);
        provider.off('status', listener);
        doc.off('update', listener);
      };
    },
    destroy: () => {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Appends a paragraph holding `text` to the document body, as pressing Enter and typing it would. */
export function appendParagraph(doc: Y.Doc, text: string): void {
  const paragraph = new Y.XmlElement('paragraph');
  paragraph.insert(0, [new Y.XmlText(text)]);
  const body = doc.getXmlFragment(DOCUMENT_BODY_FIELD);
  body.insert(body.length, [paragraph]);
}

/** The document body as XML: what the comparisons and token counts read. */
export function readBody(doc: Y.Doc): string {
  return doc.getXmlFragment(DOCUMENT_BODY_FIELD).toString();
}

/** Resolves once `client.isCaughtUp()` holds. */
export function waitUntilCaughtUp(client: StormClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.isCaughtUp()) return resolve();
    const unwatch = client.watch(() => {
      if (!client.isCaughtUp()) return;
      unwatch();
      resolve();
    });
  });
}

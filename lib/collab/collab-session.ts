/**
 * One open document in the browser: its `Y.Doc`, a local copy in IndexedDB,
 * and the y-websocket connection to the relay, with Inkwell's reconnect policy
 * and saved tracking. A link refused for good deletes the browser's copy
 * (link-refusal.ts, local-copy.ts). Framework-free; React reads it through the
 * hooks in this folder.
 */
import * as decoding from 'lib0/decoding';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import { denialCodeOf, isChangeFrame, readNotSavedPayload, readSavedPayload } from '../protocol/codec';
import { CLOSE_CODES } from '../protocol/close-codes';
import { AUTH_TAGS, DENIAL_CODES, MESSAGE_TAGS } from '../protocol/messages';
import { socketProtocolsFor } from '../protocol/subprotocols';
import { guardAwareness } from './awareness-guard';
import { fullJitterDelayMs } from './backoff';
import { mayForgetAfterRefusal, RETRY, shouldCheckLinkAfterClose, verdictOfCheck, type LinkVerdict, type RefusedAccess } from './link-refusal';
import { forgetLocalCopy, localDatabaseName } from './local-copy';
import { rememberedToken } from './recent-documents';
import { SavedTracker } from './saved-tracker';

/** The connection as the user sees it. */
export type ConnectionStatus =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'live' }
  | { readonly kind: 'offline' }
  | { readonly kind: 'reconnecting'; readonly nextAttemptAt: number };

/**
 * Whether this browser's changes are on the relay's disk; `not-saved` while the
 * relay says it cannot write them yet (it retries; they are also kept in this
 * browser); `too-large` when the relay refused them because the document
 * reached its size limit (they stay in this browser only).
 */
export type SaveStatus = 'saved' | 'saving' | 'not-saved' | 'too-large';

/** Whether the link still opens the document. */
export type AccessStatus = 'granted' | RefusedAccess;

/** A snapshot of everything the UI renders about the session. */
export interface SessionState {
  readonly connection: ConnectionStatus;
  readonly access: AccessStatus;
  readonly save: SaveStatus;
  /** True once the local IndexedDB copy has been loaded. */
  readonly isLocalReady: boolean;
  /** True once the first sync with the relay completed. */
  readonly hasSynced: boolean;
}

/** Options of `CollabSession`. */
export interface CollabSessionOptions {
  readonly docId: string;
  /** The share-link token; the relay checks it and enforces its role. */
  readonly token: string;
  /** Base URL of the relay, e.g. `wss://host/collab`. */
  readonly relayUrl: string;
  /** Asks the relay why a token is refused (the WebSocket API cannot tell); rejects on HTTP errors. */
  readonly checkToken?: (docId: string, token: string) => Promise<unknown>;
  /** Keep a copy in IndexedDB (off in environments without it). */
  readonly persistLocally?: boolean;
  /**
   * Share changes with this browser's other tabs over BroadcastChannel (y-websocket's
   * default; on unless false). Off where many sessions of one document share a process,
   * as in the reconnect-storm campaign: each must sync through the relay, as people do.
   */
  readonly shareAcrossTabs?: boolean;
  /** The WebSocket class to open sockets with: the browser's unless given (Node 20 has none; pass `ws`). */
  readonly WebSocketImpl?: typeof WebSocket;
}

/** Opens a document: local copy first, then the relay. Call `destroy` when done. */
export class CollabSession {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  private readonly local: IndexeddbPersistence | null;
  private readonly saved = new SavedTracker();
  private readonly listeners = new Set<() => void>();
  private state: SessionState;
  private reconnectAttempt = 0;
  private hasSocketOpened = false;
  private isExpectingLinkReset = false;
  private isForgettingLocalCopy = false;
  private readonly options: CollabSessionOptions;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private isDestroyed = false;
  private readonly unguardAwareness: () => void;
  /** Set once the relay refused a change of ours for the document's size: nothing since can be saved. */
  private isRefusedForSize = false;
  /** Set when the relay reports it cannot write our changes yet; cleared once they are all saved. */
  private isSaveFailing = false;

  constructor(options: CollabSessionOptions) {
    this.options = options;
    this.state = {
      connection: isBrowserOffline() ? { kind: 'offline' } : { kind: 'connecting' },
      access: 'granted',
      save: 'saved',
      isLocalReady: !options.persistLocally,
      hasSynced: false,
    };
    // Registered before the provider's own listener, so a change's epoch is
    // counted before the frame that carries it is sent.
    this.doc.on('update', this.onDocUpdate);
    this.local = options.persistLocally ? new IndexeddbPersistence(localDatabaseName(options.docId), this.doc) : null;
    this.local?.whenSynced.then(() => this.update({ isLocalReady: true }));

    this.provider = new WebsocketProvider(options.relayUrl, options.docId, this.doc, {
      // The token rides in the handshake's Sec-WebSocket-Protocol header, never in the URL (proxies log URLs).
      params: { saved: '1' },
      WebSocketPolyfill: countingWebSocket({
        tracker: this.saved,
        protocols: socketProtocolsFor(options.token),
        BaseWebSocket: options.WebSocketImpl ?? WebSocket,
      }),
      disableBc: options.shareAcrossTabs === false,
      // Inkwell schedules reconnects itself (full jitter); the provider only reports closes.
      shouldReconnect: () => false,
    } as ConstructorParameters<typeof WebsocketProvider>[3]);
    this.provider.messageHandlers[MESSAGE_TAGS.saved] = (_encoder, decoder) => {
      // The frame count, not the state vector, is what tells this client a deletion is saved (P9a).
      this.saved.noteAcknowledged(readSavedPayload(decoder).changeFramesSaved);
      this.refreshSaved();
    };
    this.provider.messageHandlers[MESSAGE_TAGS.notSaved] = (_encoder, decoder) => {
      readNotSavedPayload(decoder);
      this.isSaveFailing = true;
      this.refreshSaved();
    };
    this.provider.messageHandlers[MESSAGE_TAGS.auth] = (_encoder, decoder) => {
      if (decoding.readVarUint(decoder) !== AUTH_TAGS.permissionDenied) return;
      const code = denialCodeOf(decoding.readVarString(decoder));
      // The relay holds all it may unsaved and closes with 1013: our changes wait here for the reconnect.
      if (code === DENIAL_CODES.storageUnavailable) this.isSaveFailing = true;
      else if (code === DENIAL_CODES.documentTooLarge) this.isRefusedForSize = true;
      else return;
      this.refreshSaved();
    };
    this.unguardAwareness = guardAwareness(this.provider);
    this.provider.on('status', ({ status }: { status: string }) => {
      if (status === 'connecting') {
        this.hasSocketOpened = false;
        this.update({ connection: { kind: 'connecting' } });
      }
      if (status === 'connected') this.hasSocketOpened = true;
      if (status === 'disconnected') this.renewPresenceClock();
    });
    this.provider.on('sync', (isSynced: boolean) => {
      if (!isSynced) return;
      this.reconnectAttempt = 0;
      this.update({ connection: { kind: 'live' }, hasSynced: true });
    });
    this.provider.on('closed', (event: { code: number }) => {
      if (event.code === CLOSE_CODES.linkReset) {
        this.refuse({ kind: 'refused', access: 'link-reset', isDefinite: true });
        return;
      }
      void this.afterClose(this.hasSocketOpened);
    });
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline);
      window.addEventListener('offline', this.onOffline);
    }
  }

  /** Current state; a new object whenever something changed (for useSyncExternalStore). */
  getState = (): SessionState => this.state;

  /** Subscribes to state changes; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Drops the connection and reconnects at once (used when the network returns). */
  reconnectNow(): void {
    // A refused link stays refused: coming back online must not knock again.
    if (this.isDestroyed || this.state.access !== 'granted') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.provider.wsconnected || this.provider.wsconnecting) return;
    this.update({ connection: { kind: 'connecting' } });
    this.provider.connect();
  }

  /** False once a refusal made this session delete the browser's copy: nothing may store one again. */
  isKeepingLocalCopy = (): boolean => !this.isForgettingLocalCopy;

  /** This client is about to reset the links itself: its own session's close is expected. */
  expectLinkReset(): void {
    this.isExpectingLinkReset = true;
  }

  destroy(): void {
    this.isDestroyed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline);
      window.removeEventListener('offline', this.onOffline);
    }
    this.doc.off('update', this.onDocUpdate);
    this.unguardAwareness();
    this.provider.destroy();
    void this.local?.destroy();
    this.doc.destroy();
    this.listeners.clear();
  }

  // A refused upgrade reaches the browser as a bare close, so ask the relay whether
  // the link itself is the problem rather than retrying forever. Offline there is
  // nobody to ask, and the close says nothing about the link.
  private async afterClose(hasSocketOpened: boolean): Promise<void> {
    const { checkToken, docId, token } = this.options;
    if (checkToken && shouldCheckLinkAfterClose({ hasSocketOpened, hasSynced: this.state.hasSynced }) && !isBrowserOffline()) {
      let verdict: LinkVerdict;
      try {
        verdict = verdictOfCheck(await checkToken(docId, token));
      } catch {
        // Unreachable, or an error status (5xx, 429): an ordinary outage, never a reason to delete.
        verdict = RETRY;
      }
      // Destroyed while asking: the page moved on (another link, or away), and decides for itself.
      if (this.isDestroyed) return;
      if (verdict.kind === 'refused') {
        this.refuse(verdict);
        return;
      }
    }
    this.scheduleReconnect();
  }

  private refuse(verdict: Extract<LinkVerdict, { kind: 'refused' }>): void {
    // This page reset the links itself and is about to reopen with the new one.
    if (this.isExpectingLinkReset && verdict.access === 'link-reset') return;
    const { docId, token } = this.options;
    const isForgetting = verdict.isDefinite && mayForgetAfterRefusal({ refusedToken: token, rememberedToken: rememberedToken(docId) });
    // Set before anyone hears of the refusal, so a page copy stored from here on is undone (keepCurrentPageOffline).
    if (isForgetting) this.isForgettingLocalCopy = true;
    this.update({ access: verdict.access, connection: { kind: 'offline' } });
    // Errors surface as the browser's own uncaught-error report; the page has already said what it can.
    if (isForgetting) this.deleteLocalCopy().catch(reportError);
  }

  private async deleteLocalCopy(): Promise<void> {
    // Closed first, so nothing is written after the deletion and it need not wait for this connection.
    await this.local?.destroy();
    await forgetLocalCopy(this.options.docId);
  }

  private scheduleReconnect(): void {
    if (this.isDestroyed) return;
    if (isBrowserOffline()) {
      this.update({ connection: { kind: 'offline' } });
      return;
    }
    const delayMs = fullJitterDelayMs(this.reconnectAttempt);
    this.reconnectAttempt += 1;
    this.update({ connection: { kind: 'reconnecting', nextAttemptAt: Date.now() + delayMs } });
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.reconnectNow();
    }, delayMs);
  }

  private readonly onDocUpdate = (_update: Uint8Array, origin: unknown): void => {
    // Changes from the relay are saved by definition; IndexedDB replays are local history.
    if (origin === this.provider) return;
    this.saved.noteLocalChange();
    this.refreshSaved();
  };

  private readonly onOnline = (): void => this.reconnectNow();

  private readonly onOffline = (): void => {
    // The socket may stay open without traffic; drop it so the state is honest and reconnect is clean.
    this.update({ connection: { kind: 'offline' } });
    this.provider.ws?.close();
  };

  // The relay announced this client's departure to the others at its last clock + 1,
  // and they ignore any state of it that is not newer than that: step past it now, so
  // the state sent on reconnecting (with no change of its own) shows at once.
  private renewPresenceClock(): void {
    const { awareness } = this.provider;
    const state = awareness.getLocalState();
    if (state === null) return;
    awareness.setLocalState(state);
    awareness.setLocalState(state);
  }

  private refreshSaved(): void {
    if (this.saved.isSaved()) this.isSaveFailing = false;
    const save: SaveStatus = this.isRefusedForSize ? 'too-large' : this.saved.isSaved() ? 'saved' : this.isSaveFailing ? 'not-saved' : 'saving';
    if (save !== this.state.save) this.update({ save });
  }

  private update(patch: Partial<SessionState>): void {
    if (this.isDestroyed) return;
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}

/**
 * The browser's WebSocket (or `BaseWebSocket`), opened with the share-link token in its subprotocols,
 * counting the document-changing frames the provider sends, so `saved`
 * acknowledgements can be matched to them.
 */
function countingWebSocket(options: { tracker: SavedTracker; protocols: string[]; BaseWebSocket: typeof WebSocket }): typeof WebSocket {
  const { tracker, protocols, BaseWebSocket } = options;
  return class CountingWebSocket extends BaseWebSocket {
    constructor(url: string | URL) {
      super(url, protocols);
      tracker.noteNewSocket();
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (data instanceof Uint8Array && isChangeFrame(data)) tracker.noteChangeFrameSent();
      super.send(data);
    }
  };
}

function isBrowserOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

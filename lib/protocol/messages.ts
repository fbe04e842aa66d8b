/**
 * Message types of the Inkwell wire protocol: the y-websocket protocol plus two
 * opt-in messages (`saved`, `not-saved`). See SPEC.md for the numbered rules.
 */

/** Outer message tags. 0–3 are y-websocket's; 100 and up are Inkwell's own. */
export const MESSAGE_TAGS = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
  saved: 100,
  notSaved: 101,
} as const;

/** Sub-tags of a sync message (y-protocols/sync). */
export const SYNC_TAGS = {
  step1: 0,
  step2: 1,
  update: 2,
} as const;

/** Sub-tags of an auth message (y-protocols/auth). */
export const AUTH_TAGS = {
  permissionDenied: 0,
} as const;

/** Bumped whenever a message type is added or changed. */
export const PROTOCOL_VERSION = 1;

/** Sync step 1: "here is my state vector, send me what I lack". */
export interface SyncStep1Message {
  readonly type: 'sync-step-1';
  readonly stateVector: Uint8Array;
}

/** Sync step 2: the reply to step 1, a Yjs update with what the asker lacks. */
export interface SyncStep2Message {
  readonly type: 'sync-step-2';
  readonly update: Uint8Array;
}

/** An incremental Yjs update. */
export interface UpdateMessage {
  readonly type: 'update';
  readonly update: Uint8Array;
}

/** An awareness update (y-protocols/awareness encoding), kept as bytes. */
export interface AwarenessMessage {
  readonly type: 'awareness';
  readonly update: Uint8Array;
}

/** Asks the receiver to send every awareness state it knows. */
export interface QueryAwarenessMessage {
  readonly type: 'query-awareness';
}

/**
 * Why the relay refused a change: the first word of a permission-denied
 * reason, which reads `<code>: <text for people>`.
 */
export const DENIAL_CODES = {
  /** The link is a viewer's. */
  readOnly: 'read-only',
  /** The change would take the document past COLLAB_MAX_DOC_BYTES. */
  documentTooLarge: 'document-too-large',
  /** Storage is failing and the room already holds COLLAB_MAX_UNSAVED_BYTES it could not write; try again later. */
  storageUnavailable: 'storage-unavailable',
} as const;

export type DenialCode = (typeof DENIAL_CODES)[keyof typeof DENIAL_CODES];

/** The sender refuses a request (y-protocols/auth). */
export interface PermissionDeniedMessage {
  readonly type: 'permission-denied';
  readonly reason: string;
}

/**
 * Relay → client, only for clients that opted in: every change covered by
 * `stateVector` is on disk, and so are the first `changeFramesSaved` document-
 * changing frames (sync step 2 or update) this connection sent. The count is
 * what lets a client know a deletion is saved: deletions leave the state vector as it was.
 */
export interface SavedMessage {
  readonly type: 'saved';
  readonly stateVector: Uint8Array;
  readonly changeFramesSaved: number;
}

/**
 * Relay → client, only for clients that opted in to `saved`: changes of this
 * connection that no `saved` covers yet could not be written (`reason`). The
 * relay keeps them in memory, serves them to everyone, and retries; a later
 * `saved` covers them once they are on disk.
 */
export interface NotSavedMessage {
  readonly type: 'not-saved';
  readonly reason: string;
}

/** Every message of the protocol. */
export type Message =
  | SyncStep1Message
  | SyncStep2Message
  | UpdateMessage
  | AwarenessMessage
  | QueryAwarenessMessage
  | PermissionDeniedMessage
  | SavedMessage
  | NotSavedMessage;

export type MessageType = Message['type'];

/** One entry of an awareness update. `state` is `null` when the client left. */
export interface AwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  readonly state: unknown;
}

/** An awareness entry as read off the wire, its state not yet parsed. `stateJson` is `"null"` for a removal. */
export interface RawAwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  readonly stateJson: string;
  /** The state's size as sent, in UTF-8 bytes. */
  readonly stateByteLength: number;
}

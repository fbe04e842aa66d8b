/**
 * Branded identifiers. Parsing functions are the only way to mint them, so a
 * `DocId` is always safe to use in a URL path segment or a storage key.
 */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A validated document id: 1–128 characters of `[A-Za-z0-9_-]`. */
export type DocId = Brand<string, 'DocId'>;
/** A relay-local id for one socket, used in logs. */
export type ConnectionId = Brand<string, 'ConnectionId'>;

const DOC_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Returns the doc id when `value` is a valid one, otherwise `null`. */
export function parseDocId(value: unknown): DocId | null {
  return typeof value === 'string' && DOC_ID_PATTERN.test(value) ? (value as DocId) : null;
}

/** Wraps a relay-generated string as a connection id. */
export function toConnectionId(value: string): ConnectionId {
  return value as ConnectionId;
}

/** Ids for new documents: 22 characters of nanoid's URL-safe alphabet, 132 random bits. */
import { nanoid } from 'nanoid';

export const NEW_DOCUMENT_ID_LENGTH = 22;

/** A fresh, unguessable document id (it also passes `parseDocId`). */
export function newDocumentId(): string {
  return nanoid(NEW_DOCUMENT_ID_LENGTH);
}

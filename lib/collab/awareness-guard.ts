/**
 * The browser's side of awareness (cursors and presence), hardened: every
 * remote state is checked against the app's schema before anything renders it,
 * and only this client's own state is ever sent.
 *
 * - Incoming: the relay validates too, but the page must not trust the network
 *   alone (defence in depth): a caret whose anchor is null once made every page
 *   throw on each remote change. Invalid entries are dropped before y-protocols
 *   stores them, and nobody else may set this client's own state.
 * - Outgoing: the stock provider re-sends every awareness change it receives,
 *   other people's included, so each page echoed each cursor move of everyone
 *   else. Only this client's own changes go out now.
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import type { WebsocketProvider } from 'y-websocket';
import * as decoding from 'lib0/decoding';

import { checkAwarenessState } from '../awareness-state';
import { encodeAwarenessUpdate, readAwarenessEntries } from '../protocol/codec';
import { MESSAGE_TAGS, type AwarenessEntry } from '../protocol/messages';

/** The states of an awareness update that may be shown: valid ones and removals, none for `ownClientId`. */
export function acceptableAwarenessEntries(update: Uint8Array, ownClientId: number): AwarenessEntry[] {
  let raw;
  try {
    raw = readAwarenessEntries(update);
  } catch {
    return [];
  }
  const accepted: AwarenessEntry[] = [];
  for (const entry of raw) {
    if (entry.clientId === ownClientId) continue;
    let state: unknown;
    try {
      state = JSON.parse(entry.stateJson);
    } catch {
      continue;
    }
    if (state === null) {
      accepted.push({ clientId: entry.clientId, clock: entry.clock, state: null });
      continue;
    }
    const check = checkAwarenessState(state);
    if (check.ok) accepted.push({ clientId: entry.clientId, clock: entry.clock, state: check.state });
  }
  return accepted;
}

/** Installs both guards on `provider`; returns the function that removes them. */
export function guardAwareness(provider: WebsocketProvider): () => void {
  const { awareness } = provider;
  provider.messageHandlers[MESSAGE_TAGS.awareness] = (_encoder, decoder) => {
    const entries = acceptableAwarenessEntries(decoding.readVarUint8Array(decoder), awareness.clientID);
    if (entries.length > 0) awarenessProtocol.applyAwarenessUpdate(awareness, encodeAwarenessUpdate(entries), provider);
  };
  const sendOwnChanges = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === provider) return;
    const own = (ids: number[]): number[] => ids.filter((clientId) => clientId === awareness.clientID);
    const ownChange = { added: own(change.added), updated: own(change.updated), removed: own(change.removed) };
    if (ownChange.added.length + ownChange.updated.length + ownChange.removed.length === 0) return;
    // The provider's own sender, which writes to the socket and to other tabs of this browser.
    provider._awarenessUpdateHandler(ownChange, origin);
  };
  awareness.off('update', provider._awarenessUpdateHandler);
  awareness.on('update', sendOwnChanges);
  return () => awareness.off('update', sendOwnChanges);
}

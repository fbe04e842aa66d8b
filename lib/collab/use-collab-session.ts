/** React hooks over `CollabSession`: open one per document, read its state and its people. */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type * as Y from 'yjs';

import { isSafeColor } from '../awareness-state';
import type { Role } from '../roles';

import { CollabSession, type SessionState } from './collab-session';
import type { Identity } from './identity';
import { checkShareToken } from './links-client';

/** The relay on the page's own origin, over wss:// when the page is https. */
export function relayUrlForPage(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/collab`;
}

/** Opens the document with `token` while mounted; `null` until then, or without a token. */
export function useCollabSession(docId: string, token: string | null): CollabSession | null {
  const [session, setSession] = useState<CollabSession | null>(null);
  useEffect(() => {
    if (!token) return undefined;
    const opened = new CollabSession({
      docId,
      token,
      relayUrl: relayUrlForPage(),
      persistLocally: 'indexedDB' in window,
      checkToken: checkShareToken,
    });
    setSession(opened);
    return () => {
      opened.destroy();
      setSession(null);
    };
  }, [docId, token]);
  return session;
}

const INITIAL_STATE: SessionState = {
  connection: { kind: 'connecting' },
  access: 'granted',
  save: 'saved',
  isLocalReady: false,
  hasSynced: false,
};

/** Connection, save and load state of a session, re-rendering on change. */
export function useSessionState(session: CollabSession | null): SessionState {
  return useSyncExternalStore(
    session?.subscribe ?? noopSubscribe,
    session?.getState ?? (() => INITIAL_STATE),
    () => INITIAL_STATE,
  );
}

/** A person present in the document. */
export interface PresentUser {
  readonly clientId: number;
  readonly name: string;
  readonly color: string;
  readonly isSelf: boolean;
  readonly isViewer: boolean;
}

/** Everyone present (from awareness), yourself first; publishes your identity. */
export function useAwarenessUsers(
  session: CollabSession | null,
  identity: Identity | null,
  role: Role,
): PresentUser[] {
  const [users, setUsers] = useState<PresentUser[]>([]);
  useEffect(() => {
    if (!session) return undefined;
    const { awareness } = session.provider;
    // The relay marks roles itself; stating ours saves it rewriting every cursor move.
    awareness.setLocalStateField('role', role);
    if (identity) awareness.setLocalStateField('user', { name: identity.name, color: identity.color });
    const read = (): void => {
      const present: PresentUser[] = [];
      awareness.getStates().forEach((state, clientId) => {
        const { user, role: stateRole } = state as { user?: { name?: unknown; color?: unknown }; role?: unknown };
        // Remote states are validated on arrival (awareness-guard.ts); this check keeps the avatars safe on their own.
        if (typeof user?.name !== 'string' || !isSafeColor(user.color)) return;
        present.push({
          clientId,
          name: user.name,
          color: user.color,
          isSelf: clientId === awareness.clientID,
          isViewer: stateRole === 'viewer',
        });
      });
      present.sort((a, b) => Number(b.isSelf) - Number(a.isSelf) || a.name.localeCompare(b.name));
      setUsers(present);
    };
    read();
    awareness.on('change', read);
    return () => awareness.off('change', read);
  }, [session, identity, role]);
  return users;
}

/** The string value of a shared `Y.Text`, re-rendering on every change. */
export function useYText(text: Y.Text | null): string {
  // A stable subscribe per text: a new one each render would re-observe on every keystroke.
  const subscribe = useCallback(
    (onChange: () => void) => {
      text?.observe(onChange);
      return () => text?.unobserve(onChange);
    },
    [text],
  );
  return useSyncExternalStore(subscribe, () => text?.toString() ?? '', () => '');
}

function noopSubscribe(): () => void {
  return () => undefined;
}

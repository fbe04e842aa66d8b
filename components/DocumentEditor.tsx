'use client';

/** The document page's client island: title, toolbar, editor, people, status, sharing. */
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { TaskItem, TaskList } from '@tiptap/extension-list';
import { Placeholder } from '@tiptap/extensions';
import { EditorContent, useEditor } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import { useEffect } from 'react';

import type { CollabSession } from '../lib/collab/collab-session';
import type { Identity } from '../lib/collab/identity';
import { keepCurrentPageOffline } from '../lib/collab/offline-pages';
import { renderCaret, renderSelection } from '../lib/collab/carets';
import { currentPageNonce } from '../lib/collab/page-nonce';
import { rememberDocument, renameRememberedDocument } from '../lib/collab/recent-documents';
import { roleOfToken } from '../lib/collab/share-token';
import { applyTextChange } from '../lib/collab/title-diff';
import { useAwarenessUsers, useCollabSession, useSessionState, useYText } from '../lib/collab/use-collab-session';
import { useIdentity } from '../lib/collab/use-identity';
import { useShareToken } from '../lib/collab/use-share-token';
import { ROLES } from '../lib/roles';
import { ConnectionBadge } from './ConnectionBadge';
import { IdentityEditor } from './IdentityEditor';
import { PresenceAvatars } from './PresenceAvatars';
import { SaveBadge } from './SaveBadge';
import { ShareDialog } from './ShareDialog';
import { Toolbar } from './Toolbar';

const UNTITLED = 'Untitled document';

export function DocumentEditor({ docId }: { docId: string }) {
  const { token, replaceToken } = useShareToken(docId);
  const session = useCollabSession(docId, token ?? null);
  const role = (token && roleOfToken(token)) || 'viewer';
  const { canEdit, canResetLinks } = ROLES[role];
  const { identity, needsAsking, save } = useIdentity();
  const state = useSessionState(session);
  const users = useAwarenessUsers(session, identity, role);
  const titleText = session?.doc.getText('title') ?? null;
  const title = useYText(titleText);

  useEffect(() => {
    document.title = `${title || UNTITLED} · Inkwell`;
    if (session) renameRememberedDocument(docId, title);
  }, [title, docId, session]);
  useEffect(() => {
    // Only a link the relay accepted is remembered: opening a mistyped or crafted
    // link must not replace a working one, nor make its refusal delete this copy.
    if (token && state.hasSynced) rememberDocument(docId, titleText?.toString() ?? '', token);
  }, [docId, titleText, token, state.hasSynced]);
  useEffect(() => {
    if (!session) return;
    keepCurrentPageOffline({ isWanted: session.isKeepingLocalCopy }).catch(() => undefined);
  }, [docId, session]);
  useEffect(() => {
    if (state.save === 'saved') return undefined;
    const warn = (event: BeforeUnloadEvent): void => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [state.save]);

  if (token === null) {
    return <AccessMessage text="This document needs its share link. Ask the owner to send it to you." />;
  }
  if (state.access === 'link-reset') {
    return <AccessMessage text="This link was reset; ask the owner for a new one." />;
  }
  if (state.access === 'denied') {
    return <AccessMessage text="This link does not open this document. Check that you copied all of it." />;
  }

  return (
    <div className="document">
      <header className="document-header">
        <a className="brand" href="/" aria-label="Inkwell home">Inkwell</a>
        <input
          className="title-input"
          aria-label="Document title"
          placeholder={UNTITLED}
          value={title}
          readOnly={!canEdit}
          disabled={!titleText}
          onChange={(event) => titleText && canEdit && applyTextChange(titleText, event.target.value)}
        />
        <div className="header-status">
          {!canEdit && (
            <span className="badge badge-view-only" data-testid="view-only">
              View only
            </span>
          )}
          <ConnectionBadge status={state.connection} />
          {canEdit && <SaveBadge status={state.save} />}
        </div>
        <PresenceAvatars users={users} />
        {identity && <IdentityEditor identity={identity} isOpenInitially={needsAsking} onSave={save} />}
        {token && session && (
          <ShareDialog docId={docId} token={token} canReset={canResetLinks} session={session} onTokenReplaced={replaceToken} />
        )}
      </header>
      {session && identity && state.isLocalReady ? (
        <CollaborativeEditor key={token} session={session} identity={identity} canEdit={canEdit} />
      ) : (
        <div className="editor-loading" role="status">
          Opening document…
        </div>
      )}
    </div>
  );
}

function AccessMessage({ text }: { text: string }) {
  return (
    <main className="access-message" role="alert">
      <a className="brand" href="/">Inkwell</a>
      <p data-testid="access-message">{text}</p>
    </main>
  );
}

function CollaborativeEditor(props: { session: CollabSession; identity: Identity; canEdit: boolean }) {
  const { session, identity, canEdit } = props;
  const editor = useEditor(
    {
      immediatelyRender: false,
      // TipTap adds its base styles as a <style> element, which the page's CSP admits only with its nonce.
      injectNonce: currentPageNonce(),
      editable: canEdit,
      extensions: [
        // Undo comes from Yjs (Collaboration), which only undoes this person's own changes.
        StarterKit.configure({ undoRedo: false, link: { openOnClick: !canEdit } }),
        TaskList,
        TaskItem.configure({ nested: true }),
        Placeholder.configure({ placeholder: canEdit ? 'Start writing…' : 'Nothing here yet.' }),
        Collaboration.configure({ document: session.doc, field: 'content' }),
        // Our own drawing: plain-text names and #rrggbb colours only, whatever a remote state holds.
        CollaborationCaret.configure({ provider: session.provider, user: identity, render: renderCaret, selectionRender: renderSelection }),
      ],
      editorProps: { attributes: { class: 'prose', 'aria-label': 'Document body' } },
    },
    [session],
  );

  useEffect(() => {
    editor?.commands.updateUser({ name: identity.name, color: identity.color });
  }, [editor, identity]);

  return (
    <main className="editor-shell">
      {canEdit && <Toolbar editor={editor} />}
      <EditorContent editor={editor} className="editor" />
    </main>
  );
}

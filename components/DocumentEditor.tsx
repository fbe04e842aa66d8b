'use client';

/** The document page's client island: title, toolbar, editor, people, status. */
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
import { rememberDocument, renameRememberedDocument } from '../lib/collab/recent-documents';
import { applyTextChange } from '../lib/collab/title-diff';
import { useAwarenessUsers, useCollabSession, useSessionState, useYText } from '../lib/collab/use-collab-session';
import { useIdentity } from '../lib/collab/use-identity';
import { ConnectionBadge } from './ConnectionBadge';
import { IdentityEditor } from './IdentityEditor';
import { PresenceAvatars } from './PresenceAvatars';
import { SaveBadge } from './SaveBadge';
import { ShareButton } from './ShareButton';
import { Toolbar } from './Toolbar';

const UNTITLED = 'Untitled document';

export function DocumentEditor({ docId }: { docId: string }) {
  const session = useCollabSession(docId);
  const { identity, needsAsking, save } = useIdentity();
  const state = useSessionState(session);
  const users = useAwarenessUsers(session, identity);
  const titleText = session?.doc.getText('title') ?? null;
  const title = useYText(titleText);

  useEffect(() => {
    document.title = `${title || UNTITLED} · Inkwell`;
    if (session) renameRememberedDocument(docId, title);
  }, [title, docId, session]);
  useEffect(() => rememberDocument(docId, titleText?.toString() ?? ''), [docId, titleText]);
  useEffect(() => {
    keepCurrentPageOffline().catch(() => undefined);
  }, [docId]);

  useEffect(() => {
    if (state.save !== 'saving') return undefined;
    const warn = (event: BeforeUnloadEvent): void => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [state.save]);

  return (
    <div className="document">
      <header className="document-header">
        <a className="brand" href="/" aria-label="Inkwell home">Inkwell</a>
        <input
          className="title-input"
          aria-label="Document title"
          placeholder={UNTITLED}
          value={title}
          disabled={!titleText}
          onChange={(event) => titleText && applyTextChange(titleText, event.target.value)}
        />
        <div className="header-status">
          <ConnectionBadge status={state.connection} />
          <SaveBadge status={state.save} />
        </div>
        <PresenceAvatars users={users} />
        {identity && <IdentityEditor identity={identity} isOpenInitially={needsAsking} onSave={save} />}
        <ShareButton />
      </header>
      {session && identity && state.isLocalReady ? (
        <CollaborativeEditor session={session} identity={identity} />
      ) : (
        <div className="editor-loading" role="status">Opening document…</div>
      )}
    </div>
  );
}

function CollaborativeEditor({ session, identity }: { session: CollabSession; identity: Identity }) {
  const editor = useEditor(
    {
      immediatelyRender: false,
      extensions: [
        // Undo comes from Yjs (Collaboration), which only undoes this person's own changes.
        StarterKit.configure({ undoRedo: false, link: { openOnClick: false } }),
        TaskList,
        TaskItem.configure({ nested: true }),
        Placeholder.configure({ placeholder: 'Start writing…' }),
        Collaboration.configure({ document: session.doc, field: 'content' }),
        CollaborationCaret.configure({ provider: session.provider, user: identity }),
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
      <Toolbar editor={editor} />
      <EditorContent editor={editor} className="editor" />
    </main>
  );
}

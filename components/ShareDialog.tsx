'use client';

/** Share: the links this person may hand out, each with a copy button, and "Reset links" for the owner. */
import { useEffect, useRef, useState } from 'react';

import type { CollabSession } from '../lib/collab/collab-session';
import { fetchShareTokens, resetShareLinks, type ShareTokens } from '../lib/collab/links-client';
import { rememberDocument } from '../lib/collab/recent-documents';
import { documentLink } from '../lib/collab/share-token';

interface ShareLinks {
  readonly owner?: string;
  readonly editor?: string;
  readonly viewer: string;
}

function linksOf(docId: string, tokens: ShareTokens): ShareLinks {
  return {
    viewer: documentLink(docId, tokens.viewerToken),
    ...(tokens.editorToken ? { editor: documentLink(docId, tokens.editorToken) } : {}),
    ...(tokens.ownerToken ? { owner: documentLink(docId, tokens.ownerToken) } : {}),
  };
}

export function ShareDialog(props: {
  docId: string;
  token: string;
  canReset: boolean;
  session: CollabSession;
  onTokenReplaced(token: string): void;
}) {
  const { docId, token } = props;
  const [isOpen, setIsOpen] = useState(false);
  const [links, setLinks] = useState<ShareLinks | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  // The token this dialog itself installed by resetting: its links are already shown.
  const tokenFromReset = useRef<string | null>(null);
  useEffect(() => {
    if (token === tokenFromReset.current) return;
    // Another link of this document was opened in the tab: what the dialog shows belongs to the old one.
    setIsOpen(false);
    setLinks(null);
  }, [token]);

  const flash = (text: string): void => {
    setMessage(text);
    setTimeout(() => setMessage((current) => (current === text ? null : current)), 2_500);
  };

  const open = async (): Promise<void> => {
    setIsOpen(true);
    setIsBusy(true);
    try {
      setLinks(linksOf(docId, await fetchShareTokens(docId, token)));
    } catch {
      setMessage('Could not load the links. Are you offline?');
    } finally {
      setIsBusy(false);
    }
  };

  const copy = async (label: string, link: string): Promise<void> => {
    try {
      await navigator.clipboard.writeText(link);
      flash(`${label} link copied`);
    } catch {
      window.prompt(`Copy the ${label.toLowerCase()} link`, link);
    }
  };

  const reset = async (): Promise<void> => {
    if (!window.confirm('Reset links? Every link to this document stops working at once, and people using one are disconnected.')) return;
    setIsBusy(true);
    props.session.expectLinkReset();
    try {
      const tokens = await resetShareLinks(docId, token);
      rememberDocument(docId, props.session.doc.getText('title').toString(), tokens.ownerToken);
      tokenFromReset.current = tokens.ownerToken;
      props.onTokenReplaced(tokens.ownerToken);
      setLinks(linksOf(docId, tokens));
      flash('Links reset: only the new links work now');
    } catch {
      setMessage('Could not reset the links. Try again when online.');
    } finally {
      setIsBusy(false);
    }
  };

  return (
    <div className="share">
      <button type="button" className="share-button" aria-expanded={isOpen} onClick={() => (isOpen ? setIsOpen(false) : void open())}>
        Share
      </button>
      {isOpen && (
        <div className="share-dialog" role="dialog" aria-label="Share this document">
          {isBusy && !links && <p role="status">Loading links…</p>}
          {links?.owner && <LinkRow label="Owner" description="Can edit, share and reset links: keep it to yourself" link={links.owner} onCopy={copy} />}
          {links?.editor && <LinkRow label="Editor" description="Can edit" link={links.editor} onCopy={copy} />}
          {links && <LinkRow label="Viewer" description="Can only view" link={links.viewer} onCopy={copy} />}
          {props.canReset && (
            <button type="button" className="danger" disabled={isBusy} onClick={() => void reset()}>
              Reset links
            </button>
          )}
        </div>
      )}
      {message && (
        <span className="share-confirmation" role="status">
          {message}
        </span>
      )}
    </div>
  );
}

function LinkRow(props: { label: string; description: string; link: string; onCopy(label: string, link: string): Promise<void> }) {
  return (
    <div className="share-row">
      <label>
        {props.label} link <small>({props.description})</small>
        <input readOnly value={props.link} onFocus={(event) => event.target.select()} aria-label={`${props.label} link`} />
      </label>
      <button type="button" onClick={() => void props.onCopy(props.label, props.link)} aria-label={`Copy ${props.label.toLowerCase()} link`}>
        Copy
      </button>
    </div>
  );
}
